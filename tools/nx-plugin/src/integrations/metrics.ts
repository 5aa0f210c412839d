/**
 * Pipeline metrics (issue 5 §5): per-target durations, cache hits, failure
 * rates by phase and CPU, AI tokens and cost, computed from the status
 * directory and exported as a Prometheus text file and to StatsD.
 *
 * Sources (all in the status directory):
 *  - `nx_run` activities (pipeline/run-record.ts): every task of every Nx run
 *    with its status, cache source and duration. The main source: cache hits
 *    are only seen here (executors do not run on a hit).
 *  - `target_succeeded` / `target_failed` activities, written by the executors
 *    (pipeline/target-hooks.ts, failure-analysis.ts): the CPU variant and, for
 *    a failure, the known issue it matched. Each one is joined to the task of
 *    the `nx_run` that contains it (same task id and outcome, recorded before
 *    that run ended, at most JOIN_WINDOW_MS earlier); one no run claims (an
 *    executor run outside Nx, or a log older than `nx_run` recording) counts
 *    as a run of its own. `target_failed` activities of commands rather than
 *    targets (`bash: …`, from the Claude Code hook) are listed as failures but
 *    are no task runs.
 *  - `design_decision` / `review_completed` activities and
 *    `metrics/ai-usage.jsonl` (ai/usage.ts) for the AI part.
 *  - `pipeline-state.json` (current phase) and `phases.json` (phase of a target).
 * Rotated activities (`archive/pipeline-log-YYYY-MM.jsonl`) are read too.
 *
 * Two spans:
 *  - the window: the last `days` UTC days, today included (as
 *    `nextrust usage-report`). Rates, duration quantiles, tables and the
 *    report use it.
 *  - the lifetime: everything recorded. Prometheus counters (`*_total`,
 *    a summary's `_sum`/`_count`) use it, so that they only ever grow (a
 *    counter computed over a sliding window would drop as old runs leave it,
 *    which PromQL's rate()/increase() take for counter resets).
 *
 * Definitions (ratios are 0..1):
 *  - a run is one task of one Nx run (or one executor run, see above);
 *  - executed: the task ran (Nx status success or failure);
 *  - cache hit: Nx replayed it from the local or remote cache;
 *  - cache hit rate = hits / (hits + executed);
 *  - failure rate = failed / executed (cache hits and skipped tasks excluded);
 *  - durations are of executed runs only (a cache hit's replay time says
 *    nothing about the task), in ms; quantiles are nearest-rank.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import StatsD, { type Tags } from 'hot-shots';
import { readUsage, sumUsage, usageReport, type UsageRecord } from '../ai/usage';
import { phaseOfTarget, type PhasesFile } from '../pipeline/phases';
import { readPrecision, type IssuePrecision } from '../pipeline/precision';
import {
  ACTIVITY_LOG,
  forEachLine,
  parseActivityLine,
  type Activity,
  type PhaseRecord,
  type StatusStore,
} from '../pipeline/status-store';
import { CPU_NAMES } from '../toolchain/cpu';

/** Default window (days, today included). */
export const DEFAULT_METRICS_DAYS = 7;
/** An executor's activity joins an `nx_run` recorded at most this long after it (ms). */
export const JOIN_WINDOW_MS = 24 * 3_600_000;
/** CPU label of targets that do not depend on the CPU. */
export const NO_CPU = 'none';
/** Phase label of targets no phase lists. */
export const NO_PHASE = 'unassigned';
/** Label value of the aggregate over all phases or all CPUs (nextrust_failure_rate). */
export const ALL = 'all';

/** Outcome of one run. */
export type RunResult = 'success' | 'failure' | 'local_cache' | 'remote_cache' | 'skipped' | 'stopped' | 'other';

/** One task run, normalised from an `nx_run` task or an executor activity. */
export interface TaskRun {
  /** ISO time it was recorded (the end of the Nx run, or of the target for an executor record). */
  timestamp: string;
  /** `project:target[:configuration]`. */
  task: string;
  project: string;
  /** Target name alone (`build`). */
  target: string;
  configuration: string | null;
  /** CPU variant, or NO_CPU. */
  cpu: string;
  /** Phase id, or NO_PHASE. */
  phase: string;
  result: RunResult;
  /** ms; null when unknown (a cache hit's replay time is kept but not used for duration stats). */
  duration_ms: number | null;
  /** `nx`: an nx_run task; `executor`: a target_succeeded/target_failed no nx_run claimed. */
  source: 'nx' | 'executor';
  /** Failures: the known issue matched (null: analysed, none matched). */
  known_issue?: string | null;
  /** Failures: whether failure analysis ran on it (a target_failed activity exists). */
  analysed?: boolean;
  /** Failures: the analysis message, or Nx's exit code. */
  message?: string;
  /** Failures: the saved failure log, relative to the status directory. */
  log?: string;
}

/** A task whose same inputs both passed and failed (a `flaky_task` activity, src/pipeline/task-hashes.ts). */
export interface FlakyRecord {
  timestamp: string;
  task: string;
  hash: string;
  passed: number;
  failed: number;
  /** Known issue of its latest failure, or null. */
  cause: string | null;
}

