/** The report's tables: task durations, recent failures, flaky tasks, diagnosis precision. */
import { isDemoted } from '../../pipeline/precision';
import { NO_CPU, NO_PHASE, type PipelineMetrics, type TargetStats } from '../types';
import { fmtInt, formatDuration, formatPercent, formatTime, truncate } from './format';
import { concatHtml, joinHtml, markup, type Html } from './html';

const NL = markup`\n`;
/** Failures shown in the table (the rest: `nextrust metrics --json`). */
const FAILURES_SHOWN = 25;

/** A table: the header cells (markup) and the body rows, one per line. */
function table(head: Html, rows: Html[], cls?: string): Html {
  return markup`<table${cls && markup` class="${cls}"`}><thead><tr>${head}</tr></thead><tbody>
${joinHtml(rows, NL)}
</tbody></table>`;
}

/** A phase under a target: its number badge and id, its name as the title; `unassigned` muted. */
function phaseCell(phase: string, metrics: PipelineMetrics): Html {
  if (phase === NO_PHASE) return markup`<span class="muted">unassigned</span>`;
  const p = metrics.phases.find((x) => x.id === phase);
  const badge = p && markup`<span class="ph">${p.number}</span>`;
  return markup`<span class="nowrap" title="${p?.name ?? phase}">${badge}${phase}</span>`;
}

/** The p50/p95 bar of a target (scaled to `max` ms over `BW` px), or why there is none. */
function durationBar(t: TargetStats, max: number, BW: number): Html {
  const d = t.duration;
  if (!d) {
    const why = t.cache_local + t.cache_remote ? 'only cache hits' : 'no duration recorded';
    return markup`<span class="muted">${why}</span>`;
  }
  const w95 = Math.max(3, (d.p95_ms / max) * BW).toFixed(1);
  const w50 = Math.max(3, (d.p50_ms / max) * BW).toFixed(1);
  const label = `p50 ${formatDuration(d.p50_ms)}, p95 ${formatDuration(d.p95_ms)}`;
  return concatHtml(
    markup`<svg width="${BW}" height="16" viewBox="0 0 ${BW} 16" role="img" aria-label="${label}" `,
    markup`xmlns="http://www.w3.org/2000/svg"><rect x="0" y="3" width="${BW}" height="10" rx="5" fill="#f1f2f6"/>`,
    markup`<rect x="0" y="3" width="${w95}" height="10" rx="5" fill="#c7d2fe"/>`,
    markup`<rect x="0" y="3" width="${w50}" height="10" rx="5" fill="#4f46e5"/></svg>`,
  );
}

/** One row of the durations table; `groupSize` > 0 opens a target group (the target cell spans it). */
function durationRow(t: TargetStats, metrics: PipelineMetrics, groupSize: number, bar: Html): Html {
  const d = t.duration;
  const hitsN = t.cache_local + t.cache_remote;
  const first = groupSize > 0;
  const targetCell =
    first &&
    concatHtml(
      markup`<td class="tgt"${groupSize > 1 && markup` rowspan="${groupSize}"`}><code>${t.target}</code>`,
      markup`<div class="small">${phaseCell(t.phase, metrics)}</div></td>`,
    );
  const cpu = t.cpu === NO_CPU ? markup`<span class="muted">–</span>` : markup`<span class="tag cpu">${t.cpu}</span>`;
  const hits = hitsN ? fmtInt(hitsN) : markup`<span class="muted">0</span>`;
  const failedStyle = t.failed ? markup` style="color:#b91c1c;font-weight:650"` : null;
  const p50 = d ? formatDuration(d.p50_ms) : '–';
  const p95 = d ? formatDuration(d.p95_ms) : '–';
  return markup`<tr${first && markup` class="grp"`}>${targetCell}<td>${cpu}</td>
<td class="n">${fmtInt(t.runs)}</td><td class="n">${hits}</td><td class="n"${failedStyle}>${fmtInt(t.failed)}</td>
<td>${bar}</td><td class="n">${p50}</td><td class="n">${p95}</td></tr>`;
}

const DURATION_HEAD = concatHtml(
  markup`<th>Target · phase</th><th>CPU</th><th class="n">Runs</th><th class="n">Cache hits</th>`,
  markup`<th class="n">Failed</th><th>Duration <span class="legend-inline"><i style="background:#4f46e5"></i>p50 `,
  markup`<i style="background:#c7d2fe"></i>p95</span></th><th class="n">p50</th><th class="n">p95</th>`,
);

