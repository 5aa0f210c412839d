/**
 * The plugin options of nx.json (`{"plugin": "./tools/nx-plugin/plugin.js", "options": {...}}`), checked and with
 * their defaults: the output folder and the name of every inferred target. The target-name options follow the @nx
 * plugins' convention of one flat `<role>TargetName` option per inferred target (e.g. @nx/vite's `buildTargetName`
 * and `testTargetName`, https://nx.dev/technologies/build-tools/vite/introduction#how-vite-infers-tasks;
 * https://github.com/nrwl/nx/blob/master/packages/vite/src/plugins/plugin.ts). `testTargetName` names both test
 * targets (rust-target's `#[test]` harnesses and the emulator tests), as one `nx run-many -t test` runs both.
 *
 * Plain JavaScript only: create-nodes.ts checks the options on every project-graph computation.
 */
import type { NextrustPluginOptions, TargetNames, TargetRole } from './types';

/** The option of nx.json that names each inferred target. */
export const TARGET_NAME_OPTIONS: Readonly<Record<TargetRole, keyof NextrustPluginOptions>> = {
  backend: 'backendTargetName',
  toolchain: 'toolchainTargetName',
  atomics: 'atomicsTargetName',
  sysroot: 'sysrootTargetName',
  build: 'buildTargetName',
  test: 'testTargetName',
  bundle: 'bundleTargetName',
};

/** The target names when no option renames them: each role's own name. */
export const DEFAULT_TARGET_NAMES: Readonly<TargetNames> = {
  backend: 'backend',
  toolchain: 'toolchain',
  atomics: 'atomics',
  sysroot: 'sysroot',
  build: 'build',
  test: 'test',
  bundle: 'bundle',
};

/** Default of `distDir`. */
export const DEFAULT_DIST_DIR = 'dist';

/**
 * Targets inferred for one project, by project kind: their names must differ (llvm-toolchain: backend, toolchain,
 * atomics; rust-target: sysroot, build, test; emulator-tests has `test` only, ci-status `bundle` only).
 */
const TARGETS_OF_ONE_PROJECT: readonly (readonly TargetRole[])[] = [
  ['backend', 'toolchain', 'atomics'],
  ['sysroot', 'build', 'test'],
];

/**
 * A target name the plugin accepts: letters, digits, `_`, `-` and `.`, not starting with `-` or `.`. This leaves out
 * what Nx reads as syntax around a target name: `:` (`project:target:configuration`), `,` (`nx run-many -t a,b`), a
 * leading `^` (dependsOn on dependencies' targets), glob characters (dependsOn target patterns) and white space
 * (https://nx.dev/reference/project-configuration#dependson).
 */
export const TARGET_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The plugin options with their defaults applied. */
export interface ResolvedPluginOptions {
  /** Workspace-relative output folder. */
  distDir: string;
  /** Name of every inferred target, by role. */
  targetNames: TargetNames;
}

/** A plugin option of nx.json that is not what the plugin accepts; the message names nx.json and the option. */
export class PluginOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginOptionsError';
  }
}

const WHERE = "nx.json: option '%s' of the nextrust plugin (plugins[].options)";
const where = (option: string) => WHERE.replace('%s', option);

/**
 * Checks the plugin options of nx.json and applies the defaults.
 * @param options the `options` object of the plugin's entry in nx.json (undefined or null: all defaults).
 * @returns distDir (default `dist`) and the target names (default DEFAULT_TARGET_NAMES).
 * @throws PluginOptionsError naming nx.json, the option and what was expected when the options are not an object,
 *   an option is unknown, `distDir` is not a non-empty string, a target name does not match TARGET_NAME_PATTERN, or
 *   two targets of one project would get the same name.
 */
export function resolvePluginOptions(options: unknown): ResolvedPluginOptions {
  if (options === undefined || options === null)
    return { distDir: DEFAULT_DIST_DIR, targetNames: { ...DEFAULT_TARGET_NAMES } };
  if (typeof options !== 'object' || Array.isArray(options))
    throw new PluginOptionsError(
      `nx.json: the options of the nextrust plugin (plugins[].options) must be an object, got ${JSON.stringify(options)}`,
    );
  const given = options as Record<string, unknown>;
  const known = ['distDir', ...Object.values(TARGET_NAME_OPTIONS)];
  for (const key of Object.keys(given)) {
    if (!known.includes(key))
      throw new PluginOptionsError(`${where(key)}: unknown option; the options are ${known.join(', ')}`);
  }
  let distDir = DEFAULT_DIST_DIR;
  if (given.distDir !== undefined) {
    if (typeof given.distDir !== 'string' || given.distDir === '')
      throw new PluginOptionsError(
        `${where('distDir')}: expected a non-empty workspace-relative folder, got ${JSON.stringify(given.distDir)}`,
      );
    distDir = given.distDir;
  }
  const targetNames = { ...DEFAULT_TARGET_NAMES };
  for (const [role, option] of Object.entries(TARGET_NAME_OPTIONS) as [TargetRole, string][]) {
    const value = given[option];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !TARGET_NAME_PATTERN.test(value))
      throw new PluginOptionsError(
        `${where(option)}: expected a target name (letters, digits, '_', '-', '.'; not starting with '-' or '.'), got ${JSON.stringify(value)}`,
      );
    targetNames[role] = value;
  }
  for (const roles of TARGETS_OF_ONE_PROJECT) {
    for (let i = 0; i < roles.length; i++) {
      for (let j = i + 1; j < roles.length; j++) {
        const [a, b] = [roles[i], roles[j]];
        if (targetNames[a] === targetNames[b])
          throw new PluginOptionsError(
            `nx.json: options '${TARGET_NAME_OPTIONS[a]}' and '${TARGET_NAME_OPTIONS[b]}' of the nextrust plugin both name '${targetNames[a]}': ` +
              `the ${roles.join(', ')} targets belong to one project and need distinct names`,
          );
      }
    }
  }
  return { distDir, targetNames };
}

/**
 * Whether the workspace defines the `production` named input in nx.json (`namedInputs.production`), which the
 * targets that compile a project's own files then use, as the @nx plugins do (`'production' in namedInputs`;
 * https://nx.dev/reference/inputs#named-inputs).
 * @param nxJson nx.json as Nx read it (createNodes' `context.nxJsonConfiguration`), or undefined.
 */
export function hasProductionInput(nxJson: { namedInputs?: Record<string, unknown> } | undefined): boolean {
  const named = nxJson?.namedInputs;
  return !!named && typeof named === 'object' && Object.prototype.hasOwnProperty.call(named, 'production');
}
