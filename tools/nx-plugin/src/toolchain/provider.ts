/**
 * The toolchain provider seam: how llvm-m68k:toolchain obtains its tools.
 *  - `system` (default): find installed tools (locate.ts);
 *  - `source`: LLVM built from source with projects/llvm-m68k/patches (the
 *    Mach-O path for NeXTSTEP); not built yet, reported as such.
 * A provider returns a ToolchainManifest; everything downstream reads only that.
 */
import { locateToolchain, ToolchainError, type ToolchainManifest } from './locate';

/** Options every provider receives. */
export interface ProviderOptions {
  minLlvmVersion: string;
  env?: NodeJS.ProcessEnv;
}

/** A provider: obtains and checks a toolchain. */
export type ToolchainProvider = (opts: ProviderOptions) => Promise<ToolchainManifest>;

/** Providers by name (the `provider` field of projects/llvm-m68k/nextrust.json). */
export const TOOLCHAIN_PROVIDERS: Record<'system' | 'source', ToolchainProvider> = {
  system: (opts) => locateToolchain(opts),
  source: async () => {
    throw new ToolchainError(
      "toolchain provider 'source' (LLVM built from projects/llvm-m68k/patches) is not available yet: set \"provider\": \"system\" in projects/llvm-m68k/nextrust.json",
    );
  },
};
