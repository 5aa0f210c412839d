/**
 * Composite idempotency keys (`SESSION_ID:COMMIT_SHA:RUN_ID:RUN_ATTEMPT`,
 * the run parts being GitHub Actions' default variables:
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables#default-environment-variables),
 * so that the same event delivered twice (a
 * hook re-run after a context reset, a step retried inside one job attempt)
 * is recorded once, while a new run attempt (a re-run of the job) records
 * anew. The event's own identity (what happened: target, CPU, type) is part
 * of the key, so that different events of one run are all recorded.
 *
 * The key is a sha256 (hex) of the parts joined by `:`; parts come from the
 * caller or from the CI environment (GITHUB_SHA, GITHUB_RUN_ID,
 * GITHUB_RUN_ATTEMPT, CLAUDE_SESSION_ID / NEXTRUST_SESSION_ID). Outside CI the
 * run id is the process (pid and start time), so a local re-run counts anew.
 */
import { createHash } from 'node:crypto';
import execa from 'execa';

const PROCESS_STARTED = Date.now();

/** The parts of a composite key. */
export interface IdempotencyParts {
  session: string;
  commit: string;
  runId: string;
  attempt: string;
  /** What happened, e.g. `target_failed:rust-target:build:m68040`. */
  event: string;
}

/** The commit being built: GITHUB_SHA, else `git rev-parse HEAD` in `cwd`, else `unknown`. */
export function currentCommit(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_SHA && /^[0-9a-f]{7,64}$/.test(env.GITHUB_SHA)) return env.GITHUB_SHA;
  try {
    const out = execa.sync('git', ['rev-parse', 'HEAD'], { cwd, reject: false, stdin: 'ignore' });
    if (out.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(out.stdout.trim())) return out.stdout.trim();
  } catch {
    // no git
  }
  return 'unknown';
}

/** Fills the parts from the environment (`local` where a CI value is absent). */
export function idempotencyParts(
  event: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<IdempotencyParts> = {},
): IdempotencyParts {
  return {
    session: overrides.session ?? env.NEXTRUST_SESSION_ID ?? env.CLAUDE_SESSION_ID ?? 'local',
    commit: overrides.commit ?? currentCommit(cwd, env),
    // Outside CI there is no run id: each process is its own run, so repeated local failures all count.
    runId: overrides.runId ?? env.GITHUB_RUN_ID ?? `local-${process.pid}-${PROCESS_STARTED}`,
    attempt: overrides.attempt ?? env.GITHUB_RUN_ATTEMPT ?? '1',
    event: overrides.event ?? event,
  };
}

/** The key: sha256 hex of `session:commit:runId:attempt:event`. */
export function idempotencyKey(parts: IdempotencyParts): string {
  return createHash('sha256')
    .update([parts.session, parts.commit, parts.runId, parts.attempt, parts.event].join(':'))
    .digest('hex');
}
