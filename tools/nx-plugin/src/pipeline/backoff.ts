/**
 * Failure-loop protection: per-commit failure counts, with backoff after
 * BACKOFF_THRESHOLD failures. The bash + jq hook dispatcher this replaced
 * (tools/bench/bash-jq-dispatcher.sh) kept the count in
 * `.claude/backoff/$COMMIT_SHA`, read and written without a lock, so parallel
 * jobs lost counts; here every change holds the status lock.
 *
 * A commit in backoff keeps building and testing; what stops is the
 * automation that would loop on it: design escalation and other AI calls,
 * automatic retries. `nextrust clear-backoff` (or a new commit) ends it.
 * Stored as `<statusDir>/backoff/<commit>.json`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import type { StatusStore } from './status-store';
import { parseValidatedJson } from './validated-file';

/** Failures of one commit after which it is in backoff. */
export const BACKOFF_THRESHOLD = 3;

/** One commit's record. */
export const backoffRecordSchema = z
  .object({
    commit: z.string().regex(/^[0-9a-f]{7,64}$|^unknown$/, 'expected a commit sha'),
    failures: z.number().int().min(0),
    first_failure_at: z.string().datetime(),
    last_failure_at: z.string().datetime(),
    /** Targets or commands that failed, most recent last (at most 20). */
    recent: z.array(z.string()).max(20),
  })
  .strict();
/** One commit's backoff record. */
export type BackoffRecord = z.output<typeof backoffRecordSchema>;

/** Whether a commit is in backoff, and the message to show. */
export interface BackoffState {
  commit: string;
  failures: number;
  inBackoff: boolean;
  message: string;
}

function recordFile(store: StatusStore, commit: string): string {
  if (!/^[0-9a-f]{7,64}$|^unknown$/.test(commit)) throw new Error(`invalid commit '${commit}': expected a hex sha`);
  return path.join(store.dir, 'backoff', `${commit}.json`);
}

function readRecord(file: string): BackoffRecord | undefined {
  if (!fs.existsSync(file)) return undefined;
  return parseValidatedJson(file, fs.readFileSync(file, 'utf8'), backoffRecordSchema);
}

function describe(commit: string, failures: number): BackoffState {
  const inBackoff = failures >= BACKOFF_THRESHOLD;
  return {
    commit,
    failures,
    inBackoff,
    message: inBackoff
      ? `commit ${commit.slice(0, 12)} has failed ${failures} times: automated escalation and retries are paused (push a new commit, or run \`nextrust clear-backoff --commit ${commit.slice(0, 12)}\`)`
      : `commit ${commit.slice(0, 12)}: ${failures} of ${BACKOFF_THRESHOLD} failures before backoff`,
  };
}

/**
 * Counts one failure of `commit`.
 * @param what the failing target or command, kept in `recent`.
 * @throws LockTimeoutError; ConfigError when the record file is corrupt.
 */
export async function recordFailure(
  store: StatusStore,
  commit: string,
  what: string,
  now: Date = new Date(),
): Promise<BackoffState> {
  const file = recordFile(store, commit);
  return store.withLock(async () => {
    const at = now.toISOString();
    const prev = readRecord(file);
    const rec: BackoffRecord = prev
      ? { ...prev, failures: prev.failures + 1, last_failure_at: at, recent: [...prev.recent, what].slice(-20) }
      : { commit, failures: 1, first_failure_at: at, last_failure_at: at, recent: [what] };
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(rec, null, 2) + '\n');
    return describe(commit, rec.failures);
  });
}

/** Reads a commit's backoff state (no lock: records are replaced atomically). */
export function backoffState(store: StatusStore, commit: string): BackoffState {
  return describe(commit, readRecord(recordFile(store, commit))?.failures ?? 0);
}

/**
 * Clears a commit's failure count, or every commit's with `commit` undefined.
 * @returns the commits cleared.
 * @throws Error for a malformed sha (including ''); LockTimeoutError.
 */
export async function clearBackoff(store: StatusStore, commit?: string): Promise<string[]> {
  // Validate first: an empty or malformed sha must not mean "every commit".
  const one = commit === undefined ? undefined : path.basename(recordFile(store, commit));
  return store.withLock(async () => {
    const dir = path.join(store.dir, 'backoff');
    if (!fs.existsSync(dir)) return [];
    const names = one !== undefined ? [one] : fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
    const cleared: string[] = [];
    for (const n of names) {
      const f = path.join(dir, n);
      if (fs.existsSync(f)) {
        fs.rmSync(f);
        cleared.push(n.replace(/\.json$/, ''));
      }
    }
    return cleared;
  });
}
