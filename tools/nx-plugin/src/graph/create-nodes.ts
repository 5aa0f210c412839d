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
 *
 * This module runs on every project-graph computation, so it loads only Node's
 * built-ins, two small Nx modules and the inferred-targets cache
 * (targets-cache.ts): a project whose nextrust.json, program Cargo.toml files,
 * plugin options and plugin code are unchanged is answered from the cache, and
 * the inference itself (infer.ts, with zod, smol-toml and the executors' import
 * walk) is loaded only for the projects that changed.
 */
import type { CreateNodesContextV2, CreateNodesResult, CreateNodesV2 } from '@nx/devkit';
// Deep imports of the two Nx helpers graph time needs: the plugin worker has these modules loaded already, while
// @nx/devkit's index loads most of Nx's public API (a third of a second on this 2-core machine).
import { createNodesFromFiles } from 'nx/src/project-graph/plugins/utils';
import { workspaceDataDirectoryForWorkspace } from 'nx/src/utils/cache-directory';
import { pluginSourceDir } from './executor-inputs';
import {
  cacheKey,
  hashFileSets,
  pluginCodeHash,
  readTargetsCache,
  targetsCachePath,
  writeTargetsCache,
  type TargetsCacheEntry,
} from './targets-cache';
import type { NextrustPluginOptions } from './types';
import { hasProductionInput, resolvePluginOptions } from './plugin-options';

/** Glob of the config files this plugin reads (config/project-config.ts PROJECT_CONFIG_FILE in every folder). */
export const CONFIG_GLOB = '**/nextrust.json';

/** What one createNodes call did (tests observe it): projects answered from the cache, projects inferred. */
export interface CreateNodesStats {
  /** Config files whose cached entry was current (no inference ran). */
  cached: number;
  /** Config files inferred (no entry, or its key no longer matched). */
  inferred: number;
  /** Why the cache file was not written, when writing it failed; null otherwise. */
  writeError: string | null;
}

/** Stats of the latest createNodes call in this process (see CreateNodesStats). */
export let lastCreateNodesStats: CreateNodesStats = { cached: 0, inferred: 0, writeError: null };

/**
 * createNodes with the inferred-targets cache (targets-cache.ts): each config file whose entry's key still matches
 * (same plugin code, options, config text and program Cargo.toml files) is answered from the cache; the others are
 * inferred (infer.ts, loaded only then) and stored. The cache file is rewritten, with the entries of this call only,
 * when anything was inferred or dropped. Whether nx.json defines the `production` named input is part of every key
 * (the targets that compile a project's files use it then).
 * @param srcDir the plugin's src/ whose code is hashed into every key (tests point it at a copy).
 * @returns `[configFile, result]` pairs, as createNodesFromFiles.
 * @throws PluginOptionsError naming nx.json and the option, before anything is inferred, for bad plugin options
 *   (plugin-options.ts resolvePluginOptions); AggregateCreateNodesError naming each invalid config file, with the
 *   results of the valid ones.
 */
export async function createNodesCached(
  configFiles: readonly string[],
  options: NextrustPluginOptions | undefined,
  context: CreateNodesContextV2,
  srcDir: string = pluginSourceDir(),
): Promise<Array<readonly [string, CreateNodesResult]>> {
  const { workspaceRoot } = context;
  const stats: CreateNodesStats = { cached: 0, inferred: 0, writeError: null };
  lastCreateNodesStats = stats;
  // Bad options fail the whole graph, naming nx.json and the option, before any cache file is read or written.
  resolvePluginOptions(options);
  const productionInput = hasProductionInput(context.nxJsonConfiguration);
  const cacheFile = targetsCachePath(workspaceDataDirectoryForWorkspace(workspaceRoot), options ?? {});
  const cached = readTargetsCache(cacheFile);
  const codeHash = pluginCodeHash(srcDir);
  const next: Record<string, TargetsCacheEntry> = {};
  const keyOf = (configFile: string, readsHash: string) =>
    cacheKey({ workspaceRoot, options: options ?? {}, productionInput, configFile, codeHash, readsHash });
  try {
    return await createNodesFromFiles(
      async (configFile) => {
        const entry = cached[configFile];
        if (entry && entry.key === keyOf(configFile, hashFileSets(workspaceRoot, entry.reads))) {
          stats.cached++;
          next[configFile] = entry;
          return entry.result;
        }
        const { inferConfigFile } = await import('./infer');
        const inference = inferConfigFile(configFile, options, workspaceRoot, productionInput);
        stats.inferred++;
        next[configFile] = {
          key: keyOf(configFile, inference.readsHash),
          reads: inference.reads,
          result: inference.result,
        };
        return inference.result;
      },
      configFiles,
      options ?? {},
      context,
    );
  } finally {
    const unchanged = stats.inferred === 0 && Object.keys(cached).length === Object.keys(next).length;
    if (!unchanged) stats.writeError = writeTargetsCache(cacheFile, next);
  }
}

/** The plugin's createNodes: `[glob, fn]` in the v2 signature. */
export const createNodes: CreateNodesV2<NextrustPluginOptions> = [
  CONFIG_GLOB,
  (configFiles, options, context) => createNodesCached(configFiles, options, context),
];
