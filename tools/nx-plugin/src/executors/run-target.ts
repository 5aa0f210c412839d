/**
 * The shared body of every nextrust executor: check the CPU configuration,
 * run the target's library function, and turn any failure into one clear
 * message (plus the failing tool's output) and `{success: false}`, never a
 * bare stack trace. Post-target hooks (status, failure analysis) attach here.
 */
import type { ExecutorContext } from '@nx/devkit';
import { ConfigError } from '../config/project-config';
import { ToolchainError } from '../toolchain/locate';
import { ToolError } from '../util/exec';

/** What an executor returns to Nx. */
export interface ExecutorResult {
  success: boolean;
}

/** Lines of a tool's output shown under a failure (the whole log stays in the task's terminal output). */
const OUTPUT_TAIL_LINES = 60;

/** One-paragraph description of an error for the terminal. */
export function describeError(e: unknown): string {
  if (e instanceof ToolError) {
    if (e.streamed) return `${e.message} (its output is above)\n  command: ${e.command}`;
    if (!e.output.trim()) return `${e.message}\n  command: ${e.command}`;
    const lines = e.output.trimEnd().split('\n');
    const tail = lines.length > OUTPUT_TAIL_LINES ? ['…', ...lines.slice(-OUTPUT_TAIL_LINES)] : lines;
    return `${e.message}\n  command: ${e.command}\n${tail.join('\n')}`;
  }
  if (e instanceof ConfigError || e instanceof ToolchainError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Checks that the task's configuration is one the target defines.
 * @throws Error listing the valid configurations.
 */
export function checkConfiguration(context: ExecutorContext): void {
  const target = context.projectsConfigurations?.projects[context.projectName ?? '']?.targets?.[context.targetName ?? ''];
  const valid = Object.keys(target?.configurations ?? {});
  if (valid.length && context.configurationName && !valid.includes(context.configurationName)) {
    throw new Error(
      `unknown configuration '${context.configurationName}' for ${context.projectName}:${context.targetName}: valid configurations are ${valid.join(', ')}`,
    );
  }
}

/**
 * Runs one target's work with uniform error reporting.
 * @param body does the work; its return value is ignored.
 */
export async function runTarget(context: ExecutorContext, body: () => Promise<unknown>): Promise<ExecutorResult> {
  const task = `${context.projectName}:${context.targetName}${context.configurationName ? ':' + context.configurationName : ''}`;
  try {
    checkConfiguration(context);
    await body();
    return { success: true };
  } catch (e) {
    console.error(`\nnextrust: ${task} failed: ${describeError(e)}`);
    return { success: false };
  }
}