/** One failure, for the failures table (newest first). */
export interface FailureRecord {
  timestamp: string;
  /** `project:target[:configuration]`, or `bash: <command>` for a failed command. */
  task: string;
  cpu: string | null;
  phase: string | null;
  /** Known issue id; null when none matched or the failure was not analysed. */
  known_issue: string | null;
  analysed: boolean;
  message: string;
  /** Saved failure log, relative to the status directory. */
  log?: string;
  source: 'nx' | 'executor' | 'command';
}

/** Duration statistics of executed runs (ms). */
export interface DurationStats {
  count: number;
  /** Sum (ms). */
  sum_ms: number;
  /** Mean, rounded to whole ms. */
  mean_ms: number;
  /** Median, nearest-rank (ms). */
  p50_ms: number;
  /** 95th percentile, nearest-rank (ms). */
  p95_ms: number;
  min_ms: number;
  max_ms: number;
}

/** Counts of runs and the rates derived from them. */
export interface RunCounts {
  runs: number;
  /** Runs that executed (success + failure). */
  executed: number;
  succeeded: number;
  failed: number;
  cache_local: number;
  cache_remote: number;
  /** Skipped, stopped or other statuses. */
  skipped: number;
  /** hits / (hits + executed), 0..1; null without either. */
  cache_hit_rate: number | null;
  /** failed / executed, 0..1; null when nothing executed. */
  failure_rate: number | null;
}

/** Statistics of one target on one CPU. */
export interface TargetStats extends RunCounts {
  /** `project:target`. */
  target: string;
  project: string;
  cpu: string;
  phase: string;
  /** Of executed runs with a known duration; null when there is none. */
  duration: DurationStats | null;
  /** Runs by result. */
  by_result: Partial<Record<RunResult, number>>;
  /** ISO time of the last run. */
  last_run: string;
}

/** Aggregates of a set of runs. */
export interface RunAggregate {
  totals: RunCounts;
  /** Per target and CPU, sorted by target then CPU. */
  targets: TargetStats[];
  /** Per phase (phases.json order, then NO_PHASE). */
  by_phase: (RunCounts & { phase: string })[];
  /** Per CPU (CPU_NAMES order, then NO_CPU). */
  by_cpu: (RunCounts & { cpu: string })[];
  /** Per phase and CPU. */
  by_phase_cpu: (RunCounts & { phase: string; cpu: string })[];
}

/** AI usage of one model and kind. */
export interface AiModelKind {
  model: string;
  kind: 'design' | 'review';
  calls: number;
  input_tokens: number;
  output_tokens: number;
  /** USD, priced calls only. */
  cost_usd: number;
  unpriced_calls: number;
}

/** AI usage of one day and model. */
export interface AiDayModel {
  /** YYYY-MM-DD (UTC). */
  day: string;
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  /** USD, priced calls only. */
  cost_usd: number;
  unpriced_calls: number;
}

/** A design decision or review, for the report. */
export interface AiEvent {
  timestamp: string;
  type: 'design_decision' | 'review_completed';
  /** The task (design) or the phase (review). */
  subject: string;
  model: string | null;
  /** A cached design decision costs nothing. */
  cached: boolean;
  summary: string;
}

/** Everything computeMetrics finds. */
export interface PipelineMetrics {
  /** ISO time the metrics were computed. */
  generated_at: string;
  /** Window length (days, today included). */
  days: number;
  /** ISO start of the window (00:00 UTC of its first day). */
  since: string;
  status_dir: string;
  /** Phases of phases.json, in order (empty without one). */
  phases: { id: string; number: number; name: string }[];
  current_phase: PhaseRecord | null;
  /** Aggregates of the window. */
  window: RunAggregate;
  /** Aggregates of everything recorded (Prometheus counters). */
  lifetime: RunAggregate;
  /** Runs of the window, oldest first (StatsD counters and timings). */
  runs: TaskRun[];
  /** Failures of the window, newest first. */
  failures: FailureRecord[];
  /** Tasks that turned flaky in the window (`flaky_task` activities: one hash passed and failed), newest first. */
  flaky: FlakyRecord[];
  /** Precision per known issue from people's verdicts (precision.json; all time), by issue id. */
  precision: Record<string, IssuePrecision>;
  ai: {
    /** Window, by model and kind. */
    by_model_kind: AiModelKind[];
    /** Window, by day and model (sorted). */
    by_day_model: AiDayModel[];
    /** Window totals. */
    total: Omit<AiModelKind, 'model' | 'kind'>;
    /** Lifetime, by model and kind (Prometheus counters). */
    lifetime_by_model_kind: AiModelKind[];
    /** Records of the window, oldest first (StatsD counters). */
    records: UsageRecord[];
    /** Design decisions and reviews of the window, newest first. */
    events: AiEvent[];
  };
  /** Problems met while reading (invalid lines, an invalid phases file): reported, never fatal. */
  warnings: string[];
}

/** Options of computeMetrics. */
export interface MetricsOptions {
  /** Window in days, today included (default DEFAULT_METRICS_DAYS); a whole number >= 1. */
  days?: number;
  /** Clock (tests). */
  now?: Date;
}

const CPU_SET = new Set<string>(CPU_NAMES);
const TARGET_TASK = /^([^\s:]+):([^\s:]+)(?::([^\s:]+))?$/;

/** Start of the window: 00:00 UTC `days - 1` days before `now` (as usageReport). */
export function windowStart(days: number, now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1))).toISOString();
}

