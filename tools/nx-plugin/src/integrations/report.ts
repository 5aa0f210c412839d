/**
 * `nextrust report`: the pipeline as one static HTML page (issue 5 §5): the
 * current phase, a phase timeline, task durations, the cache hit rate,
 * failure rates, recent failures and AI cost.
 *
 * One self-contained file: inline CSS and inline SVG, no script, no external
 * asset (it opens from a CI artifact, a mail attachment or file://). A
 * Content-Security-Policy meta forbids scripts and remote loads as a second
 * net; the first is that every string from the data (task names, failure
 * messages, model names, phase names) goes through escapeHtml. Times are UTC.
 */
import type { PipelineState } from '../pipeline/status-store';
import { isDemoted } from '../pipeline/precision';
import { NO_CPU, NO_PHASE, type PipelineMetrics, type RunCounts } from './metrics';

/** What the report needs of the pipeline state. */
export type ReportStatus = Pick<PipelineState, 'current_phase' | 'phase_history'>;

/** Escapes text for HTML element content and quoted attribute values (also inside SVG). */
export function escapeHtml(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
const e = escapeHtml;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 10 m`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A ratio (0..1) as a percentage, `–` when null. */
export function formatPercent(r: number | null, digits = 0): string {
  if (r === null || !Number.isFinite(r)) return '–';
  return `${(r * 100).toFixed(digits)}%`;
}

const intFmt = new Intl.NumberFormat('en-US');
/** Whole numbers with thousands separators. */
const fmtInt = (n: number) => intFmt.format(n);
/** USD: 4 decimals below one dollar, else 2. */
export function formatUsd(n: number): string {
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}
/** `2025-06-03 14:05 UTC`. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

const STATUS_COLORS: Record<string, { fill: string; text: string; label: string }> = {
  completed: { fill: '#16a34a', text: '#ffffff', label: 'completed' },
  in_progress: { fill: '#2563eb', text: '#ffffff', label: 'in progress' },
  failed: { fill: '#dc2626', text: '#ffffff', label: 'failed' },
  blocked: { fill: '#d97706', text: '#ffffff', label: 'blocked' },
};
const statusStyle = (s: string) => STATUS_COLORS[s] ?? { fill: '#6b7280', text: '#ffffff', label: s };

/** Colours for models in the AI chart. */
const PALETTE = ['#6366f1', '#0ea5e9', '#f59e0b', '#10b981', '#ec4899', '#8b5cf6', '#14b8a6', '#f97316'];

const CSS = `
:root{--bg:#f3f4f7;--card:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--accent:#4f46e5;--good:#16a34a;--bad:#dc2626;--warn:#d97706}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
header{background:linear-gradient(120deg,#111827 0%,#1e1b4b 100%);color:#fff;padding:28px 0 70px}
.wrap{max-width:1200px;margin:0 auto;padding:0 28px}
header .top{display:flex;justify-content:space-between;align-items:flex-start;gap:24px}
h1{margin:0;font-size:26px;letter-spacing:-.02em;font-weight:700}
h1 small{font-weight:400;color:#a5b4fc;font-size:15px;margin-left:8px}
.sub{color:#c7d2fe;margin-top:6px;font-size:13px}
.phase-pill{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.18);border-radius:14px;padding:12px 16px;min-width:300px;max-width:480px}
.phase-pill .note{color:#e0e7ff;font-size:12.5px;margin-top:6px;overflow-wrap:anywhere}
.phase-pill .k{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:#a5b4fc}
.phase-pill .v{font-size:18px;font-weight:650;margin:2px 0 4px}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff;vertical-align:1px}
main{margin-top:-48px;padding-bottom:40px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;margin-bottom:16px}
.card{background:var(--card);border-radius:14px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.1);padding:18px 20px;margin-bottom:16px}
.kpis .card{margin:0}
.kpi .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.07em;font-weight:600}
.kpi .v{font-size:34px;font-weight:750;letter-spacing:-.03em;margin:4px 0 2px}
.kpi .d{color:var(--muted);font-size:12.5px}
h2{font-size:16px;margin:0 0 12px;display:flex;align-items:baseline;gap:10px}
h2 .h{color:var(--muted);font-weight:400;font-size:12.5px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-bottom:16px}
.grid2 .card{margin:0}
.ai-grid{display:grid;grid-template-columns:3fr 2fr;gap:24px;margin-top:14px;align-items:start}
td.mono,td.n{white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;border-bottom:1px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid #f0f1f4;padding:6px 8px;vertical-align:middle}
tr:last-child td{border-bottom:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
td code{white-space:nowrap}
table.dur tr.grp td{border-top:1px solid var(--line)}
table.dur tr:first-child td{border-top:0}
td.tgt{vertical-align:top;padding-top:9px}
.small{font-size:12px;color:var(--muted);margin-top:3px}
.legend-inline{text-transform:none;letter-spacing:0;font-weight:500;margin-left:8px}
.legend-inline i{display:inline-block;width:9px;height:9px;border-radius:2px;margin:0 4px 0 8px;vertical-align:-1px}
.ph{display:inline-block;min-width:18px;height:18px;line-height:18px;border-radius:9px;background:#e0e7ff;color:#3730a3;font-size:11px;font-weight:700;text-align:center;margin-right:6px}
.nowrap{white-space:nowrap}
.tag{display:inline-block;border-radius:6px;padding:1px 7px;font-size:12px;font-weight:600;white-space:nowrap}
.tag.known{background:#dcfce7;color:#166534}.tag.unknown{background:#fee2e2;color:#991b1b}.tag.na{background:#f3f4f6;color:#4b5563}
.tag.cpu{background:#eef2ff;color:#3730a3}
.msg{color:#374151;max-width:430px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.empty{color:var(--muted);padding:18px;text-align:center;background:#fafafb;border-radius:10px}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12.5px;color:#374151;margin-top:10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;vertical-align:-1px}
.big{font-size:56px;font-weight:800;letter-spacing:-.04em;line-height:1}
.warn{background:#fffbeb;border:1px solid #fde68a;color:#92400e;border-radius:10px;padding:10px 14px;font-size:13px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
@media (max-width:900px){.kpis{grid-template-columns:1fr 1fr}.grid2,.ai-grid{grid-template-columns:1fr}}
@media print{header{background:#1e1b4b;-webkit-print-color-adjust:exact;print-color-adjust:exact}.card{box-shadow:none;border:1px solid var(--line)}}
`;

/**
 * Renders the report (module doc).
 * @param metrics computeMetrics' result (its window is what the report shows).
 * @param status the pipeline state: current phase and phase history, for the header and the timeline.
 * @returns a complete HTML document.
 */
export function renderReport(metrics: PipelineMetrics, status: ReportStatus): string {
  const w = metrics.window;
  const cur = status.current_phase;
  const phaseInfo = (id: string) => metrics.phases.find((p) => p.id === id);
  const curInfo = cur ? phaseInfo(cur.id) : undefined;
  const hits = w.totals.cache_local + w.totals.cache_remote;

  const header = `<header><div class="wrap"><div class="top">
<div><h1>NeXTRust pipeline <small>report</small></h1>
<div class="sub">Last ${metrics.days} day${metrics.days === 1 ? '' : 's'} (since ${e(formatTime(metrics.since))}) · generated ${e(formatTime(metrics.generated_at))}</div>
<div class="sub mono">${e(metrics.status_dir)}</div></div>
<div class="phase-pill"><div class="k">Current phase</div>${
    cur
      ? `<div class="v">${curInfo ? `${curInfo.number} · ` : ''}${e(cur.name)}</div><span class="badge" style="background:${statusStyle(cur.status).fill}">${e(statusStyle(cur.status).label)}</span> <span class="sub">since ${e(formatTime(cur.started_at))}</span>${cur.message ? `<div class="note">${e(truncate(cur.message, 200))}</div>` : ''}`
      : '<div class="v">none set</div><span class="sub">set one with <code>nextrust set-phase &lt;id&gt;</code></span>'
  }</div></div></div></header>`;

  const kpis = `<section class="kpis">
${kpi('Task runs', fmtInt(w.totals.runs), `${fmtInt(w.totals.executed)} executed · ${fmtInt(hits)} from cache${w.totals.skipped ? ` · ${fmtInt(w.totals.skipped)} skipped` : ''}`)}
${kpi('Cache hit rate', formatPercent(w.totals.cache_hit_rate), `${fmtInt(w.totals.cache_local)} local · ${fmtInt(w.totals.cache_remote)} remote`, rateColor(w.totals.cache_hit_rate, true))}
${kpi('Failure rate', formatPercent(w.totals.failure_rate, 1), `${fmtInt(w.totals.failed)} failed of ${fmtInt(w.totals.executed)} executed`, rateColor(w.totals.failure_rate, false))}
${kpi('AI cost', formatUsd(metrics.ai.total.cost_usd), `${fmtInt(metrics.ai.total.calls)} calls · ${fmtInt(metrics.ai.total.input_tokens + metrics.ai.total.output_tokens)} tokens${metrics.ai.total.unpriced_calls ? ` · ${metrics.ai.total.unpriced_calls} unpriced` : ''}`)}
</section>`;

  const warnings = metrics.warnings.length
    ? `<div class="card warn"><b>Read with care:</b> ${metrics.warnings.map(e).join('<br>')}</div>`
    : '';

  const body = [
    header,
    '<main><div class="wrap">',
    kpis,
    warnings,
    card('Phase timeline', 'from pipeline-state.json', phaseTimeline(metrics, status)),
    card('Task durations', 'executed runs, per target and CPU variant; slowest first', durationTable(metrics)),
    `<div class="grid2">${card('Cache', 'hits / (hits + executed runs)', cacheSection(metrics))}${card('Failure rate', 'failed / executed runs', failureRates(metrics))}</div>`,
    card('Recent failures', 'newest first', failuresTable(metrics)),
    card('Flaky tasks', 'the same inputs passed and failed; newest first', flakyTable(metrics)),
    card('Diagnosis precision', 'per known issue, from nextrust confirm | reject', precisionTable(metrics)),
    card('AI cost', 'design escalations and reviews', aiSection(metrics)),
    '</div></main>',
    `<footer>nextrust report · ${e(formatTime(metrics.generated_at))} · durations are nearest-rank quantiles of executed runs · times in UTC</footer>`,
  ].join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light">
<title>NeXTRust pipeline report · ${e(formatTime(metrics.generated_at))}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function kpi(label: string, value: string, detail: string, color?: string): string {
  return `<div class="card kpi"><div class="k">${e(label)}</div><div class="v"${color ? ` style="color:${color}"` : ''}>${e(value)}</div><div class="d">${e(detail)}</div></div>`;
}

function card(title: string, hint: string, content: string): string {
  return `<section class="card"><h2>${e(title)}<span class="h">${e(hint)}</span></h2>${content}</section>`;
}

/** Green for a good rate, amber, red (higher is better when `higherIsBetter`). */
function rateColor(r: number | null, higherIsBetter: boolean): string | undefined {
  if (r === null) return undefined;
  const good = higherIsBetter ? r >= 0.5 : r <= 0.05;
  const bad = higherIsBetter ? r < 0.2 : r > 0.2;
  return good ? '#15803d' : bad ? '#b91c1c' : '#b45309';
}

/** A time-axis step giving at most ~8 ticks. */
function tickStep(spanMs: number): number {
  const steps = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY];
  return steps.find((s) => spanMs / s <= 8) ?? 365 * DAY;
}

function phaseTimeline(metrics: PipelineMetrics, status: ReportStatus): string {
  const records = [...status.phase_history, ...(status.current_phase ? [status.current_phase] : [])];
  if (!records.length)
    return '<div class="empty">No phase has been started yet (<code>nextrust set-phase &lt;id&gt;</code>).</div>';
  const nowMs = Date.parse(metrics.generated_at);
  const current = status.current_phase;
  const segs = records.map((r) => {
    const start = Date.parse(r.started_at);
    const open = r === current && !r.ended_at;
    const end = r.ended_at ? Date.parse(r.ended_at) : open ? Math.max(nowMs, start) : Date.parse(r.updated_at);
    return { r, start, end: Math.max(end, start), open };
  });
  // Rows: phases.json order, then phases only the history knows.
  const rows: { id: string; label: string }[] = metrics.phases.map((p) => ({
    id: p.id,
    label: `${p.number} · ${p.name}`,
  }));
  for (const s of segs) if (!rows.some((r) => r.id === s.r.id)) rows.push({ id: s.r.id, label: s.r.name });

  const t0 = Math.min(...segs.map((s) => s.start));
  const t1 = Math.max(nowMs, ...segs.map((s) => s.end));
  const span = Math.max(t1 - t0, HOUR);
  const W = 1100;
  const L = 250;
  const R = 24;
  const rowH = 34;
  const top = 30;
  const H = top + rows.length * rowH + 10;
  const x = (t: number) => L + ((t - t0) / span) * (W - L - R);
  const parts: string[] = [];
  // Axis ticks.
  const step = tickStep(span);
  const firstTick = Math.ceil(t0 / step) * step;
  for (let t = firstTick; t <= t0 + span; t += step) {
    const iso = new Date(t).toISOString();
    const label = step < DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
    parts.push(
      `<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${H - 6}" stroke="#eef0f3"/>`,
    );
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${top - 12}" font-size="11" fill="#6b7280" text-anchor="middle">${e(label)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y}" width="${W}" height="${rowH}" fill="#fafbfc"/>`);
    parts.push(
      `<text x="12" y="${y + rowH / 2 + 4}" font-size="13" fill="#111827" font-weight="${current?.id === row.id ? 700 : 500}">${e(truncate(row.label, 34))}</text>`,
    );
    const mine = segs.filter((s) => s.r.id === row.id);
    if (!mine.length) {
      parts.push(
        `<line x1="${L}" y1="${y + rowH / 2}" x2="${W - R}" y2="${y + rowH / 2}" stroke="#e5e7eb" stroke-dasharray="3 5"/>`,
      );
      parts.push(`<text x="${L + 6}" y="${y + rowH / 2 - 5}" font-size="11" fill="#9ca3af">not started</text>`);
      return;
    }
    for (const s of mine) {
      const st = statusStyle(s.r.status);
      const x0 = x(s.start);
      const width = Math.max(4, x(s.end) - x0);
      const dur = formatDuration(s.end - s.start);
      const title = `${s.r.name}: ${st.label}, ${formatTime(s.r.started_at)} – ${s.open ? 'now' : formatTime(new Date(s.end).toISOString())} (${dur})`;
      parts.push(
        `<g><title>${e(title)}</title><rect x="${x0.toFixed(1)}" y="${y + 7}" width="${width.toFixed(1)}" height="${rowH - 14}" rx="5" fill="${st.fill}"${s.open ? ' fill-opacity="0.85"' : ''}/>`,
      );
      if (s.open)
        parts.push(
          `<rect x="${(x0 + width - 6).toFixed(1)}" y="${y + 7}" width="6" height="${rowH - 14}" fill="url(#open)"/>`,
        );
      const label = `${dur}${s.r.status !== 'completed' ? ` · ${st.label}` : ''}`;
      const fits = width > label.length * 6.6 + 12;
      parts.push(
        fits
          ? `<text x="${(x0 + 8).toFixed(1)}" y="${y + rowH / 2 + 4}" font-size="11.5" fill="${st.text}" font-weight="600">${e(label)}</text></g>`
          : `<text x="${(x0 + width + 6).toFixed(1)}" y="${y + rowH / 2 + 4}" font-size="11.5" fill="#374151">${e(label)}</text></g>`,
      );
    }
  });
  const nx = x(nowMs);
  parts.push(
    `<line x1="${nx.toFixed(1)}" y1="${top - 4}" x2="${nx.toFixed(1)}" y2="${H - 6}" stroke="#111827" stroke-dasharray="4 3" stroke-width="1.2"/>`,
  );
  parts.push(
    `<text x="${(nx - 4).toFixed(1)}" y="${H - 10}" font-size="10.5" fill="#111827" text-anchor="end">now</text>`,
  );
  const legend = ['completed', 'in_progress', 'failed', 'blocked']
    .map((s) => `<span><i style="background:${statusStyle(s).fill}"></i>${e(statusStyle(s).label)}</span>`)
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Phase timeline" xmlns="http://www.w3.org/2000/svg">
<defs><linearGradient id="open" x1="0" x2="1"><stop offset="0" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#fff" stop-opacity="0.6"/></linearGradient></defs>
${parts.join('\n')}
</svg><div class="legend">${legend}</div>`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function durationTable(metrics: PipelineMetrics): string {
  // Slowest targets first (by their slowest CPU's p95); CPUs in order within a target.
  const slowest = new Map<string, number>();
  for (const t of metrics.window.targets)
    slowest.set(t.target, Math.max(slowest.get(t.target) ?? -1, t.duration?.p95_ms ?? -1));
  const targets = [...metrics.window.targets].sort(
    (a, b) => slowest.get(b.target)! - slowest.get(a.target)! || a.target.localeCompare(b.target),
  );
  if (!targets.length)
    return `<div class="empty">No task runs in the last ${metrics.days} day(s). Runs are recorded by the Nx plugin after each <code>nx run</code>.</div>`;
  const max = Math.max(1, ...targets.map((t) => t.duration?.p95_ms ?? 0));
  const BW = 300;
  const groupSize = new Map<string, number>();
  for (const t of targets) groupSize.set(t.target, (groupSize.get(t.target) ?? 0) + 1);
  const rows = targets.map((t, i) => {
    const d = t.duration;
    const hitsN = t.cache_local + t.cache_remote;
    let bar: string;
    if (d) {
      const w95 = Math.max(3, (d.p95_ms / max) * BW);
      const w50 = Math.max(3, (d.p50_ms / max) * BW);
      bar = `<svg width="${BW}" height="16" viewBox="0 0 ${BW} 16" role="img" aria-label="p50 ${e(formatDuration(d.p50_ms))}, p95 ${e(formatDuration(d.p95_ms))}" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="3" width="${BW}" height="10" rx="5" fill="#f1f2f6"/><rect x="0" y="3" width="${w95.toFixed(1)}" height="10" rx="5" fill="#c7d2fe"/><rect x="0" y="3" width="${w50.toFixed(1)}" height="10" rx="5" fill="#4f46e5"/></svg>`;
    } else {
      bar = `<span class="muted">${hitsN ? 'only cache hits' : 'no duration recorded'}</span>`;
    }
    // One target cell (with its phase) per group of CPU rows.
    const first = i === 0 || targets[i - 1].target !== t.target;
    const n = groupSize.get(t.target)!;
    const targetCell = first
      ? `<td class="tgt"${n > 1 ? ` rowspan="${n}"` : ''}><code>${e(t.target)}</code><div class="small">${phaseCell(t.phase, metrics)}</div></td>`
      : '';
    return `<tr${first ? ' class="grp"' : ''}>${targetCell}<td>${t.cpu === NO_CPU ? '<span class="muted">–</span>' : `<span class="tag cpu">${e(t.cpu)}</span>`}</td>
<td class="n">${fmtInt(t.runs)}</td><td class="n">${hitsN ? fmtInt(hitsN) : '<span class="muted">0</span>'}</td><td class="n"${t.failed ? ' style="color:#b91c1c;font-weight:650"' : ''}>${fmtInt(t.failed)}</td>
<td>${bar}</td><td class="n">${d ? e(formatDuration(d.p50_ms)) : '–'}</td><td class="n">${d ? e(formatDuration(d.p95_ms)) : '–'}</td></tr>`;
  });
  return `<table class="dur"><thead><tr><th>Target · phase</th><th>CPU</th><th class="n">Runs</th><th class="n">Cache hits</th><th class="n">Failed</th><th>Duration <span class="legend-inline"><i style="background:#4f46e5"></i>p50 <i style="background:#c7d2fe"></i>p95</span></th><th class="n">p50</th><th class="n">p95</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function phaseCell(phase: string, metrics: PipelineMetrics): string {
  if (phase === NO_PHASE) return '<span class="muted">unassigned</span>';
  const p = metrics.phases.find((x) => x.id === phase);
  return `<span class="nowrap" title="${e(p?.name ?? phase)}">${p ? `<span class="ph">${p.number}</span>` : ''}${e(phase)}</span>`;
}

/** One row of a rate chart. */
interface RateRow {
  label: string;
  /** 0..1 */
  rate: number;
  color: string;
  detail: string;
}

/** Horizontal rate bars (0..100%) in groups with a small caption each. */
function rateBars(groups: { caption: string; rows: RateRow[] }[], ariaLabel: string): string {
  const W = 520;
  const L = 150;
  const BW = 270;
  const rowH = 24;
  let y = 0;
  const parts: string[] = [];
  for (const g of groups) {
    if (!g.rows.length) continue;
    y += 16;
    parts.push(
      `<text x="0" y="${y - 2}" font-size="10.5" fill="#6b7280" font-weight="700" letter-spacing="0.6">${e(g.caption.toUpperCase())}</text>`,
    );
    for (const r of g.rows) {
      parts.push(`<text x="0" y="${y + 15}" font-size="12.5" fill="#111827">${e(truncate(r.label, 22))}</text>`);
      parts.push(`<rect x="${L}" y="${y + 5}" width="${BW}" height="12" rx="6" fill="#f1f2f6"/>`);
      if (r.rate > 0)
        parts.push(
          `<rect x="${L}" y="${y + 5}" width="${Math.max(6, r.rate * BW).toFixed(1)}" height="12" rx="6" fill="${r.color}"/>`,
        );
      parts.push(
        `<text x="${L + BW + 10}" y="${y + 15}" font-size="12" fill="#374151"><tspan font-weight="700">${e(formatPercent(r.rate, 0))}</tspan> ${e(r.detail)}</text>`,
      );
      y += rowH;
    }
    y += 6;
  }
  return `<svg viewBox="0 0 ${W} ${y}" width="100%" role="img" aria-label="${e(ariaLabel)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function phaseLabel(phase: string, metrics: PipelineMetrics): string {
  if (phase === NO_PHASE) return 'unassigned';
  const p = metrics.phases.find((x) => x.id === phase);
  return p ? `${p.number} · ${p.id}` : phase;
}

function cacheSection(metrics: PipelineMetrics): string {
  const t = metrics.window.totals;
  const total = t.cache_local + t.cache_remote + t.executed;
  if (!total) return '<div class="empty">No executed or cached runs yet.</div>';
  const W = 520;
  const seg = [
    { n: t.cache_local, color: '#16a34a', label: 'local cache' },
    { n: t.cache_remote, color: '#0d9488', label: 'remote cache' },
    { n: t.executed, color: '#cbd5e1', label: 'executed' },
  ];
  let x = 0;
  const rects = seg
    .filter((s) => s.n > 0)
    .map((s) => {
      const w = (s.n / total) * W;
      const r = `<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="22" fill="${s.color}"/>`;
      x += w;
      return r;
    })
    .join('');
  const byPhase = metrics.window.by_phase
    .filter((p) => p.cache_hit_rate !== null)
    .map((p) => ({
      label: phaseLabel(p.phase, metrics),
      rate: p.cache_hit_rate!,
      color: '#16a34a',
      detail: `(${fmtInt(p.cache_local + p.cache_remote)}/${fmtInt(p.cache_local + p.cache_remote + p.executed)})`,
    }));
  return `<div style="display:flex;align-items:flex-end;gap:14px;margin:4px 0 14px"><div class="big" style="color:${rateColor(t.cache_hit_rate, true) ?? '#111827'}">${e(formatPercent(t.cache_hit_rate))}</div><div class="muted" style="padding-bottom:6px">${fmtInt(t.cache_local + t.cache_remote)} of ${fmtInt(total)} runs came from the cache</div></div>
<svg viewBox="0 0 ${W} 22" width="100%" role="img" aria-label="cache hits and executed runs" xmlns="http://www.w3.org/2000/svg"><clipPath id="cbar"><rect width="${W}" height="22" rx="7"/></clipPath><g clip-path="url(#cbar)"><rect width="${W}" height="22" fill="#f1f2f6"/>${rects}</g></svg>
<div class="legend" style="margin-bottom:10px">${seg.map((s) => `<span><i style="background:${s.color}"></i>${e(s.label)} <b>${fmtInt(s.n)}</b></span>`).join('')}</div>
${rateBars([{ caption: 'hit rate by phase', rows: byPhase }], 'cache hit rate by phase')}`;
}

function failureRates(metrics: PipelineMetrics): string {
  const color = (r: number) => (r === 0 ? '#16a34a' : r <= 0.2 ? '#f59e0b' : '#dc2626');
  const row = (label: string, c: RunCounts): RateRow => ({
    label,
    rate: c.failure_rate ?? 0,
    color: color(c.failure_rate ?? 0),
    detail: `(${fmtInt(c.failed)}/${fmtInt(c.executed)})`,
  });
  const byPhase = metrics.window.by_phase.filter((p) => p.executed).map((p) => row(phaseLabel(p.phase, metrics), p));
  const byCpu = metrics.window.by_cpu
    .filter((c) => c.executed)
    .map((c) => row(c.cpu === NO_CPU ? 'no CPU variant' : c.cpu, c));
  if (!byPhase.length && !byCpu.length) return '<div class="empty">Nothing executed yet.</div>';
  return rateBars(
    [
      { caption: 'by phase', rows: byPhase },
      { caption: 'by CPU', rows: byCpu },
    ],
    'failure rate by phase and CPU',
  );
}

const FAILURES_SHOWN = 25;

function failuresTable(metrics: PipelineMetrics): string {
  const f = metrics.failures;
  if (!f.length) return `<div class="empty">No failures in the last ${metrics.days} day(s).</div>`;
  const rows = f.slice(0, FAILURES_SHOWN).map((x) => {
    const issue = x.known_issue
      ? `<span class="tag known">${e(x.known_issue)}</span>`
      : x.analysed
        ? '<span class="tag unknown">unknown</span>'
        : '<span class="tag na" title="no failure analysis was recorded for this run">unknown · not analysed</span>';
    return `<tr><td class="n mono">${e(formatTime(x.timestamp).replace(' UTC', ''))}</td><td><code>${e(truncate(x.task, 60))}</code></td><td>${x.cpu ? `<span class="tag cpu">${e(x.cpu)}</span>` : '<span class="muted">–</span>'}</td><td>${issue}</td><td class="msg">${e(truncate(x.message, 300))}${x.log ? `<div class="muted mono">${e(x.log)}</div>` : ''}</td></tr>`;
  });
  const more =
    f.length > FAILURES_SHOWN
      ? `<div class="muted" style="margin-top:8px">and ${f.length - FAILURES_SHOWN} older failure(s) (<code>nextrust metrics --json</code>)</div>`
      : '';
  return `<table><thead><tr><th class="n">Time (UTC)</th><th>Task</th><th>CPU</th><th>Known issue</th><th>Message</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${more}`;
}

function flakyTable(metrics: PipelineMetrics): string {
  const f = metrics.flaky;
  if (!f.length) return `<div class="empty">No flaky task in the last ${metrics.days} day(s).</div>`;
  const rows = f.map(
    (x) =>
      `<tr><td class="n mono">${e(formatTime(x.timestamp).replace(' UTC', ''))}</td><td><code>${e(truncate(x.task, 60))}</code></td><td class="mono">${e(x.hash.slice(0, 12))}</td><td class="n">${x.passed}</td><td class="n">${x.failed}</td><td>${x.cause ? `<span class="tag known">${e(x.cause)}</span>` : '<span class="tag unknown">unknown</span>'}</td></tr>`,
  );
  return `<table><thead><tr><th class="n">Time (UTC)</th><th>Task</th><th>Hash</th><th class="n">Passed</th><th class="n">Failed</th><th>Cause</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function precisionTable(metrics: PipelineMetrics): string {
  const rows = Object.entries(metrics.precision).sort(([a], [b]) => a.localeCompare(b));
  if (!rows.length)
    return '<div class="empty">No verdicts yet: <code>nextrust confirm | reject &lt;failure id&gt;</code> under a diagnosis.</div>';
  const body = rows.map(
    ([id, p]) =>
      `<tr><td><span class="tag known">${e(id)}</span></td><td class="n">${p.confirmed}</td><td class="n">${p.rejected}</td><td class="n">${formatPercent(p.precision)}</td><td>${isDemoted(p) ? '<span class="tag unknown">shown as possible</span>' : ''}</td></tr>`,
  );
  return `<table><thead><tr><th>Known issue</th><th class="n">Confirmed</th><th class="n">Rejected</th><th class="n">Precision</th><th></th></tr></thead><tbody>
${body.join('\n')}
</tbody></table>`;
}

function aiSection(metrics: PipelineMetrics): string {
  const ai = metrics.ai;
  if (!ai.total.calls && !ai.events.length)
    return `<div class="empty">No AI calls in the last ${metrics.days} day(s).</div>`;
  // Daily cost columns over the whole window, stacked by model.
  const models = [...new Set(ai.by_day_model.map((r) => r.model))].sort();
  const color = (m: string) => PALETTE[models.indexOf(m) % PALETTE.length];
  const days: string[] = [];
  for (let t = Date.parse(metrics.since); t <= Date.parse(metrics.generated_at); t += DAY)
    days.push(new Date(t).toISOString().slice(0, 10));
  const perDay = days.map((d) => ai.by_day_model.filter((r) => r.day === d));
  const maxCost = Math.max(...perDay.map((rows) => rows.reduce((s, r) => s + r.cost_usd, 0)), 0);
  const W = 1100;
  const H = 150;
  const L = 56;
  const B = 22;
  const slot = (W - L - 10) / Math.max(days.length, 1);
  const bw = Math.min(46, slot * 0.64);
  const scale = maxCost > 0 ? (H - B - 18) / maxCost : 0;
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const y = H - B - frac * (H - B - 18);
    parts.push(`<line x1="${L}" y1="${y.toFixed(1)}" x2="${W - 10}" y2="${y.toFixed(1)}" stroke="#eef0f3"/>`);
    parts.push(
      `<text x="${L - 8}" y="${(y + 4).toFixed(1)}" font-size="10.5" fill="#6b7280" text-anchor="end">${e(formatUsd(maxCost * frac))}</text>`,
    );
  }
  days.forEach((d, i) => {
    const cx = L + slot * i + slot / 2;
    let y = H - B;
    for (const r of perDay[i].sort((a, b) => a.model.localeCompare(b.model))) {
      const h = r.cost_usd * scale;
      if (h <= 0) continue;
      y -= h;
      parts.push(
        `<rect x="${(cx - bw / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${color(r.model)}"><title>${e(`${d} ${r.model}: ${formatUsd(r.cost_usd)}, ${r.calls} call(s)`)}</title></rect>`,
      );
    }
    const dayCost = perDay[i].reduce((s, r) => s + r.cost_usd, 0);
    if (dayCost > 0)
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${(y - 5).toFixed(1)}" font-size="10.5" fill="#374151" text-anchor="middle">${e(formatUsd(dayCost))}</text>`,
      );
    if (days.length <= 31 && (days.length <= 14 || i % 2 === 0))
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${H - 6}" font-size="10.5" fill="#6b7280" text-anchor="middle">${e(d.slice(5))}</text>`,
      );
  });
  const chart = `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="AI cost per day" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>
<div class="legend">${models.map((m) => `<span><i style="background:${color(m)}"></i>${e(m)}</span>`).join('')}</div>`;

  const dayRows = ai.by_day_model
    .slice()
    .reverse()
    .map(
      (r) =>
        `<tr><td class="mono">${e(r.day)}</td><td class="nowrap"><i style="display:inline-block;width:9px;height:9px;border-radius:2px;background:${color(r.model)};margin-right:6px"></i>${e(r.model)}</td><td class="n">${fmtInt(r.calls)}</td><td class="n">${fmtInt(r.input_tokens)}</td><td class="n">${fmtInt(r.output_tokens)}</td><td class="n"><b>${e(formatUsd(r.cost_usd))}</b>${r.unpriced_calls ? ` <span class="muted">+${r.unpriced_calls} unpriced</span>` : ''}</td></tr>`,
    );
  const t = ai.total;
  dayRows.push(
    `<tr style="border-top:2px solid #e5e7eb"><td><b>Total</b></td><td></td><td class="n"><b>${fmtInt(t.calls)}</b></td><td class="n"><b>${fmtInt(t.input_tokens)}</b></td><td class="n"><b>${fmtInt(t.output_tokens)}</b></td><td class="n"><b>${e(formatUsd(t.cost_usd))}</b>${t.unpriced_calls ? ` <span class="muted">+${t.unpriced_calls} unpriced</span>` : ''}</td></tr>`,
  );
  const table = `<table><thead><tr><th>Day</th><th>Model</th><th class="n">Calls</th><th class="n">Input tokens</th><th class="n">Output tokens</th><th class="n">Cost</th></tr></thead><tbody>${dayRows.join('\n')}</tbody></table>`;

  const kinds = ai.by_model_kind
    .map(
      (r) =>
        `<tr><td>${e(r.model)}</td><td>${e(r.kind)}</td><td class="n">${fmtInt(r.calls)}</td><td class="n">${fmtInt(r.input_tokens + r.output_tokens)}</td><td class="n">${e(formatUsd(r.cost_usd))}</td></tr>`,
    )
    .join('');
  const events = ai.events
    .slice(0, 8)
    .map(
      (ev) =>
        `<tr><td class="n mono">${e(formatTime(ev.timestamp).replace(' UTC', ''))}</td><td class="nowrap">${ev.type === 'design_decision' ? 'design' : 'review'}${ev.cached ? ' <span class="tag na">cached</span>' : ''}</td><td><code>${e(truncate(ev.subject, 40))}</code></td><td class="nowrap">${e(ev.model ?? '–')}</td><td class="msg">${e(truncate(ev.summary, 200))}</td></tr>`,
    )
    .join('');
  return `${chart}
<div class="ai-grid"><div>${table}</div><div>
${kinds ? `<table><thead><tr><th>Model</th><th>Kind</th><th class="n">Calls</th><th class="n">Tokens</th><th class="n">Cost</th></tr></thead><tbody>${kinds}</tbody></table>` : ''}
</div></div>
${events ? `<h2 style="margin-top:18px">Recent decisions<span class="h">design_decision, review_completed</span></h2><table><thead><tr><th class="n">Time (UTC)</th><th>Kind</th><th>Task or phase</th><th>Model</th><th>Summary</th></tr></thead><tbody>${events}</tbody></table>` : ''}`;
}
