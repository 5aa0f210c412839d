/**
 * Joining the executors' records to the Nx runs that contain them, so that a
 * task run is counted once.
 *
 * An executed task is recorded twice: the executor writes `target_succeeded`
 * or `target_failed` when it ends, and the plugin writes the whole Nx run as
 * `nx_run` when Nx is done. Each executed Nx task (status success or failure)
 * claims the latest unclaimed executor record of the same task id and outcome
 * recorded before the Nx run ended and at most JOIN_WINDOW_MS earlier. A
 * record no Nx run claims counts as a run of its own.
 */
import { phaseOfTarget, type PhasesFile } from '../pipeline/phases';
import type { Activity } from '../pipeline/status-store';
import {
  executorRecordOf,
  failureOfRun,
  nxTasksOf,
  runOfExecutorRecord,
  runOfNxTask,
  type ExecutorRecord,
  type PhaseOf,
} from './runs';
import { JOIN_WINDOW_MS, NO_PHASE, type FailureRecord, type TaskRun } from './types';

/** The executor records waiting for their Nx run, by task id, in time order. */
export class ExecutorJoin {
  private readonly pending = new Map<string, { record: ExecutorRecord; atMs: number; claimed: boolean }[]>();

  /** Adds a record (records must come in time order). */
  add(record: ExecutorRecord): void {
    const list = this.pending.get(record.task) ?? [];
    list.push({ record, atMs: Date.parse(record.activity.timestamp), claimed: false });
    this.pending.set(record.task, list);
  }

  /**
   * Claims the record of an Nx task: the latest unclaimed one of task `task`
   * with outcome `ok`, recorded at or before `atMs` (the Nx run's time, ms)
   * and at most JOIN_WINDOW_MS before it.
   * @returns its activity, or undefined when there is none.
   */
  claim(task: string, ok: boolean, atMs: number): Activity | undefined {
    const list = this.pending.get(task) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i];
      if (p.claimed || p.record.ok !== ok || p.atMs > atMs) continue;
      if (atMs - p.atMs > JOIN_WINDOW_MS) return undefined;
      p.claimed = true;
      return p.record.activity;
    }
    return undefined;
  }

  /** The records no Nx run claimed, grouped by task in order of first appearance, each group in time order. */
  unclaimed(): ExecutorRecord[] {
    return [...this.pending.values()].flatMap((list) => list.filter((p) => !p.claimed).map((p) => p.record));
  }
}

/**
 * Turns activities (in time order, as activities.ts reads them) into task
 * runs and failures (join rule in the module doc). Malformed nx_run tasks are
 * counted into one warning pushed to `warnings`.
 * @returns runs and failures of all time, oldest first.
 */
export function runsFromActivities(
  activities: Activity[],
  phases: PhasesFile | undefined,
  warnings: string[] = [],
): { runs: TaskRun[]; failures: FailureRecord[] } {
  const runs: TaskRun[] = [];
  const commandFailures: FailureRecord[] = [];
  const join = new ExecutorJoin();
  const phaseOf: PhaseOf = (project, target, recorded) =>
    (phases && phaseOfTarget(phases, project, target)?.id) ?? recorded ?? NO_PHASE;
  let badTasks = 0;

  for (const a of activities) {
    const executor = executorRecordOf(a);
    if (executor) {
      if ('record' in executor) join.add(executor.record);
      else commandFailures.push(executor.commandFailure);
      continue;
    }
    const { tasks, bad } = nxTasksOf(a);
    badTasks += bad;
    const atMs = Date.parse(a.timestamp);
    for (const t of tasks) {
      const executed = t.result === 'success' || t.result === 'failure';
      const joined = executed ? join.claim(t.id, t.result === 'success', atMs) : undefined;
      runs.push(runOfNxTask(a.timestamp, t, joined, phaseOf));
    }
  }
  if (badTasks) warnings.push(`nx_run: ${badTasks} task record(s) without id, project, target or status ignored`);

  for (const record of join.unclaimed()) runs.push(runOfExecutorRecord(record, phaseOf));
  runs.sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp));

  const failures: FailureRecord[] = [
    ...runs.filter((r) => r.result === 'failure').map(failureOfRun),
    ...commandFailures,
  ].sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp));
  return { runs, failures };
}
