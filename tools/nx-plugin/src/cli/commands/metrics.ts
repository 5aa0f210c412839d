/**
 * CLI commands of the metrics: `metrics` (summary, Prometheus text file,
 * StatsD) and `report` (static HTML). Thin adapters over
 * src/metrics/ (computation, export/) and src/metrics/report/; see docs/metrics.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import type { CliContext } from '../context';
import { EXIT, UsageError } from '../errors';
import { positiveInt } from '../options';

/** What the metrics commands use of the CLI context. */
export type MetricsCommandContext = Pick<CliContext, 'io' | 'store' | 'setExitCode'>;

/** Where the time of the last StatsD send is kept, in the status dir (counters are sent once). */
export const STATSD_CURSOR = 'metrics/statsd-cursor.json';

const pct = (r: number | null, digits = 1) => (r === null ? '-' : `${(r * 100).toFixed(digits)}%`);

/** Registers `metrics` and `report` on `program`. */
export function registerMetricsCommands(program: Command, deps: MetricsCommandContext): void {
  const { io } = deps;

  program
    .command('metrics')
    .description(
      'Pipeline metrics: per-target durations, cache hits, failure rates by phase and CPU, AI tokens and cost; export as Prometheus text file and StatsD.',
    )
    .option('--days <n>', 'window in days, today included (rates, quantiles, tables)', positiveInt('--days'), 7)
    .option(
      '--prometheus <file>',
      'write the Prometheus text file (for node_exporter --collector.textfile.directory; name it *.prom)',
    )
    .option('--statsd', 'send to StatsD at $STATSD_HOST:$STATSD_PORT (also sent whenever STATSD_HOST is set)')
    .option('--json', 'print the metrics as JSON (the summary is not printed)')
    .action(async (o: { days: number; prometheus?: string; statsd?: boolean; json?: boolean }) => {
      const { computeMetrics, sendStatsd, statsdSettings, toPrometheus, StatsdError } = await import('../../metrics');
      let settings;
      try {
        settings = statsdSettings(io.env);
      } catch (e) {
        throw new UsageError(`metrics: ${(e as Error).message}`);
      }
      if (o.statsd && !settings)
        throw new UsageError('metrics: --statsd needs STATSD_HOST (and STATSD_PORT unless 8125)');
      const store = deps.store();
      const m = await computeMetrics(store, { days: o.days });
      for (const w of m.warnings) io.err(`nextrust: warning: ${w}\n`);

      if (o.json) io.out(JSON.stringify(m, null, 2) + '\n');
      else io.out(formatSummary(m));

      if (o.prometheus) {
        const file = path.resolve(io.cwd, o.prometheus);
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        // Atomic (rename): the textfile collector never reads a half-written file.
        await writeFileAtomic(file, toPrometheus(m));
        if (!o.json) io.out(`wrote ${file}\n`);
      }

      if (settings) {
        const cursorFile = store.file(STATSD_CURSOR);
        let since: string | undefined;
        try {
          const c = JSON.parse(fs.readFileSync(cursorFile, 'utf8')) as { sent_until?: unknown };
          if (typeof c.sent_until === 'string' && !Number.isNaN(Date.parse(c.sent_until))) since = c.sent_until;
        } catch {
          since = undefined; // first send (or an unreadable cursor): the window's events
        }
        try {
          const sent = await sendStatsd(m, io.env, { since });
          await fs.promises.mkdir(path.dirname(cursorFile), { recursive: true });
          await writeFileAtomic(cursorFile, JSON.stringify({ sent_until: m.generated_at }) + '\n');
          const msg = `sent ${sent} metric(s) to StatsD ${settings.host}:${settings.port}\n`;
          if (o.json) io.err(msg);
          else io.out(msg);
        } catch (e) {
          // Partly sent: the cursor stays, so counters are re-sent next time rather than lost.
          io.err(`nextrust: warning: ${(e as Error).message}${e instanceof StatsdError ? ` (${e.sent} sent)` : ''}\n`);
          deps.setExitCode(EXIT.negative);
        }
      }
    });

  program
    .command('report')
    .description(
      'Write the static HTML pipeline report: phase timeline, task durations, cache hit rate, failures, AI cost.',
    )
    .option('--out <file>', 'output file (default: <status dir>/report.html)')
    .option('--days <n>', 'window in days, today included', positiveInt('--days'), 7)
    .action(async (o: { out?: string; days: number }) => {
      const { computeMetrics } = await import('../../metrics');
      const { renderReport } = await import('../../metrics/report');
      const store = deps.store();
      const m = await computeMetrics(store, { days: o.days });
      for (const w of m.warnings) io.err(`nextrust: warning: ${w}\n`);
      const { state } = store.readState();
      const file = o.out ? path.resolve(io.cwd, o.out) : store.file('report.html');
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, renderReport(m, state));
      io.out(`wrote ${file}\n`);
    });
}

