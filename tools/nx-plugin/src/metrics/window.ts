/**
 * What the pipeline metrics and the AI usage report (ai/usage.ts) share: the
 * window (the last `days` UTC days, today included) and the usage counts every
 * AI usage row carries (calls, tokens, cost).
 */

/** A whole number of days >= 1, else a RangeError naming the value. */
export function checkWindowDays(days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a whole number >= 1 (got ${days})`);
  return days;
}

/**
 * Start of the window of the last `days` UTC days, today included: 00:00 UTC
 * of the day `days - 1` days before `now`'s UTC day.
 * @returns an ISO 8601 time (`2026-03-04T00:00:00.000Z`).
 */
export function windowStart(days: number, now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1))).toISOString();
}

/** Rounds to 6 decimals (USD amounts: a millionth of a dollar, no float noise like 0.030000000000000002). */
export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * The counts of a set of AI calls, the shape every usage row shares (the
 * usage report's rows, the metrics' rows by model and kind and by day and model).
 */
export interface UsageCounts {
  /** Calls. */
  calls: number;
  /** Input tokens. */
  input_tokens: number;
  /** Output tokens. */
  output_tokens: number;
  /** USD of the priced calls, rounded to 6 decimals. */
  cost_usd: number;
  /** Calls without a price (model-pricing.json does not list their model). */
  unpriced_calls: number;
}

/** One AI call as the counts need it (ai/usage.ts UsageRecord has these fields). */
export interface UsageCall {
  input_tokens: number;
  output_tokens: number;
  /** USD; null when unpriced. */
  cost_usd: number | null;
}

/** Counts of no call. */
export function emptyUsage(): UsageCounts {
  return { calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, unpriced_calls: 0 };
}

/** Adds one call to `row` in place (cost rounded to 6 decimals); returns `row`. */
export function addCall<T extends UsageCounts>(row: T, call: UsageCall): T {
  row.calls++;
  row.input_tokens += call.input_tokens;
  row.output_tokens += call.output_tokens;
  if (call.cost_usd === null) row.unpriced_calls++;
  else row.cost_usd = round6(row.cost_usd + call.cost_usd);
  return row;
}

/** Adds the counts of `from` to `row` in place; returns `row`. */
export function addCounts<T extends UsageCounts>(row: T, from: UsageCounts): T {
  row.calls += from.calls;
  row.input_tokens += from.input_tokens;
  row.output_tokens += from.output_tokens;
  row.cost_usd = round6(row.cost_usd + from.cost_usd);
  row.unpriced_calls += from.unpriced_calls;
  return row;
}

/** Sums usage rows (any rows with the UsageCounts fields) into new counts. */
export function sumUsage(rows: readonly UsageCounts[]): UsageCounts {
  return rows.reduce<UsageCounts>((t, r) => addCounts(t, r), emptyUsage());
}
