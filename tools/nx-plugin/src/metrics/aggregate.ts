/**
 * Aggregation of task runs (counts, rates, nearest-rank duration quantiles)
 * and of AI usage records (by model and kind, by day and model).
 */
import type { UsageRecord, UsageRow } from '../ai/usage';
import { CPU_NAMES } from '../toolchain/cpu';
import { groupByKey, KeyedMap } from './key';
import {
  NO_CPU,
  NO_PHASE,
  type AiDayModel,
  type AiModelKind,
  type DurationStats,
  type RunAggregate,
  type RunCounts,
  type RunResult,
  type TargetStats,
  type TaskRun,
} from './types';
import { addCall, addCounts, emptyUsage } from './window';

/**
 * Nearest-rank quantile of sorted values: the value at rank ⌈q·n⌉ (1-based,
 * at least 1), https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method.
 * @param sorted ascending values.
 * @param q the quantile, 0..1.
 * @returns NaN for no values.
 */
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

/** Whether a run executed (Nx status success or failure). */
const executed = (r: TaskRun) => r.result === 'success' || r.result === 'failure';

/** Counts of runs by result, the cache hit rate and the failure rate (definitions in compute.ts). */
export function countRuns(runs: readonly TaskRun[]): RunCounts {
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

/** Statistics of the runs of one target on one CPU (`list` non-empty, oldest first). */
function targetStats(list: TaskRun[]): TargetStats {
  const first = list[0];
  const by_result: Partial<Record<RunResult, number>> = {};
  for (const r of list) by_result[r.result] = (by_result[r.result] ?? 0) + 1;
  return {
    target: `${first.project}:${first.target}`,
    project: first.project,
    cpu: first.cpu,
    // The phase of a target's latest run (phases.json can change).
    phase: list[list.length - 1].phase,
    ...countRuns(list),
    duration: durationStats(list.filter((r) => executed(r) && r.duration_ms !== null).map((r) => r.duration_ms!)),
    by_result,
    last_run: list.reduce((t, r) => (r.timestamp > t ? r.timestamp : t), list[0].timestamp),
  };
}

/** Orders phases as `phaseOrder` (phases.json), then unknown ones by name, then NO_PHASE. */
function phaseComparator(phaseOrder: string[]): (a: string, b: string) => number {
  const rank = (p: string) => (phaseOrder.includes(p) ? phaseOrder.indexOf(p) : p === NO_PHASE ? 1e6 : 1e5);
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

/** Orders CPUs as CPU_NAMES, then unknown ones by name, then NO_CPU. */
function compareCpus(a: string, b: string): number {
  const names: readonly string[] = CPU_NAMES;
  const rank = (c: string) => (names.includes(c) ? names.indexOf(c) : c === NO_CPU ? 1e6 : 1e5);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * Aggregates runs: totals, per target (project and target) and CPU, per
 * phase, per CPU, per phase and CPU.
 * @param phaseOrder phase ids in phases.json order (for sorting).
 */
export function aggregateRuns(runs: TaskRun[], phaseOrder: string[] = []): RunAggregate {
  const comparePhases = phaseComparator(phaseOrder);
  const byTarget = groupByKey(runs, ['project', 'target', 'cpu'], (r) => ({
    project: r.project,
    target: r.target,
    cpu: r.cpu,
  }));
  const targets = [...byTarget.values()]
    .map(targetStats)
    .sort(
      (a, b) => a.target.localeCompare(b.target) || compareCpus(a.cpu, b.cpu) || a.project.localeCompare(b.project),
    );
  const by_phase = [...groupByKey(runs, ['phase'], (r) => ({ phase: r.phase })).entries()]
    .sort(([a], [b]) => comparePhases(a.phase, b.phase))
    .map(([{ phase }, l]) => ({ phase, ...countRuns(l) }));
  const by_cpu = [...groupByKey(runs, ['cpu'], (r) => ({ cpu: r.cpu })).entries()]
    .sort(([a], [b]) => compareCpus(a.cpu, b.cpu))
    .map(([{ cpu }, l]) => ({ cpu, ...countRuns(l) }));
  const by_phase_cpu = [...groupByKey(runs, ['phase', 'cpu'], (r) => ({ phase: r.phase, cpu: r.cpu })).entries()]
    .map(([{ phase, cpu }, l]) => ({ phase, cpu, ...countRuns(l) }))
    .sort((a, b) => comparePhases(a.phase, b.phase) || compareCpus(a.cpu, b.cpu));
  return { totals: countRuns(runs), targets, by_phase, by_cpu, by_phase_cpu };
}

/** AI usage by model and kind, sorted by model then kind (cost rounded to 6 decimals at each step). */
export function aiByModelKind(records: UsageRecord[]): AiModelKind[] {
  const rows = new KeyedMap<{ model: string; kind: AiModelKind['kind'] }, AiModelKind>(['model', 'kind']);
  for (const r of records)
    addCall(
      rows.upsert({ model: r.model, kind: r.kind }, (k) => ({ ...k, ...emptyUsage() })),
      r,
    );
  return [...rows.values()].sort((a, b) => a.model.localeCompare(b.model) || a.kind.localeCompare(b.kind));
}

/** AI usage by day and model from the usage report's rows (by day, model and phase; ai/usage.ts), in their order. */
export function aiByDayModel(rows: UsageRow[]): AiDayModel[] {
  const out = new KeyedMap<{ day: string; model: string }, AiDayModel>(['day', 'model']);
  for (const row of rows)
    addCounts(
      out.upsert({ day: row.day, model: row.model }, (k) => ({ ...k, ...emptyUsage() })),
      row,
    );
  return [...out.values()];
}
