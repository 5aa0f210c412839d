import type { DebianSourcePin } from '../../backend/debian-source';

/** Options of the `backend` executor (schema.json). */
export interface BackendExecutorOptions {
  /** The Debian source package the backend is built from. */
  source: DebianSourcePin;
  /** Workspace-relative folder of the patch series. */
  patchesDir: string;
  /** Workspace-relative path of the backend's Makefile. */
  makefile: string;
  /** llvm-config of the LLVM whose libLLVM the backend replaces. */
  llvmConfig: string;
  /** Workspace-relative output folder (the library and backend.json). */
  outputDir: string;
  /** Parallel compile jobs (default: number of CPUs). */
  jobs?: number;
}
