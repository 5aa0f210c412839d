/**
 * The report's stylesheet, inline in its <style> (a raw text element, where
 * character references are not decoded): written only as template text, never
 * interpolated. Long rules are cut into pieces between declarations.
 */
import { concatHtml, markup } from './html';

/** Colours, cards, tables, tags and the print layout. */
export const CSS = concatHtml(
  markup`
:root{--bg:#f3f4f7;--card:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--accent:#4f46e5;`,
  markup`--good:#16a34a;--bad:#dc2626;--warn:#d97706}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);`,
  markup`font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
header{background:linear-gradient(120deg,#111827 0%,#1e1b4b 100%);color:#fff;padding:28px 0 70px}
.wrap{max-width:1200px;margin:0 auto;padding:0 28px}
header .top{display:flex;justify-content:space-between;align-items:flex-start;gap:24px}
h1{margin:0;font-size:26px;letter-spacing:-.02em;font-weight:700}
h1 small{font-weight:400;color:#a5b4fc;font-size:15px;margin-left:8px}
.sub{color:#c7d2fe;margin-top:6px;font-size:13px}
.phase-pill{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.18);`,
  markup`border-radius:14px;padding:12px 16px;min-width:300px;max-width:480px}
.phase-pill .note{color:#e0e7ff;font-size:12.5px;margin-top:6px;overflow-wrap:anywhere}
.phase-pill .k{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:#a5b4fc}
.phase-pill .v{font-size:18px;font-weight:650;margin:2px 0 4px}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;`,
  markup`color:#fff;vertical-align:1px}
main{margin-top:-48px;padding-bottom:40px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;margin-bottom:16px}
.card{background:var(--card);border-radius:14px;`,
  markup`box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.1);padding:18px 20px;`,
  markup`margin-bottom:16px}
.kpis .card{margin:0}
.kpi .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.07em;`,
  markup`font-weight:600}
.kpi .v{font-size:34px;font-weight:750;letter-spacing:-.03em;margin:4px 0 2px}
.kpi .d{color:var(--muted);font-size:12.5px}
h2{font-size:16px;margin:0 0 12px;display:flex;align-items:baseline;gap:10px}
h2 .h{color:var(--muted);font-weight:400;font-size:12.5px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-bottom:16px}
.grid2 .card{margin:0}
.ai-grid{display:grid;grid-template-columns:3fr 2fr;gap:24px;margin-top:14px;align-items:start}
td.mono,td.n{white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;font-size:11.5px;text-transform:uppercase;`,
  markup`letter-spacing:.05em;border-bottom:1px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid #f0f1f4;padding:6px 8px;vertical-align:middle}
tr:last-child td{border-bottom:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;`,
  markup`font-size:12.5px}
td code{white-space:nowrap}
table.dur tr.grp td{border-top:1px solid var(--line)}
table.dur tr:first-child td{border-top:0}
td.tgt{vertical-align:top;padding-top:9px}
.small{font-size:12px;color:var(--muted);margin-top:3px}
.legend-inline{text-transform:none;letter-spacing:0;font-weight:500;margin-left:8px}
.legend-inline i{display:inline-block;width:9px;height:9px;border-radius:2px;margin:0 4px 0 8px;`,
  markup`vertical-align:-1px}
.ph{display:inline-block;min-width:18px;height:18px;line-height:18px;border-radius:9px;`,
  markup`background:#e0e7ff;color:#3730a3;font-size:11px;font-weight:700;text-align:center;margin-right:6px}
.nowrap{white-space:nowrap}
.tag{display:inline-block;border-radius:6px;padding:1px 7px;font-size:12px;font-weight:600;`,
  markup`white-space:nowrap}
.tag.known{background:#dcfce7;color:#166534}.tag.unknown{background:#fee2e2;color:#991b1b}`,
  markup`.tag.na{background:#f3f4f6;color:#4b5563}
.tag.cpu{background:#eef2ff;color:#3730a3}
.msg{color:#374151;max-width:430px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.empty{color:var(--muted);padding:18px;text-align:center;background:#fafafb;border-radius:10px}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12.5px;color:#374151;margin-top:10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;`,
  markup`vertical-align:-1px}
.big{font-size:56px;font-weight:800;letter-spacing:-.04em;line-height:1}
.warn{background:#fffbeb;border:1px solid #fde68a;color:#92400e;border-radius:10px;`,
  markup`padding:10px 14px;font-size:13px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
@media (max-width:900px){.kpis{grid-template-columns:1fr 1fr}`,
  markup`.grid2,.ai-grid{grid-template-columns:1fr}}
@media print{header{background:#1e1b4b;-webkit-print-color-adjust:exact;print-color-adjust:exact}`,
  markup`.card{box-shadow:none;border:1px solid var(--line)}}
`,
);
