/**
 * The shared body of every nextrust executor: check the CPU configuration,
 * run the target's library function, and turn any failure into one clear
 * message (plus the failing tool's output) and `{success: false}`, never a
 * bare stack trace. Then the post-target hooks (src/pipeline/target-hooks.ts):
 * phase alignment before the work; a status activity after it, and failure
 * analysis of the failure's output, printed right under the error.
 */
import type { ExecutorContext } from '@nx/devkit';
import { ConfigError } from '../config/project-config';
import { ToolchainError } from '../toolchain/locate';
import { afterTarget, beforeTarget, type TargetRun } from '../pipeline/target-hooks';
import { CPU_NAMES } from '../toolchain/cpu';
import { ToolError } from '../util/exec';
import { TOOLCHAIN_MANIFEST_INPUT } from '../graph/common';

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
  const target =
    context.projectsConfigurations?.projects[context.projectName ?? '']?.targets?.[context.targetName ?? ''];
  const valid = Object.keys(target?.configurations ?? {});
  if (valid.length && context.configurationName && !valid.includes(context.configurationName)) {
    throw new Error(
      `unknown configuration '${context.configurationName}' for ${context.projectName}:${context.targetName}: valid configurations are ${valid.join(', ')}`,
    );
  }
}

/** Executors downstream of the toolchain: their outputs depend on it, so their inputs must carry its manifest. */
const TOOLCHAIN_CONSUMERS = ['atomics', 'sysroot', 'build', 'cargo-test', 'emulator-test', 'bundle'];

/**
 * Checks that the inputs Nx hashes for this task still carry what the plugin inferred for cache correctness: the
 * toolchain manifest (for every executor downstream of the toolchain) and an `externalDependencies` entry. A
 * `targetDefaults.<target>.inputs` in nx.json or `inputs` in a project.json replaces the inferred inputs; without this
 * check, artifacts of different toolchains would silently share cache entries. Fails closed.
 * @throws Error naming the task, the missing input and where to put it back.
 */
export function checkInputs(context: ExecutorContext): void {
  const target =
    context.projectsConfigurations?.projects[context.projectName ?? '']?.targets?.[context.targetName ?? ''];
  if (!target) return;
  const executorName = (target.executor ?? '').split(':')[1] ?? '';
  const inputs = (target.inputs ?? []) as unknown[];
  const has = (want: unknown) => inputs.some((i) => JSON.stringify(i) === JSON.stringify(want));
  const missing: string[] = [];
  if (TOOLCHAIN_CONSUMERS.includes(executorName) && !has(TOOLCHAIN_MANIFEST_INPUT))
    missing.push(JSON.stringify(TOOLCHAIN_MANIFEST_INPUT));
  if (!inputs.some((i) => typeof i === 'object' && i !== null && 'externalDependencies' in i))
    missing.push('{"externalDependencies": [...]}');
  if (missing.length) {
    throw new Error(
      `${context.projectName}:${context.targetName}: its inputs lack ${missing.join(' and ')}, which the nextrust plugin infers: ` +
        `a targetDefaults.${context.targetName}.inputs in nx.json or an inputs list in a project.json replaced them, and results of ` +
        `different toolchains could share cache entries. Remove that inputs list, or include these entries in it (npx nx show project ` +
        `${context.projectName} --json shows the inferred ones with the override removed)`,
    );
  }
}

/**
 * What a target's body may return when it fails without throwing (e.g.
 * emulator tests that ran but did not pass): the log to analyse.
 */
export interface TargetFailure {
  success: false;
  /** Text for failure analysis (the failing cases' output). */
  log: string;
}

function isTargetFailure(v: unknown): v is TargetFailure {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as TargetFailure).success === false &&
    typeof (v as TargetFailure).log === 'string'
  );
}

/** The text failure analysis reads for an error: its message, command and full output. */
export function failureLog(e: unknown): string {
  if (e instanceof ToolError) return `${e.message}\ncommand: ${e.command}\n${e.output}`;
  return describeError(e);
}

/**
 * Runs one target's work with uniform error reporting and the post-target hooks.
 * @param body does the work; it fails by throwing, or by returning a TargetFailure.
 */
export async function runTarget(context: ExecutorContext, body: () => Promise<unknown>): Promise<ExecutorResult> {
  const run: TargetRun = {
    workspaceRoot: context.root,
    project: context.projectName ?? '(unknown)',
    target: context.targetName ?? '(unknown)',
    configuration: context.configurationName,
    cpu: (CPU_NAMES as readonly string[]).includes(context.configurationName ?? '')
      ? context.configurationName
      : undefined,
  };
  const task = `${run.project}:${run.target}${run.configuration ? ':' + run.configuration : ''}`;
  const print = (line: string) => console.error(line);
  const started = Date.now();
  let log: string | undefined;
  try {
    checkConfiguration(context);
    checkInputs(context);
    await beforeTarget(run, print);
    const value = await body();
    if (isTargetFailure(value)) log = value.log;
  } catch (e) {
    console.error(`\nnextrust: ${task} failed: ${describeError(e)}`);
    log = failureLog(e);
  }
  const success = log === undefined;
  await afterTarget(run, { success, durationMs: Date.now() - started, log }, print);
  return { success };
}
