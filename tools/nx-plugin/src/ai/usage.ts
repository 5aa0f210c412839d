/**
 * AI usage and cost: every call's tokens, model, latency and cost appended to
 * `<statusDir>/metrics/ai-usage.jsonl` (under the status lock), the
 * `usage-report` aggregation, and budgets that block further calls once
 * reached. The window and the usage counts are shared with the pipeline
 * metrics (metrics/window.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { KeyedMap } from '../metrics/key';
import { emptyUsage, round6, sumUsage, windowStart, type UsageCounts } from '../metrics/window';
import { forEachLine, type StatusStore } from '../pipeline/status-store';
import type { AiConfig } from './config';

/** One AI call. */
export const usageRecordSchema = z
  .object({
    timestamp: z.string().datetime(),
    /** design (escalation) or review. */
    kind: z.enum(['design', 'review']),
    provider: z.enum(['openai', 'gemini']),
    model: z.string().min(1),
    /** Phase id the call served, when known. */
    phase: z.string().nullable(),
    input_tokens: z.number().int().min(0),
    output_tokens: z.number().int().min(0),
    /** Wall time of the call, retries included (ms). */
    latency_ms: z.number().min(0),
    /** USD; null when the model has no price in model-pricing.json. */
    cost_usd: z.number().min(0).nullable(),
    session: z.string().nullable(),
    pr: z.string().nullable(),
  })
  .strict();
/** One AI call's usage. */
export type UsageRecord = z.output<typeof usageRecordSchema>;

/** Usage log path in a status dir. */
export function usageFile(store: StatusStore): string {
  return path.join(store.dir, 'metrics', 'ai-usage.jsonl');
}

/** Appends one record (locked). */
export async function recordUsage(store: StatusStore, record: UsageRecord): Promise<void> {
  const line = JSON.stringify(usageRecordSchema.parse(record)) + '\n';
  await store.withLock(async () => {
    await fs.promises.mkdir(path.dirname(usageFile(store)), { recursive: true });
    await fs.promises.appendFile(usageFile(store), line);
  });
}

/** Reads every valid record; invalid lines are counted, not fatal. */
export async function readUsage(store: StatusStore): Promise<{ records: UsageRecord[]; invalidLines: number }> {
  const file = usageFile(store);
  const records: UsageRecord[] = [];
  let invalidLines = 0;
  if (!fs.existsSync(file)) return { records, invalidLines };
  await forEachLine(file, (text) => {
    try {
      records.push(usageRecordSchema.parse(JSON.parse(text)));
    } catch {
      invalidLines++;
    }
  });
  return { records, invalidLines };
}

/** One row of the usage report: the calls of one day, model and phase (UsageCounts, metrics/window.ts). */
export interface UsageRow extends UsageCounts {
  /** YYYY-MM-DD (UTC). */
  day: string;
  model: string;
  /** Phase id, or `-` when the call named none. */
  phase: string;
  /** Mean wall time of the calls (ms, rounded). */
  mean_latency_ms: number;
}

/**
 * Aggregates records of the last `days` days (UTC, today included;
 * metrics/window.ts windowStart) by day, model and phase; rows sorted by day,
 * then model, then phase. A row's cost is summed, then rounded to 6 decimals.
 */
