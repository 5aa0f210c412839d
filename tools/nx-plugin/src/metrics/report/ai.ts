/**
 * The report's AI section: cost per day stacked by model, tables by day and
 * model and by model and kind, the recent design decisions and reviews.
 */
import type { AiDayModel, PipelineMetrics } from '../types';
import { DAY, fmtInt, formatTime, formatUsd, PALETTE, truncate } from './format';
import { concatHtml, joinHtml, markup, type Html } from './html';

/** The days of the window, `YYYY-MM-DD`. */
function windowDays(metrics: PipelineMetrics): string[] {
  const days: string[] = [];
  for (let t = Date.parse(metrics.since); t <= Date.parse(metrics.generated_at); t += DAY)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Chart geometry (px): width, height, left axis, bottom axis. */
const [W, H, L, B] = [1100, 150, 56, 22];

/** Grid lines at 0, half and the maximum cost, with their USD labels. */
function costGrid(maxCost: number): Html[] {
  const parts: Html[] = [];
  for (const frac of [0, 0.5, 1]) {
    const y = H - B - frac * (H - B - 18);
    parts.push(markup`<line x1="${L}" y1="${y.toFixed(1)}" x2="${W - 10}" y2="${y.toFixed(1)}" stroke="#eef0f3"/>`);
    parts.push(
      concatHtml(
        markup`<text x="${L - 8}" y="${(y + 4).toFixed(1)}" font-size="10.5" fill="#6b7280" text-anchor="end">`,
        markup`${formatUsd(maxCost * frac)}</text>`,
      ),
    );
  }
  return parts;
}

/** Daily cost columns over the whole window, stacked by model, with a legend. */
function costChart(metrics: PipelineMetrics, models: string[], color: (m: string) => string): Html {
  const days = windowDays(metrics);
  const perDay = days.map((d) => metrics.ai.by_day_model.filter((r) => r.day === d));
  const maxCost = Math.max(...perDay.map((rows) => rows.reduce((s, r) => s + r.cost_usd, 0)), 0);
  const slot = (W - L - 10) / Math.max(days.length, 1);
  const bw = Math.min(46, slot * 0.64);
  const scale = maxCost > 0 ? (H - B - 18) / maxCost : 0;
  const parts = costGrid(maxCost);
  days.forEach((d, i) => {
    const cx = L + slot * i + slot / 2;
    let y = H - B;
    for (const r of perDay[i].sort((a, b) => a.model.localeCompare(b.model))) {
      const h = r.cost_usd * scale;
      if (h <= 0) continue;
      y -= h;
      const title = `${d} ${r.model}: ${formatUsd(r.cost_usd)}, ${r.calls} call(s)`;
      parts.push(
        concatHtml(
          markup`<rect x="${(cx - bw / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" `,
          markup`height="${h.toFixed(1)}" fill="${color(r.model)}"><title>${title}</title></rect>`,
        ),
      );
    }
    const dayCost = perDay[i].reduce((s, r) => s + r.cost_usd, 0);
    if (dayCost > 0)
      parts.push(
        concatHtml(
          markup`<text x="${cx.toFixed(1)}" y="${(y - 5).toFixed(1)}" font-size="10.5" fill="#374151" `,
          markup`text-anchor="middle">${formatUsd(dayCost)}</text>`,
        ),
      );
    if (days.length <= 31 && (days.length <= 14 || i % 2 === 0))
      parts.push(
        concatHtml(
          markup`<text x="${cx.toFixed(1)}" y="${H - 6}" font-size="10.5" fill="#6b7280" text-anchor="middle">`,
          markup`${d.slice(5)}</text>`,
        ),
      );
  });
  const svg = concatHtml(
    markup`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="AI cost per day" `,
    markup`xmlns="http://www.w3.org/2000/svg">${parts}</svg>`,
  );
  const legend = models.map((m) => markup`<span><i style="background:${color(m)}"></i>${m}</span>`);
  return markup`${svg}
<div class="legend">${legend}</div>`;
}

/** ` +N unpriced`, muted, when N > 0. */
const unpriced = (n: number) => (n ? markup` <span class="muted">+${n} unpriced</span>` : null);

const DAY_HEAD = concatHtml(
  markup`<th>Day</th><th>Model</th><th class="n">Calls</th><th class="n">Input tokens</th>`,
  markup`<th class="n">Output tokens</th><th class="n">Cost</th>`,
);

/** Usage by day and model, newest first, and the total. */
function dayTable(metrics: PipelineMetrics, color: (m: string) => string): Html {
  const dot = (m: string) =>
    concatHtml(
      markup`<i style="display:inline-block;width:9px;height:9px;border-radius:2px;`,
      markup`background:${color(m)};margin-right:6px"></i>`,
    );
  const row = (r: AiDayModel) =>
    concatHtml(
      markup`<tr><td class="mono">${r.day}</td><td class="nowrap">${dot(r.model)}${r.model}</td>`,
      markup`<td class="n">${fmtInt(r.calls)}</td><td class="n">${fmtInt(r.input_tokens)}</td>`,
      markup`<td class="n">${fmtInt(r.output_tokens)}</td>`,
      markup`<td class="n"><b>${formatUsd(r.cost_usd)}</b>${unpriced(r.unpriced_calls)}</td></tr>`,
    );
  const t = metrics.ai.total;
  const total = concatHtml(
    markup`<tr style="border-top:2px solid #e5e7eb"><td><b>Total</b></td><td></td>`,
    markup`<td class="n"><b>${fmtInt(t.calls)}</b></td><td class="n"><b>${fmtInt(t.input_tokens)}</b></td>`,
    markup`<td class="n"><b>${fmtInt(t.output_tokens)}</b></td>`,
    markup`<td class="n"><b>${formatUsd(t.cost_usd)}</b>${unpriced(t.unpriced_calls)}</td></tr>`,
  );
  const rows = [...metrics.ai.by_day_model.slice().reverse().map(row), total];
  return markup`<table><thead><tr>${DAY_HEAD}</tr></thead><tbody>${joinHtml(rows, markup`\n`)}</tbody></table>`;
}

const KINDS_HEAD = concatHtml(
  markup`<th>Model</th><th>Kind</th><th class="n">Calls</th><th class="n">Tokens</th><th class="n">Cost</th>`,
);

/** Usage by model and kind, or nothing when there is none. */
function kindsTable(metrics: PipelineMetrics): Html | null {
  const rows = metrics.ai.by_model_kind.map((r) =>
    concatHtml(
      markup`<tr><td>${r.model}</td><td>${r.kind}</td><td class="n">${fmtInt(r.calls)}</td>`,
      markup`<td class="n">${fmtInt(r.input_tokens + r.output_tokens)}</td>`,
      markup`<td class="n">${formatUsd(r.cost_usd)}</td></tr>`,
    ),
  );
  if (!rows.length) return null;
  return markup`<table><thead><tr>${KINDS_HEAD}</tr></thead><tbody>${rows}</tbody></table>`;
}

const EVENTS_HEAD = concatHtml(
  markup`<h2 style="margin-top:18px">Recent decisions<span class="h">design_decision, review_completed</span></h2>`,
  markup`<table><thead><tr><th class="n">Time (UTC)</th><th>Kind</th><th>Task or phase</th><th>Model</th>`,
  markup`<th>Summary</th></tr></thead>`,
);

/** The 8 newest design decisions and reviews, or nothing when there is none. */
function eventsTable(metrics: PipelineMetrics): Html | null {
  const rows = metrics.ai.events.slice(0, 8).map((ev) => {
    const kind = ev.type === 'design_decision' ? 'design' : 'review';
    const cached = ev.cached && markup` <span class="tag na">cached</span>`;
    return concatHtml(
      markup`<tr><td class="n mono">${formatTime(ev.timestamp).replace(' UTC', '')}</td>`,
      markup`<td class="nowrap">${kind}${cached}</td><td><code>${truncate(ev.subject, 40)}</code></td>`,
      markup`<td class="nowrap">${ev.model ?? '–'}</td><td class="msg">${truncate(ev.summary, 200)}</td></tr>`,
    );
  });
  if (!rows.length) return null;
  return markup`${EVENTS_HEAD}<tbody>${rows}</tbody></table>`;
}

/** The AI section (module doc), or a note when the window has no AI call. */
export function aiSection(metrics: PipelineMetrics): Html {
  const ai = metrics.ai;
  if (!ai.total.calls && !ai.events.length)
    return markup`<div class="empty">No AI calls in the last ${metrics.days} day(s).</div>`;
  const models = [...new Set(ai.by_day_model.map((r) => r.model))].sort();
  const color = (m: string) => PALETTE[models.indexOf(m) % PALETTE.length];
  return markup`${costChart(metrics, models, color)}
<div class="ai-grid"><div>${dayTable(metrics, color)}</div><div>
${kindsTable(metrics)}
</div></div>
${eventsTable(metrics)}`;
}
