/**
 * The hook server: a long-lived Node process that runs Claude Code hook calls
 * for the native client (native/hook-client.c), so that a call costs a
 * socket round trip instead of a Node start-up (~100 ms on a 2-core machine,
 * more than the whole latency budget of issue 5). Like the Nx daemon: started
 * on first use (by the first hook call that had to run through node), one per
 * plugin checkout, gone after NEXTRUST_HOOK_SERVER_IDLE_MS without calls
 * (default 30 min), `nextrust hook-server stop|status` to manage it,
 * NEXTRUST_HOOK_SERVER=0 to never use it.
 *
 * Each call runs exactly as `nextrust hook <event>` would in the client's
 * process: the client's environment, cwd and stdin (hook-protocol.ts), the
 * same dispatcher (runHook). A server whose code is out of date (dist/
 * rebuilt, or sources edited since: bin/freshness.js) answers FALLBACK_STATUS
 * to its next call and exits; the client then runs that call through node,
 * which starts a current server.
 *
 * Safety: the socket lives in a private directory (0700, the user's own; the
 * client refuses any other) and one server per socket is ensured by a
 * proper-lockfile lock held for the server's life.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { decodeRequest, encodeRequest, encodeResponse, decodeResponse, FALLBACK_STATUS, hookSocketPath, type HookResponse } from './hook-protocol';
import { runHook } from './hook-main';

/** Default idle time before the server exits (ms). */
export const DEFAULT_IDLE_MS = 30 * 60 * 1000;

/** Options of startHookServer. */
export interface HookServerOptions {
  /** tools/nx-plugin of the checkout whose code the server runs. */
  pluginDir: string;
  /** Socket path; default hookSocketPath(pluginDir, env). */
  socketPath?: string;
  /** Environment for the socket location and the idle time (default process.env); calls use their own. */
  env?: NodeJS.ProcessEnv;
  /** Exit after this long without a call (ms); default NEXTRUST_HOOK_SERVER_IDLE_MS or DEFAULT_IDLE_MS. */
  idleMs?: number;
  /** Whether the server's code is out of date; default: dist/ rebuilt or stale since the start (bin/freshness.js). */
  isStale?: () => boolean;
  /** Progress and errors, one line each (default: none). */
  log?: (line: string) => void;
}

/** A running server. */
export interface RunningHookServer {
  socketPath: string;
  /** Resolves with the reason once the server has stopped (socket removed, lock released). */
  closed: Promise<string>;
  /** Stops accepting calls, finishes those in progress, removes the socket, releases the lock. */
  close(reason?: string): Promise<string>;
}

/** Thrown by startHookServer when another server holds the socket's lock. */
export class HookServerRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`a hook server for this checkout is already running (${socketPath})`);
    this.name = 'HookServerRunningError';
  }
}

/**
 * Creates `dir` (mode 0700) or checks that it is a directory of this user's
 * that nobody else can enter; tightens the mode of our own directory.
 * @throws Error naming the directory when it is someone else's or not a directory.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`hook server socket directory ${dir} is not a directory`);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`hook server socket directory ${dir} belongs to uid ${st.uid}, not to this user: set NEXTRUST_HOOK_SOCKET_DIR`);
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
}

/** The default staleness check: dist/ no longer fresh, or rebuilt since `stampAtStart`. */
function distChanged(pluginDir: string): () => boolean {
  const { distFreshness } = require(path.join(pluginDir, 'bin', 'freshness.js')) as {
    distFreshness: (dir: string) => { fresh: boolean; stampMtimeMs: number | undefined };
  };
  const atStart = distFreshness(pluginDir).stampMtimeMs;
  return () => {
    try {
      const now = distFreshness(pluginDir);
      return !now.fresh || now.stampMtimeMs !== atStart;
    } catch {
      return true; // the checkout is gone
    }
  };
}

/**
 * Starts a hook server listening on its socket.
 * @throws HookServerRunningError when one is already running for the socket;
 *   Error for an unusable socket directory or path.
 */