/**
 * Reads every activity: the rotated archives, then the active log; sorted by
 * time (stable). Invalid lines become warnings.
 */
async function readAllActivities(store: StatusStore, warnings: string[]): Promise<Activity[]> {
  const archiveDir = store.file('archive');
  const archives = fs.existsSync(archiveDir)
    ? fs
        .readdirSync(archiveDir)
        .filter((f) => /^pipeline-log-\d{4}-\d{2}\.jsonl$/.test(f))
        .sort()
        .map((f) => path.join(archiveDir, f))
    : [];
  const out: Activity[] = [];
  // A rotation killed between writing the archive and replacing the log can leave
  // a line in both: the same line is counted once.
  const seen = new Set<string>();
  for (const file of [...archives, store.file(ACTIVITY_LOG)]) {
    if (!fs.existsSync(file)) continue;
    let invalid = 0;
    await forEachLine(file, (text, _line, complete) => {
      const parsed = parseActivityLine(text);
      if ('error' in parsed) {
        if (complete) invalid++;
        return;
      }
      if (seen.has(text)) return;
      seen.add(text);
      out.push(parsed.activity);
    });
    if (invalid)
      warnings.push(`${path.relative(store.dir, file)}: ${invalid} invalid line(s) ignored (see nextrust status)`);
  }
  return out
    .map((a, i) => ({ a, i, t: Date.parse(a.timestamp) }))
    .sort((x, y) => x.t - y.t || x.i - y.i)
    .map((x) => x.a);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v : undefined);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** The result of an Nx task status. */
function resultOfStatus(status: string): RunResult {
  if (status === 'success') return 'success';
  if (status === 'failure') return 'failure';
  if (status === 'remote-cache') return 'remote_cache';
  if (status.startsWith('local-cache')) return 'local_cache';
  if (status === 'skipped') return 'skipped';
  if (status === 'stopped') return 'stopped';
  return 'other';
}

/** An executor activity waiting for its nx_run. */
interface Pending {
  activity: Activity;
  ok: boolean;
  claimed: boolean;
}

/**
 * Turns activities into task runs and failures (join rule in the module doc).
 * @returns runs and failures of all time, oldest first.
 */
export function runsFromActivities(
  activities: Activity[],
  phases: PhasesFile | undefined,
  warnings: string[] = [],
): { runs: TaskRun[]; failures: FailureRecord[] } {
  const runs: TaskRun[] = [];
  const commandFailures: FailureRecord[] = [];
  const pending = new Map<string, Pending[]>();
  const phaseOf = (project: string, target: string, hint?: string) =>
    (phases && phaseOfTarget(phases, project, target)?.id) ?? hint ?? NO_PHASE;
  let badTasks = 0;

  for (const a of activities) {
    if (a.type === 'target_succeeded' || a.type === 'target_failed') {
      const task = str(a.details.task);
      if (!task) continue;
      if (!TARGET_TASK.test(task)) {
        if (a.type === 'target_failed') commandFailures.push(failureOfActivity(a, task, null));
        continue;
      }
      const list = pending.get(task) ?? [];
      list.push({ activity: a, ok: a.type === 'target_succeeded', claimed: false });
      pending.set(task, list);
      continue;
    }
    if (a.type !== 'nx_run' || !Array.isArray(a.details.tasks)) continue;
    const at = Date.parse(a.timestamp);
    for (const raw of a.details.tasks as unknown[]) {
      const t = raw as Record<string, unknown>;
      const id = str(t?.id);
      const project = str(t?.project);
      const target = str(t?.target);
      const status = str(t?.status);
      if (!id || !project || !target || !status) {
        badTasks++;
        continue;
      }
      const configuration = str(t.configuration) ?? null;
      const result = resultOfStatus(status);
      // The executor's own record of this execution, if any.
      let joined: Activity | undefined;
      if (result === 'success' || result === 'failure') {
        const list = pending.get(id) ?? [];
        for (let i = list.length - 1; i >= 0; i--) {
          const p = list[i];
          const pt = Date.parse(p.activity.timestamp);
          if (p.claimed || p.ok !== (result === 'success') || pt > at) continue;
          if (at - pt > JOIN_WINDOW_MS) break;
          p.claimed = true;
          joined = p.activity;
          break;
        }
      }
      const cpu = configuration && CPU_SET.has(configuration) ? configuration : (str(joined?.details.cpu) ?? NO_CPU);
      const run: TaskRun = {
        timestamp: a.timestamp,
        task: id,
        project,
        target,
        configuration,
        cpu,
        phase: phaseOf(project, target, str(joined?.details.target_phase)),
        result,
        duration_ms: num(t.duration_ms),
        source: 'nx',
      };
      if (result === 'failure') {
        run.analysed = joined !== undefined;
        run.known_issue = str(joined?.details.known_issue) ?? null;
        run.message =
          str(joined?.details.message) ?? `${id} failed (exit code ${typeof t.code === 'number' ? t.code : '?'})`;
        const log = str(joined?.details.log);
        if (log) run.log = log;
      }
      runs.push(run);
    }
  }
  if (badTasks) warnings.push(`nx_run: ${badTasks} task record(s) without id, project, target or status ignored`);

  // Executor records no Nx run claimed are runs of their own.
  for (const [task, list] of pending) {
    const [, project, target, configuration] = TARGET_TASK.exec(task)!;
    for (const p of list) {
      if (p.claimed) continue;
      const d = p.activity.details;
      const run: TaskRun = {
        timestamp: p.activity.timestamp,
        task,
        project,
        target,
        configuration: configuration ?? null,
        cpu: str(d.cpu) ?? (configuration && CPU_SET.has(configuration) ? configuration : NO_CPU),
        phase: phaseOf(project, target, str(d.target_phase)),
        result: p.ok ? 'success' : 'failure',
        duration_ms: num(d.duration_ms),
        source: 'executor',
      };
      if (!p.ok) {
        run.analysed = true;
        run.known_issue = str(d.known_issue) ?? null;
        run.message = str(d.message) ?? `${task} failed`;
        if (str(d.log)) run.log = str(d.log);
      }
      runs.push(run);
    }
  }
  runs.sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp));

  const failures: FailureRecord[] = [
    ...runs
      .filter((r) => r.result === 'failure')
      .map((r) => ({
        timestamp: r.timestamp,
        task: r.task,
        cpu: r.cpu === NO_CPU ? null : r.cpu,
        phase: r.phase === NO_PHASE ? null : r.phase,
        known_issue: r.known_issue ?? null,
        analysed: r.analysed ?? false,
        message: r.message ?? '',
        ...(r.log ? { log: r.log } : {}),
        source: r.source,
      })),
    ...commandFailures,
  ].sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp));
  return { runs, failures };
}

