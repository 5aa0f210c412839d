/**
 * Types and constants of the pipeline metrics (definitions in compute.ts's
 * module doc and in docs/metrics.md).
 */
import type { UsageRecord } from '../ai/usage';
import type { IssuePrecision } from '../pipeline/precision';
import type { PhaseRecord } from '../pipeline/status-store';
import type { UsageCounts } from './window';

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

/** AI usage of one model and kind (cost: USD of priced calls). */
export interface AiModelKind extends UsageCounts {
  model: string;
  kind: 'design' | 'review';
}

/** AI usage of one day and model (cost: USD of priced calls). */
export interface AiDayModel extends UsageCounts {
  /** YYYY-MM-DD (UTC). */
  day: string;
  model: string;
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
    total: UsageCounts;
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
