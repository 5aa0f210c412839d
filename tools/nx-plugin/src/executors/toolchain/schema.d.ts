/** Options of the `toolchain` executor (schema.json). */
export interface ToolchainExecutorOptions {
  provider: 'system' | 'source';
  minLlvmVersion: string;
  /** Workspace-relative path of the toolchain manifest to write. */
  outputFile: string;
  /** Workspace-relative path of backend.json (provider `source`). */
  backendManifest?: string;
}
