/**
 * What the hook entry (hook-main.ts) and the hook server (hook-server.ts)
 * both answer and log: the hook log line, and the outcomes of a call that
 * ran out of time or could not run. A module of its own so that the two do
 * not import each other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HookOutcome } from './dispatcher';
import { CALL_TIMEOUT_ENV } from './hook-protocol';

/** How a hook call was run: by the hook server, or by its own node process. */
export type HookRunner = 'server' | 'node';

/** The `tool_name` of a payload as its text shows it (no JSON parsing: for the log line), or '-'. */
export function hookTool(stdin: string): string {
  return /"tool_name"\s*:\s*"([^"]*)"/.exec(stdin)?.[1] ?? '-';
}

/**
 * Appends one line to `<CLAUDE_PROJECT_DIR or cwd>/.claude/hook-logs/<UTC date>.log`:
 * `<ISO time> <event> <tool|-> exit=<code> <ms>ms <runner>`. Best effort: never throws.
 */
export function appendHookLog(entry: {
  event: string;
  tool: string;
  exitCode: number;
  ms: number;
  runner: HookRunner;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): void {
  try {
    const dir = path.join(entry.env.CLAUDE_PROJECT_DIR ?? entry.cwd, '.claude', 'hook-logs');
    fs.mkdirSync(dir, { recursive: true });
    const now = new Date().toISOString();
    fs.appendFileSync(
      path.join(dir, `${now.slice(0, 10)}.log`),
      `${now} ${entry.event} ${entry.tool} exit=${entry.exitCode} ${entry.ms}ms ${entry.runner}\n`,
    );
  } catch {
    // logging is best effort
  }
}

/**
 * The answer to a call still running after its time limit (`ms`,
 * NEXTRUST_HOOK_CALL_TIMEOUT_MS): for `pre` the command is blocked (exit 2,
 * one line on stderr: a check that did not finish fails closed); any other
 * event gets a non-blocking error (exit 1, one line), saying whether its work
 * goes on in the background (the server) or was abandoned (the node path).
 */
export function timedOutOutcome(event: string, ms: number, background: boolean): HookOutcome {
  if (event === 'pre') {
    return {
      exitCode: 2,
      stdout: '',
      stderr: `nextrust security guard: blocked: the hook did not finish within ${ms} ms (${CALL_TIMEOUT_ENV}), so the command cannot be checked\n`,
    };
  }
  return {
    exitCode: 1,
    stdout: '',
    stderr: `nextrust hook ${event}: did not finish within ${ms} ms (${CALL_TIMEOUT_ENV}); ${background ? 'it goes on in the background' : 'abandoned'}\n`,
  };
}

/**
 * The answer when the hook could not run at all (`why`: e.g. its worker
 * thread crashed): `pre` blocked (exit 2), any other event a non-blocking
 * error (exit 1); one line on stderr.
 */
export function hookFailedOutcome(event: string, why: string): HookOutcome {
  const reason = why.split('\n')[0];
  if (event === 'pre')
    return {
      exitCode: 2,
      stdout: '',
      stderr: `nextrust security guard: blocked: the hook failed (${reason}), so the command cannot be checked\n`,
    };
  return { exitCode: 1, stdout: '', stderr: `nextrust hook ${event}: the hook failed (${reason})\n` };
}
