/**
 * Reading task runs out of activities: the tasks of an `nx_run` activity
 * (written by pipeline/run-record.ts after every Nx run) and the executors'
 * own `target_succeeded` / `target_failed` records
 * (pipeline/target-hooks.ts, failure-analysis.ts), normalised into TaskRun
 * and FailureRecord (types.ts). join.ts decides which executor record belongs
 * to which Nx task.
 */
import type { Activity } from '../pipeline/status-store';
import { CPU_NAMES } from '../toolchain/cpu';
import { NO_CPU, NO_PHASE, type FailureRecord, type RunResult, type TaskRun } from './types';

const CPU_SET = new Set<string>(CPU_NAMES);
/** `project:target[:configuration]`, no spaces: a target run (anything else is a command, `bash: …`). */
const TARGET_TASK = /^([^\s:]+):([^\s:]+)(?::([^\s:]+))?$/;

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v : undefined);
/** A finite number >= 0, else null. */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** Whether a configuration names a CPU variant (toolchain/cpu.ts CPU_NAMES). */
export const isCpu = (configuration: string | null | undefined): configuration is string =>
  !!configuration && CPU_SET.has(configuration);

/**
 * The result of an Nx task status (`success`, `failure`, `remote-cache`,
 * `local-cache`, `local-cache-kept-existing`, `skipped`, `stopped`; anything
 * else is `other`).
 */
export function resultOfStatus(status: string): RunResult {
  if (status === 'success') return 'success';
  if (status === 'failure') return 'failure';
  if (status === 'remote-cache') return 'remote_cache';
  if (status.startsWith('local-cache')) return 'local_cache';
  if (status === 'skipped') return 'skipped';
  if (status === 'stopped') return 'stopped';
  return 'other';
}

/** One task of an `nx_run` activity, checked. */
export interface NxTask {
  /** `project:target[:configuration]`. */
  id: string;
  project: string;
  target: string;
  configuration: string | null;
  result: RunResult;
  /** ms, or null when absent or not a number >= 0. */
  duration_ms: number | null;
  /** Exit code, or null when absent. */
  code: number | null;
}

/**
 * The tasks of an `nx_run` activity (`details.tasks`, pipeline/run-record.ts
 * NxTaskRecord). A task without a string id, project, target or status is
 * left out and counted in `bad`.
 * @returns no tasks for any other activity.
 */
export function nxTasksOf(a: Activity): { tasks: NxTask[]; bad: number } {
  const tasks: NxTask[] = [];
  let bad = 0;
  if (a.type !== 'nx_run' || !Array.isArray(a.details.tasks)) return { tasks, bad };
  for (const raw of a.details.tasks as unknown[]) {
    const t = raw as Record<string, unknown> | null | undefined;
    const id = str(t?.id);
    const project = str(t?.project);
    const target = str(t?.target);
    const status = str(t?.status);
    if (!t || !id || !project || !target || !status) {
      bad++;
      continue;
    }
    tasks.push({
      id,
      project,
      target,
      configuration: str(t.configuration) ?? null,
      result: resultOfStatus(status),
      duration_ms: num(t.duration_ms),
      code: typeof t.code === 'number' ? t.code : null,
    });
  }
  return { tasks, bad };
}

/**
 * An executor's record of one target run: `target_succeeded` or
 * `target_failed` of a `project:target[:configuration]` task.
 */
export interface ExecutorRecord {
  activity: Activity;
  /** `project:target[:configuration]`. */
  task: string;
  project: string;
  target: string;
  configuration: string | null;
  /** target_succeeded. */
  ok: boolean;
}

/**
 * What an activity says about a target run: an executor record, a failed
 * command (a `target_failed` whose task is no `project:target`, such as
 * `bash: cargo build` from the Claude Code hook), or nothing (any other
 * activity, or one without `details.task`).
 */
