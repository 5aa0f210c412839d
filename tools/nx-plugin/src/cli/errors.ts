/**
 * Exit codes and errors of the `nextrust` CLI, defined here and nowhere else:
 * `nextrust --help` prints exitCodesHelp(), docs/pipeline.md carries
 * exitCodesMarkdown() (errors.spec.ts checks that it is current), and
 * exitOf() is the one place that turns a thrown error into an exit code and
 * the line the user sees.
 *
 * Commands throw UsageError (exit 2) or NegativeAnswerError (exit 1); errors
 * of the pipeline modules are mapped by their class (LockTimeoutError: 3;
 * ConfigError and anything else: 2), never by their message text.
 */
import { CommanderError, Help } from 'commander';
import { LockTimeoutError } from '../pipeline/status-store';

/** The exit codes of the CLI (meanings: EXIT_CODE_MEANINGS). */
export const EXIT = { ok: 0, negative: 1, usage: 2, lockTimeout: 3 } as const;

/** One of the CLI's exit codes (0 to 3). */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, in the words of `nextrust --help`. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  [EXIT.ok]: 'success (check-known-issue: a known issue matched)',
  [EXIT.negative]:
    'negative answer: no known issue matched, no phase set, commit in backoff, no recorded run (why), ' +
    'verdict not recorded (confirm, reject), AI step skipped or failed (request-design, request-review), ' +
    'StatsD send failed (metrics), no hook server (hook-server status, start)',
  [EXIT.usage]: 'usage error or invalid input (the message names the file and field)',
  [EXIT.lockTimeout]: 'the status lock could not be taken in time (NEXTRUST_LOCK_TIMEOUT_MS)',
};

/** Commands whose exit codes follow another contract than EXIT_CODE_MEANINGS, one line each. */
export const EXIT_CODE_EXCEPTIONS: readonly string[] = [
  'slash: 0 accepted (or not a command), 1 refused.',
  "hook: Claude Code's contract (see hook --help).",
];

const CODES = Object.values(EXIT) as ExitCode[];

/** The `Exit codes:` section of `nextrust --help` (starts with a newline; lines up to 80 columns). */
export function exitCodesHelp(): string {
  // commander's own wrapping (Help.boxWrap), as for the rest of the help.
  const help = new Help();
  const rows = CODES.flatMap((code) =>
    help
      .boxWrap(EXIT_CODE_MEANINGS[code], 74)
      .split('\n')
      .map((l, i) => (i === 0 ? `  ${String(code).padEnd(4)}${l}` : `      ${l}`)),
  );
  return `\nExit codes:\n${[...rows, ...EXIT_CODE_EXCEPTIONS.map((l) => `  ${l}`)].join('\n')}`;
}

/** First line of the generated exit-code table in docs/pipeline.md. */
export const EXIT_CODES_DOC_BEGIN =
  '<!-- exit codes: generated from tools/nx-plugin/src/cli/errors.ts (exitCodesMarkdown); errors.spec.ts checks it -->';
/** Last line of the generated exit-code table in docs/pipeline.md. */
export const EXIT_CODES_DOC_END = '<!-- end of exit codes -->';

/** The exit codes as the Markdown table of docs/pipeline.md, between EXIT_CODES_DOC_BEGIN and _END lines. */
export function exitCodesMarkdown(): string {
  return [
    EXIT_CODES_DOC_BEGIN,
    '| exit | meaning |',
    '|---|---|',
    ...CODES.map((code) => `| ${code} | ${EXIT_CODE_MEANINGS[code]} |`),
    '',
    EXIT_CODE_EXCEPTIONS.join('\n'),
    EXIT_CODES_DOC_END,
  ].join('\n');
}

/** An error that ends the command with `exitCode`; the CLI prints `nextrust: <message>` alone. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Bad arguments or invalid input (exit 2): the message names the option, file or field and what was expected. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
    this.name = 'UsageError';
  }
}

/** A negative answer (exit 1): nothing is wrong with the input, but the answer is no (no phase, no recorded run...). */
export class NegativeAnswerError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.negative, options);
    this.name = 'NegativeAnswerError';
  }
}

/**
 * The exit code of an error that ended a command, and what to print on stderr.
 * @param e what was thrown. A CommanderError (usage error, --help, --version) has already been printed by commander:
 *   exit 0 for --help and --version, else 2, nothing more to print. A CliError: its code. LockTimeoutError: 3.
 *   ConfigError and any other error: 2.
 * @param debug NEXTRUST_DEBUG=1: the stack trace is printed before the message.
 * @returns `{ exitCode, stderr }`, stderr '' or ending in a newline.
 */
export function exitOf(e: unknown, debug = false): { exitCode: ExitCode; stderr: string } {
  if (e instanceof CommanderError) return { exitCode: e.exitCode === 0 ? EXIT.ok : EXIT.usage, stderr: '' };
  const stack = debug && e instanceof Error ? `${e.stack}\n` : '';
  const stderr = `${stack}nextrust: ${e instanceof Error ? e.message : String(e)}\n`;
  if (e instanceof CliError) return { exitCode: e.exitCode, stderr };
  if (e instanceof LockTimeoutError) return { exitCode: EXIT.lockTimeout, stderr };
  return { exitCode: EXIT.usage, stderr };
}

/**
 * `e` as a CliError of class `As` with `prefix: ` before its message (`e` is its cause), for commands that report
 * any failure of their step the same way; a LockTimeoutError is returned as it is (it keeps exit 3).
 */
export function asCliError(
  e: unknown,
  prefix: string,
  As: new (message: string, options?: { cause?: unknown }) => CliError,
): Error {
  if (e instanceof LockTimeoutError) return e;
  return new As(`${prefix}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
