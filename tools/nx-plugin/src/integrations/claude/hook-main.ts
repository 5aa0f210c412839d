/**
 * Process entry of `nextrust hook <event>` (bin/nextrust.js routes here
 * directly, without loading the rest of the CLI): reads the payload from
 * stdin, dispatches, prints, exits; and, when the fast path is installed,
 * starts the hook server so that the next calls skip Node's start-up
 * (hook-server.ts). One line per call goes to
 * `.claude/hook-logs/<YYYY-MM-DD>.log` (event, tool, exit code, ms, and
 * whether the server or a node process ran it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dispatchHook, type HookOutcome } from './dispatcher';

/** How a hook call was run: by the hook server, or by its own node process. */
export type HookRunner = 'server' | 'node';

/**
 * Runs one hook call: dispatches it and appends its line to
 * `<CLAUDE_PROJECT_DIR or cwd>/.claude/hook-logs/<UTC date>.log`
 * (`<ISO time> <event> <tool|-> exit=<code> <ms>ms <runner>`). Never throws
 * (dispatchHook does not; logging is best effort).
 */
export async function runHook(event: string, stdin: string, env: NodeJS.ProcessEnv, cwd: string, runner: HookRunner): Promise<HookOutcome> {
  const started = Date.now();
  const out = await dispatchHook(event, stdin, env, cwd);
  try {
    const dir = path.join(env.CLAUDE_PROJECT_DIR ?? cwd, '.claude', 'hook-logs');
    fs.mkdirSync(dir, { recursive: true });
    const tool = /"tool_name"\s*:\s*"([^"]*)"/.exec(stdin)?.[1] ?? '-';
    fs.appendFileSync(path.join(dir, `${new Date().toISOString().slice(0, 10)}.log`), `${new Date().toISOString()} ${event} ${tool} exit=${out.exitCode} ${Date.now() - started}ms ${runner}\n`);
  } catch {
    // logging is best effort
  }
  return out;
}

/** Runs the hook for `event`, reading stdin to its end. @returns the exit code. */
export async function hookMain(event: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const out = await runHook(event, Buffer.concat(chunks).toString('utf8'), process.env, process.cwd(), 'node');
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  // Compiled code only: a server runs dist/, never on-the-fly TypeScript.
  if (__filename.endsWith('.js')) {
    const { startHookServerInBackground } = await import('./hook-server');
    await startHookServerInBackground(path.resolve(__dirname, '../../../..'), process.env).catch(() => undefined);
  }
  return out.exitCode;
}

if (require.main === module) {
  void hookMain(process.argv[2] ?? '').then((code) => {
    process.exitCode = code;
  });
}
