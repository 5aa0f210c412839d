/**
 * The hook server: a long-lived Node process that runs Claude Code hook calls
 * for the native client (native/hook-client.c), so that a call costs a
 * socket round trip instead of a Node start-up (~100 ms on a 2-core machine,
 * more than a hook's whole latency budget). Like the Nx daemon: started
 * on first use (by the first hook call that had to run through node), one per
 * plugin checkout, gone after NEXTRUST_HOOK_SERVER_IDLE_MS without calls
 * (default 30 min), `nextrust hook-server stop|status` to manage it,
 * NEXTRUST_HOOK_SERVER=0 to never use it.
 *
 * Each call runs exactly as `nextrust hook <event>` would in the client's
 * process: the client's environment, cwd and stdin (hook-protocol.ts), the
 * same dispatcher (dispatchHook). A server whose code is out of date (dist/
 * rebuilt, or sources edited since: bin/freshness.js) answers FALLBACK_STATUS
 * to its next call and exits; the client then runs that call through node,
 * which starts a current server.
 *
 * One call never holds up another:
 *  - The main thread only moves bytes: it reads a request with a
 *    HookRequestReader (a payload over NEXTRUST_HOOK_MAX_PAYLOAD_BYTES is
 *    refused from the request's header, unread: payloadTooLargeOutcome, pre
 *    blocked), hands it to a worker thread, and answers.
 *  - Each call is dispatched in a worker thread of its own (a small pool:
 *    up to MAX_ACTIVE_WORKERS calls at once, MAX_IDLE_WORKERS kept warm), so
 *    the guard's CPU work on one command never stops the event loop that
 *    answers the others.
 *  - A call still running after NEXTRUST_HOOK_CALL_TIMEOUT_MS (of the
 *    call's environment, default 10 s) is answered from the main thread
 *    (timedOutOutcome): `pre` is blocked and its worker terminated (CPU
 *    work included); other events get a non-blocking error and their work
 *    goes on in the background (a status write, a review), its worker
 *    terminated after BACKGROUND_MS at the latest.
 *  - Memory per call: the request's header and at most the payload limit in
 *    the main thread; a worker's heap is capped at WORKER_HEAP_MB (a worker
 *    that dies of it answers like a crash: pre blocked).
 *
 * Safety: the socket lives in a private directory (0700, the user's own; the
 * client refuses any other) and one server per socket is ensured by a
 * proper-lockfile lock held for the server's life.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import {
  callTimeoutMs,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  FALLBACK_STATUS,
  HookRequestReader,
  hookSocketPath,
  maxPayloadBytes,
  type HookRequest,
  type HookResponse,
} from './hook-protocol';
import { dispatchHook, payloadTooLargeOutcome, type HookOutcome } from './dispatcher';
import { appendHookLog, hookFailedOutcome, hookTool, timedOutOutcome } from './hook-outcomes';

/** Default idle time before the server exits (ms). */
export const DEFAULT_IDLE_MS = 30 * 60 * 1000;
/** Calls dispatched at once (each in its worker thread); more wait for a free worker (their time limit runs meanwhile). */
export const MAX_ACTIVE_WORKERS = 8;
/** Idle workers kept warm for the next calls. */
export const MAX_IDLE_WORKERS = 2;
/** Timed-out calls (not `pre`) whose work may go on in the background at once; beyond it the oldest is terminated. */
export const MAX_BACKGROUND_WORKERS = 4;
/** Longest time a timed-out call's work goes on in the background before its worker is terminated (ms). */
export const BACKGROUND_MS = 10 * 60 * 1000;
/** Heap cap of a worker thread (MiB, V8's old generation). */
export const WORKER_HEAP_MB = 512;
/** Time a client has to send its whole request after connecting (ms); then the connection is dropped. */
export const REQUEST_READ_MS = 30_000;
/**
 * After an answer given before the request's end (a payload over the limit,
 * a malformed request), what the server still takes from a client that goes
 * on writing, unread and unkept, before it closes (bytes, ms): so that such
 * a client reads the answer before its writes fail (Node's sockets drop
 * unread data on EPIPE).
 */
export const DISCARD_BYTES = 1024 * 1024;
export const DISCARD_MS = 1_000;

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
  /** Resolves with the reason once the server has stopped (socket removed, lock released, workers terminated). */
  closed: Promise<string>;
  /** Stops accepting calls, finishes those in progress, removes the socket, releases the lock, terminates the workers. */
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
  if (process.getuid && st.uid !== process.getuid())
    throw new Error(
      `hook server socket directory ${dir} belongs to uid ${st.uid}, not to this user: set NEXTRUST_HOOK_SOCKET_DIR`,
    );
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
}

