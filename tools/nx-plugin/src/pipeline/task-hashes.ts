/**
 * Why a task missed the cache: the plugin's postTasksExecution hook records,
 * for every task of an Nx run, its hash and Nx's hash details (the hash of
 * each input: file sets, options, environment variables, runtime commands,
 * npm packages, outputs of the tasks it depends on; `Task.hashDetails` in
 * nx/src/native). `nextrust why <task>` compares the newest recorded hash with
 * the one before it and names the inputs that changed.
 *
 * Storage: `<status dir>/task-hashes/<task id>.json`, `{task, runs}` with the
 * last MAX_RUNS distinct hashes, newest last; a run with the same hash as the
 * newest updates its time, status and outcome counts. Written under the status
 * store's lock, atomically.
 *
 * Flaky tasks: a hash that has both passed and failed (the same inputs, two
 * outcomes) marks the task flaky; recordTaskHashes returns it the moment the
 * second outcome appears, and the run record appends a `flaky_task` activity.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { StatusStore } from './status-store';

/** Distinct hashes kept per task. */
export const MAX_RUNS = 10;

/** Nx's hash details of a task (nx/src/native TaskHashDetails). */
export interface HashDetails {
  command: string;
  /** Input name → hash. */
  nodes: Record<string, string>;
  implicitDeps?: Record<string, string>;
  runtime?: Record<string, string>;
}

/** One recorded hash of a task. */
export interface TaskHashRun {
  hash: string;
  /** ISO time of the newest run with this hash. */
  at: string;
  /** Nx's status of that run (success, failure, local-cache, remote-cache, ...). */
  status: string;
  /** Runs with this hash that exited 0, and that failed (cache replays included). */
  passed: number;
  failed: number;
  details: HashDetails;
}

/** A task whose hash has both passed and failed. */
export interface FlakyTask {
  task: string;
  hash: string;
  passed: number;
  failed: number;
}

/** The file of one task. */
export interface TaskHashFile {
  task: string;
  runs: TaskHashRun[];
}

/** The task result fields this reads (nx/src/native TaskResult). */
export interface HashedTaskResult {
  task: { id: string; hash?: string; hashDetails?: HashDetails };
  status: string;
  /** Exit code: 0 passed; anything else failed (a replayed failure too). */
  code?: number;
}

/** Whether a result passed, failed, or says nothing about the inputs (skipped, stopped). */
function outcome(r: HashedTaskResult): 'passed' | 'failed' | null {
  if (r.status === 'skipped' || r.status === 'stopped') return null;
  if (r.status === 'failure') return 'failed';
  return (r.code ?? 0) === 0 ? 'passed' : 'failed';
}

