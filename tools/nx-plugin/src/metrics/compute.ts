/**
 * Pipeline metrics: per-target durations, cache hits, failure rates by phase
 * and CPU, AI tokens and cost, computed from the status directory; the public
 * entry is computeMetrics. Exported as a Prometheus text file
 * (export/prometheus.ts), to StatsD (export/statsd.ts) and as an HTML report
 * (report/).
 *
 * Sources (all in the status directory):
 *  - `nx_run` activities (pipeline/run-record.ts): every task of every Nx run
 *    with its status, cache source and duration. The main source: cache hits
 *    are only seen here (executors do not run on a hit).
 *  - `target_succeeded` / `target_failed` activities, written by the executors
 *    (pipeline/target-hooks.ts, failure-analysis.ts): the CPU variant and, for
 *    a failure, the known issue it matched. Each one is joined to the task of
 *    the `nx_run` that contains it (join.ts); one no run claims counts as a
 *    run of its own. `target_failed` activities of commands rather than
 *    targets (`bash: …`, from the Claude Code hook) are listed as failures but
 *    are no task runs.
 *  - `design_decision` / `review_completed` activities and
 *    `metrics/ai-usage.jsonl` (ai/usage.ts) for the AI part.
 *  - `pipeline-state.json` (current phase) and `phases.json` (phase of a target).
 * Rotated activities (`archive/pipeline-log-YYYY-MM.jsonl`) are read too.
 *
 * Two spans:
 *  - the window: the last `days` UTC days, today included (window.ts, as
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
 *    nothing about the task), in ms; quantiles are nearest-rank (aggregate.ts).
 */
import { readUsage, usageReport } from '../ai/usage';
import type { PhasesFile } from '../pipeline/phases';
import { readPrecision, type IssuePrecision } from '../pipeline/precision';
import type { Activity, PhaseRecord, StatusStore } from '../pipeline/status-store';
import { readActivities } from './activities';
import { aggregateRuns, aiByDayModel, aiByModelKind } from './aggregate';
import { runsFromActivities } from './join';
import { str } from './runs';
import {
  DEFAULT_METRICS_DAYS,
  type AiEvent,
  type FlakyRecord,
  type MetricsOptions,
  type PipelineMetrics,
} from './types';
import { checkWindowDays, sumUsage, windowStart } from './window';

/** phases.json, or undefined with a warning when it cannot be used. */
function loadPhases(store: StatusStore, warnings: string[]): PhasesFile | undefined {
  try {
    const loaded = store.loadPhases();
    if (loaded.warning) warnings.push(`phases.json: ${loaded.warning}; using its last good copy`);
    return loaded.phases;
  } catch (e) {
    warnings.push(`phases.json not used: ${(e as Error).message}`);
    return undefined;
  }
}

/** The current phase from pipeline-state.json, or null (with a warning when the file cannot be used). */
function loadCurrentPhase(store: StatusStore, warnings: string[]): PhaseRecord | null {
  try {
    const st = store.readState();
    for (const w of st.warnings) warnings.push(w.message);
    return st.state.current_phase;
  } catch (e) {
    warnings.push(`pipeline-state.json not used: ${(e as Error).message}`);
    return null;
  }
}

/** Precision per known issue (precision.json), or {} with a warning when it cannot be read. */
function loadPrecision(store: StatusStore, warnings: string[]): Record<string, IssuePrecision> {
  try {
    return readPrecision(store);
  } catch (e) {
    warnings.push((e as Error).message);
    return {};
  }
}

/** Design decisions and reviews among `activities` (oldest first), newest first. */
function aiEvents(activities: Activity[]): AiEvent[] {
  return activities
    .filter((a) => a.type === 'design_decision' || a.type === 'review_completed')
    .map((a) => ({
      timestamp: a.timestamp,
      type: a.type as AiEvent['type'],
      subject: (a.type === 'design_decision' ? str(a.details.task) : str(a.details.phase)) ?? '?',
      model: str(a.details.model) ?? null,
      cached: a.details.cached === true,
      summary: str(a.details.summary) ?? str(a.details.message) ?? '',
    }))
    .reverse();
}

/** `flaky_task` activities among `activities` (oldest first), newest first. */
function flakyRecords(activities: Activity[]): FlakyRecord[] {
  return activities
    .filter((a) => a.type === 'flaky_task')
    .map((a) => ({
      timestamp: a.timestamp,
      task: str(a.details.task) ?? '?',
      hash: str(a.details.hash) ?? '?',
      passed: Number(a.details.passed) || 0,
      failed: Number(a.details.failed) || 0,
      cause: str(a.details.cause) ?? null,
    }))
    .reverse();
}

/**
 * Computes the metrics of a status directory (definitions in the module doc).
 * Never fails on bad data: invalid lines and files become `warnings`.
 * @throws RangeError when `days` is not a whole number >= 1; file system errors.
 */
export async function computeMetrics(store: StatusStore, options: MetricsOptions = {}): Promise<PipelineMetrics> {
  const days = checkWindowDays(options.days ?? DEFAULT_METRICS_DAYS);
  const now = options.now ?? new Date();
  const since = windowStart(days, now);
  const sinceMs = Date.parse(since);
  const inWindow = (t: { timestamp: string }) => Date.parse(t.timestamp) >= sinceMs;
  const warnings: string[] = [];

  const phases = loadPhases(store, warnings);
  const current_phase = loadCurrentPhase(store, warnings);
  const activities = await readActivities(store, warnings);
  const { runs, failures } = runsFromActivities(activities, phases, warnings);
  const phaseOrder = phases?.phases.map((p) => p.id) ?? [];
  const windowRuns = runs.filter(inWindow);

  const { records, invalidLines } = await readUsage(store);
  if (invalidLines) warnings.push(`metrics/ai-usage.jsonl: ${invalidLines} invalid line(s) ignored`);
  const windowRecords = records.filter(inWindow).sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  const byModelKind = aiByModelKind(windowRecords);
  const windowActivities = activities.filter(inWindow);

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
    failures: failures.filter(inWindow).reverse(),
    precision: loadPrecision(store, warnings),
    flaky: flakyRecords(windowActivities),
    ai: {
      by_model_kind: byModelKind,
      by_day_model: aiByDayModel(usageReport(records, days, now).rows),
      total: sumUsage(byModelKind),
      lifetime_by_model_kind: aiByModelKind(records),
      records: windowRecords,
      events: aiEvents(windowActivities),
    },
    warnings,
  };
}
