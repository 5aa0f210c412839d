/**
 * Inference of one nextrust project from its `nextrust.json`: the config is
 * validated (config/project-config.ts) and the targets are built by the
 * builder of its `kind`. Loaded by create-nodes.ts only when the inferred-
 * targets cache has no current entry for a config file: this is where the
 * heavier modules (zod, smol-toml, the executors' import walk) come in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CreateNodesContextV2, CreateNodesResult, ProjectConfiguration } from '@nx/devkit';
import { ConfigError, parseProjectConfig, type ProjectConfig } from '../config/project-config';
import type { InferredProject, NextrustPluginOptions, TargetBuilderContext } from './types';
import { llvmToolchainTargets } from './llvm-toolchain-targets';
import { rustTargetReads, rustTargetTargets } from './rust-target-targets';
import { emulatorTestsTargets } from './emulator-tests-targets';
import { ciStatusTargets } from './ci-status-targets';
import { hashFileSets, type FileSet } from './targets-cache';
import { hasProductionInput, resolvePluginOptions } from './plugin-options';

function inferProject(config: ProjectConfig, ctx: TargetBuilderContext): InferredProject {
  switch (config.kind) {
    case 'llvm-toolchain':
      return llvmToolchainTargets(config, ctx);
    case 'rust-target':
      return rustTargetTargets(config, ctx);
    case 'emulator-tests':
      return emulatorTestsTargets(config, ctx);
    case 'ci-status':
      return ciStatusTargets(config, ctx);
  }
}

/**
 * The files the inference of a project reads besides its config file (and the plugin's own code): for a rust-target
 * project, the Cargo.toml of each program folder (rustTargetReads); nothing for the other kinds.
 * @param projectRoot workspace-relative project folder.
 */
export function inferenceReads(config: ProjectConfig, projectRoot: string): FileSet[] {
  return config.kind === 'rust-target' ? rustTargetReads(config, projectRoot) : [];
}

/** One project inferred from one config file, with what it was inferred from. */
export interface Inference {
  result: CreateNodesResult;
  /** Everything inference read, the config file first (targets-cache.ts FileSet). */
  reads: FileSet[];
  /** hashFileSets() of `reads`, over the config text that was parsed, taken before the targets were built. */
  readsHash: string;
}

/**
 * Infers one project from one config file and records what it read (for the inferred-targets cache).
 * @param configFile workspace-relative path of a nextrust.json; the project is its folder, named after it.
 * @param productionInput whether nx.json defines the `production` named input (plugin-options.ts hasProductionInput).
 * @throws PluginOptionsError (naming nx.json and the option) for bad plugin options; ConfigError (naming the file, the
 *   field and the expectation) when the file cannot be read or is invalid.
 */
export function inferConfigFile(
  configFile: string,
  options: NextrustPluginOptions | undefined,
  workspaceRoot: string,
  productionInput = false,
): Inference {
  const { distDir, targetNames } = resolvePluginOptions(options);
  const projectRoot = path.dirname(configFile);
  let text: string;
  try {
    text = fs.readFileSync(path.join(workspaceRoot, configFile), 'utf8');
  } catch (e) {
    throw new ConfigError(configFile, `${configFile}: cannot read: ${(e as Error).message}`);
  }
  const config = parseProjectConfig(configFile, text);
  const reads: FileSet[] = [{ file: configFile }, ...inferenceReads(config, projectRoot)];
  const readsHash = hashFileSets(workspaceRoot, reads, new Map([[configFile, text]]));
  const projectName = path.basename(projectRoot);
  const inferred = inferProject(config, {
    projectName,
    projectRoot,
    distDir,
    workspaceRoot,
    targetNames,
    productionInput,
  });
  const project: ProjectConfiguration = {
    root: projectRoot,
    name: projectName,
    projectType: config.kind === 'rust-target' ? 'application' : 'library',
    targets: inferred.targets,
    implicitDependencies: inferred.implicitDependencies,
    tags: inferred.tags,
  };
  return { result: { projects: { [projectRoot]: project } }, reads, readsHash };
}

/**
 * Infers one project from one config file, without the cache (the result createNodes returns for it).
 * @throws ConfigError (the file, field and expectation) for an invalid config; createNodes reports it against the file.
 *   PluginOptionsError (nx.json and the option) for bad plugin options.
 */
export function createNodesForConfigFile(
  configFile: string,
  options: NextrustPluginOptions | undefined,
  context: CreateNodesContextV2,
): CreateNodesResult {
  return inferConfigFile(configFile, options, context.workspaceRoot, hasProductionInput(context.nxJsonConfiguration))
    .result;
}
