/**
 * Process entry of `nextrust hook <event>` (bin/nextrust.js routes here
 * directly, without loading the rest of the CLI): reads the payload from
 * stdin, dispatches, prints, exits; and, when the fast path is installed,
 * starts the hook server so that the next calls skip Node's start-up
 * (hook-server.ts). One line per call goes to
 * `.claude/hook-logs/<YYYY-MM-DD>.log` (event, tool, exit code, ms, and
 * whether the server or a node process ran it).
 *
 * Limits, as in the server (hook-protocol.ts): stdin is read up to
 * NEXTRUST_HOOK_MAX_PAYLOAD_BYTES and no further (an over-limit payload is
 * refused unread: payloadTooLargeOutcome); a call still running after
 * NEXTRUST_HOOK_CALL_TIMEOUT_MS is answered (timedOutOutcome: pre blocked)
 * and the process exits. In this process the time limit ends waits (a
 * lock, a network request), not synchronous work, which the payload limit
 * bounds instead.
 */
import * as path from 'node:path';
import { dispatchHook, payloadTooLargeOutcome, type HookOutcome } from './dispatcher';
import { callTimeoutMs, maxPayloadBytes } from './hook-protocol';
import { appendHookLog, hookTool, timedOutOutcome, type HookRunner } from './hook-outcomes';

/**
 * Runs one hook call: dispatches it and appends its line to the hook log
 * (appendHookLog). Never throws (dispatchHook does not; logging is best
 * effort). No time limit here: the caller sets it.
 */
export async function runHook(
  event: string,
  stdin: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  runner: HookRunner,
): Promise<HookOutcome> {
  const started = Date.now();
  const out = await dispatchHook(event, stdin, env, cwd);
  appendHookLog({ event, tool: hookTool(stdin), exitCode: out.exitCode, ms: Date.now() - started, runner, env, cwd });
  return out;
}

/**
 * Reads `stream` to its end, or only up to `limit` + 1 bytes: then it stops
 * reading (the stream is destroyed; a writer still writing gets EPIPE) and
 * reports `tooLarge`. Holds at most `limit` + one chunk.
 * @returns the bytes read, or `{ tooLarge: true }`.
 */
export async function readBounded(
  stream: NodeJS.ReadableStream,
  limit: number,
): Promise<{ bytes: Buffer } | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    n += b.length;
    if (n > limit) return { tooLarge: true }; // leaving the loop destroys the stream: nothing more is read
    chunks.push(b);
  }
  return { bytes: Buffer.concat(chunks) };
}

/**
 * Runs the hook for `event` with the payload on stdin (at most
 * NEXTRUST_HOOK_MAX_PAYLOAD_BYTES of it) and prints its answer.
 * @returns the exit code. When the call overruns NEXTRUST_HOOK_CALL_TIMEOUT_MS,
 *   prints timedOutOutcome and exits the process at once (pending work abandoned).
 */
export async function hookMain(event: string): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const started = Date.now();
  const limitMs = callTimeoutMs(env);
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>(() => {
    timer = setTimeout(() => {
      const t = timedOutOutcome(event, limitMs, false);
      appendHookLog({ event, tool: '-', exitCode: t.exitCode, ms: Date.now() - started, runner: 'node', env, cwd });
      // Pipes and files are written synchronously on Linux: the answer is out before the exit.
      process.stderr.write(t.stderr);
      process.exit(t.exitCode);
    }, limitMs);
  });
  let out: HookOutcome;
  try {
    out = await Promise.race([
      (async () => {
        const read = await readBounded(process.stdin, maxPayloadBytes(env));
        if ('tooLarge' in read) {
          const o = payloadTooLargeOutcome(event, maxPayloadBytes(env));
          appendHookLog({ event, tool: '-', exitCode: o.exitCode, ms: Date.now() - started, runner: 'node', env, cwd });
          return o;
        }
        return runHook(event, read.bytes.toString('utf8'), env, cwd, 'node');
      })(),
      overrun,
    ]);
  } finally {
    clearTimeout(timer);
  }
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  // Compiled code only: a server runs dist/, never on-the-fly TypeScript.
  if (__filename.endsWith('.js')) {
    const { startHookServerInBackground } = await import('./hook-server');
    await startHookServerInBackground(path.resolve(__dirname, '../../../..'), process.env).catch(() => undefined);
  }
  return out.exitCode;
}
