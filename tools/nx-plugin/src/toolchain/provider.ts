/**
 * The toolchain provider seam: how llvm-m68k:toolchain obtains its tools.
 *  - `source` (default): the system tools, with rustc, clang and llc run
 *    through wrappers that preload the patched M68k backend built by
 *    llvm-m68k:backend (src/backend/); the backend must be built for the exact
 *    LLVM version that rustc and clang link;
 *  - `system`: the installed tools as they are (locate.ts). Debian's LLVM M68k
 *    backend miscompiles ordinary code (docs/toolchain-bugs.md): programs built
 *    this way may be wrong, and the toolchain target says so.
 * A provider returns a ToolchainManifest; everything downstream reads only that.
 */
import * as path from 'node:path';
import type { BackendManifest } from '../backend/types';
import { checkWrapper, writeWrappers } from '../backend/wrappers';
import { locateToolchain, sha256File, ToolchainError, type ToolchainManifest } from './locate';
import { readJson } from './manifest';

/** Options every provider receives. */
export interface ProviderOptions {
  minLlvmVersion: string;
  env?: NodeJS.ProcessEnv;
  /** Absolute path of the toolchain manifest being written (wrappers go to `bin/` beside it). */
  outputFile: string;
  /** Absolute path of backend.json (provider `source`). */
  backendManifest?: string;
}

/** A provider: obtains and checks a toolchain. */
export type ToolchainProvider = (opts: ProviderOptions) => Promise<ToolchainManifest>;

/** Warning printed by the `system` provider. */
export const SYSTEM_PROVIDER_WARNING =
  "provider 'system': Debian's LLVM M68k backend is used as it is; it miscompiles ordinary code (register copies clobber the condition codes, " +
  'stack stores lose their index, 32-bit division clobbers %d0): programs may be wrong. See docs/toolchain-bugs.md; "provider": "source" uses the patched backend.';

/**
 * The `source` provider.
 * @throws ToolchainError when backend.json is missing, rustc or clang use another LLVM than the
 *   backend was built for, or a wrapper does not load the backend.
 */
async function sourceProvider(opts: ProviderOptions): Promise<ToolchainManifest> {
  if (!opts.backendManifest)
    throw new ToolchainError(
      "provider 'source' needs the backend manifest (option backendManifest): run npx nx run llvm-m68k:backend",
    );
  const backend = readJson<BackendManifest>(opts.backendManifest, 'llvm-m68k:backend');
  // The LLVM whose libLLVM the backend replaces, unless NEXTRUST_LLVM_BIN names another
  // (it must then be the same LLVM release: checked below).
  const env = opts.env ?? process.env;
  const llvmBinDir = env.NEXTRUST_LLVM_BIN || path.resolve(path.dirname(backend.llvm.libLLVM), '..', 'bin');
  const base = await locateToolchain({ ...opts, llvmBinDir });
  for (const [what, version] of [
    ['rustc', base.rust.llvmVersion],
    ['clang/llc', base.llvm.version],
  ]) {
    if (version !== backend.llvm.version) {
      throw new ToolchainError(
        `${what} uses LLVM ${version}, the patched backend is built for LLVM ${backend.llvm.version} (${backend.llvm.libLLVM}): ` +
          'install Debian packages rustc-web clang-22 llvm-22 of the same LLVM release, or set "provider": "system" in projects/llvm-m68k/nextrust.json',
      );
    }
  }
  const libraryDir = path.resolve(path.dirname(opts.backendManifest));
  const wrappers = await writeWrappers(
    path.join(path.dirname(opts.outputFile), 'bin'),
    { rustc: base.rust.rustc.path, clang: base.llvm.tools.clang.path, llc: base.llvm.tools.llc.path },
    libraryDir,
    backend.sha256,
  );
  for (const tool of ['rustc', 'clang', 'llc'] as const) await checkWrapper(tool, wrappers[tool]);
  // Relative to the manifest's folder (readToolchainManifest resolves them).
  const entry = (file: string) => ({
    path: path.relative(path.dirname(opts.outputFile), file),
    sha256: sha256File(file),
  });
  return {
    ...base,
    provider: 'source',
    llvm: { ...base.llvm, tools: { ...base.llvm.tools, clang: entry(wrappers.clang), llc: entry(wrappers.llc) } },
    rust: { ...base.rust, rustc: entry(wrappers.rustc) },
    backend,
  };
}

/** Providers by name (the `provider` field of projects/llvm-m68k/nextrust.json). */
export const TOOLCHAIN_PROVIDERS: Record<'system' | 'source', ToolchainProvider> = {
  system: async (opts) => {
    console.warn(`warning: ${SYSTEM_PROVIDER_WARNING}`);
    return locateToolchain(opts);
  },
  source: sourceProvider,
};
