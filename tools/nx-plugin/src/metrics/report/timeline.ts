/** The report's phase timeline: one SVG row per phase, a bar per time it was the current phase. */
import type { PhaseRecord, PipelineState } from '../../pipeline/status-store';
import type { PipelineMetrics } from '../types';
import { DAY, formatDuration, formatTime, HOUR, statusStyle, truncate } from './format';
import { concatHtml, joinHtml, markup, type Html } from './html';

/** What the report needs of the pipeline state. */
export type ReportStatus = Pick<PipelineState, 'current_phase' | 'phase_history'>;

/** A time-axis step giving at most ~8 ticks. */
function tickStep(spanMs: number): number {
  const steps = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY];
  return steps.find((s) => spanMs / s <= 8) ?? 365 * DAY;
}

/** One time a phase was current: its record, start and end (ms) and whether it still is. */
interface Segment {
  r: PhaseRecord;
  start: number;
  end: number;
  open: boolean;
}

/** The chart's geometry (px): width, label column, right margin, row height, top margin, height; time (ms) → x. */
interface Frame {
  W: number;
  L: number;
  R: number;
  rowH: number;
  top: number;
  H: number;
  x: (t: number) => number;
}

/** Vertical grid lines and date labels. */
function axis(f: Frame, t0: number, span: number): Html[] {
  const parts: Html[] = [];
  const step = tickStep(span);
  const firstTick = Math.ceil(t0 / step) * step;
  for (let t = firstTick; t <= t0 + span; t += step) {
    const iso = new Date(t).toISOString();
    const label = step < DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
    const x = f.x(t).toFixed(1);
    parts.push(markup`<line x1="${x}" y1="${f.top - 6}" x2="${x}" y2="${f.H - 6}" stroke="#eef0f3"/>`);
    parts.push(
      markup`<text x="${x}" y="${f.top - 12}" font-size="11" fill="#6b7280" text-anchor="middle">${label}</text>`,
    );
  }
  return parts;
}

/** The bar of one segment in the row at `y`, with its duration (and status unless completed) inside or beside it. */
function segmentBar(f: Frame, s: Segment, y: number): Html[] {
  const parts: Html[] = [];
  const st = statusStyle(s.r.status);
  const x0 = f.x(s.start);
  const width = Math.max(4, f.x(s.end) - x0);
  const dur = formatDuration(s.end - s.start);
  const until = s.open ? 'now' : formatTime(new Date(s.end).toISOString());
  const title = `${s.r.name}: ${st.label}, ${formatTime(s.r.started_at)} – ${until} (${dur})`;
  const barH = f.rowH - 14;
  parts.push(
    concatHtml(
      markup`<g><title>${title}</title>`,
      markup`<rect x="${x0.toFixed(1)}" y="${y + 7}" width="${width.toFixed(1)}" height="${barH}" rx="5" `,
      markup`fill="${st.fill}"${s.open && markup` fill-opacity="0.85"`}/>`,
    ),
  );
  if (s.open)
    parts.push(
      markup`<rect x="${(x0 + width - 6).toFixed(1)}" y="${y + 7}" width="6" height="${barH}" fill="url(#open)"/>`,
    );
  const label = `${dur}${s.r.status !== 'completed' ? ` · ${st.label}` : ''}`;
  const fits = width > label.length * 6.6 + 12;
  const ty = y + f.rowH / 2 + 4;
  parts.push(
    fits
      ? concatHtml(
          markup`<text x="${(x0 + 8).toFixed(1)}" y="${ty}" font-size="11.5" fill="${st.text}" font-weight="600">`,
          markup`${label}</text></g>`,
        )
      : markup`<text x="${(x0 + width + 6).toFixed(1)}" y="${ty}" font-size="11.5" fill="#374151">${label}</text></g>`,
  );
  return parts;
}