function failureOfActivity(a: Activity, task: string, phase: string | null): FailureRecord {
  const d = a.details;
  return {
    timestamp: a.timestamp,
    task,
    cpu: str(d.cpu) ?? null,
    phase: str(d.target_phase) ?? phase,
    known_issue: str(d.known_issue) ?? null,
    analysed: true,
    message: str(d.message) ?? `${task} failed`,
    ...(str(d.log) ? { log: str(d.log) } : {}),
    source: 'command',
  };
}

/** Nearest-rank quantile of sorted values (q in 0..1). */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Duration statistics of a list of durations (ms); null when empty. */
export function durationStats(values: number[]): DurationStats | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    sum_ms: sum,
    mean_ms: Math.round(sum / sorted.length),
    p50_ms: quantile(sorted, 0.5),
    p95_ms: quantile(sorted, 0.95),
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
  };
}

function counts(runs: TaskRun[]): RunCounts {
  const c = { runs: runs.length, executed: 0, succeeded: 0, failed: 0, cache_local: 0, cache_remote: 0, skipped: 0 };
  for (const r of runs) {
    if (r.result === 'success') c.succeeded++;
    else if (r.result === 'failure') c.failed++;
    else if (r.result === 'local_cache') c.cache_local++;
    else if (r.result === 'remote_cache') c.cache_remote++;
    else c.skipped++;
  }
  c.executed = c.succeeded + c.failed;
  const hits = c.cache_local + c.cache_remote;
  return {
    ...c,
    cache_hit_rate: hits + c.executed ? hits / (hits + c.executed) : null,
    failure_rate: c.executed ? c.failed / c.executed : null,
  };
}