export async function startHookServer(options: HookServerOptions): Promise<RunningHookServer> {
  const env = options.env ?? process.env;
  const socketPath = options.socketPath ?? hookSocketPath(options.pluginDir, env);
  const envIdle = Number(env.NEXTRUST_HOOK_SERVER_IDLE_MS);
  const idleMs = options.idleMs ?? (Number.isFinite(envIdle) && envIdle > 0 ? envIdle : DEFAULT_IDLE_MS);
  const isStale = options.isStale ?? distChanged(options.pluginDir);
  const log = options.log ?? (() => undefined);
  ensurePrivateDir(path.dirname(socketPath));

  let closing: Promise<string> | undefined;
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  let release: (() => Promise<void>) | undefined;
  try {
    release = await lockfile.lock(socketPath, {
      realpath: false,
      lockfilePath: `${socketPath}.lock`,
      stale: 10_000,
      update: 3_000,
      retries: 0,
      // Our lock was taken over (this process stalled for > 10 s): another server owns the socket now.
      // (Closing still lets libuv unlink the socket path, which may be the new server's by then: its
      // clients then run through node until it idles out. Rare, and never wrong, only slower.)
      onCompromised: () => void close('lock taken over by another server', false),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw new HookServerRunningError(socketPath);
    throw e;
  }

  const startedAt = new Date().toISOString();
  let calls = 0;
  let inFlight = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = inFlight ? undefined : setTimeout(() => void close(`idle for ${idleMs} ms`), idleMs);
  };

  const answer = (conn: net.Socket, r: HookResponse) => conn.end(encodeResponse(r));
  const text = (s: string) => Buffer.from(s, 'utf8');

  // allowHalfOpen: the client shuts down its write side to end the request, and the answer comes after that.
  const server = net.createServer({ allowHalfOpen: true }, (conn) => {
    const chunks: Buffer[] = [];
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', () => undefined); // a client gone mid-call: nothing to answer
    conn.on('end', () => {
      // A connection that sends nothing is a liveness probe (startHookServerInBackground).
      if (!chunks.length) return void conn.end();
      inFlight++;
      armIdle();
      void (async () => {
        try {
          const req = decodeRequest(Buffer.concat(chunks));
          if (req.event === '__ping') {
            const info = { pid: process.pid, pluginDir: options.pluginDir, socketPath, startedAt, calls, idleMs };
            return answer(conn, { status: 0, stdout: text(JSON.stringify(info) + '\n'), stderr: Buffer.alloc(0) });
          }
          if (req.event === '__stop') {
            answer(conn, { status: 0, stdout: text('stopping\n'), stderr: Buffer.alloc(0) });
            return void close('stop requested');
          }
          if (closing || isStale()) {
            // Stop listening first, so that the client's node fallback finds no server and starts a current one.
            const done = close(closing ? 'shutting down' : 'code out of date (dist/ rebuilt or sources edited)');
            answer(conn, { status: FALLBACK_STATUS, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
            return void done;
          }
          calls++;
          const out = await runHook(req.event, req.stdin.toString('utf8'), req.env, req.cwd || process.cwd(), 'server');
          answer(conn, { status: out.exitCode & 0xff, stdout: text(out.stdout), stderr: text(out.stderr) });
        } catch (e) {
          // A malformed request: the client falls back to node, which reports the problem itself.
          log(`hook server: ${(e as Error).message}`);
          answer(conn, { status: FALLBACK_STATUS, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
        } finally {
          inFlight--;
          if (!closing) armIdle();
        }
      })();
    });
  });

  function close(reason = 'closed', releaseLock = true): Promise<string> {
    if (closing) return closing;
    log(`hook server: stopping: ${reason}`);
    if (idleTimer) clearTimeout(idleTimer);
    closing = (async () => {
      // Unlink first: new clients fall back at once instead of queueing on a closing socket.
      if (releaseLock) fs.rmSync(socketPath, { force: true });
      await new Promise<void>((r) => server.close(() => r()));
      if (releaseLock && release) await release().catch(() => undefined);
      resolveClosed(reason);
      return reason;
    })();
    return closing;
  }

  fs.rmSync(socketPath, { force: true }); // a dead server's socket (we hold the lock)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(socketPath, 0o600);
  } catch (e) {
    await release().catch(() => undefined);
    throw new Error(`hook server: cannot listen on ${socketPath}: ${(e as Error).message}`);
  }
  server.on('error', (e) => log(`hook server: ${e.message}`));
  armIdle();
  log(`hook server: pid ${process.pid} listening on ${socketPath} (idle exit after ${idleMs} ms)`);
  return { socketPath, closed, close: (reason?: string) => close(reason) };
}

/**
 * Sends a control request (`__ping`, `__stop`) or a hook call to the server
 * at `socketPath` (what the C client does, in Node: for the CLI and tests).
 * @throws Error when nothing listens there (code ENOENT or ECONNREFUSED), on
 *   timeout (ms), or HookProtocolError for a malformed answer.
 */
export function callHookServer(socketPath: string, event: string, stdin: Buffer = Buffer.alloc(0), env: Record<string, string> = {}, timeoutMs = 5_000): Promise<HookResponse> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`hook server at ${socketPath} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.end(encodeRequest({ event, cwd: process.cwd(), env, stdin })));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(decodeResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** What the `__ping` control request answers. */
export interface HookServerInfo {
  pid: number;
  pluginDir: string;
  socketPath: string;
  /** ISO 8601. */
  startedAt: string;
  /** Hook calls served. */
  calls: number;
  idleMs: number;
}

/** The server's info, or undefined when none answers at `socketPath`. */
export async function pingHookServer(socketPath: string, timeoutMs = 2_000): Promise<HookServerInfo | undefined> {
  try {
    const r = await callHookServer(socketPath, '__ping', undefined, undefined, timeoutMs);
    return r.status === 0 ? (JSON.parse(r.stdout.toString('utf8')) as HookServerInfo) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a server for `pluginDir` as a detached process (`nextrust
 * hook-server run`, output to `<socket without .sock>.log`) unless one
 * answers already, the fast path is off (NEXTRUST_HOOK_SERVER=0) or not
 * installed (no dist/hook-client). Returns at once, without waiting for it.
 * @returns what it did: 'started', 'running', 'disabled' or 'no-client'.
 * @throws Error for an unusable socket directory or path.
 */
export async function startHookServerInBackground(pluginDir: string, env: NodeJS.ProcessEnv = process.env): Promise<'started' | 'running' | 'disabled' | 'no-client'> {
  if (env.NEXTRUST_HOOK_SERVER === '0') return 'disabled';
  if (!fs.existsSync(path.join(pluginDir, 'dist', 'hook-client'))) return 'no-client';
  const socketPath = hookSocketPath(pluginDir, env);
  const up = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
  if (up) return 'running';
  ensurePrivateDir(path.dirname(socketPath));
  const logFile = socketPath.replace(/\.sock$/, '.log');
  try {
    if (fs.statSync(logFile).size > 1024 * 1024) fs.truncateSync(logFile, 0);
  } catch {
    // no log yet
  }
  const fd = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [path.join(pluginDir, 'bin', 'nextrust.js'), 'hook-server', 'run'], {
      cwd: pluginDir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...env },
    });
    child.unref();
  } finally {
    fs.closeSync(fd);
  }
  return 'started';
}
