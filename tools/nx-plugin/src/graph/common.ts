/**
 * Pieces shared by the target builders: per-CPU configurations, the plugin
 * source inputs of each executor, and the executor names.
 */
import type { TargetConfiguration } from '@nx/devkit';
import { CPU_VARIANTS, CpuVariant, DEFAULT_CPU } from '../toolchain/cpu';

/** One entry of a target's `inputs` (a file set, `{env}`, `{runtime}`, `{dependentTasksOutputFiles}`, ...). */
export type InputDefinition = NonNullable<TargetConfiguration['inputs']>[number];

/** Package name under which Nx finds our executors (tools/nx-plugin/package.json). */
export const PLUGIN_PACKAGE = '@nextrust/nx-plugin';

/** `@nextrust/nx-plugin:<name>`. */
export function executor(name: string): string {
  return `${PLUGIN_PACKAGE}:${name}`;
}

/**
 * Inputs covering the plugin code that an executor runs: its folder and the
 * library modules it uses, so a change in how a target is built misses its
 * cache (custom hashers are deprecated in Nx 24; everything is an input).
 * @param executorName folder under src/executors; @param modules paths under src/ (globs allowed).
 */
export function pluginInputs(executorName: string, modules: string[]): InputDefinition[] {
  return [
    `{workspaceRoot}/tools/nx-plugin/src/executors/${executorName}/**/*`,
    ...modules.map((m) => `{workspaceRoot}/tools/nx-plugin/src/${m}`),
    '{workspaceRoot}/tools/nx-plugin/src/util/exec.ts',
    '{workspaceRoot}/tools/nx-plugin/src/toolchain/cpu.ts',
    '{workspaceRoot}/tools/nx-plugin/src/toolchain/manifest.ts',
  ] as InputDefinition[];
}

/** The toolchain manifest, however far upstream the toolchain target is. */
export const TOOLCHAIN_MANIFEST_INPUT = {
  dependentTasksOutputFiles: '**/toolchain.json',
  transitive: true,
} as InputDefinition;

/**
 * One Nx configuration per CPU variant, `m68040` the default.
 * @param only CPU variants to offer (default: all).
 * @param extra options per CPU beyond `{cpu}`.
 */
export function cpuConfigurations(
  only: readonly CpuVariant[] = CPU_VARIANTS.map((c) => c.name),
  extra: (cpu: CpuVariant) => Record<string, unknown> = () => ({}),
): Pick<TargetConfiguration, 'configurations' | 'defaultConfiguration'> {
  const configurations: Record<string, Record<string, unknown>> = {};
  for (const cpu of only) configurations[cpu] = { cpu, ...extra(cpu) };
  return {
    configurations,
    defaultConfiguration: only.includes(DEFAULT_CPU) ? DEFAULT_CPU : only[0],
  };
}
