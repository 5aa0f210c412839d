import type { ProgramsBuildOptions } from '../../build/programs';

/**
 * Options of the `build` executor (schema.json): those of buildPrograms that
 * come from the target's options. Paths are workspace-relative.
 */
export type BuildExecutorOptions = Omit<
  ProgramsBuildOptions,
  'workspaceRoot' | 'project' | 'toolchain' | 'cargoTargetRoot' | 'stream'
>;
