/**
 * Pipeline metrics, by job: types.ts (shapes and constants), window.ts (the
 * window and the usage counts shared with ai/usage.ts), activities.ts and
 * runs.ts (reading), join.ts (executor records to Nx runs), key.ts (composite
 * keys), aggregate.ts, compute.ts (computeMetrics, the entry point),
 * export/prometheus.ts, export/statsd.ts and report/ (HTML). See
 * docs/metrics.md.
 */
export * from './types';
export { windowStart, checkWindowDays, sumUsage, type UsageCounts } from './window';
export { readActivities } from './activities';
export { runsFromActivities, ExecutorJoin } from './join';
export { KeyedMap, groupByKey, serializeKey } from './key';
export { aggregateRuns, aiByDayModel, aiByModelKind, countRuns, durationStats, quantile } from './aggregate';
export { computeMetrics } from './compute';
export { escapeLabelValue, toPrometheus } from './export/prometheus';
export {
  sendStatsd,
  statsdMetrics,
  statsdSegment,
  statsdSettings,
  StatsdError,
  type StatsdMetric,
  type StatsdOptions,
  type StatsdSettings,
} from './export/statsd';
