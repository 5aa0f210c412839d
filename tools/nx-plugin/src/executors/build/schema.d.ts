import type { ProgramConfig } from '../../config/project-config';

/** Options of the `build` executor (schema.json). Paths are workspace-relative. */
export interface BuildExecutorOptions {
  cpu: string;
  projectRoot: string;
  programs: (ProgramConfig & { cpus: string[] })[];
  targetSpecs: Record<string, string>;
  profile: 'release' | 'dev';
  rustflags: string[];
  toolchainManifest: string;
  sysrootDir: string;
  atomicsDir: string;
  outputDir: string;
}
