/**
 * Sending the metrics to StatsD over UDP with hot-shots
 * (https://www.npmjs.com/package/hot-shots), plain StatsD lines
 * (https://github.com/statsd/statsd/blob/master/docs/metric_types.md) with
 * the labels as name segments, or DogStatsD / Telegraf tags.
 */
import HotShots, { type StatsD, type Tags } from 'hot-shots';
import type { PipelineMetrics } from '../types';

/** Label names to values. */
type Labels = Record<string, string>;

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
  const sinceMs = since ? Date.parse(since) : -Infinity;
  const untilMs = Date.parse(m.generated_at);
  const fresh = (t: string) => {
    const ms = Date.parse(t);
    return ms > sinceMs && ms <= untilMs;
  };
  return [...gauges(m), ...runEvents(m, fresh), ...aiEvents(m, fresh)];
}

/** The window's gauges: cache hit rate, failure rates by phase and by CPU, duration quantiles per target. */
function gauges(m: PipelineMetrics): StatsdMetric[] {
  const out: StatsdMetric[] = [];
  const gauge = (name: string, labels: Labels, value: number) => out.push({ type: 'gauge', name, labels, value });
  if (m.window.totals.cache_hit_rate !== null) gauge('cache.hit_rate', {}, m.window.totals.cache_hit_rate);
  for (const p of m.window.by_phase)
    if (p.failure_rate !== null) gauge('failure_rate.phase', { phase: p.phase }, p.failure_rate);
  for (const c of m.window.by_cpu)
    if (c.failure_rate !== null) gauge('failure_rate.cpu', { cpu: c.cpu }, c.failure_rate);
  for (const t of m.window.targets) {
    if (!t.duration) continue;
    const labels = { project: t.project, target: t.target.slice(t.project.length + 1), cpu: t.cpu };
    gauge('task.duration_p50_ms', labels, t.duration.p50_ms);
    gauge('task.duration_p95_ms', labels, t.duration.p95_ms);
  }
  return out;
}

/** Counters and timings of the runs recorded at a `fresh` time. */
function runEvents(m: PipelineMetrics, fresh: (t: string) => boolean): StatsdMetric[] {
  const out: StatsdMetric[] = [];
  for (const r of m.runs) {
    if (!fresh(r.timestamp)) continue;
    const labels = { project: r.project, target: r.target, cpu: r.cpu };
    out.push({ type: 'counter', name: 'task.runs', labels: { ...labels, result: r.result }, value: 1 });
    if (r.result === 'local_cache' || r.result === 'remote_cache') {
      const source = r.result === 'local_cache' ? 'local' : 'remote';
      out.push({ type: 'counter', name: 'cache.hits', labels: { source }, value: 1 });
    }
    if ((r.result === 'success' || r.result === 'failure') && r.duration_ms !== null)
      out.push({ type: 'timing', name: 'task.duration', labels, value: r.duration_ms });
  }
  return out;
}

/** Counters of the AI calls recorded at a `fresh` time. */
function aiEvents(m: PipelineMetrics, fresh: (t: string) => boolean): StatsdMetric[] {
  const out: StatsdMetric[] = [];
  const counter = (name: string, labels: Labels, value: number) => out.push({ type: 'counter', name, labels, value });
  for (const r of m.ai.records) {
    if (!fresh(r.timestamp)) continue;
    counter('ai.calls', { model: r.model, kind: r.kind }, 1);
    counter('ai.tokens', { model: r.model, kind: r.kind, direction: 'input' }, r.input_tokens);
    counter('ai.tokens', { model: r.model, kind: r.kind, direction: 'output' }, r.output_tokens);
    if (r.cost_usd !== null && r.cost_usd > 0) counter('ai.cost_usd', { model: r.model }, r.cost_usd);
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

/** A hot-shots UDP client for `settings` whose socket errors go to `errors`. */
function createClient(settings: StatsdSettings, errors: string[]): StatsD {
  return new HotShots({
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
}

/**
 * Sends one metric: labels as name segments (tag mode `none`) or as tags.
 * @returns the send error, or undefined once sent.
 */
function sendOne(client: StatsD, settings: StatsdSettings, metric: StatsdMetric): Promise<Error | undefined> {
  const tagged = settings.tags !== 'none';
  const name = tagged ? metric.name : [metric.name, ...Object.values(metric.labels).map(statsdSegment)].join('.');
  const tags: Tags = tagged ? metric.labels : {};
  return new Promise((resolve) => {
    const done = (err?: Error) => resolve(err ?? undefined);
    if (metric.type === 'gauge') client.gauge(name, metric.value, tags, done);
    else if (metric.type === 'counter') client.increment(name, metric.value, tags, done);
    else client.timing(name, metric.value, tags, done);
  });
}

/**
 * Closes the client's socket, waiting at most `timeoutMs`.
 * @returns the close error's message, or undefined.
 */
function closeClient(client: StatsD, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    client.close((e) => {
      clearTimeout(timer);
      resolve(e ? `closing the socket: ${e.message}` : undefined);
    });
  });
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
  const client = createClient(settings, errors);
  let sent = 0;
  try {
    await Promise.all(
      metrics.map(async (metric) => {
        const err = await sendOne(client, settings, metric);
        if (err) errors.push(err.message);
        else sent++;
      }),
    );
  } finally {
    const closeError = await closeClient(client, options.closeTimeoutMs ?? 5000);
    if (closeError) errors.push(closeError);
  }
  if (errors.length) {
    const failed = `${metrics.length - sent} of ${metrics.length} metric(s) not sent`;
    throw new StatsdError(`StatsD ${settings.host}:${settings.port}: ${failed}: ${errors[0]}`, sent);
  }
  return sent;
}
