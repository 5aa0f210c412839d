/** The report's rate charts: the cache section and the failure rates by phase and CPU. */
import { NO_CPU, NO_PHASE, type PipelineMetrics, type RunCounts } from '../types';
import { fmtInt, formatPercent, rateColor, truncate } from './format';
import { concatHtml, markup, type Html } from './html';

/** One row of a rate chart. */
interface RateRow {
  label: string;
  /** 0..1 */
  rate: number;
  color: string;
  detail: string;
}

/** An SVG of the given viewBox size (px), full width, as an image with a label. */
const svgOpen = (w: number, h: number, label: string) =>
  concatHtml(
    markup`<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${label}" `,
    markup`xmlns="http://www.w3.org/2000/svg">`,
  );

/** One bar of a rate chart at `y`: label, track, bar (when > 0) and the percentage with its detail. */
function rateRow(r: RateRow, y: number, L: number, BW: number): Html[] {
  const parts = [
    markup`<text x="0" y="${y + 15}" font-size="12.5" fill="#111827">${truncate(r.label, 22)}</text>`,
    markup`<rect x="${L}" y="${y + 5}" width="${BW}" height="12" rx="6" fill="#f1f2f6"/>`,
  ];
  if (r.rate > 0) {
    const w = Math.max(6, r.rate * BW).toFixed(1);
    parts.push(markup`<rect x="${L}" y="${y + 5}" width="${w}" height="12" rx="6" fill="${r.color}"/>`);
  }
  parts.push(
    concatHtml(
      markup`<text x="${L + BW + 10}" y="${y + 15}" font-size="12" fill="#374151">`,
      markup`<tspan font-weight="700">${formatPercent(r.rate, 0)}</tspan> ${r.detail}</text>`,
    ),
  );
  return parts;
}

/** Horizontal rate bars (0..100%) in groups with a small caption each, as one SVG. */
function rateBars(groups: { caption: string; rows: RateRow[] }[], ariaLabel: string): Html {
  const [W, L, BW, rowH] = [520, 150, 270, 24];
  let y = 0;
  const parts: Html[] = [];
  for (const g of groups) {
    if (!g.rows.length) continue;
    y += 16;
    parts.push(
      concatHtml(
        markup`<text x="0" y="${y - 2}" font-size="10.5" fill="#6b7280" font-weight="700" letter-spacing="0.6">`,
        markup`${g.caption.toUpperCase()}</text>`,
      ),
    );
    for (const r of g.rows) {
      parts.push(...rateRow(r, y, L, BW));
      y += rowH;
    }
    y += 6;
  }
  return markup`${svgOpen(W, y, ariaLabel)}${parts}</svg>`;
}

/** A phase as a chart label: `3 · rust-target`, the id alone when phases.json lacks it, or `unassigned`. */
function phaseLabel(phase: string, metrics: PipelineMetrics): string {
  if (phase === NO_PHASE) return 'unassigned';
  const p = metrics.phases.find((x) => x.id === phase);
  return p ? `${p.number} · ${p.id}` : phase;
}

/** The cache: the hit rate as a big number, local/remote/executed as one bar, the hit rate by phase. */
export function cacheSection(metrics: PipelineMetrics): Html {
  const t = metrics.window.totals;
  const total = t.cache_local + t.cache_remote + t.executed;
  if (!total) return markup`<div class="empty">No executed or cached runs yet.</div>`;
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
      const r = markup`<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="22" fill="${s.color}"/>`;
      x += w;
      return r;
    });
  const byPhase = metrics.window.by_phase
    .filter((p) => p.cache_hit_rate !== null)
    .map((p) => ({
      label: phaseLabel(p.phase, metrics),
      rate: p.cache_hit_rate!,
      color: '#16a34a',
      detail: `(${fmtInt(p.cache_local + p.cache_remote)}/${fmtInt(p.cache_local + p.cache_remote + p.executed)})`,
    }));
  const hits = t.cache_local + t.cache_remote;
  const big = concatHtml(
    markup`<div style="display:flex;align-items:flex-end;gap:14px;margin:4px 0 14px">`,
    markup`<div class="big" style="color:${rateColor(t.cache_hit_rate, true) ?? '#111827'}">`,
    markup`${formatPercent(t.cache_hit_rate)}</div><div class="muted" style="padding-bottom:6px">`,
    markup`${fmtInt(hits)} of ${fmtInt(total)} runs came from the cache</div></div>`,
  );
  const bar = concatHtml(
    svgOpen(W, 22, 'cache hits and executed runs'),
    markup`<clipPath id="cbar"><rect width="${W}" height="22" rx="7"/></clipPath>`,
    markup`<g clip-path="url(#cbar)"><rect width="${W}" height="22" fill="#f1f2f6"/>${rects}</g></svg>`,
  );
  const legend = seg.map(
    (s) => markup`<span><i style="background:${s.color}"></i>${s.label} <b>${fmtInt(s.n)}</b></span>`,
  );
  return markup`${big}
${bar}
<div class="legend" style="margin-bottom:10px">${legend}</div>
${rateBars([{ caption: 'hit rate by phase', rows: byPhase }], 'cache hit rate by phase')}`;
}

/** Failure rates by phase and by CPU (only where something executed). */
export function failureRates(metrics: PipelineMetrics): Html {
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
  if (!byPhase.length && !byCpu.length) return markup`<div class="empty">Nothing executed yet.</div>`;
  return rateBars(
    [
      { caption: 'by phase', rows: byPhase },
      { caption: 'by CPU', rows: byCpu },
    ],
    'failure rate by phase and CPU',
  );
}
