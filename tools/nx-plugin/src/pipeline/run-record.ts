/**
 * The record of one Nx run, written by the plugin's postTasksExecution hook
 * (Nx calls it after every `nx run`/`nx affected` with each task's result):
 * one `nx_run` activity listing every task with its status, whether it came
 * from the local or remote cache, its duration and exit code. Executors do
 * not run on cache hits, so this is where cache hits are seen; the metrics
 * (src/metrics) are computed from these activities. Each task's
 * hash and hash details are kept too, for `nextrust why` (task-hashes.ts).
 */
import { resolveStatusDir, StatusStore } from './status-store';
import { recordTaskHashes, type HashedTaskResult } from './task-hashes';

/** One task of an Nx run. */
export interface NxTaskRecord {
  /** `project:target[:configuration]`. */
  id: string;
  project: string;
  target: string;
  configuration: string | null;
  /** Nx's task status: success, failure, skipped, stopped, local-cache, local-cache-kept-existing, remote-cache. */
  status: string;
  /** Where a cache hit came from, or null when the task ran. */
  cache: 'local' | 'remote' | null;
  /** ms, when Nx gives start and end times. */
  duration_ms: number | null;
  code: number;
}

/** The task result shape Nx passes (nx/src/native TaskResult). */
export interface NxTaskResultLike extends HashedTaskResult {
  task: HashedTaskResult['task'] & {
    target: { project: string; target: string; configuration?: string };
    startTime?: number;
    endTime?: number;
  };
  status: string;
  code: number;
}

/** Turns Nx's task results into records. */
export function nxTaskRecords(taskResults: Record<string, NxTaskResultLike>): NxTaskRecord[] {
  return Object.values(taskResults).map((r) => ({
    id: r.task.id,
    project: r.task.target.project,
    target: r.task.target.target,
    configuration: r.task.target.configuration ?? null,
    status: r.status,
    cache: r.status === 'remote-cache' ? 'remote' : r.status.startsWith('local-cache') ? 'local' : null,
    duration_ms: r.task.startTime && r.task.endTime ? Math.max(0, r.task.endTime - r.task.startTime) : null,
    code: r.code,
  }));
}

/**
 * Appends the `nx_run` activity for a finished run (nothing for an empty run).
 * @throws LockTimeoutError and file errors: the caller (the plugin hook) reports them as warnings.
 */
export async function recordNxRun(
  workspaceRoot: string,
  taskResults: Record<string, NxTaskResultLike>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NxTaskRecord[]> {
  const tasks = nxTaskRecords(taskResults);
  if (!tasks.length) return tasks;
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env));
  const hits = tasks.filter((t) => t.cache).length;
  const failed = tasks.filter((t) => t.status === 'failure').length;
  await store.append('nx_run', {
    tasks,
    message: `nx ran ${tasks.length} task(s): ${tasks.length - hits} executed, ${hits} from cache, ${failed} failed`,
  });
  const { flaky } = await recordTaskHashes(store, taskResults);
  if (flaky.length) {
    // The cause, when known: the known issue of the task's latest recorded failure.
    const recent = await store.tail(200);
    for (const f of flaky) {
      const failure = [...recent].reverse().find((a) => a.type === 'target_failed' && a.details.task === f.task);
      const cause = (failure?.details.known_issue as string | null | undefined) ?? null;
      await store.append('flaky_task', {
        task: f.task,
        hash: f.hash,
        passed: f.passed,
        failed: f.failed,
        cause,
        message: `${f.task} is flaky: the same inputs (hash ${f.hash.slice(0, 12)}) passed ${f.passed} and failed ${f.failed} time(s)${cause ? `; known issue ${cause}` : ''}`,
      });
    }
  }
  return tasks;
}