type Metrics = Awaited<ReturnType<typeof import('../../metrics').computeMetrics>>;

/** The text summary `nextrust metrics` prints. */
export function formatSummary(m: Metrics): string {
  const t = m.window.totals;
  const out: string[] = [];
  out.push(`Pipeline metrics, last ${m.days} day(s) (since ${m.since})`);
  out.push(`current phase: ${m.current_phase ? `${m.current_phase.id} (${m.current_phase.status})` : 'none set'}`);
  out.push(
    `runs: ${t.runs} (${t.executed} executed, ${t.cache_local + t.cache_remote} from cache: ${t.cache_local} local, ${t.cache_remote} remote${t.skipped ? `, ${t.skipped} skipped` : ''})`,
  );
  out.push(
    `cache hit rate: ${pct(t.cache_hit_rate)}   failure rate: ${pct(t.failure_rate)} (${t.failed} of ${t.executed} executed)`,
  );
  if (m.window.targets.length) {
    const header = ['target', 'cpu', 'phase', 'runs', 'exec', 'hits', 'failed', 'p50 ms', 'p95 ms', 'mean ms'];
    const body = m.window.targets.map((x) => [
      x.target,
      x.cpu,
      x.phase,
      String(x.runs),
      String(x.executed),
      String(x.cache_local + x.cache_remote),
      String(x.failed),
      x.duration ? String(x.duration.p50_ms) : '-',
      x.duration ? String(x.duration.p95_ms) : '-',
      x.duration ? String(x.duration.mean_ms) : '-',
    ]);
    out.push('', ...table(header, body, 3));
  }
  const rates = [
    ...m.window.by_phase
      .filter((p) => p.executed)
      .map((p) => `  phase ${p.phase}: ${pct(p.failure_rate)} (${p.failed}/${p.executed})`),
    ...m.window.by_cpu
      .filter((c) => c.executed)
      .map((c) => `  cpu ${c.cpu}: ${pct(c.failure_rate)} (${c.failed}/${c.executed})`),
  ];
  if (rates.length) out.push('', 'failure rate:', ...rates);
  const ai = m.ai.total;
  out.push(
    '',
    `AI: ${ai.calls} call(s), ${ai.input_tokens} input + ${ai.output_tokens} output tokens, ${ai.cost_usd.toFixed(4)} USD${ai.unpriced_calls ? ` (+${ai.unpriced_calls} unpriced)` : ''}`,
  );
  if (m.ai.by_model_kind.length) {
    out.push(
      ...table(
        ['model', 'kind', 'calls', 'input tok', 'output tok', 'cost USD'],
        m.ai.by_model_kind.map((r) => [
          r.model,
          r.kind,
          String(r.calls),
          String(r.input_tokens),
          String(r.output_tokens),
          r.cost_usd.toFixed(4),
        ]),
        2,
      ).map((l) => '  ' + l),
    );
  }
  if (m.failures.length) {
    out.push('', `recent failures (${m.failures.length}):`);
    for (const f of m.failures.slice(0, 5))
      out.push(`  ${f.timestamp} ${f.task}${f.cpu ? ` [${f.cpu}]` : ''}: ${f.known_issue ?? 'unknown'}`);
  }
  return out.join('\n') + '\n';
}

/** Columns from `numericFrom` on are right-aligned. */
function table(header: string[], body: string[][], numericFrom: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= numericFrom ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}
