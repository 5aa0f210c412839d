import type { CargoTestOptions } from '../../build/cargo-test';

/**
 * Options of the `cargo-test` executor (schema.json): those of runCargoTests that
 * come from the target's options, plus the toolchain manifest. Paths are workspace-relative.
 */
export type CargoTestExecutorOptions = Omit<
  CargoTestOptions,
  'workspaceRoot' | 'toolchain' | 'workDir' | 'stream' | 'onSuite'
> & {
  toolchainManifest: string;
};