export function usageReport(
  records: UsageRecord[],
  days: number,
  now: Date = new Date(),
): { rows: UsageRow[]; total: Omit<UsageRow, 'day' | 'model' | 'phase'> } {
  const since = windowStart(days, now);
  type Key = { day: string; model: string; phase: string };
  const rows = new KeyedMap<Key, UsageRow & { latency: number }>(['day', 'model', 'phase']);
  for (const r of records) {
    if (r.timestamp < since) continue;
    const key = { day: r.timestamp.slice(0, 10), model: r.model, phase: r.phase ?? '-' };
    const row = rows.upsert(key, (k) => ({ ...k, ...emptyUsage(), mean_latency_ms: 0, latency: 0 }));
    row.calls++;
    row.input_tokens += r.input_tokens;
    row.output_tokens += r.output_tokens;
    if (r.cost_usd === null) row.unpriced_calls++;
    else row.cost_usd += r.cost_usd;
    row.latency += r.latency_ms;
  }
  const out = [...rows.values()]
    .map(({ latency, ...row }) => ({
      ...row,
      cost_usd: round6(row.cost_usd),
      mean_latency_ms: Math.round(latency / row.calls),
    }))
    .sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model) || a.phase.localeCompare(b.phase));
  const total = { ...sumUsage(out), mean_latency_ms: 0 };
  total.mean_latency_ms = total.calls
    ? Math.round(out.reduce((s, r) => s + r.mean_latency_ms * r.calls, 0) / total.calls)
    : 0;
  return { rows: out, total };
}

/** Formats the report as a text table. */
export function formatUsageTable(report: ReturnType<typeof usageReport>, days: number): string {
  const header = ['day', 'model', 'phase', 'calls', 'input tok', 'output tok', 'cost USD', 'mean ms'];
  const body = report.rows.map((r) => [
    r.day,
    r.model,
    r.phase,
    String(r.calls),
    String(r.input_tokens),
    String(r.output_tokens),
    r.cost_usd.toFixed(4) + (r.unpriced_calls ? ` (+${r.unpriced_calls} unpriced)` : ''),
    String(r.mean_latency_ms),
  ]);
  const t = report.total;
  body.push([
    'total',
    '',
    '',
    String(t.calls),
    String(t.input_tokens),
    String(t.output_tokens),
    t.cost_usd.toFixed(4) + (t.unpriced_calls ? ` (+${t.unpriced_calls} unpriced)` : ''),
    String(t.mean_latency_ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return (
    [
      `AI usage, last ${days} day(s)`,
      line(header),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...body.map(line),
    ].join('\n') + '\n'
  );
}

/** Who is spending: the keys budgets are kept by. */
export interface SpendScope {
  session: string | null;
  pr: string | null;
}

/**
 * The scope from the environment: NEXTRUST_SESSION_ID / CLAUDE_SESSION_ID;
 * NEXTRUST_PR / GITHUB_PR_NUMBER, or the PR ref in GITHUB_REF.
 */
export function spendScope(env: NodeJS.ProcessEnv = process.env): SpendScope {
  const refPr = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')?.[1];
  return {
    session: env.NEXTRUST_SESSION_ID ?? env.CLAUDE_SESSION_ID ?? null,
    pr: env.NEXTRUST_PR ?? env.GITHUB_PR_NUMBER ?? refPr ?? null,
  };
}

/**
 * Checks the budgets (ai.json `budgets`) against recorded spending.
 * @returns null when a call may go ahead, else the message saying which budget is reached.
 */
export function budgetBlock(
  records: UsageRecord[],
  budgets: AiConfig['budgets'],
  scope: SpendScope,
  now: Date = new Date(),
): string | null {
  const today = now.toISOString().slice(0, 10);
  const sum = (pred: (r: UsageRecord) => boolean) =>
    round6(records.filter(pred).reduce((s, r) => s + (r.cost_usd ?? 0), 0));
  const checks: [string, number | null, number][] = [
    [`daily budget (${today})`, budgets.daily_usd, sum((r) => r.timestamp.startsWith(today))],
    [`budget of PR #${scope.pr}`, scope.pr ? budgets.per_pr_usd : null, sum((r) => r.pr === scope.pr)],
    [
      `budget of session ${scope.session}`,
      scope.session ? budgets.per_session_usd : null,
      sum((r) => r.session === scope.session),
    ],
  ];
  for (const [name, limit, spent] of checks) {
    if (limit !== null && spent >= limit) {
      const reached = `AI ${name} reached: ${spent.toFixed(4)} of ${limit.toFixed(2)} USD spent`;
      return `${reached}; further AI calls are blocked (raise budgets in projects/ci-status/ai.json)`;
    }
  }
  return null;
}
