/**
 * The one way the plugin runs external commands: execa, with output captured
 * (and optionally streamed), a timeout, and failures turned into ToolError
 * carrying the command, exit code and output.
 *  - runProcess: never throws for a non-zero exit, a signal or a timeout (the
 *    emulator tests judge those themselves);
 *  - runTool: throws ToolError unless the command exits 0 (toolchain commands).
 */
import execa from 'execa';
import { constants as osConstants } from 'node:os';

/** A command that could not be started or exited non-zero. */
export class ToolError extends Error {
  constructor(
    message: string,
    /** The command line, for the log. */
    readonly command: string,
    /** Exit code, or null when it never started, was killed or timed out. */
    readonly exitCode: number | null,
    /** Combined stdout and stderr, as far as captured. */
    readonly output: string,
    /** True when the output was already streamed to the terminal as it came. */
    readonly streamed = false,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Options of runProcess and runTool. */
export interface RunOptions {
  cwd?: string;
  /** Environment to add (extendEnv) or, with `replaceEnv`, the whole environment. */
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  /** Stream the command's output to this process's stdout/stderr as it runs (`stderr`: only stderr). */
  stream?: boolean | 'stderr';
  /** Kill (SIGKILL) after this many ms; the result then has timedOut true. */
  timeoutMs?: number;
  /** Data written to stdin; without it stdin is /dev/null. */
  input?: string;
}

/** What a finished command produced. */
export interface ProcessResult {
  command: string;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  all: string;
  /** Exit code; 128 + signal number when killed by a signal (shell convention); null if it never started. */
  exitCode: number | null;
  /** Signal name when killed by one, e.g. SIGABRT. */
  signal: string | null;
  timedOut: boolean;
  /** Why it could not start (e.g. ENOENT), else null. */
  startError: string | null;
  /** Wall time in ms. */
  durationMs: number;
}

/** A command that exited 0 (runTool). */
export type RunResult = ProcessResult & { exitCode: 0 };

/** Quotes one argument for display as a shell word. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs `file args...` to completion and reports how it ended; never throws for how the command ended. */
export async function runProcess(file: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const command = [file, ...args].map(shellQuote).join(' ');
  const started = Date.now();
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: !options.replaceEnv,
    all: true,
    reject: false,
    // The timeout is ours (below), not execa's: execa 5 also hands `timeout` to child_process.spawn,
    // whose own timer kills first, and when that exit is handled before execa's timer fires execa
    // reports timedOut false (sindresorhus/execa#726; seen under load as a hung emulator test
    // reported as exit 137).
    killSignal: 'SIGKILL',
    // No input: stdin is /dev/null (writing '' to a pipe races a fast exit: EPIPE).
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (options.stream === true) child.stdout?.pipe(process.stdout);
  if (options.stream) child.stderr?.pipe(process.stderr);
  let killedAtDeadline = false;
  const deadline =
    options.timeoutMs && options.timeoutMs > 0
      ? setTimeout(() => (killedAtDeadline = child.kill('SIGKILL')), options.timeoutMs)
      : undefined;
  let r: Awaited<typeof child>;
  try {
    r = await child;
  } finally {
    clearTimeout(deadline);
  }
  const raw = r as unknown as { code?: string; originalMessage?: string; shortMessage?: string };
  // Killed at the deadline, unless it had exited on its own just before the kill.
  const timedOut = killedAtDeadline && r.signal === 'SIGKILL';
  const neverStarted = r.exitCode === undefined && !r.signal && !timedOut;
  const signal = r.signal ?? null;
  const signo = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  return {
    command,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    all: r.all ?? `${r.stdout ?? ''}${r.stderr ?? ''}`,
    exitCode: neverStarted ? null : signal && signo ? 128 + signo : (r.exitCode ?? null),
    signal,
    timedOut,
    startError: neverStarted ? (raw.originalMessage ?? raw.code ?? raw.shortMessage ?? 'unknown error') : null,
    durationMs: Date.now() - started,
  };
}

/**
 * Runs `file args...` and requires exit code 0.
 * @throws ToolError when the command cannot start (e.g. not installed), times
 *   out, or exits non-zero; its message is one line naming the command.
 */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await runProcess(file, args, options);
  // With stream 'stderr' stdout is machine output (e.g. cargo's JSON): keep only stderr as the log.
  const log = options.stream === 'stderr' ? r.stderr : r.all;
  const streamed = !!options.stream;
  if (r.startError) throw new ToolError(`cannot run ${file}: ${r.startError}`, r.command, null, log, streamed);
  if (r.timedOut)
    throw new ToolError(`${file} timed out after ${options.timeoutMs} ms`, r.command, null, log, streamed);
  if (r.exitCode !== 0)
    throw new ToolError(`${file} exited with code ${r.exitCode}`, r.command, r.exitCode, log, streamed);
  return r as RunResult;
}
