/**
 * Evaluates test-manifest assertions against one run of a program.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Assertion } from './test-manifest';

/** What an assertion is checked against. */
export interface RunOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  all: string;
  timedOut: boolean;
}

/** Result of one assertion. */
export interface AssertionResult {
  assertion: Assertion;
  passed: boolean;
  /** Why it failed (or what it saw), one line. */
  message: string;
}

function streamText(o: RunOutcome, s: 'stdout' | 'stderr' | 'all'): string {
  return s === 'stdout' ? o.stdout : s === 'stderr' ? o.stderr : o.all;
}

/**
 * Checks one assertion.
 * @param outcome the run, or null when the case does not run its program.
 * @param vars placeholders for file_exists paths, e.g. {buildDir: 'dist/rust-target/m68040'}.
 */
export function checkAssertion(
  a: Assertion,
  outcome: RunOutcome | null,
  workspaceRoot: string,
  vars: Record<string, string>,
): AssertionResult {
  if (a.type === 'file_exists') {
    const rel = a.path.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
    const ok = fs.existsSync(path.resolve(workspaceRoot, rel));
    return { assertion: a, passed: ok, message: ok ? `${rel} exists` : `${rel} does not exist` };
  }
  if (!outcome) return { assertion: a, passed: false, message: `${a.type} needs a run, but the case has run: false` };
  if (a.type === 'exit_code') {
    const ok = !outcome.timedOut && outcome.exitCode === a.expected;
    const got = outcome.timedOut ? 'a timeout' : `exit code ${outcome.exitCode}`;
    return { assertion: a, passed: ok, message: ok ? `exit code ${a.expected}` : `expected exit code ${a.expected}, got ${got}` };
  }
  const text = streamText(outcome, a.stream);
  if (a.type === 'output_contains') {
    const ok = text.includes(a.pattern);
    return { assertion: a, passed: ok, message: ok ? `${a.stream} contains ${JSON.stringify(a.pattern)}` : `${a.stream} does not contain ${JSON.stringify(a.pattern)}` };
  }
  const ok = new RegExp(a.pattern, 'm').test(text);
  return { assertion: a, passed: ok, message: ok ? `${a.stream} matches /${a.pattern}/` : `${a.stream} does not match /${a.pattern}/` };
}
