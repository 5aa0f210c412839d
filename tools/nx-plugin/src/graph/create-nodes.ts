/**
 * createNodes (Nx v2 API) for the nextrust plugin: every `nextrust.json` under
 * the workspace becomes a project whose targets are inferred from its `kind`.
 *
 * The targets carry everything the executors need in their options (Nx hashes
 * a target's options), so a config change misses the cache only of the targets
 * whose options it changes; file inputs cover the sources, and
 * `dependentTasksOutputFiles` carries the small JSON manifests (toolchain.json,
 * atomics.json, sysroot.json, manifest.json) that each upstream target writes.
 * See https://nx.dev/extending-nx/recipes/project-graph-plugins and
 * https://nx.dev/reference/inputs.
 */
import * as path from 'node:path';
import {
  createNodesFromFiles,
  type CreateNodesContextV2,
  type CreateNodesResult,
  type CreateNodesV2,
  type ProjectConfiguration,
  type TargetConfiguration,
} from '@nx/devkit';
import { readProjectConfig, PROJECT_CONFIG_FILE, type ProjectConfig } from '../config/project-config';
import { llvmToolchainTargets } from './llvm-toolchain-targets';
import { rustTargetTargets } from './rust-target-targets';
import { emulatorTestsTargets } from './emulator-tests-targets';

/** Options of the plugin entry in nx.json: `{"plugin": "./tools/nx-plugin/plugin.js", "options": {"distDir": "dist"}}`. */
export interface NextrustPluginOptions {
  /** Folder (workspace-relative) where targets write their outputs; default `dist`. */
  distDir?: string;
}

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
}

/** Glob of the config files this plugin reads. */
export const CONFIG_GLOB = `**/${PROJECT_CONFIG_FILE}`;

function inferProject(config: ProjectConfig, ctx: TargetBuilderContext): InferredProject {
  switch (config.kind) {
    case 'llvm-toolchain':
      return llvmToolchainTargets(config, ctx);
    case 'rust-target':
      return rustTargetTargets(config, ctx);
    case 'emulator-tests':
      return emulatorTestsTargets(config, ctx);
    case 'ci-status':
      return { targets: {}, tags: ['type:status'] };
  }
}

/**
 * Infers one project from one config file.
 * @throws ConfigError (the file, field and expectation) for an invalid config;
 *   createNodesFromFiles reports it against the file.
 */
export function createNodesForConfigFile(
  configFile: string,
  options: NextrustPluginOptions | undefined,
  context: CreateNodesContextV2,
): CreateNodesResult {
  const projectRoot = path.dirname(configFile);
  const config = readProjectConfig(path.join(context.workspaceRoot, configFile), configFile);
  const projectName = path.basename(projectRoot);
  const inferred = inferProject(config, {
    projectName,
    projectRoot,
    distDir: options?.distDir ?? 'dist',
    workspaceRoot: context.workspaceRoot,
  });
  const project: ProjectConfiguration = {
    root: projectRoot,
    name: projectName,
    projectType: config.kind === 'rust-target' ? 'application' : 'library',
    targets: inferred.targets,
    implicitDependencies: inferred.implicitDependencies,
    tags: inferred.tags,
  };
  return { projects: { [projectRoot]: project } };
}

/** The plugin's createNodes: `[glob, fn]` in the v2 signature. */
export const createNodes: CreateNodesV2<NextrustPluginOptions> = [
  CONFIG_GLOB,
  (configFiles, options, context) =>
    createNodesFromFiles(createNodesForConfigFile, configFiles, options ?? {}, context),
];