/** Task durations per target and CPU, the slowest targets first (by their slowest CPU's p95), CPUs in order. */
export function durationTable(metrics: PipelineMetrics): Html {
  const slowest = new Map<string, number>();
  for (const t of metrics.window.targets)
    slowest.set(t.target, Math.max(slowest.get(t.target) ?? -1, t.duration?.p95_ms ?? -1));
  const targets = [...metrics.window.targets].sort(
    (a, b) => slowest.get(b.target)! - slowest.get(a.target)! || a.target.localeCompare(b.target),
  );
  if (!targets.length)
    return concatHtml(
      markup`<div class="empty">No task runs in the last ${metrics.days} day(s). `,
      markup`Runs are recorded by the Nx plugin after each <code>nx run</code>.</div>`,
    );
  const max = Math.max(1, ...targets.map((t) => t.duration?.p95_ms ?? 0));
  const BW = 300;
  const groupSize = new Map<string, number>();
  for (const t of targets) groupSize.set(t.target, (groupSize.get(t.target) ?? 0) + 1);
  const rows = targets.map((t, i) => {
    // One target cell (with its phase) per group of CPU rows.
    const first = i === 0 || targets[i - 1].target !== t.target;
    return durationRow(t, metrics, first ? groupSize.get(t.target)! : 0, durationBar(t, max, BW));
  });
  return table(DURATION_HEAD, rows, 'dur');
}

/** A time in a table cell: `2026-03-10 15:01` (UTC). */
const cellTime = (iso: string) => formatTime(iso).replace(' UTC', '');

/** The known issue of a failure, or unknown (analysed, nothing matched), or unknown · not analysed. */
function issueTag(x: PipelineMetrics['failures'][number]): Html {
  if (x.known_issue) return markup`<span class="tag known">${x.known_issue}</span>`;
  if (x.analysed) return markup`<span class="tag unknown">unknown</span>`;
  const title = 'no failure analysis was recorded for this run';
  return markup`<span class="tag na" title="${title}">unknown · not analysed</span>`;
}

const FAILURES_HEAD = concatHtml(
  markup`<th class="n">Time (UTC)</th><th>Task</th><th>CPU</th>`,
  markup`<th>Known issue</th><th>Message</th>`,
);

/** The newest failures: time, task, CPU, known issue (or unknown / not analysed), message and saved log. */
export function failuresTable(metrics: PipelineMetrics): Html {
  const f = metrics.failures;
  if (!f.length) return markup`<div class="empty">No failures in the last ${metrics.days} day(s).</div>`;
  const rows = f.slice(0, FAILURES_SHOWN).map((x) => {
    const cpu = x.cpu ? markup`<span class="tag cpu">${x.cpu}</span>` : markup`<span class="muted">–</span>`;
    const log = x.log && markup`<div class="muted mono">${x.log}</div>`;
    return concatHtml(
      markup`<tr><td class="n mono">${cellTime(x.timestamp)}</td><td><code>${truncate(x.task, 60)}</code></td>`,
      markup`<td>${cpu}</td><td>${issueTag(x)}</td><td class="msg">${truncate(x.message, 300)}${log}</td></tr>`,
    );
  });
  const more =
    f.length > FAILURES_SHOWN &&
    concatHtml(
      markup`<div class="muted" style="margin-top:8px">and ${f.length - FAILURES_SHOWN} older failure(s) `,
      markup`(<code>nextrust metrics --json</code>)</div>`,
    );
  return markup`${table(FAILURES_HEAD, rows)}${more}`;
}

const FLAKY_HEAD = concatHtml(
  markup`<th class="n">Time (UTC)</th><th>Task</th><th>Hash</th><th class="n">Passed</th><th class="n">Failed</th>`,
  markup`<th>Cause</th>`,
);

/** Tasks whose same inputs passed and failed: time, task, hash, counts and cause. */
export function flakyTable(metrics: PipelineMetrics): Html {
  const f = metrics.flaky;
  if (!f.length) return markup`<div class="empty">No flaky task in the last ${metrics.days} day(s).</div>`;
  const rows = f.map((x) => {
    const cause = x.cause
      ? markup`<span class="tag known">${x.cause}</span>`
      : markup`<span class="tag unknown">unknown</span>`;
    return concatHtml(
      markup`<tr><td class="n mono">${cellTime(x.timestamp)}</td><td><code>${truncate(x.task, 60)}</code></td>`,
      markup`<td class="mono">${x.hash.slice(0, 12)}</td><td class="n">${x.passed}</td><td class="n">${x.failed}</td>`,
      markup`<td>${cause}</td></tr>`,
    );
  });
  return table(FLAKY_HEAD, rows);
}

const PRECISION_HEAD = concatHtml(
  markup`<th>Known issue</th><th class="n">Confirmed</th><th class="n">Rejected</th><th class="n">Precision</th>`,
  markup`<th></th>`,
);

/** Precision per known issue from people's verdicts; a demoted issue is marked. */
export function precisionTable(metrics: PipelineMetrics): Html {
  const rows = Object.entries(metrics.precision).sort(([a], [b]) => a.localeCompare(b));
  if (!rows.length)
    return concatHtml(
      markup`<div class="empty">No verdicts yet: <code>nextrust confirm | reject &lt;failure id&gt;</code> `,
      markup`under a diagnosis.</div>`,
    );
  const body = rows.map(([id, p]) => {
    const demoted = isDemoted(p) && markup`<span class="tag unknown">shown as possible</span>`;
    return concatHtml(
      markup`<tr><td><span class="tag known">${id}</span></td><td class="n">${p.confirmed}</td>`,
      markup`<td class="n">${p.rejected}</td><td class="n">${formatPercent(p.precision)}</td><td>${demoted}</td></tr>`,
    );
  });
  return table(PRECISION_HEAD, body);
}