/** One row: its label, and its segments or a dashed "not started" line. */
function phaseRow(f: Frame, label: string, bold: boolean, mine: Segment[], i: number): Html[] {
  const parts: Html[] = [];
  const y = f.top + i * f.rowH;
  const mid = y + f.rowH / 2;
  if (i % 2 === 0) parts.push(markup`<rect x="0" y="${y}" width="${f.W}" height="${f.rowH}" fill="#fafbfc"/>`);
  parts.push(
    concatHtml(
      markup`<text x="12" y="${mid + 4}" font-size="13" fill="#111827" font-weight="${bold ? 700 : 500}">`,
      markup`${truncate(label, 34)}</text>`,
    ),
  );
  if (!mine.length) {
    parts.push(
      markup`<line x1="${f.L}" y1="${mid}" x2="${f.W - f.R}" y2="${mid}" stroke="#e5e7eb" stroke-dasharray="3 5"/>`,
    );
    parts.push(markup`<text x="${f.L + 6}" y="${mid - 5}" font-size="11" fill="#9ca3af">not started</text>`);
    return parts;
  }
  for (const s of mine) parts.push(...segmentBar(f, s, y));
  return parts;
}

/** The "now" line at `nowMs`. */
function nowLine(f: Frame, nowMs: number): Html[] {
  const nx = f.x(nowMs);
  return [
    concatHtml(
      markup`<line x1="${nx.toFixed(1)}" y1="${f.top - 4}" x2="${nx.toFixed(1)}" y2="${f.H - 6}" `,
      markup`stroke="#111827" stroke-dasharray="4 3" stroke-width="1.2"/>`,
    ),
    concatHtml(
      markup`<text x="${(nx - 4).toFixed(1)}" y="${f.H - 10}" font-size="10.5" fill="#111827" `,
      markup`text-anchor="end">now</text>`,
    ),
  ];
}

/** The segments of the history and the current phase; an open current phase runs until `nowMs`. */
function segments(status: ReportStatus, nowMs: number): Segment[] {
  const records = [...status.phase_history, ...(status.current_phase ? [status.current_phase] : [])];
  return records.map((r) => {
    const start = Date.parse(r.started_at);
    const open = r === status.current_phase && !r.ended_at;
    const end = r.ended_at ? Date.parse(r.ended_at) : open ? Math.max(nowMs, start) : Date.parse(r.updated_at);
    return { r, start, end: Math.max(end, start), open };
  });
}

/** The fade at the end of an open segment. */
const GRADIENT = concatHtml(
  markup`<defs><linearGradient id="open" x1="0" x2="1">`,
  markup`<stop offset="0" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#fff" stop-opacity="0.6"/>`,
  markup`</linearGradient></defs>`,
);

/**
 * The phase timeline: rows in phases.json order, then phases only the history
 * knows; a bar per segment coloured by status; a legend of the statuses.
 */
export function phaseTimeline(metrics: PipelineMetrics, status: ReportStatus): Html {
  const nowMs = Date.parse(metrics.generated_at);
  const segs = segments(status, nowMs);
  if (!segs.length)
    return markup`<div class="empty">No phase has been started yet (<code>nextrust set-phase &lt;id&gt;</code>).</div>`;
  const rows: { id: string; label: string }[] = metrics.phases.map((p) => ({
    id: p.id,
    label: `${p.number} · ${p.name}`,
  }));
  for (const s of segs) if (!rows.some((r) => r.id === s.r.id)) rows.push({ id: s.r.id, label: s.r.name });

  const t0 = Math.min(...segs.map((s) => s.start));
  const t1 = Math.max(nowMs, ...segs.map((s) => s.end));
  const span = Math.max(t1 - t0, HOUR);
  const [W, L, R, rowH, top] = [1100, 250, 24, 34, 30];
  const H = top + rows.length * rowH + 10;
  const f: Frame = { W, L, R, rowH, top, H, x: (t) => L + ((t - t0) / span) * (W - L - R) };
  const rowParts = rows.flatMap((row, i) => {
    const mine = segs.filter((s) => s.r.id === row.id);
    return phaseRow(f, row.label, status.current_phase?.id === row.id, mine, i);
  });
  const parts = [...axis(f, t0, span), ...rowParts, ...nowLine(f, nowMs)];
  const legend = ['completed', 'in_progress', 'failed', 'blocked'].map(
    (s) => markup`<span><i style="background:${statusStyle(s).fill}"></i>${statusStyle(s).label}</span>`,
  );
  const svg = concatHtml(
    markup`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Phase timeline" `,
    markup`xmlns="http://www.w3.org/2000/svg">`,
  );
  return markup`${svg}
${GRADIENT}
${joinHtml(parts, markup`\n`)}
</svg><div class="legend">${legend}</div>`;
}
