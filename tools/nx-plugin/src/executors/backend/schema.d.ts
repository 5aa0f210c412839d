import type { BackendBuildOptions } from '../../backend/build-backend';

/**
 * Options of the `backend` executor (schema.json): those of buildBackend that a
 * target sets (the source pin, patches folder, Makefile, llvm-config, output
 * folder, jobs); paths workspace-relative.
 */
export type BackendExecutorOptions = Omit<BackendBuildOptions, 'workspaceRoot' | 'cacheDir' | 'log'>;
