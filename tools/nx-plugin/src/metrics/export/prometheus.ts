/**
 * The metrics in the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), for
 * node_exporter's textfile collector (a `.prom` file).
 *
 * Written here rather than with prom-client's Registry: prom-client's Summary
 * computes its quantiles itself from observed values, while this summary
 * carries quantiles over the window next to `_sum`/`_count` over the lifetime
 * (the way a client library's summary pairs recent quantiles with cumulative
 * sums), which prom-client has no way to set.
 */
import { KeyedMap } from '../key';
import { ALL, type PipelineMetrics, type RunCounts } from '../types';
import { round6 } from '../window';

/** Escapes a label value: backslash, double quote and newline (exposition format, "Text format details"). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and newline. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format writes it (Go ParseFloat syntax: `NaN`, `+Inf`, `-Inf`, decimal). */
function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Label names to values. */
type Labels = Record<string, string>;

/** One metric family: its HELP and TYPE lines and its samples. */
class PromFamily {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge' | 'summary',
    readonly help: string,
  ) {}

  /** Adds a sample `name{labels} value` (`suffix`: `_sum`, `_count` of a summary). */
  add(value: number, labels: Labels = {}, suffix = ''): this {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(',');
    this.lines.push(`${this.name}${suffix}${l ? `{${l}}` : ''} ${formatValue(value)}`);
    return this;
  }

  render(): string {
    const head = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    return [...head, ...this.lines].join('\n');
  }
}

/** The families of an exposition, in order. */
class Exposition {
  private readonly families: PromFamily[] = [];

  family(name: string, type: PromFamily['type'], help: string): PromFamily {
    const f = new PromFamily(name, type, help);
    this.families.push(f);
    return f;
  }

  render(): string {
    return this.families.map((f) => f.render()).join('\n') + '\n';
  }
}

/** nextrust_task_runs_total and nextrust_task_duration_ms. */
function addTaskFamilies(x: Exposition, m: PipelineMetrics): void {
  const runsF = x.family(
    'nextrust_task_runs_total',
    'counter',
    'Task runs recorded (all time), by project, target (project:target), CPU variant, phase and result.',
  );
  for (const t of m.lifetime.targets) {
    for (const [result, n] of Object.entries(t.by_result))
      runsF.add(n!, { project: t.project, target: t.target, cpu: t.cpu, phase: t.phase, result });
  }

  const durF = x.family(
    'nextrust_task_duration_ms',
    'summary',
    `Duration of executed task runs in milliseconds: quantiles over the last ${m.days} day(s) (nearest-rank), ` +
      'sum and count over all time.',
  );
  type TargetKey = { project: string; target: string; cpu: string };
  const windowStats = new KeyedMap<TargetKey, (typeof m.window.targets)[number]>(['project', 'target', 'cpu']);
  for (const t of m.window.targets) windowStats.set({ project: t.project, target: t.target, cpu: t.cpu }, t);
  for (const t of m.lifetime.targets) {
    if (!t.duration) continue;
    const labels = { project: t.project, target: t.target, cpu: t.cpu, phase: t.phase };
    const w = windowStats.get({ project: t.project, target: t.target, cpu: t.cpu })?.duration;
    if (w) {
      durF.add(w.p50_ms, { ...labels, quantile: '0.5' });
      durF.add(w.p95_ms, { ...labels, quantile: '0.95' });
    }
    durF.add(t.duration.sum_ms, labels, '_sum');
    durF.add(t.duration.count, labels, '_count');
  }
}

