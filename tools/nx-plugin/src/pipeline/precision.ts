/**
 * How often each known issue's diagnosis is right, from the people who read
 * it: `nextrust confirm <failure id>` / `nextrust reject <failure id>` (and
 * the PR slash commands /ci-confirm, /ci-reject) record a verdict on the
 * diagnosis of one recorded failure (`target_failed` activities carry a
 * `failure_id`). The latest verdict per failure counts. Precision per known
 * issue = confirmed / (confirmed + rejected), kept in `<status
 * dir>/precision.json` (`{issues: {<id>: {confirmed, rejected, precision}}}`)
 * and shown in the report. An issue with at least MIN_VERDICTS verdicts and a
 * precision below DEMOTE_BELOW is demoted: its matches are printed as a
 * "possible known issue" with a warning.
 */
import * as fs from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import type { StatusStore } from './status-store';

/** File of the precision table in the status directory. */
export const PRECISION_FILE = 'precision.json';
/** Verdicts an issue needs before it can be demoted. */
export const MIN_VERDICTS = 3;
/** Precision under which an issue (with MIN_VERDICTS verdicts) is demoted to "possible". */
export const DEMOTE_BELOW = 0.5;

/** The verdicts on one known issue's diagnoses. */
export interface IssuePrecision {
  confirmed: number;
  rejected: number;
  /** confirmed / (confirmed + rejected), 0..1; null without verdicts. */
  precision: number | null;
}

/** A verdict on the diagnosis of one failure. */
export type Verdict = 'confirmed' | 'rejected';

/** Whether an issue's matches are shown as "possible" (module doc). */
export function isDemoted(p: IssuePrecision | undefined): boolean {
  return !!p && p.precision !== null && p.confirmed + p.rejected >= MIN_VERDICTS && p.precision < DEMOTE_BELOW;
}

/**
 * The precision table; an empty one when none was written.
 * @throws Error naming the file when it is not valid JSON.
 */
export function readPrecision(store: StatusStore): Record<string, IssuePrecision> {
  let text: string;
  try {
    text = fs.readFileSync(store.file(PRECISION_FILE), 'utf8');
  } catch {
    return {};
  }
  try {
    return (JSON.parse(text) as { issues?: Record<string, IssuePrecision> }).issues ?? {};
  } catch (e) {
    throw new Error(`${store.file(PRECISION_FILE)}: ${(e as Error).message}`, { cause: e });
  }
}

/** A failure id as `target_failed` records it: the first 10 hex digits of its idempotency key. */
export function failureIdOf(key: string): string {
  return key.slice(0, 10);
}

/**
 * Records a verdict on the diagnosis of a recorded failure and updates the precision table.
 * @param failureId `failure_id` of a `target_failed` activity (printed under the diagnosis).
 * @param correctIssue for a rejection: the known issue it really was, when the user knows.
 * @returns the issue judged and its new precision.
 * @throws Error when no failure has that id, or its diagnosis named no known issue.
 */
export async function recordVerdict(
  store: StatusStore,
  failureId: string,
  verdict: Verdict,
  by: string,
  correctIssue?: string,
): Promise<{ issue: string; precision: IssuePrecision }> {
  const { activities } = await store.readActivities();
  const failure = [...activities]
    .reverse()
    .find((a) => a.type === 'target_failed' && a.details.failure_id === failureId);
  if (!failure)
    throw new Error(
      `no recorded failure with id ${failureId} (the id is printed under a diagnosis; see nextrust status)`,
    );
  const issue = failure.details.known_issue;
  if (typeof issue !== 'string')
    throw new Error(
      `failure ${failureId} (${String(failure.details.task)}) was not diagnosed as a known issue: there is nothing to ${verdict === 'confirmed' ? 'confirm' : 'reject'}`,
    );
  await store.append('diagnosis_verdict', {
    failure_id: failureId,
    task: failure.details.task,
    known_issue: issue,
    verdict,
    by,
    ...(correctIssue ? { correct_issue: correctIssue } : {}),
    message: `diagnosis ${issue} of ${String(failure.details.task)} ${verdict} by ${by}${correctIssue ? ` (it was ${correctIssue})` : ''}`,
  });
  const table = precisionFromActivities((await store.readActivities()).activities);
  await store.withLock(() =>
    writeFileAtomic(store.file(PRECISION_FILE), JSON.stringify({ issues: table }, null, 2) + '\n'),
  );
  return { issue, precision: table[issue] };
}

/** The precision table from `diagnosis_verdict` activities (the latest verdict per failure counts). */
export function precisionFromActivities(
  activities: { type: string; details: Record<string, unknown> }[],
): Record<string, IssuePrecision> {
  const latest = new Map<string, { issue: string; verdict: Verdict }>();
  for (const a of activities) {
    if (a.type !== 'diagnosis_verdict') continue;
    const id = String(a.details.failure_id);
    latest.set(id, {
      issue: String(a.details.known_issue),
      verdict: a.details.verdict === 'rejected' ? 'rejected' : 'confirmed',
    });
  }
  const table: Record<string, IssuePrecision> = {};
  for (const { issue, verdict } of latest.values()) {
    const p = (table[issue] ??= { confirmed: 0, rejected: 0, precision: null });
    p[verdict]++;
    p.precision = Math.round((p.confirmed / (p.confirmed + p.rejected)) * 1000) / 1000;
  }
  return table;
}
