/**
 * What every command of the `nextrust` CLI works with: where it writes (CliIo,
 * replaced in tests), the workspace, the status store named by --status-dir,
 * the clock, and how it reports a non-zero result. createProgram builds one
 * CliContext and hands it to each command module (cli/commands/*.ts).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { findWorkspaceRoot, resolveStatusDir, StatusStore } from '../pipeline/status-store';

/** Where the CLI writes and what it reads from its process; replaced in tests. */
export interface CliIo {
  /** stdout: results (text or JSON). */
  out: (text: string) => void;
  /** stderr: warnings and error messages. */
  err: (text: string) => void;
  /** Directory relative paths on the command line are resolved against. */
  cwd: string;
  /** Environment (NEXTRUST_STATUS_DIR, GITHUB_*, API keys...). */
  env: NodeJS.ProcessEnv;
}

/** The io of this process: its stdout, stderr, current directory and environment. */
export function processIo(): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
  };
}

/** The shared context of the commands. */
export interface CliContext {
  readonly io: CliIo;
  /** The Nx workspace around io.cwd (the nearest folder with nx.json), else io.cwd. */
  readonly workspaceRoot: string;
  /** tools/nx-plugin of this CLI's own checkout (executors.json, bin/, dist/). */
  readonly pluginDir: string;
  /**
   * The status store: --status-dir, else $NEXTRUST_STATUS_DIR, else <workspace>/projects/ci-status
   * (resolveStatusDir); its lock wait is NEXTRUST_LOCK_TIMEOUT_MS of io.env. Read when called, after the options
   * are parsed.
   * @throws StatusFileError when the directory named is not one.
   */
  store(): StatusStore;
  /** The clock, in ms since the epoch. */
  now(): number;
  /** Sets the exit code of a command that ends normally with a non-zero answer (errors.ts: EXIT). */
  setExitCode(code: number): void;
  /** Prints `value` as indented JSON and a newline on stdout. */
  json(value: unknown): void;
  /** Prints `nextrust: warning: <text>` and a newline on stderr. */
  warn(text: string): void;
}

/** tools/nx-plugin: src/cli → ../.., and the same from the compiled dist/src/cli → ../../.. */
function pluginDirOfThisCli(): string {
  return path.resolve(__dirname, __filename.endsWith('.js') ? '../../..' : '../..');
}

/**
 * The context of `program`'s commands.
 * @param program the root command: its `--status-dir` option is read by store().
 * @param io where to write; @param setExitCode receives a command's non-zero result; @param now the clock (ms).
 */
export function createContext(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
  now: () => number = Date.now,
): CliContext {
  const workspaceRoot = findWorkspaceRoot(io.cwd);
  return {
    io,
    workspaceRoot,
    pluginDir: pluginDirOfThisCli(),
    store: () => new StatusStore(resolveStatusDir(program.opts().statusDir, workspaceRoot, io.env), { env: io.env }),
    now,
    setExitCode,
    json: (value) => io.out(JSON.stringify(value, null, 2) + '\n'),
    warn: (text) => io.err(`nextrust: warning: ${text}\n`),
  };
}
