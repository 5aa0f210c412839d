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

/** Where two texts first differ, one line: `line 37: expected "…", got "…"` (lines cut at 120 characters). */
export function firstDifference(expected: string, got: string): string {
  const e = expected.split('\n');
  const g = got.split('\n');
  const cut = (l: string | undefined) =>
    l === undefined ? '(end of output)' : JSON.stringify(l.length > 120 ? l.slice(0, 120) + '…' : l);
  for (let i = 0; i < Math.max(e.length, g.length); i++) {
    if (e[i] !== g[i]) return `line ${i + 1}: expected ${cut(e[i])}, got ${cut(g[i])}`;
  }
  return 'same lines, different bytes';
}

/**
 * Checks one assertion.
 * @param outcome the run, or null when the case does not run its program.
 * @param vars placeholders for file paths, e.g. {buildDir: 'dist/rust-target/m68040', testsDir: 'projects/emulator-tests/tests'}.
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
    return {
      assertion: a,
      passed: ok,
      message: ok ? `exit code ${a.expected}` : `expected exit code ${a.expected}, got ${got}`,
    };
  }
  const text = streamText(outcome, a.stream);
  if (a.type === 'output_equals_file') {
    const rel = a.path.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
    let expected: string;
    try {
      expected = fs.readFileSync(path.resolve(workspaceRoot, rel), 'utf8');
    } catch {
      return { assertion: a, passed: false, message: `${rel} (expected ${a.stream}) cannot be read` };
    }
    if (text === expected) return { assertion: a, passed: true, message: `${a.stream} equals ${rel}` };
    return {
      assertion: a,
      passed: false,
      message: `${a.stream} differs from ${rel}: ${firstDifference(expected, text)}`,
    };
  }
  if (a.type === 'output_contains') {
    const ok = text.includes(a.pattern);
    return {
      assertion: a,
      passed: ok,
      message: ok
        ? `${a.stream} contains ${JSON.stringify(a.pattern)}`
        : `${a.stream} does not contain ${JSON.stringify(a.pattern)}`,
    };
  }
  const ok = new RegExp(a.pattern, 'm').test(text);
  return {
    assertion: a,
    passed: ok,
    message: ok ? `${a.stream} matches /${a.pattern}/` : `${a.stream} does not match /${a.pattern}/`,
  };
}
