/** Options of the `sysroot` executor (schema.json). Paths are workspace-relative. */
export interface SysrootExecutorOptions {
  cpu: string;
  targets: string[];
  /** Targets whose compiler_builtins defines memcpy and friends (no libc); default all. */
  memTargets?: string[];
  /** Targets for which std (and panic_abort) is built too; default none. */
  stdTargets?: string[];
  targetSpecs: Record<string, string>;
  profile: 'release' | 'dev';
  rustflags: string[];
  toolchainManifest: string;
  outputDir: string;
}
