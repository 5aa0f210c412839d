/** The HTML report of the pipeline metrics (render.ts), its escape-by-default template (html.ts) and formatters. */
export { renderReport, type ReportStatus } from './render';
export { escapeHtml, markup, joinHtml, concatHtml, Html, type Interpolation } from './html';
export { formatDuration, formatPercent, formatTime, formatUsd } from './format';