/** The default staleness check: dist/ no longer fresh, or rebuilt since `stampAtStart`. */
function distChanged(pluginDir: string): () => boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JavaScript at a path relative to the plugin folder, the same from src/ and from dist/src/
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

/** A call as the main thread hands it to a worker (stdin's memory is transferred). */
interface WorkerCall {
  id: number;
  event: string;
  cwd: string;
  env: Record<string, string>;
  stdin: Uint8Array;
}

/** A worker's messages: the call's tool (for the log), sent before dispatching; then its outcome. */
type WorkerReply = { id: number; kind: 'started'; tool: string } | { id: number; kind: 'done'; outcome: HookOutcome };

/**
 * The worker thread's side (what each pool worker runs): dispatches every
 * call it is sent with dispatchHook, one at a time, answering `started`
 * (with the payload's tool) and then `done` (with the outcome).
 */
export function runHookWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('runHookWorker: not in a worker thread');
  port.on('message', (m: WorkerCall) => {
    const stdin = Buffer.from(m.stdin.buffer, m.stdin.byteOffset, m.stdin.byteLength).toString('utf8');
    port.postMessage({ id: m.id, kind: 'started', tool: hookTool(stdin) } satisfies WorkerReply);
    // dispatchHook does not reject; if it ever did, the worker would die of it and the call fail closed (pre blocked).
    void dispatchHook(m.event, stdin, m.env, m.cwd).then((outcome) =>
      port.postMessage({ id: m.id, kind: 'done', outcome } satisfies WorkerReply),
    );
  });
}

/**
 * Code of a worker: `workerData.module`'s runHookWorker, with each required
 * TypeScript file transpiled by `typescript` when `workerData.typescript`
 * names it (see workerModule).
 */
const WORKER_BOOT = `const { workerData } = require('node:worker_threads');
if (workerData.typescript) {
  const ts = require(workerData.typescript);
  const fs = require('node:fs');
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  require.extensions['.ts'] = (m, filename) => m._compile(ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename }).outputText, filename);
}
require(workerData.module).runHookWorker();`;

/** What a worker runs: a module exporting runHookWorker, and the `typescript` package when it is TypeScript. */
export interface HookWorkerModule {
  module: string;
  typescript?: string;
}

/**
 * The module the workers of a server for `pluginDir` run: this one when it
 * is compiled (dist/: what a server started by the bin runs). A server
 * started from the TypeScript sources (the tests) follows the bin's rule
 * (bin/nextrust.js): the compiled module when dist/ is current, else the
 * sources, transpiled file by file with `typescript` (not with
 * @swc-node/register, as the bin does: its native addon crashes the process
 * when a worker that loaded it is terminated, which is how an overrunning
 * call is stopped).
 */
export function workerModule(pluginDir: string): HookWorkerModule {
  if (!__filename.endsWith('.ts')) return { module: __filename };
  const compiled = path.join(pluginDir, 'dist', path.relative(pluginDir, __filename).replace(/\.ts$/, '.js'));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JavaScript at a path relative to the plugin folder, the same from src/ and from dist/src/
    const { distFreshness } = require(path.join(pluginDir, 'bin', 'freshness.js')) as {
      distFreshness: (dir: string) => { fresh: boolean };
    };
    if (fs.existsSync(compiled) && distFreshness(pluginDir).fresh) return { module: compiled };
  } catch {
    // no usable dist/: the sources
  }
  return { module: __filename, typescript: require.resolve('typescript') };
}

