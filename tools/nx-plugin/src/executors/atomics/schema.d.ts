/** Options of the `atomics` executor (schema.json). Paths are workspace-relative. */
export interface AtomicsExecutorOptions {
  cpu: string;
  sources: string[];
  includeDirs: string[];
  cflags: string[];
  archive: string;
  toolchainManifest: string;
  outputDir: string;
}
