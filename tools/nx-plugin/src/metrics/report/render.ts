/**
 * `nextrust report`: the pipeline as one static HTML page: the current
 * phase, a phase timeline, task durations, the cache hit rate, failure rates,
 * recent failures, flaky tasks, diagnosis precision and AI cost.
 *
 * One self-contained file: inline CSS and inline SVG, no script, no external
 * asset (it opens from a CI artifact, a mail attachment or file://). Every
 * string from the data (task names, failure messages, model names, phase
 * names, known issues) is escaped by the `markup` template (html.ts), which
 * escapes whatever it is given unless it is markup the template made; a
 * Content-Security-Policy meta forbids scripts and remote loads as a second
 * net. Times are UTC.
 */
import type { PipelineMetrics } from '../types';
import { aiSection } from './ai';
import { cacheSection, failureRates } from './charts';
import { fmtInt, formatPercent, formatTime, formatUsd, rateColor, statusStyle, truncate } from './format';
import { concatHtml, joinHtml, markup, type Html } from './html';
import { CSS } from './style';
import { durationTable, failuresTable, flakyTable, precisionTable } from './tables';
import { phaseTimeline, type ReportStatus } from './timeline';

export type { ReportStatus } from './timeline';

/** A key number: label, value (coloured when `color`) and a detail line. */
function kpi(label: string, value: string, detail: string, color?: string): Html {
  return concatHtml(
    markup`<div class="card kpi"><div class="k">${label}</div>`,
    markup`<div class="v"${color && markup` style="color:${color}"`}>${value}</div>`,
    markup`<div class="d">${detail}</div></div>`,
  );
}

/** A card with a title, a muted hint beside it and its content. */
function card(title: string, hint: string, content: Html): Html {
  return markup`<section class="card"><h2>${title}<span class="h">${hint}</span></h2>${content}</section>`;
}

/** The current phase box of the header. */
function currentPhase(metrics: PipelineMetrics, status: ReportStatus): Html {
  const cur = status.current_phase;
  if (!cur)
    return concatHtml(
      markup`<div class="v">none set</div>`,
      markup`<span class="sub">set one with <code>nextrust set-phase &lt;id&gt;</code></span>`,
    );
  const info = metrics.phases.find((p) => p.id === cur.id);
  const style = statusStyle(cur.status);
  return concatHtml(
    markup`<div class="v">${info && `${info.number} · `}${cur.name}</div>`,
    markup`<span class="badge" style="background:${style.fill}">${style.label}</span> `,
    markup`<span class="sub">since ${formatTime(cur.started_at)}</span>`,
    markup`${cur.message && markup`<div class="note">${truncate(cur.message, 200)}</div>`}`,
  );
}

/** The header: title, window, status directory and the current phase. */
function header(metrics: PipelineMetrics, status: ReportStatus): Html {
  const plural = metrics.days === 1 ? '' : 's';
  const since = formatTime(metrics.since);
  const generated = formatTime(metrics.generated_at);
  return markup`<header><div class="wrap"><div class="top">
<div><h1>NeXTRust pipeline <small>report</small></h1>
<div class="sub">Last ${metrics.days} day${plural} (since ${since}) · generated ${generated}</div>
<div class="sub mono">${metrics.status_dir}</div></div>
<div class="phase-pill"><div class="k">Current phase</div>${currentPhase(metrics, status)}</div></div></div></header>`;
}

/** The four key numbers: task runs, cache hit rate, failure rate, AI cost. */
function kpis(metrics: PipelineMetrics): Html {
  const t = metrics.window.totals;
  const ai = metrics.ai.total;
  const hits = t.cache_local + t.cache_remote;
  const skipped = t.skipped ? ` · ${fmtInt(t.skipped)} skipped` : '';
  const runs = `${fmtInt(t.executed)} executed · ${fmtInt(hits)} from cache${skipped}`;
  const cache = `${fmtInt(t.cache_local)} local · ${fmtInt(t.cache_remote)} remote`;
  const failed = `${fmtInt(t.failed)} failed of ${fmtInt(t.executed)} executed`;
  const unpriced = ai.unpriced_calls ? ` · ${ai.unpriced_calls} unpriced` : '';
  const aiDetail = `${fmtInt(ai.calls)} calls · ${fmtInt(ai.input_tokens + ai.output_tokens)} tokens${unpriced}`;
  return markup`<section class="kpis">
${kpi('Task runs', fmtInt(t.runs), runs)}
${kpi('Cache hit rate', formatPercent(t.cache_hit_rate), cache, rateColor(t.cache_hit_rate, true))}
${kpi('Failure rate', formatPercent(t.failure_rate, 1), failed, rateColor(t.failure_rate, false))}
${kpi('AI cost', formatUsd(ai.cost_usd), aiDetail)}
</section>`;
}

/** The warnings met while reading, or nothing. */
function warningsCard(metrics: PipelineMetrics): Html {
  if (!metrics.warnings.length) return markup``;
  const lines = joinHtml(metrics.warnings, markup`<br>`);
  return markup`<div class="card warn"><b>Read with care:</b> ${lines}</div>`;
}

/** The page's head: charset, viewport, the Content-Security-Policy (no script, no remote load), title and CSS. */
function head(generated: string): Html {
  return markup`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light">
<title>NeXTRust pipeline report · ${generated}</title>
<style>${CSS}</style>
</head>`;
}

/**
 * Renders the report (module doc).
 * @param metrics computeMetrics' result (its window is what the report shows).
 * @param status the pipeline state: current phase and phase history, for the header and the timeline.
 * @returns a complete HTML document.
 */
export function renderReport(metrics: PipelineMetrics, status: ReportStatus): string {
  const generated = formatTime(metrics.generated_at);
  const rates = concatHtml(
    card('Cache', 'hits / (hits + executed runs)', cacheSection(metrics)),
    card('Failure rate', 'failed / executed runs', failureRates(metrics)),
  );
  const footer = concatHtml(
    markup`<footer>nextrust report · ${generated} · `,
    markup`durations are nearest-rank quantiles of executed runs · times in UTC</footer>`,
  );
  const body = [
    header(metrics, status),
    markup`<main><div class="wrap">`,
    kpis(metrics),
    warningsCard(metrics),
    card('Phase timeline', 'from pipeline-state.json', phaseTimeline(metrics, status)),
    card('Task durations', 'executed runs, per target and CPU variant; slowest first', durationTable(metrics)),
    markup`<div class="grid2">${rates}</div>`,
    card('Recent failures', 'newest first', failuresTable(metrics)),
    card('Flaky tasks', 'the same inputs passed and failed; newest first', flakyTable(metrics)),
    card('Diagnosis precision', 'per known issue, from nextrust confirm | reject', precisionTable(metrics)),
    card('AI cost', 'design escalations and reviews', aiSection(metrics)),
    markup`</div></main>`,
    footer,
  ];
  return markup`<!DOCTYPE html>
<html lang="en">
${head(generated)}
<body>
${joinHtml(body, markup`\n`)}
</body>
</html>
`.toString();
}
