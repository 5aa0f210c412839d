/**
 * Pieces shared by the target builders: per-CPU configurations, the
 * toolchain manifest input, and the executor names (the plugin code each
 * executor runs is found by executor-inputs.ts).
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
