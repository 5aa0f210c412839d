/**
 * Rejects an unknown CPU configuration of a nextrust target before any task runs,
 * without getting in the way of other plugins' configurations.
 *
 * Nx resolves a configuration a target does not define to the target's default
 * (m68040) without a word, so `nx run rust-target:build -c m68020` would
 * silently build for the 68040. The plugin's `preTasksExecution` hook (Nx
 * plugin API, https://nx.dev/extending-nx/recipes/task-running-lifecycle)
 * calls this with the command line. The rule:
 *  - a configuration named for a project that has nextrust targets (`nx run
 *    rust-target:build:x`, `nx run rust-target:build -c x`, `-p rust-target`)
 *    must be a CPU variant: otherwise the run stops, listing them;
 *  - a 680x0 CPU name that is not a supported variant (m68020, 68030, mc68040)
 *    is refused wherever it appears: it can only mean a nextrust target;
 *  - any other configuration for projects that are not nextrust's (`nx run
 *    web:build:production`), or for a whole run-many/affected, is Nx's business:
 *    the run goes on, with a warning when nextrust targets may be in it (they run
 *    their default configuration).
 * Which projects are nextrust's comes from the cached project graph
 * (readCachedProjectGraph: projects with a target run by this plugin's
 * executors), read only when a configuration that is not a CPU variant needs
 * it; without one, every named project counts as nextrust's.
 */
// The deep path, not @nx/devkit's index: the plugin worker that runs this hook has the module loaded already.
import { readCachedProjectGraph } from 'nx/src/project-graph/project-graph';
import parseArgs from 'yargs-parser';
import { CPU_NAMES, DEFAULT_CPU } from '../toolchain/cpu';
import { PLUGIN_PACKAGE } from './common';

/** What an nx command line asks for: configurations, each with the projects named for it (empty: a whole run). */
export interface RequestedConfiguration {
  configuration: string;
  /** Projects the configuration applies to; empty when the command names none (run-many/affected over all). */
  projects: string[];
}

/** Configurations named on an nx command line: `-c X`, `--configuration X` and `project:target:X`. */
export function requestedConfigurations(argv: string[]): string[] {
  return requested(argv).map((r) => r.configuration);
}

/**
 * Configurations on an nx command line with the projects they apply to.
 * @param argv process.argv of the nx command.
 */
export function requested(argv: string[]): RequestedConfiguration[] {
  const args = parseArgs(argv.slice(2), {
    string: ['configuration', 'projects'],
    alias: { configuration: ['c'], projects: ['p'] },
    configuration: { 'camel-case-expansion': false },
  });
  const found: RequestedConfiguration[] = [];
  const words = args._.map(String);
  const named = [
    ...words.filter((w) => w.includes(':')).map((w) => w.split(':')[0]),
    ...[args.projects as string | string[] | undefined]
      .flat()
      .filter((p): p is string => !!p)
      .flatMap((p) => p.split(',')),
  ].filter(Boolean);
  const c = args.configuration as string | string[] | undefined;
  for (const v of Array.isArray(c) ? c : c ? [c] : []) found.push({ configuration: v, projects: named });
  for (const word of words) {
    const parts = word.split(':');
    if (parts.length === 3 && parts[2]) found.push({ configuration: parts[2], projects: [parts[0]] });
  }
  return found;
}

/** A 680x0 CPU name (m68020, 68030, mc68040, M68060) whatever the spelling. */
const CPU_LIKE = /^(m|mc)?680[0-9]0$/i;

/**
 * The projects of the cached project graph that have a target run by this plugin's executors, or null when no graph
 * is cached.
 */
export function nextrustProjects(): Set<string> | null {
  try {
    const graph = readCachedProjectGraph();
    return new Set(
      Object.values(graph.nodes)
        .filter((n) =>
          Object.values(n.data.targets ?? {}).some((t) => (t.executor ?? '').startsWith(`${PLUGIN_PACKAGE}:`)),
        )
        .map((n) => n.name),
    );
  } catch {
    return null;
  }
}

/**
 * Checks the configurations of an nx command line (module doc).
 * @param ours nextrust's projects, or a function that finds them (default nextrustProjects, called at most once and
 *   only when a configuration is not a CPU variant); null: unknown, every named project counts.
 * @returns warnings to print (the run goes on).
 * @throws Error naming the configuration and the project, and listing the CPU variants.
 */
export function checkRequestedConfigurations(
  argv: string[],
  ours: Set<string> | null | (() => Set<string> | null) = nextrustProjects,
): string[] {
  const warnings: string[] = [];
  const find = typeof ours === 'function' ? ours : () => ours;
  let known: Set<string> | null | undefined;
  for (const r of requested(argv)) {
    if ((CPU_NAMES as readonly string[]).includes(r.configuration)) continue;
    if (known === undefined) known = find();
    const mine = r.projects.filter((p) => !known || known.has(p));
    if (CPU_LIKE.test(r.configuration) || mine.length) {
      throw new Error(
        `unknown configuration '${r.configuration}'${mine.length ? ` for ${mine.join(', ')}` : ''}: ` +
          `the nextrust targets have one configuration per CPU variant: ${CPU_NAMES.join(', ')}`,
      );
    }
    if (!r.projects.length && (!known || known.size)) {
      warnings.push(
        `configuration '${r.configuration}' is not a CPU variant: nextrust targets in this run use their default configuration (${DEFAULT_CPU}); ` +
          `name one of ${CPU_NAMES.join(', ')} to choose the CPU`,
      );
    }
  }
  return warnings;
}