/** nextrust_cache_hits_total, nextrust_cache_hit_rate and nextrust_failure_rate. */
function addRateFamilies(x: Exposition, m: PipelineMetrics): void {
  x.family('nextrust_cache_hits_total', 'counter', 'Task runs replayed from the Nx cache (all time), by source.')
    .add(m.lifetime.totals.cache_local, { source: 'local' })
    .add(m.lifetime.totals.cache_remote, { source: 'remote' });

  const hitF = x.family(
    'nextrust_cache_hit_rate',
    'gauge',
    `Cache hits / (cache hits + executed runs) over the last ${m.days} day(s), 0..1.`,
  );
  if (m.window.totals.cache_hit_rate !== null) hitF.add(m.window.totals.cache_hit_rate);

  const failF = x.family(
    'nextrust_failure_rate',
    'gauge',
    `Failed / executed runs over the last ${m.days} day(s), 0..1, by phase and CPU variant ` +
      `("${ALL}": aggregate over that label).`,
  );
  const addRate = (c: RunCounts, phase: string, cpu: string) => {
    if (c.failure_rate !== null) failF.add(c.failure_rate, { phase, cpu });
  };
  addRate(m.window.totals, ALL, ALL);
  for (const p of m.window.by_phase) addRate(p, p.phase, ALL);
  for (const c of m.window.by_cpu) addRate(c, ALL, c.cpu);
  for (const pc of m.window.by_phase_cpu) addRate(pc, pc.phase, pc.cpu);
}

/** nextrust_ai_calls_total, nextrust_ai_tokens_total and nextrust_ai_cost_usd_total. */
function addAiFamilies(x: Exposition, m: PipelineMetrics): void {
  const ai = m.ai.lifetime_by_model_kind;
  const callsF = x.family(
    'nextrust_ai_calls_total',
    'counter',
    'AI calls (all time), by model and kind (design, review).',
  );
  const tokF = x.family(
    'nextrust_ai_tokens_total',
    'counter',
    'AI tokens (all time), by model, kind and direction (input, output).',
  );
  for (const r of ai) {
    callsF.add(r.calls, { model: r.model, kind: r.kind });
    tokF.add(r.input_tokens, { model: r.model, kind: r.kind, direction: 'input' });
    tokF.add(r.output_tokens, { model: r.model, kind: r.kind, direction: 'output' });
  }
  const costF = x.family(
    'nextrust_ai_cost_usd_total',
    'counter',
    'AI cost in US dollars of priced calls (all time), by model.',
  );
  const costByModel = new Map<string, number>();
  for (const r of ai) costByModel.set(r.model, round6((costByModel.get(r.model) ?? 0) + r.cost_usd));
  for (const [model, usd] of costByModel) costF.add(usd, { model });
}

/** nextrust_current_phase, nextrust_metrics_window_seconds and nextrust_metrics_generated_timestamp_seconds. */
function addStateFamilies(x: Exposition, m: PipelineMetrics): void {
  const phaseF = x.family('nextrust_current_phase', 'gauge', 'The current pipeline phase (value 1), with its status.');
  const cur = m.current_phase;
  if (cur) phaseF.add(1, { phase: cur.id, name: cur.name, status: cur.status });
  x.family(
    'nextrust_metrics_window_seconds',
    'gauge',
    `Length of the window the gauges and quantiles cover, in seconds (${m.days} day(s)).`,
  ).add(m.days * 86_400);
  x.family(
    'nextrust_metrics_generated_timestamp_seconds',
    'gauge',
    'Unix time (seconds) the metrics were computed.',
  ).add(Date.parse(m.generated_at) / 1000);
}

/**
 * The metrics in the Prometheus text exposition format (0.0.4). Counters are
 * lifetime totals; gauges and summary quantiles cover the window (compute.ts).
 *
 * Families:
 *  - nextrust_task_runs_total{project,target,cpu,phase,result}: counter, runs
 *    (`project` keeps a project named with a colon apart: `a:b`+`c` and `a`+`b:c`
 *    share the target label `a:b:c`);
 *  - nextrust_task_duration_ms{project,target,cpu,phase}: summary of executed runs'
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
 * @returns the whole exposition, ending with a newline.
 */
export function toPrometheus(m: PipelineMetrics): string {
  const x = new Exposition();
  addTaskFamilies(x, m);
  addRateFamilies(x, m);
  addAiFamilies(x, m);
  addStateFamilies(x, m);
  return x.render();
}
