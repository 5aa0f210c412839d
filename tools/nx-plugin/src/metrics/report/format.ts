/** Formatting of numbers, times and colours for the report (plain text; the templates escape it). */

/** ms in an hour. */
export const HOUR = 3_600_000;
/** ms in a day. */
export const DAY = 24 * HOUR;

/** A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 10 m`, `3 d 4 h`; `–` when not finite. */
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
/** Whole numbers with thousands separators (`12,345`). */
export const fmtInt = (n: number): string => intFmt.format(n);

/** USD: 4 decimals below one dollar, else 2 (`$0.0123`, `$4.50`). */
export function formatUsd(n: number): string {
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

/** `2025-06-03 14:05 UTC`; the input itself when it is no valid time. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** `s` cut to `n` characters, the last one `…`, when longer. */
export function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

const STATUS_COLORS: Record<string, { fill: string; text: string; label: string }> = {
  completed: { fill: '#16a34a', text: '#ffffff', label: 'completed' },
  in_progress: { fill: '#2563eb', text: '#ffffff', label: 'in progress' },
  failed: { fill: '#dc2626', text: '#ffffff', label: 'failed' },
  blocked: { fill: '#d97706', text: '#ffffff', label: 'blocked' },
};

/** Fill colour, text colour and label of a phase status (grey and the status itself when unknown). */
export const statusStyle = (s: string): { fill: string; text: string; label: string } =>
  STATUS_COLORS[s] ?? { fill: '#6b7280', text: '#ffffff', label: s };

/** Colours for models in the AI chart. */
export const PALETTE = ['#6366f1', '#0ea5e9', '#f59e0b', '#10b981', '#ec4899', '#8b5cf6', '#14b8a6', '#f97316'];

/** Green for a good rate, amber, red (higher is better when `higherIsBetter`); undefined for null. */
export function rateColor(r: number | null, higherIsBetter: boolean): string | undefined {
  if (r === null) return undefined;
  const good = higherIsBetter ? r >= 0.5 : r <= 0.05;
  const bad = higherIsBetter ? r < 0.2 : r > 0.2;
  return good ? '#15803d' : bad ? '#b91c1c' : '#b45309';
}