function spawnHookWorker(code: HookWorkerModule): Worker {
  const w = new Worker(WORKER_BOOT, {
    eval: true,
    workerData: code,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  w.unref(); // the listening socket keeps the server alive, not its workers
  return w;
}

/** How a call in the pool ended: answered by its worker, timed out, failed, or not run (the client should run it through node). */
export type PooledCallResult =
  { how: 'done' | 'timed-out' | 'failed'; outcome: HookOutcome; tool: string } | { how: 'fallback'; why: string };

/** Counts of the pool's workers (for `__ping`). */
export interface HookWorkerCounts {
  idle: number;
  active: number;
  background: number;
  queued: number;
  /** Workers terminated so far for overrunning their call's time limit or BACKGROUND_MS. */
  terminated: number;
}

/**
 * The worker threads that dispatch hook calls: one call per worker at a
 * time; a pre call over its time limit has its worker terminated, another
 * call's worker goes on in the background (see the module's doc).
 */
class HookWorkerPool {
  private idle: Worker[] = [];
  private active = new Set<Worker>();
  /** Background workers, oldest first, with their deadline timers. */
  private background = new Map<Worker, NodeJS.Timeout>();
  private queue: ((w: Worker) => void)[] = [];
  private nextId = 1;
  private closed = false;
  private terminated = 0;

  /** @param code what the workers run (workerModule, decided once: a server's code does not change under it). */
  constructor(
    private readonly code: HookWorkerModule,
    private readonly log: (line: string) => void,
  ) {
    this.spare();
  }

  counts(): HookWorkerCounts {
    return {
      idle: this.idle.length,
      active: this.active.size,
      background: this.background.size,
      queued: this.queue.length,
      terminated: this.terminated,
    };
  }

  /** Dispatches `req` in a worker; settles by `timeoutMs` (ms) at the latest. Never rejects. */
  run(req: HookRequest, timeoutMs: number): Promise<PooledCallResult> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      let worker: Worker | undefined;
      let tool = '-';
      let started = false;
      let settled = false;
      /** Stops listening to the worker (a terminated worker's exit is no news). */
      let detach = () => undefined as void;
      const finish = (r: PooledCallResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const begin = (w: Worker) => {
        if (settled || this.closed) return void this.release(w);
        worker = w;
        this.active.add(w);
        const onMessage = (m: WorkerReply) => {
          if (m.id !== id) return;
          if (m.kind === 'started') {
            started = true;
            tool = m.tool;
            return;
          }
          detach();
          this.release(w);
          finish({ how: 'done', outcome: m.outcome, tool });
        };
        const onError = (e: Error) => gone(e.message);
        const onExit = (code: number) => gone(`its worker thread exited with code ${code}`);
        const gone = (why: string) => {
          detach();
          this.forget(w);
          this.log(`hook server: worker for a ${req.event} call: ${why}`);
          // Dead before it began the call (it could not even start): let the node path run it.
          finish(
            started ? { how: 'failed', outcome: hookFailedOutcome(req.event, why), tool } : { how: 'fallback', why },
          );
        };
        w.on('message', onMessage).on('error', onError).on('exit', onExit);
        detach = () => void w.off('message', onMessage).off('error', onError).off('exit', onExit);
        const stdin = new Uint8Array(req.stdin.buffer, req.stdin.byteOffset, req.stdin.byteLength);
        const call: WorkerCall = { id, event: req.event, cwd: req.cwd, env: req.env, stdin };
        // The reader gives each stdin an ArrayBuffer of its own: hand it over instead of copying it.
        const own =
          req.stdin.byteOffset === 0 &&
          req.stdin.byteLength === req.stdin.buffer.byteLength &&
          req.stdin.buffer instanceof ArrayBuffer;
        w.postMessage(call, own ? [req.stdin.buffer as ArrayBuffer] : []);
      };
      const timer = setTimeout(() => {
        if (!worker) {
          this.queue = this.queue.filter((q) => q !== begin);
          return finish({ how: 'timed-out', outcome: timedOutOutcome(req.event, timeoutMs, false), tool });
        }
        const w = worker;
        this.active.delete(w);
        if (req.event === 'pre') {
          // Fail closed, and stop the work itself (synchronous CPU work included).
          detach();
          this.forget(w);
          this.terminated++;
          void w.terminate();
        } else {
          this.toBackground(w);
        }
        finish({ how: 'timed-out', outcome: timedOutOutcome(req.event, timeoutMs, req.event !== 'pre'), tool });
      }, timeoutMs);
      this.acquire(begin);
    });
  }

  /** Terminates every worker; calls in progress end as `failed` or `fallback`. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.active, ...this.background.keys()];
    for (const t of this.background.values()) clearTimeout(t);
    this.idle = [];
    this.active.clear();
    this.background.clear();
    this.queue = [];
    await Promise.all(all.map((w) => w.terminate().catch(() => undefined)));
  }

  private acquire(begin: (w: Worker) => void): void {
    const w = this.idle.pop();
    if (w) begin(w);
    else if (this.active.size < MAX_ACTIVE_WORKERS) begin(this.watched(spawnHookWorker(this.code)));
    else this.queue.push(begin);
    this.spare();
  }

  /** One idle worker ready for the next call, when there is room for it. */
  private spare(): void {
    if (!this.closed && this.idle.length === 0 && this.active.size < MAX_ACTIVE_WORKERS)
      this.idle.push(this.watched(spawnHookWorker(this.code)));
  }

  /** A worker that dies while idle leaves the pool. */
  private watched(w: Worker): Worker {
    const drop = (why: string) => {
      if (this.idle.includes(w)) {
        this.idle = this.idle.filter((x) => x !== w);
        this.log(`hook server: idle worker: ${why}`);
      }
    };
    w.on('error', (e) => drop(e.message));
    w.on('exit', (code) => drop(`exited with code ${code}`));
    return w;
  }

  /** A worker done with its call: to the next queued call, else idle (or terminated beyond MAX_IDLE_WORKERS). */
  private release(w: Worker): void {
    this.active.delete(w);
    const t = this.background.get(w);
    if (t) {
      clearTimeout(t);
      this.background.delete(w);
    }
    if (this.closed) return void w.terminate();
    const next = this.queue.shift();
    if (next) return next(w);
    if (this.idle.length < MAX_IDLE_WORKERS) this.idle.push(w);
    else void w.terminate();
  }

  private forget(w: Worker): void {
    this.active.delete(w);
    const t = this.background.get(w);
    if (t) clearTimeout(t);
    this.background.delete(w);
    this.idle = this.idle.filter((x) => x !== w);
    // A freed slot for a queued call.
    const next = this.queue.shift();
    if (next) this.acquire(next);
  }

  private toBackground(w: Worker): void {
    this.background.set(
      w,
      setTimeout(() => {
        this.log('hook server: a timed-out call still running after BACKGROUND_MS: its worker is terminated');
        this.forget(w);
        this.terminated++;
        void w.terminate();
      }, BACKGROUND_MS).unref(),
    );
    if (this.background.size > MAX_BACKGROUND_WORKERS) {
      const [oldest] = this.background.keys();
      this.log('hook server: too many timed-out calls in the background: the oldest one is terminated');
      this.forget(oldest);
      this.terminated++;
      void oldest.terminate();
    }
    // Its slot is free for a queued call.
    const next = this.queue.shift();
    if (next) this.acquire(next);
  }
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
      stale: LOCK_STALE_MS,
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
  const pool = new HookWorkerPool(workerModule(options.pluginDir), log);

  const text = (s: string) => Buffer.from(s, 'utf8');
  const response = (o: HookOutcome): HookResponse => ({
    status: o.exitCode & 0xff,
    stdout: text(o.stdout),
    stderr: text(o.stderr),
  });
  const fallback: HookResponse = { status: FALLBACK_STATUS, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  /** Runs a complete request and answers it on `conn`. */
  async function serve(conn: net.Socket, req: HookRequest): Promise<void> {
    const answer = (r: HookResponse) => conn.end(encodeResponse(r));
    if (req.event === '__ping') {
      const info: HookServerInfo = {
        pid: process.pid,
        pluginDir: options.pluginDir,
        socketPath,
        startedAt,
        calls,
        idleMs,
        inFlight,
        workers: pool.counts(),
      };
      return void answer({ status: 0, stdout: text(JSON.stringify(info) + '\n'), stderr: Buffer.alloc(0) });
    }
    if (req.event === '__stop') {
      answer({ status: 0, stdout: text('stopping\n'), stderr: Buffer.alloc(0) });
      return void close('stop requested');
    }
    if (closing || isStale()) {
      // Stop listening first, so that the client's node fallback finds no server and starts a current one.
      const done = close(closing ? 'shutting down' : 'code out of date (dist/ rebuilt or sources edited)');
      answer(fallback);
      return void done;
    }
    calls++;
    inFlight++;
    armIdle();
    const started = Date.now();
    try {
      const r = await pool.run(req, callTimeoutMs(req.env));
      if (r.how === 'fallback') {
        log(`hook server: a ${req.event} call handed to node: ${r.why}`);
        return void answer(fallback);
      }
      appendHookLog({
        event: req.event,
        tool: r.tool,
        exitCode: r.outcome.exitCode,
        ms: Date.now() - started,
        runner: 'server',
        env: req.env,
        cwd: req.cwd || process.cwd(),
      });
      answer(response(r.outcome));
    } finally {
      inFlight--;
      if (!closing) armIdle();
    }
  }

  // allowHalfOpen: the client shuts down its write side to end the request, and the answer comes after that.
  const server = net.createServer({ allowHalfOpen: true }, (conn) => {
    const reader = new HookRequestReader((callEnv) => maxPayloadBytes(callEnv));
    let received = false;
    let done = false;
    const readTimer = setTimeout(() => conn.destroy(), REQUEST_READ_MS).unref();
    /**
     * Answers before the request's end and reads no more of it: what the client still
     * sends is discarded (DISCARD_BYTES, DISCARD_MS at most), then the connection closed.
     */
    const refuse = (r: HookResponse) => {
      done = true;
      clearTimeout(readTimer);
      conn.removeAllListeners('data');
      conn.end(encodeResponse(r));
      let discarded = 0;
      const drop = () => conn.destroy();
      setTimeout(drop, DISCARD_MS).unref();
      conn.on('end', drop);
      conn.on('data', (c: Buffer) => {
        discarded += c.length;
        if (discarded > DISCARD_BYTES) drop();
      });
    };
    conn.on('error', () => undefined); // a client gone mid-call: nothing to answer
    conn.on('data', (c: Buffer) => {
      if (done) return;
      received = true;
      try {
        const st = reader.push(c);
        if (st.state !== 'too-large') return;
        // Over the payload limit: answered from the header alone, the payload never read.
        calls++;
        const o = payloadTooLargeOutcome(st.head.event, st.limit);
        appendHookLog({
          event: st.head.event,
          tool: '-',
          exitCode: o.exitCode,
          ms: 0,
          runner: 'server',
          env: st.head.env,
          cwd: st.head.cwd || process.cwd(),
        });
        refuse(response(o));
      } catch (e) {
        // A malformed request: the client falls back to node, which reports the problem itself.
        log(`hook server: ${(e as Error).message}`);
        refuse(fallback);
      }
    });
    conn.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(readTimer);
      // A connection that sends nothing is a liveness probe (startHookServerInBackground).
      if (!received) return void conn.end();
      let req: HookRequest;
      try {
        req = reader.end();
      } catch (e) {
        log(`hook server: ${(e as Error).message}`);
        return void conn.end(encodeResponse(fallback));
      }
      void serve(conn, req).catch((e: Error) => {
        log(`hook server: ${e.message}`);
        conn.end(encodeResponse(fallback));
      });
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
      await pool.close();
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
    await pool.close();
    await release().catch(() => undefined);
    throw new Error(`hook server: cannot listen on ${socketPath}: ${(e as Error).message}`, { cause: e });
  }
  server.on('error', (e) => log(`hook server: ${e.message}`));
  armIdle();
  log(`hook server: pid ${process.pid} listening on ${socketPath} (idle exit after ${idleMs} ms)`);
  return { socketPath, closed, close: (reason?: string) => close(reason) };
}

/** A server's lock not refreshed for this long belongs to a stopped or stuck process (ms). */
const LOCK_STALE_MS = 10_000;

/**
 * Sends a control request (`__ping`, `__stop`) or a hook call to the server
 * at `socketPath` (what the C client does, in Node: for the CLI and tests).
 * @throws Error when nothing listens there (code ENOENT or ECONNREFUSED), on
 *   timeout (ms), or HookProtocolError for a malformed answer.
 */
export function callHookServer(
  socketPath: string,
  event: string,
  stdin: Buffer = Buffer.alloc(0),
  env: Record<string, string> = {},
  timeoutMs = 5_000,
): Promise<HookResponse> {
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
      // A server that answers before reading the whole request (a payload over the limit) closes on the rest of it.
      try {
        resolve(decodeResponse(Buffer.concat(chunks)));
      } catch {
        reject(e);
      }
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
  /** Hook calls in progress (not yet answered). */
  inFlight: number;
  /** The worker threads: idle, running a call, running a timed-out call in the background; calls waiting for one. */
  workers: HookWorkerCounts;
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
 * runs already (its socket accepts and its lock is fresh), the fast path is
 * off (NEXTRUST_HOOK_SERVER=0) or not installed (no dist/hook-client).
 * Returns at once, without waiting for it. A server that stopped answering
 * (its process stopped or stuck: its lock no longer refreshed for 10 s) is
 * replaced: the new one takes over its lock and socket.
 * @returns what it did: 'started', 'running', 'disabled' or 'no-client'.
 * @throws Error for an unusable socket directory or path.
 */
export async function startHookServerInBackground(
  pluginDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<'started' | 'running' | 'disabled' | 'no-client'> {
  if (env.NEXTRUST_HOOK_SERVER === '0') return 'disabled';
  if (!fs.existsSync(path.join(pluginDir, 'dist', 'hook-client'))) return 'no-client';
  const socketPath = hookSocketPath(pluginDir, env);
  const up = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
  // A process that holds the socket but no fresh lock is not a working server of ours.
  if (
    up &&
    (await lockfile
      .check(socketPath, { realpath: false, lockfilePath: `${socketPath}.lock`, stale: LOCK_STALE_MS })
      .catch(() => false))
  )
    return 'running';
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