function groupBy<K extends string>(runs: TaskRun[], key: (r: TaskRun) => K): Map<K, TaskRun[]> {
  const m = new Map<K, TaskRun[]>();
  for (const r of runs) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Aggregates runs by target and CPU, phase, CPU, and phase and CPU. */
export function aggregateRuns(runs: TaskRun[], phaseOrder: string[] = []): RunAggregate {
  const phaseRank = (p: string) => (phaseOrder.includes(p) ? phaseOrder.indexOf(p) : p === NO_PHASE ? 1e6 : 1e5);
  const cpuRank = (c: string) => (CPU_SET.has(c) ? CPU_NAMES.indexOf(c as never) : c === NO_CPU ? 1e6 : 1e5);
  const byPhaseThenName = (a: string, b: string) => phaseRank(a) - phaseRank(b) || a.localeCompare(b);
  const byCpuThenName = (a: string, b: string) => cpuRank(a) - cpuRank(b) || a.localeCompare(b);

  const targets: TargetStats[] = [];
  for (const [, list] of groupBy(runs, (r) => `${r.project}:${r.target}\0${r.cpu}`)) {
    const first = list[0];
    const by_result: Partial<Record<RunResult, number>> = {};
    for (const r of list) by_result[r.result] = (by_result[r.result] ?? 0) + 1;
    targets.push({
      target: `${first.project}:${first.target}`,
      project: first.project,
      cpu: first.cpu,
      // The phase of a target's latest run (phases.json can change).
      phase: list[list.length - 1].phase,
      ...counts(list),
      duration: durationStats(
        list
          .filter((r) => (r.result === 'success' || r.result === 'failure') && r.duration_ms !== null)
          .map((r) => r.duration_ms!),
      ),
      by_result,
      last_run: list.reduce((t, r) => (r.timestamp > t ? r.timestamp : t), list[0].timestamp),
    });
  }
  targets.sort((a, b) => a.target.localeCompare(b.target) || byCpuThenName(a.cpu, b.cpu));
  const by_phase = [...groupBy(runs, (r) => r.phase)]
    .sort(([a], [b]) => byPhaseThenName(a, b))
    .map(([phase, l]) => ({ phase, ...counts(l) }));
  const by_cpu = [...groupBy(runs, (r) => r.cpu)]
    .sort(([a], [b]) => byCpuThenName(a, b))
    .map(([cpu, l]) => ({ cpu, ...counts(l) }));
  const by_phase_cpu = [...groupBy(runs, (r) => `${r.phase}\0${r.cpu}`)]
    .map(([k, l]) => {
      const [phase, cpu] = k.split('\0');
      return { phase, cpu, ...counts(l) };
    })
    .sort((a, b) => byPhaseThenName(a.phase, b.phase) || byCpuThenName(a.cpu, b.cpu));
  return { totals: counts(runs), targets, by_phase, by_cpu, by_phase_cpu };
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** AI usage by model and kind, sorted by model then kind. */
export function aiByModelKind(records: UsageRecord[]): AiModelKind[] {
  const m = new Map<string, AiModelKind>();
  for (const r of records) {
    const k = `${r.model}\0${r.kind}`;
    const row = m.get(k) ?? {
      model: r.model,
      kind: r.kind,
      calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      unpriced_calls: 0,
    };
    row.calls++;
    row.input_tokens += r.input_tokens;
    row.output_tokens += r.output_tokens;
    if (r.cost_usd === null) row.unpriced_calls++;
    else row.cost_usd = round6(row.cost_usd + r.cost_usd);
    m.set(k, row);
  }
  return [...m.values()].sort((a, b) => a.model.localeCompare(b.model) || a.kind.localeCompare(b.kind));
}

/**
 * Computes the metrics of a status directory (definitions in the module doc).
 * Never fails on bad data: invalid lines and files become `warnings`.
 * @throws RangeError when `days` is not a whole number >= 1; file system errors.
 */
export async function computeMetrics(store: StatusStore, options: MetricsOptions = {}): Promise<PipelineMetrics> {
  const days = options.days ?? DEFAULT_METRICS_DAYS;
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a whole number >= 1 (got ${days})`);
  const now = options.now ?? new Date();
  const since = windowStart(days, now);
  const sinceMs = Date.parse(since);
  const warnings: string[] = [];

  let phases: PhasesFile | undefined;
  try {
    const loaded = store.loadPhases();
    phases = loaded.phases;
    if (loaded.warning) warnings.push(`phases.json: ${loaded.warning}; using its last good copy`);
  } catch (e) {
    warnings.push(`phases.json not used: ${(e as Error).message}`);
  }
  let current_phase: PhaseRecord | null = null;
  try {
    const st = store.readState();
    current_phase = st.state.current_phase;
    for (const w of st.warnings) warnings.push(w.message);
  } catch (e) {
    warnings.push(`pipeline-state.json not used: ${(e as Error).message}`);
  }

  const activities = await readAllActivities(store, warnings);
  const { runs, failures } = runsFromActivities(activities, phases, warnings);
  const inWindow = (t: string) => Date.parse(t) >= sinceMs;
  const phaseOrder = phases?.phases.map((p) => p.id) ?? [];
  const windowRuns = runs.filter((r) => inWindow(r.timestamp));

  const { records, invalidLines } = await readUsage(store);
  if (invalidLines) warnings.push(`metrics/ai-usage.jsonl: ${invalidLines} invalid line(s) ignored`);
  const windowRecords = records
    .filter((r) => inWindow(r.timestamp))
    .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  const byModelKind = aiByModelKind(windowRecords);
  const dayModel = new Map<string, AiDayModel>();
  for (const row of usageReport(records, days, now).rows) {
    const k = `${row.day}\0${row.model}`;
    const d = dayModel.get(k) ?? {
      day: row.day,
      model: row.model,
      calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      unpriced_calls: 0,
    };
    d.calls += row.calls;
    d.input_tokens += row.input_tokens;
    d.output_tokens += row.output_tokens;
    d.cost_usd = round6(d.cost_usd + row.cost_usd);
    d.unpriced_calls += row.unpriced_calls;
    dayModel.set(k, d);
  }
  const total = sumUsage(byModelKind);
  const events: AiEvent[] = activities
    .filter((a) => (a.type === 'design_decision' || a.type === 'review_completed') && inWindow(a.timestamp))
    .map((a) => ({
      timestamp: a.timestamp,
      type: a.type as AiEvent['type'],
      subject: (a.type === 'design_decision' ? str(a.details.task) : str(a.details.phase)) ?? '?',
      model: str(a.details.model) ?? null,
      cached: a.details.cached === true,
      summary: str(a.details.summary) ?? str(a.details.message) ?? '',
    }))
    .reverse();

  return {
    generated_at: now.toISOString(),
    days,
    since,
    status_dir: store.dir,
    phases: phases?.phases.map((p) => ({ id: p.id, number: p.number, name: p.name })) ?? [],
    current_phase,
    window: aggregateRuns(windowRuns, phaseOrder),
    lifetime: aggregateRuns(runs, phaseOrder),
    runs: windowRuns,
    failures: failures.filter((f) => inWindow(f.timestamp)).reverse(),
    precision: (() => {
      try {
        return readPrecision(store);
      } catch (e) {
        warnings.push((e as Error).message);
        return {};
      }
    })(),
    flaky: activities
      .filter((a) => a.type === 'flaky_task' && inWindow(a.timestamp))
      .map((a) => ({
        timestamp: a.timestamp,
        task: str(a.details.task) ?? '?',
        hash: str(a.details.hash) ?? '?',
        passed: Number(a.details.passed) || 0,
        failed: Number(a.details.failed) || 0,
        cause: str(a.details.cause) ?? null,
      }))
      .reverse(),
    ai: {
      by_model_kind: byModelKind,
      by_day_model: [...dayModel.values()],
      total,
      lifetime_by_model_kind: aiByModelKind(records),
      records: windowRecords,
      events,
    },
    warnings,
  };
}

// ---------------------------------------------------------------------------
// Prometheus text exposition format (version 0.0.4)
// ---------------------------------------------------------------------------

/** Escapes a label value: backslash, double quote and newline (exposition format spec). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and newline. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format writes it (Go ParseFloat syntax). */
function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

type Labels = Record<string, string>;

class PromFamily {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge' | 'summary',
    readonly help: string,
  ) {}
  add(value: number, labels: Labels = {}, suffix = ''): this {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(',');
    this.lines.push(`${this.name}${suffix}${l ? `{${l}}` : ''} ${formatValue(value)}`);
    return this;
  }
  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.lines].join(
      '\n',
    );
  }
}

/**
 * The metrics in the Prometheus text exposition format (0.0.4), for
 * node_exporter's textfile collector (a `.prom` file). Counters are
 * lifetime totals; gauges and summary quantiles cover the window (module doc).
 *
 * Families:
 *  - nextrust_task_runs_total{target,cpu,phase,result}: counter, runs;
 *  - nextrust_task_duration_ms{target,cpu,phase}: summary of executed runs'
 *    durations in ms: quantile 0.5 and 0.95 over the window, _sum (ms) and
 *    _count over the lifetime;
 *  - nextrust_cache_hits_total{source=local|remote}: counter;
 *  - nextrust_cache_hit_rate: gauge, 0..1, window;
 *  - nextrust_failure_rate{phase,cpu}: gauge, 0..1, window; `all` in one label
 *    is the aggregate over it (phase="all",cpu="all" is the overall rate);
 *    series without executed runs are left out;
 *  - nextrust_ai_calls_total{model,kind}, nextrust_ai_tokens_total{model,kind,direction=input|output}:
 *    counters; nextrust_ai_cost_usd_total{model}: counter, USD of priced calls;
 *  - nextrust_current_phase{phase,name,status}: gauge, 1 for the current phase;
 *  - nextrust_metrics_window_seconds (the window, s), nextrust_metrics_generated_timestamp_seconds: gauges.
 */
export function toPrometheus(m: PipelineMetrics): string {
  const families: PromFamily[] = [];
  const fam = (name: string, type: PromFamily['type'], help: string) => {
    const f = new PromFamily(name, type, help);
    families.push(f);
    return f;
  };

  const runsF = fam(
    'nextrust_task_runs_total',
    'counter',
    'Task runs recorded (all time), by target (project:target), CPU variant, phase and result.',
  );
  for (const t of m.lifetime.targets) {
    for (const [result, n] of Object.entries(t.by_result))
      runsF.add(n!, { target: t.target, cpu: t.cpu, phase: t.phase, result });
  }

  const durF = fam(
    'nextrust_task_duration_ms',
    'summary',
    `Duration of executed task runs in milliseconds: quantiles over the last ${m.days} day(s) (nearest-rank), sum and count over all time.`,
  );
  const windowByKey = new Map(m.window.targets.map((t) => [`${t.target}\0${t.cpu}`, t]));
  for (const t of m.lifetime.targets) {
    if (!t.duration) continue;
    const labels = { target: t.target, cpu: t.cpu, phase: t.phase };
    const w = windowByKey.get(`${t.target}\0${t.cpu}`)?.duration;
    if (w) {
      durF.add(w.p50_ms, { ...labels, quantile: '0.5' });
      durF.add(w.p95_ms, { ...labels, quantile: '0.95' });
    }
    durF.add(t.duration.sum_ms, labels, '_sum');
    durF.add(t.duration.count, labels, '_count');
  }

  fam('nextrust_cache_hits_total', 'counter', 'Task runs replayed from the Nx cache (all time), by source.')
    .add(m.lifetime.totals.cache_local, { source: 'local' })
    .add(m.lifetime.totals.cache_remote, { source: 'remote' });

  const hitF = fam(
    'nextrust_cache_hit_rate',
    'gauge',
    `Cache hits / (cache hits + executed runs) over the last ${m.days} day(s), 0..1.`,
  );
  if (m.window.totals.cache_hit_rate !== null) hitF.add(m.window.totals.cache_hit_rate);

  const failF = fam(
    'nextrust_failure_rate',
    'gauge',
    `Failed / executed runs over the last ${m.days} day(s), 0..1, by phase and CPU variant ("${ALL}": aggregate over that label).`,
  );
  const addRate = (c: RunCounts, phase: string, cpu: string) => {
    if (c.failure_rate !== null) failF.add(c.failure_rate, { phase, cpu });
  };
  addRate(m.window.totals, ALL, ALL);
  for (const p of m.window.by_phase) addRate(p, p.phase, ALL);
  for (const c of m.window.by_cpu) addRate(c, ALL, c.cpu);
  for (const pc of m.window.by_phase_cpu) addRate(pc, pc.phase, pc.cpu);

  const ai = m.ai.lifetime_by_model_kind;
  const callsF = fam('nextrust_ai_calls_total', 'counter', 'AI calls (all time), by model and kind (design, review).');
  const tokF = fam(
    'nextrust_ai_tokens_total',
    'counter',
    'AI tokens (all time), by model, kind and direction (input, output).',
  );
  for (const r of ai) {
    callsF.add(r.calls, { model: r.model, kind: r.kind });
    tokF.add(r.input_tokens, { model: r.model, kind: r.kind, direction: 'input' });
    tokF.add(r.output_tokens, { model: r.model, kind: r.kind, direction: 'output' });
  }
  const costF = fam(
    'nextrust_ai_cost_usd_total',
    'counter',
    'AI cost in US dollars of priced calls (all time), by model.',
  );
  const costByModel = new Map<string, number>();
  for (const r of ai) costByModel.set(r.model, round6((costByModel.get(r.model) ?? 0) + r.cost_usd));
  for (const [model, usd] of costByModel) costF.add(usd, { model });

  const phaseF = fam('nextrust_current_phase', 'gauge', 'The current pipeline phase (value 1), with its status.');
  if (m.current_phase)
    phaseF.add(1, { phase: m.current_phase.id, name: m.current_phase.name, status: m.current_phase.status });
  fam(
    'nextrust_metrics_window_seconds',
    'gauge',
    `Length of the window the gauges and quantiles cover, in seconds (${m.days} day(s)).`,
  ).add(m.days * 86_400);
  fam('nextrust_metrics_generated_timestamp_seconds', 'gauge', 'Unix time (seconds) the metrics were computed.').add(
    Date.parse(m.generated_at) / 1000,
  );

  return families.map((f) => f.render()).join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// StatsD
// ---------------------------------------------------------------------------

/** StatsD settings from the environment. */
export interface StatsdSettings {
  host: string;
  /** UDP port (STATSD_PORT, default 8125). */
  port: number;
  /** STATSD_PREFIX, default `nextrust.`. */
  prefix: string;
  /**
   * STATSD_TAGS: `none` (default; labels are dot-separated name segments, for
   * any StatsD server), `dogstatsd` (`|#k:v` tags) or `telegraf` (`,k=v` tags).
   */
  tags: 'none' | 'dogstatsd' | 'telegraf';
}

/** Thrown when some metrics could not be sent; `sent` says how many were. */
export class StatsdError extends Error {
  constructor(
    message: string,
    readonly sent: number,
  ) {
    super(message);
    this.name = 'StatsdError';
  }
}

/**
 * Reads STATSD_HOST, STATSD_PORT, STATSD_PREFIX, STATSD_TAGS.
 * @returns undefined when STATSD_HOST is not set.
 * @throws Error on an invalid port or tag mode.
 */
export function statsdSettings(env: NodeJS.ProcessEnv = process.env): StatsdSettings | undefined {
  const host = env.STATSD_HOST?.trim();
  if (!host) return undefined;
  const portText = env.STATSD_PORT?.trim() || '8125';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw new Error(`STATSD_PORT must be a port number 1-65535 (got '${env.STATSD_PORT}')`);
  const tags = (env.STATSD_TAGS?.trim() || 'none') as StatsdSettings['tags'];
  if (!['none', 'dogstatsd', 'telegraf'].includes(tags))
    throw new Error(`STATSD_TAGS must be none, dogstatsd or telegraf (got '${env.STATSD_TAGS}')`);
  const prefix = env.STATSD_PREFIX ?? 'nextrust.';
  return { host, port, prefix: prefix && !prefix.endsWith('.') ? prefix + '.' : prefix, tags };
}

/** A StatsD name segment: anything but letters, digits, `_` and `-` becomes `_`. */
export function statsdSegment(v: string): string {
  return v.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** One metric to send. */
export interface StatsdMetric {
  type: 'gauge' | 'counter' | 'timing';
  name: string;
  labels: Labels;
  value: number;
}

/**
 * The metrics sendStatsd sends, in order (names without the prefix, labels
 * separate). Gauges (window snapshot, safe to resend):
 *  - cache.hit_rate (0..1); failure_rate.phase{phase}, failure_rate.cpu{cpu} (0..1);
 *  - task.duration_p50_ms, task.duration_p95_ms{project,target,cpu} (ms).
 * Counters and timings (events after `since`, so that each is sent once):
 *  - task.runs{project,target,cpu,result} (+1 per run);
 *  - cache.hits{source} (+1 per hit);
 *  - task.duration{project,target,cpu}: timing (ms) of each executed run;
 *  - ai.calls{model,kind} (+1), ai.tokens{model,kind,direction} (+tokens),
 *    ai.cost_usd{model} (+USD, fractional).
 */
export function statsdMetrics(m: PipelineMetrics, since?: string): StatsdMetric[] {
  const out: StatsdMetric[] = [];
  const sinceMs = since ? Date.parse(since) : -Infinity;
  const untilMs = Date.parse(m.generated_at);
  const fresh = (t: string) => {
    const ms = Date.parse(t);
    return ms > sinceMs && ms <= untilMs;
  };
  if (m.window.totals.cache_hit_rate !== null)
    out.push({ type: 'gauge', name: 'cache.hit_rate', labels: {}, value: m.window.totals.cache_hit_rate });
  for (const p of m.window.by_phase)
    if (p.failure_rate !== null)
      out.push({ type: 'gauge', name: 'failure_rate.phase', labels: { phase: p.phase }, value: p.failure_rate });
  for (const c of m.window.by_cpu)
    if (c.failure_rate !== null)
      out.push({ type: 'gauge', name: 'failure_rate.cpu', labels: { cpu: c.cpu }, value: c.failure_rate });
  for (const t of m.window.targets) {
    if (!t.duration) continue;
    const labels = { project: t.project, target: t.target.slice(t.project.length + 1), cpu: t.cpu };
    out.push({ type: 'gauge', name: 'task.duration_p50_ms', labels, value: t.duration.p50_ms });
    out.push({ type: 'gauge', name: 'task.duration_p95_ms', labels, value: t.duration.p95_ms });
  }
  for (const r of m.runs) {
    if (!fresh(r.timestamp)) continue;
    const labels = { project: r.project, target: r.target, cpu: r.cpu };
    out.push({ type: 'counter', name: 'task.runs', labels: { ...labels, result: r.result }, value: 1 });
    if (r.result === 'local_cache' || r.result === 'remote_cache')
      out.push({
        type: 'counter',
        name: 'cache.hits',
        labels: { source: r.result === 'local_cache' ? 'local' : 'remote' },
        value: 1,
      });
    if ((r.result === 'success' || r.result === 'failure') && r.duration_ms !== null)
      out.push({ type: 'timing', name: 'task.duration', labels, value: r.duration_ms });
  }
  for (const r of m.ai.records) {
    if (!fresh(r.timestamp)) continue;
    out.push({ type: 'counter', name: 'ai.calls', labels: { model: r.model, kind: r.kind }, value: 1 });
    out.push({
      type: 'counter',
      name: 'ai.tokens',
      labels: { model: r.model, kind: r.kind, direction: 'input' },
      value: r.input_tokens,
    });
    out.push({
      type: 'counter',
      name: 'ai.tokens',
      labels: { model: r.model, kind: r.kind, direction: 'output' },
      value: r.output_tokens,
    });
    if (r.cost_usd !== null && r.cost_usd > 0)
      out.push({ type: 'counter', name: 'ai.cost_usd', labels: { model: r.model }, value: r.cost_usd });
  }
  return out;
}

/** Options of sendStatsd. */
export interface StatsdOptions {
  /**
   * ISO time: counters and timings are sent for events after it (the time of
   * the previous send, `metrics/statsd-cursor.json` in the CLI); gauges always.
   * Default: every event of the window.
   */
  since?: string;
  /** Give up waiting for the socket to close after this long (ms, default 5000). */
  closeTimeoutMs?: number;
}

/**
 * Sends the metrics to StatsD over UDP with hot-shots (names and types:
 * statsdMetrics), when STATSD_HOST is set, then closes the socket.
 * @returns how many metrics were sent (0 when STATSD_HOST is not set).
 * @throws Error on invalid settings (statsdSettings); StatsdError when some sends failed (after closing).
 */
export async function sendStatsd(
  m: PipelineMetrics,
  env: NodeJS.ProcessEnv = process.env,
  options: StatsdOptions = {},
): Promise<number> {
  const settings = statsdSettings(env);
  if (!settings) return 0;
  const metrics = statsdMetrics(m, options.since);
  if (!metrics.length) return 0;
  const errors: string[] = [];
  const client = new StatsD({
    host: settings.host,
    port: settings.port,
    protocol: 'udp',
    prefix: settings.prefix,
    telegraf: settings.tags === 'telegraf',
    // Plain StatsD: no Datadog extras read from this process's DD_* variables.
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    // One datagram per metric, sent at once (no buffer to flush on close).
    maxBufferSize: 0,
    errorHandler: (e) => errors.push(e.message),
  });
  let sent = 0;
  try {
    await Promise.all(
      metrics.map(
        (metric) =>
          new Promise<void>((resolve) => {
            const tagged = settings.tags !== 'none';
            const name = tagged
              ? metric.name
              : [metric.name, ...Object.values(metric.labels).map(statsdSegment)].join('.');
            const tags: Tags = tagged ? metric.labels : {};
            const done = (err?: Error) => {
              if (err) errors.push(err.message);
              else sent++;
              resolve();
            };
            if (metric.type === 'gauge') client.gauge(name, metric.value, tags, done);
            else if (metric.type === 'counter') client.increment(name, metric.value, tags, done);
            else client.timing(name, metric.value, tags, done);
          }),
      ),
    );
  } finally {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.closeTimeoutMs ?? 5000);
      client.close((e) => {
        clearTimeout(timer);
        if (e) errors.push(`closing the socket: ${e.message}`);
        resolve();
      });
    });
  }
  if (errors.length) {
    throw new StatsdError(
      `StatsD ${settings.host}:${settings.port}: ${metrics.length - sent} of ${metrics.length} metric(s) not sent: ${errors[0]}`,
      sent,
    );
  }
  return sent;
}
