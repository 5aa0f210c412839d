/**
 * The results of an emulator test run: one CaseResult per test case and the
 * report written as results.json (and, through junit.ts, junit.xml); which
 * failures are retried. A module of its own so that the report writers and the
 * runner share these shapes without importing each other.
 */
import type { AssertionResult } from './assertions';

/** Result of one case. */
export interface CaseResult {
  name: string;
  program: string;
  cpu: string;
  passed: boolean;
  /** qemu command line (for `previous`: the emulator, machine and guest command), when it ran. */
  command: string | null;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Why it could not run (missing artifact, emulator absent), else null. */
  error: string | null;
  assertions: AssertionResult[];
  /** When the first run failed in a retryable way (RETRYABLE_FAILURES) and the case was run again: that first run. */
  retry?: {
    class: RetryableFailure;
    first: Pick<CaseResult, 'exitCode' | 'timedOut' | 'durationMs' | 'error' | 'stdout' | 'stderr'>;
  };
}

/**
 * Failure classes of an emulator run that are retried once, because the program's code is unlikely to be the cause:
 * a run that hit its time limit (a loaded host slows qemu's translation past it) and a qemu that could not start for
 * lack of resources (EAGAIN, ENOMEM). A crash, a wrong exit code or wrong output is the program's and is not retried;
 * a qemu that does not exist (ENOENT) is not either.
 */
export const RETRYABLE_FAILURES = {
  timeout: 'the run hit its time limit',
  'emulator-start': 'qemu-m68k could not be started for lack of resources',
} as const;
export type RetryableFailure = keyof typeof RETRYABLE_FAILURES;

/** The retryable class of a failed run, or null when a retry would not help. */
export function retryableFailure(run: { timedOut: boolean; startError?: string | null }): RetryableFailure | null {
  if (run.startError) return /EAGAIN|ENOMEM|EMFILE|ENFILE/.test(run.startError) ? 'emulator-start' : null;
  return run.timedOut ? 'timeout' : null;
}

/** results.json. */
export interface EmulatorTestReport {
  cpu: string;
  emulator: string;
  passed: number;
  failed: number;
  /** Cases not applicable to this CPU (their program is not built for it). */
  notApplicable: string[];
  cases: CaseResult[];
}