/** `<status dir>/task-hashes/<task id with ':' and '/' made safe>.json`. */
export function taskHashFile(statusDir: string, taskId: string): string {
  return path.join(statusDir, 'task-hashes', `${taskId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

/** Reads a task's file; null when none was recorded. @throws Error naming the file when it is not valid JSON. */
export function readTaskHashes(statusDir: string, taskId: string): TaskHashFile | null {
  const file = taskHashFile(statusDir, taskId);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as TaskHashFile;
    if (!Array.isArray(parsed.runs)) throw new Error("field 'runs': expected an array");
    return parsed;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Records the hash of every task of a run that has one (module doc).
 * @returns the number of tasks recorded, and the tasks that became flaky with this run.
 * @throws LockTimeoutError and file errors (the plugin hook reports them as warnings).
 */
export async function recordTaskHashes(
  store: StatusStore,
  taskResults: Record<string, HashedTaskResult>,
  now: Date = new Date(),
): Promise<{ recorded: number; flaky: FlakyTask[] }> {
  const results = Object.values(taskResults).filter((r) => r.task.hash && r.task.hashDetails);
  const flaky: FlakyTask[] = [];
  if (!results.length) return { recorded: 0, flaky };
  await store.withLock(async () => {
    for (const r of results) {
      let file: TaskHashFile;
      try {
        file = readTaskHashes(store.dir, r.task.id) ?? { task: r.task.id, runs: [] };
      } catch {
        file = { task: r.task.id, runs: [] }; // an unreadable record starts again
      }
      const o = outcome(r);
      let run = file.runs.find((x) => x.hash === r.task.hash);
      if (run) {
        // Seen before: it becomes the newest again.
        file.runs = [...file.runs.filter((x) => x !== run), run];
        run.at = now.toISOString();
        run.status = r.status;
      } else {
        run = {
          hash: r.task.hash!,
          at: now.toISOString(),
          status: r.status,
          passed: 0,
          failed: 0,
          details: r.task.hashDetails!,
        };
        file.runs = [...file.runs, run].slice(-MAX_RUNS);
      }
      run.passed ??= 0;
      run.failed ??= 0;
      const before = { passed: run.passed, failed: run.failed };
      if (o) run[o]++;
      // Flaky the moment the second outcome appears for these inputs.
      if (o && before[o] === 0 && before[o === 'passed' ? 'failed' : 'passed'] > 0)
        flaky.push({ task: r.task.id, hash: run.hash, passed: run.passed, failed: run.failed });
      const target = taskHashFile(store.dir, r.task.id);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, JSON.stringify(file) + '\n', { fsync: false });
    }
  });
  return { recorded: results.length, flaky };
}

/** What kind of input a hash-details node is, in words, with its name. */
export function describeInput(node: string): string {
  if (node === 'command') return 'the target itself (executor or its definition)';
  if (node.startsWith('env:')) return `environment variable ${node.slice(4)}`;
  if (node.startsWith('runtime:')) return `the output of \`${node.slice(8)}\` (a runtime input)`;
  if (node.startsWith('npm:')) return `npm package ${node.slice(4)} (externalDependencies)`;
  if (node.startsWith('workspace:')) return `workspace files ${node.slice(10)}`;
  const m = /^([^:]+):(.*)$/.exec(node);
  if (m && m[2] === 'ProjectConfiguration')
    return `the options or configuration of project ${m[1]} (its nextrust.json)`;
  if (m && m[2] === 'TsConfig') return `the TypeScript configuration seen by project ${m[1]}`;
  if (m && m[1].includes('*')) return `outputs ${m[1]} of the task writing ${m[2]} (dependentTasksOutputFiles)`;
  if (m) return `files of project ${m[1]}: ${m[2]}`;
  return node;
}

/** One input that differs between two hashes. */
export interface InputChange {
  change: 'changed' | 'added' | 'removed';
  /** The hash-details node name. */
  input: string;
  /** describeInput(input). */
  what: string;
}

/**
 * The inputs that differ between two recorded runs of a task (command, nodes, implicit dependencies, runtime).
 * @returns changes in the order of the newer run's inputs, then removed ones.
 */
export function changedInputs(before: HashDetails, after: HashDetails): InputChange[] {
  const flat = (d: HashDetails): Record<string, string> => ({
    command: d.command,
    ...d.nodes,
    ...Object.fromEntries(Object.entries(d.implicitDeps ?? {}).map(([k, v]) => [`implicit:${k}`, v])),
    ...Object.fromEntries(Object.entries(d.runtime ?? {}).map(([k, v]) => [`runtime:${k}`, v])),
  });
  const a = flat(before);
  const b = flat(after);
  const out: InputChange[] = [];
  for (const [k, v] of Object.entries(b)) {
    if (!(k in a)) out.push({ change: 'added', input: k, what: describeInput(k) });
    else if (a[k] !== v) out.push({ change: 'changed', input: k, what: describeInput(k) });
  }
  for (const k of Object.keys(a)) if (!(k in b)) out.push({ change: 'removed', input: k, what: describeInput(k) });
  return out;
}

/** The explanation `nextrust why` prints. */
export interface MissExplanation {
  task: string;
  newest: Omit<TaskHashRun, 'details'>;
  previous: Omit<TaskHashRun, 'details'> | null;
  changes: InputChange[];
}

/**
 * Explains the newest recorded hash of `taskId` against the one before it.
 * @returns null when the task has no record.
 * @throws Error naming the file when the record is unreadable.
 */
export function explainMiss(statusDir: string, taskId: string): MissExplanation | null {
  const file = readTaskHashes(statusDir, taskId);
  if (!file || !file.runs.length) return null;
  const newest = file.runs[file.runs.length - 1];
  const previous = file.runs.length > 1 ? file.runs[file.runs.length - 2] : null;
  const strip = ({ details: _d, ...rest }: TaskHashRun) => rest;
  return {
    task: taskId,
    newest: strip(newest),
    previous: previous && strip(previous),
    changes: previous ? changedInputs(previous.details, newest.details) : [],
  };
}
