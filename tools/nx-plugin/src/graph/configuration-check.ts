/**
 * Rejects an unknown CPU configuration before any task runs.
 *
 * Nx resolves a configuration a target does not define to the target's
 * default (m68040) without a word, so `nx run rust-target:build -c m68020`
 * would silently build for the 68040. The plugin's `preTasksExecution` hook
 * (Nx plugin API, https://nx.dev/extending-nx/recipes/task-running-lifecycle)
 * calls this with the command line and stops the run with a clear error.
 */
import parseArgs from 'yargs-parser';
import { CPU_NAMES } from '../toolchain/cpu';

/** Configurations named on an nx command line: `-c X`, `--configuration X` and `project:target:X`. */
export function requestedConfigurations(argv: string[]): string[] {
  const args = parseArgs(argv.slice(2), {
    string: ['configuration'],
    alias: { configuration: ['c'] },
    configuration: { 'camel-case-expansion': false },
  });
  const found: string[] = [];
  const c = args.configuration as string | string[] | undefined;
  for (const v of Array.isArray(c) ? c : c ? [c] : []) found.push(v);
  for (const word of args._.map(String)) {
    const parts = word.split(':');
    if (parts.length === 3 && parts[2]) found.push(parts[2]);
  }
  return found;
}

/**
 * Checks that every configuration named on the command line is a CPU variant.
 * @throws Error listing the valid configurations.
 */
export function checkRequestedConfigurations(argv: string[]): void {
  const unknown = requestedConfigurations(argv).filter((c) => !(CPU_NAMES as readonly string[]).includes(c));
  if (unknown.length) {
    throw new Error(
      `unknown configuration '${unknown[0]}': the nextrust targets have one configuration per CPU variant: ${CPU_NAMES.join(', ')}`,
    );
  }
}