export function executorRecordOf(
  a: Activity,
): { record: ExecutorRecord } | { commandFailure: FailureRecord } | undefined {
  if (a.type !== 'target_succeeded' && a.type !== 'target_failed') return undefined;
  const task = str(a.details.task);
  if (!task) return undefined;
  const m = TARGET_TASK.exec(task);
  if (!m) return a.type === 'target_failed' ? { commandFailure: commandFailureOf(a, task) } : undefined;
  const [, project, target, configuration] = m;
  return {
    record: {
      activity: a,
      task,
      project,
      target,
      configuration: configuration ?? null,
      ok: a.type === 'target_succeeded',
    },
  };
}

/** Phase of a target: phases.json's, else the one its executor recorded, else NO_PHASE. */
export type PhaseOf = (project: string, target: string, recorded?: string) => string;

/**
 * The run of one Nx task. A joined executor record (join.ts) gives the CPU
 * when the configuration is no CPU variant, the recorded phase, and for a
 * failure the known issue, message and saved log; a failure without one was
 * not analysed, and its message gives Nx's exit code.
 */
export function runOfNxTask(timestamp: string, t: NxTask, joined: Activity | undefined, phaseOf: PhaseOf): TaskRun {
  const d = joined?.details;
  const run: TaskRun = {
    timestamp,
    task: t.id,
    project: t.project,
    target: t.target,
    configuration: t.configuration,
    cpu: isCpu(t.configuration) ? t.configuration : (str(d?.cpu) ?? NO_CPU),
    phase: phaseOf(t.project, t.target, str(d?.target_phase)),
    result: t.result,
    duration_ms: t.duration_ms,
    source: 'nx',
  };
  if (t.result === 'failure') {
    run.analysed = joined !== undefined;
    run.known_issue = str(d?.known_issue) ?? null;
    run.message = str(d?.message) ?? `${t.id} failed (exit code ${t.code ?? '?'})`;
    const log = str(d?.log);
    if (log) run.log = log;
  }
  return run;
}

/**
 * The run of an executor record no Nx run claimed (an executor run outside
 * Nx, or a log older than nx_run recording).
 */
export function runOfExecutorRecord(p: ExecutorRecord, phaseOf: PhaseOf): TaskRun {
  const d = p.activity.details;
  const run: TaskRun = {
    timestamp: p.activity.timestamp,
    task: p.task,
    project: p.project,
    target: p.target,
    configuration: p.configuration,
    cpu: str(d.cpu) ?? (isCpu(p.configuration) ? p.configuration : NO_CPU),
    phase: phaseOf(p.project, p.target, str(d.target_phase)),
    result: p.ok ? 'success' : 'failure',
    duration_ms: num(d.duration_ms),
    source: 'executor',
  };
  if (!p.ok) {
    run.analysed = true;
    run.known_issue = str(d.known_issue) ?? null;
    run.message = str(d.message) ?? `${p.task} failed`;
    const log = str(d.log);
    if (log) run.log = log;
  }
  return run;
}

/** The failure record of a failed run (CPU and phase null when NO_CPU / NO_PHASE). */
export function failureOfRun(r: TaskRun): FailureRecord {
  return {
    timestamp: r.timestamp,
    task: r.task,
    cpu: r.cpu === NO_CPU ? null : r.cpu,
    phase: r.phase === NO_PHASE ? null : r.phase,
    known_issue: r.known_issue ?? null,
    analysed: r.analysed ?? false,
    message: r.message ?? '',
    ...(r.log ? { log: r.log } : {}),
    source: r.source,
  };
}

/** The failure record of a failed command (`target_failed` of `bash: …`). */
function commandFailureOf(a: Activity, task: string): FailureRecord {
  const d = a.details;
  const log = str(d.log);
  return {
    timestamp: a.timestamp,
    task,
    cpu: str(d.cpu) ?? null,
    phase: str(d.target_phase) ?? null,
    known_issue: str(d.known_issue) ?? null,
    analysed: true,
    message: str(d.message) ?? `${task} failed`,
    ...(log ? { log } : {}),
    source: 'command',
  };
}
