/**
 * The shapes the plugin's graph code shares: the plugin options of nx.json,
 * the context each target builder gets and what it returns. A type-only
 * module, so that createNodes (create-nodes.ts), inference (infer.ts) and the
 * target builders (*-targets.ts) do not import each other for types.
 */
import type { TargetConfiguration } from '@nx/devkit';

/**
 * Options of the plugin entry in nx.json: `{"plugin": "./tools/nx-plugin/plugin.js", "options": {"distDir": "dist",
 * "buildTargetName": "rust-build"}}`; checked by plugin-options.ts resolvePluginOptions.
 */
export interface NextrustPluginOptions {
  /** Folder (workspace-relative) where targets write their outputs; default `dist`. */
  distDir?: string;
  /** Name of llvm-toolchain projects' backend target; default `backend`. */
  backendTargetName?: string;
  /** Name of llvm-toolchain projects' toolchain target; default `toolchain`. */
  toolchainTargetName?: string;
  /** Name of llvm-toolchain projects' atomics target; default `atomics`. */
  atomicsTargetName?: string;
  /** Name of rust-target projects' sysroot target; default `sysroot`. */
  sysrootTargetName?: string;
  /** Name of rust-target projects' build target; default `build`. */
  buildTargetName?: string;
  /** Name of the test targets (rust-target's `#[test]` harnesses, emulator-tests' runs); default `test`. */
  testTargetName?: string;
  /** Name of the ci-status project's release bundle target; default `bundle`. */
  bundleTargetName?: string;
}

/** The inferred targets, by what they do (each is renamed by one option of NextrustPluginOptions). */
export type TargetRole = 'backend' | 'toolchain' | 'atomics' | 'sysroot' | 'build' | 'test' | 'bundle';

/** The name of every inferred target, by role. */
export type TargetNames = Record<TargetRole, string>;

/** What a target builder returns for one project. */
export interface InferredProject {
  targets: Record<string, TargetConfiguration>;
  implicitDependencies?: string[];
  tags?: string[];
}

/** Context shared by the target builders of one project. */
export interface TargetBuilderContext {
  projectName: string;
  /** Workspace-relative project root. */
  projectRoot: string;
  /** Workspace-relative output root, e.g. `dist`. */
  distDir: string;
  /** Absolute workspace root (for builders that read the project's files, e.g. program discovery). */
  workspaceRoot: string;
  /**
   * Names of the inferred targets (this project's and those its targets depend on in other projects); default
   * plugin-options.ts DEFAULT_TARGET_NAMES.
   */
  targetNames?: TargetNames;
  /** Whether nx.json defines the `production` named input (plugin-options.ts hasProductionInput); default false. */
  productionInput?: boolean;
}
