/**
 * The hook fast path for real: the native client (native/hook-client.c,
 * compiled here with the project's build script) talking to a hook server
 * over its Unix socket, its fallback to node, and the command of
 * .claude/settings.json end to end (the first call starts a server, a rebuilt
 * plugin makes the server hand over); and the limits: payloads over
 * NEXTRUST_HOOK_MAX_PAYLOAD_BYTES, calls over NEXTRUST_HOOK_CALL_TIMEOUT_MS,
 * servers that accept and never answer, and other calls meanwhile. No test
 * asserts a duration: "meanwhile" is shown with calls that cannot finish
 * before the test lets them (a status lock it holds); the timings are in
 * tools/bench/hook-latency.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ACTIVITY_LOG, StatusStore, type Activity } from '../src/pipeline/status-store';
import { findPhase, PHASES_FILE, phasesFileSchema } from '../src/pipeline/phases';
import { readValidatedJson } from '../src/pipeline/validated-file';
import { readJsonLines } from './helpers/jsonl';
import { dispatchHook, payloadTooLargeOutcome } from '../src/integrations/claude/dispatcher';
import {
  decodeResponse,
  encodeRequest,
  hookSocketPath,
  maxPayloadBytes,
  type HookResponse,
} from '../src/integrations/claude/hook-protocol';
import {
  callHookServer,
  pingHookServer,
  startHookServer,
  type HookServerInfo,
  type RunningHookServer,
} from '../src/integrations/claude/hook-server';

jest.setTimeout(120_000);

const REPO = path.resolve(__dirname, '../../..');
const PLUGIN = path.join(REPO, 'tools/nx-plugin');
const FIXTURES = path.join(PLUGIN, 'src/pipeline/fixtures/failure-logs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildHookClient } = require('../scripts/build-hook-client.js') as {
  buildHookClient: (out: string) => { built: boolean; message: string };
};

let tmp: string;
let client: string;
let sockDir: string;
let ws: string;

/** A scratch workspace: nx.json and the real known issues and phases. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'ws-'));
  fs.writeFileSync(path.join(dir, 'nx.json'), '{ "plugins": [] }\n');
  fs.mkdirSync(path.join(dir, 'projects/ci-status'), { recursive: true });
  for (const f of ['known-issues.json', 'phases.json'])
    fs.copyFileSync(path.join(REPO, 'projects/ci-status', f), path.join(dir, 'projects/ci-status', f));
  return dir;
}

/**
 * The client's environment: no AI keys, the scratch socket dir, a short idle
 * time for servers it starts, and a time limit of 60 s per call (the suite
 * runs on a loaded machine; only the tests of the time limit set a short one).
 */
const clientEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: 'C.UTF-8',
  CLAUDE_PROJECT_DIR: ws,
  NEXTRUST_HOOK_SOCKET_DIR: sockDir,
  NEXTRUST_HOOK_SERVER_IDLE_MS: '30000',
  NEXTRUST_HOOK_CALL_TIMEOUT_MS: '60000',
  ...extra,
});

type Outcome = { exitCode: number | null; stdout: string; stderr: string };
/**
 * Runs `argv` with `stdin` (asynchronously: the server may be in this very
 * process). `io.stdinError` gets the code of a failed write of stdin (EPIPE:
 * the program exited without reading all of it).
 */
function runProgram(
  argv: string[],
  stdin: string | Buffer,
  env: NodeJS.ProcessEnv,
  cwd: string,
  io: { stdinError?: string } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    c.stdin.on('error', (e: NodeJS.ErrnoException) => (io.stdinError = e.code));
    c.stdin.end(stdin);
  });
}
/** Runs the client. */
const runClient = (
  event: string,
  stdin: string | Buffer,
  env = clientEnv(),
  cwd = ws,
  io: { stdinError?: string } = {},
) => runProgram([client, PLUGIN, event], stdin, env, cwd, io);

let seq = 0;
const pre = (command: string) =>
  JSON.stringify({
    session_id: 'sess-1',
    cwd: ws,
    hook_event_name: 'PreToolUse',
    tool_name: 'Bash',
    tool_input: { command },
    tool_use_id: `toolu_${++seq}`,
  });
const post = (command: string, response: Record<string, unknown>) =>
  JSON.stringify({
    session_id: 'sess-1',
    cwd: ws,
    hook_event_name: 'PostToolUse',
    tool_name: 'Bash',
    tool_input: { command },
    tool_response: { stdout: '', stderr: '', interrupted: false, ...response },
    tool_use_id: `toolu_${++seq}`,
  });

/** Runners of the hook-log lines written since `from` (bytes) in `dir`'s log of today. */
function runnersSince(dir: string, from = 0): string[] {
  const f = path.join(dir, '.claude/hook-logs', `${new Date().toISOString().slice(0, 10)}.log`);
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => / (server|node)$/.exec(l)?.[1] ?? `?${l}`);
}
const logSize = (dir: string) => {
  const f = path.join(dir, '.claude/hook-logs', `${new Date().toISOString().slice(0, 10)}.log`);
  return fs.existsSync(f) ? fs.statSync(f).size : 0;
};

const activities = (statusDir: string) => readJsonLines<Activity>(path.join(statusDir, ACTIVITY_LOG));

/** The server's info (generous timeout: a loaded machine runs the whole suite at once). */
const ping = (socketPath: string) => pingHookServer(socketPath, 15_000);

/** Waits until `cond` holds (checked every 50 ms, up to 60 s: an event, not a duration). */
async function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Holds the lock of the status directory `dir` (what every status write takes) until the returned function is called. */
async function holdStatusLock(dir: string): Promise<() => Promise<void>> {
  let release!: () => void;
  let held!: () => void;
  const isHeld = new Promise<void>((r) => (held = r));
  const done = new StatusStore(dir).withLock(() => {
    held();
    return new Promise<void>((r) => (release = r));
  });
  await isHeld;
  return async () => {
    release();
    await done;
  };
}

/** Makes phase `id` the current one of the status directory `dir`. */
async function setPhase(dir: string, id: string): Promise<void> {
  const phase = findPhase(readValidatedJson(path.join(dir, PHASES_FILE), phasesFileSchema), id);
  if (!phase) throw new Error(`no phase ${id}`);
  await new StatusStore(dir).setPhase(phase, 'in_progress');
}

/**
 * A client that ignores the payload limit, over a raw socket: sends a `pre`
 * request's header declaring `declared` stdin bytes, then (when `payload`
 * is given) those bytes, never ending its side.
 * @returns the server's answer, once it has closed the connection.
 */
function overLimitRequest(
  socketPath: string,
  declared: number,
  payload: Buffer | undefined,
  env: NodeJS.ProcessEnv,
): Promise<HookResponse> {
  return new Promise((resolve, reject) => {
    const header = encodeRequest({
      event: 'pre',
      cwd: ws,
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      stdin: Buffer.alloc(0),
    });
    header.writeUInt32BE(declared, header.length - 4);
    const c = net.connect(socketPath);
    const chunks: Buffer[] = [];
    c.on('connect', () => {
      c.write(header);
      if (payload) c.write(payload);
    });
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => undefined); // EPIPE / ECONNRESET: the server stopped taking the payload
    c.on('close', () => {
      try {
        resolve(decodeResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Socket dirs used so far (servers the node fallback started are stopped at the end). */
const sockDirs: string[] = [];
/** A new private socket dir: a server the node fallback starts in the background never meets the next test. */
function freshSockDir(): void {
  sockDir = fs.mkdtempSync(path.join(tmp, 'sock-'));
  fs.chmodSync(sockDir, 0o700);
  sockDirs.push(sockDir);
}

/** Stops every server answering in the socket dirs used (ones the node fallback started). */
async function stopAllServers(): Promise<void> {
  for (const dir of sockDirs) {
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.sock')) : []) {
      await callHookServer(path.join(dir, f), '__stop').catch(() => undefined);
    }
  }
}

/** Builds the plugin when its sources changed since (what setup's `npm run build` makes): the bin and the server's workers run dist/ then. */
function buildIfStale(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { distFreshness } = require('../bin/freshness.js') as { distFreshness: (d: string) => { fresh: boolean } };
  if (!distFreshness(PLUGIN).fresh || !fs.existsSync(path.join(PLUGIN, 'dist/hook-client'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed: ${b.stdout}${b.stderr}`);
  }
}

beforeAll(() => {
  buildIfStale();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nxhs-'));
  client = path.join(tmp, 'hook-client');
  const b = buildHookClient(client);
  if (!b.built) throw new Error(`the hook client was not built: ${b.message}`);
  freshSockDir();
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  ws = workspace();
});

describe('the client and a running server', () => {
  let server: RunningHookServer;
  let stale = false;
  const socketPath = () => hookSocketPath(PLUGIN, { NEXTRUST_HOOK_SOCKET_DIR: sockDir });
  beforeAll(async () => {
    server = await startHookServer({
      pluginDir: PLUGIN,
      env: { NEXTRUST_HOOK_SOCKET_DIR: sockDir },
      isStale: () => stale,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const cases: [string, string, () => string][] = [
    ['pre, harmless', 'pre', () => pre('cargo build --release')],
    ['pre, destructive', 'pre', () => pre('git push --force origin main')],
    ['pre, rm -rf /', 'pre', () => pre('rm -rf /')],
    ['pre, not JSON', 'pre', () => 'tool_name=Bash'],
    ['pre, no session_id', 'pre', () => JSON.stringify({ tool_name: 'Bash', tool_input: { command: 'ls' } })],
    ['unknown event', 'PreToolUse', () => pre('ls')],
    ['stop, hook already active', 'stop', () => JSON.stringify({ session_id: 's', stop_hook_active: true })],
  ];
  it.each(cases)(
    '%s: exactly what the dispatcher answers in-process, served by the server',
    async (_what, event, payload) => {
      const before = (await ping(socketPath()))!.calls;
      const from = logSize(ws);
      const stdin = payload();
      const viaServer = await runClient(event, stdin);
      const direct = await dispatchHook(event, stdin, clientEnv(), ws);
      expect(viaServer).toEqual(direct);
      expect((await ping(socketPath()))!.calls).toBe(before + 1);
      expect(runnersSince(ws, from)).toEqual(['server']);
    },
  );

  it("post: the environment and cwd are the client's: the activity goes to its NEXTRUST_STATUS_DIR, the log to its cwd", async () => {
    const other = fs.mkdtempSync(path.join(tmp, 'status-'));
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    // No CLAUDE_PROJECT_DIR and no cwd in the payload: the hook log goes to the client's cwd.
    const payload = JSON.stringify({
      session_id: 's',
      hook_event_name: 'PostToolUse',
      tool_name: 'Bash',
      tool_input: { command: 'make' },
      tool_response: { stdout: 'ok', stderr: '' },
      tool_use_id: 'toolu_env',
    });
    const out = await runClient(
      'post',
      payload,
      clientEnv({ CLAUDE_PROJECT_DIR: undefined, NEXTRUST_STATUS_DIR: other }),
      cwd,
    );
    expect(out).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(activities(other).map((a) => [a.type, a.details.command])).toEqual([['command_completed', 'make']]);
    expect(activities(path.join(ws, 'projects/ci-status'))).toEqual([]);
    expect(runnersSince(cwd)).toEqual(['server']);
  });

  it('post: a known failure in an 8 MiB output is diagnosed (exit 2) through the socket, recorded once (the payload limit raised to 16 MiB)', async () => {
    const log =
      'x'
        .repeat(1000)
        .concat('\n')
        .repeat(8 * 1024) + fs.readFileSync(path.join(FIXTURES, 'linker-not-found.log'), 'utf8');
    const out = await runClient(
      'post',
      post('cargo build --target m68k-unknown-linux-gnu', { stderr: log, exit_code: 101 }),
      clientEnv({ NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024) }),
    );
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain('known issue linker-not-found');
    const acts = activities(path.join(ws, 'projects/ci-status'));
    expect(acts.filter((a) => a.type === 'target_failed').map((a) => a.details.known_issue)).toEqual([
      'linker-not-found',
    ]);
    expect(runnersSince(ws)).toEqual(['server']);
  });

  it('8 clients at once: each answered, each command recorded once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => runClient('post', post(`echo ${i}`, { stdout: `${i}\n` }))),
    );
    expect(runs).toEqual(Array(8).fill({ exitCode: 0, stdout: '', stderr: '' }));
    const cmds = activities(path.join(ws, 'projects/ci-status')).map((a) => a.details.command);
    expect([...cmds].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `echo ${i}`).sort());
    expect(runnersSince(ws)).toEqual(Array(8).fill('server'));
  });

  it('a malformed request gets FALLBACK, not a crash; the server goes on', async () => {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const c = net.connect(socketPath());
      const chunks: Buffer[] = [];
      c.on('connect', () => c.end('GET / HTTP/1.1\r\n\r\n'));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
    });
    expect(answer.subarray(0, 12)).toEqual(
      Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
    );
    expect(await runClient('pre', pre('ls'))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('a socket directory others can enter is not used: the call runs through node, same answer', async () => {
    const before = (await ping(socketPath()))!.calls;
    fs.chmodSync(sockDir, 0o755);
    try {
      const out = await runClient('pre', pre('rm -rf ~'));
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toMatch(/^nextrust security guard: blocked: recursive rm of ~/);
    } finally {
      fs.chmodSync(sockDir, 0o700);
    }
    expect((await ping(socketPath()))!.calls).toBe(before);
    expect(runnersSince(ws)).toEqual(['node']);
  });

  it('NEXTRUST_HOOK_SERVER=0: the server is never asked', async () => {
    const before = (await ping(socketPath()))!.calls;
    expect(await runClient('pre', pre('ls'), clientEnv({ NEXTRUST_HOOK_SERVER: '0' }))).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
    });
    expect((await ping(socketPath()))!.calls).toBe(before);
    expect(runnersSince(ws)).toEqual(['node']);
  });

  describe('limits', () => {
    const info = async () => (await ping(socketPath())) as HookServerInfo;
    const statusDir = () => path.join(ws, 'projects/ci-status');
    const OK = { exitCode: 0, stdout: '', stderr: '' };

    it('a 50 MB payload: the client answers at once without reading it (pre blocked, post a non-blocking error), never sending it; the dispatcher answers the same', async () => {
      const before = (await info()).calls;
      const from = logSize(ws);
      const big = Buffer.alloc(50 * 1024 * 1024, 'x');
      for (const [event, exitCode] of [
        ['pre', 2],
        ['post', 1],
      ] as const) {
        const io: { stdinError?: string } = {};
        const out = await runClient(event, big, clientEnv(), ws, io);
        expect(out).toEqual(payloadTooLargeOutcome(event, 1024 * 1024));
        expect(out.exitCode).toBe(exitCode);
        expect(out).toEqual(await dispatchHook(event, big.toString('latin1'), clientEnv(), ws));
        // It stopped reading: the rest of the 50 MB could not be written to it.
        expect(io.stdinError).toBe('EPIPE');
      }
      expect(payloadTooLargeOutcome('pre', 1024 * 1024).stderr).toBe(
        'nextrust security guard: blocked: the hook payload is over 1048576 bytes (NEXTRUST_HOOK_MAX_PAYLOAD_BYTES), so the command cannot be checked\n',
      );
      expect((await info()).calls).toBe(before);
      expect(runnersSince(ws, from)).toEqual([]);
      expect(activities(statusDir())).toEqual([]);
    });

    it.each(['100', '00100', '1e2', '0', ' 100', '4294967295', '99999999999'])(
      'NEXTRUST_HOOK_MAX_PAYLOAD_BYTES=%j: the client applies the limit hook-protocol.ts reads (limit + 1 bytes refused, limit bytes served)',
      async (value) => {
        const limit = maxPayloadBytes({ NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: value });
        expect([100, 1024 * 1024]).toContain(limit);
        const env = clientEnv({ NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: value });
        expect(await runClient('pre', Buffer.alloc(limit + 1, 'x'), env)).toEqual(payloadTooLargeOutcome('pre', limit));
        const before = (await info()).calls;
        // Not JSON, so blocked as unreadable: by the server, which read it.
        const served = await runClient('pre', Buffer.alloc(limit, 'x'), env);
        expect(served.exitCode).toBe(2);
        expect(served.stderr).toMatch(/^nextrust security guard: blocked: the hook payload cannot be read/);
        expect((await info()).calls).toBe(before + 1);
      },
    );

    it('a client that ignores the limit: a 50 MB request is refused from its header, the rest never read; an ordinary call meanwhile is answered', async () => {
      const from = logSize(ws);
      const streamed = overLimitRequest(socketPath(), 50_000_000, Buffer.alloc(50_000_000, 'x'), clientEnv());
      const ordinary = runClient('pre', pre('ls'));
      const answer = await streamed;
      expect(await ordinary).toEqual(OK);
      expect({ status: answer.status, stdout: answer.stdout.toString(), stderr: answer.stderr.toString() }).toEqual({
        status: 2,
        stdout: '',
        stderr: payloadTooLargeOutcome('pre', 1024 * 1024).stderr,
      });
      // The header alone is answered: the server waits for none of the payload.
      const headerOnly = await overLimitRequest(
        socketPath(),
        50_000_000,
        undefined,
        clientEnv({ NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: '1000' }),
      );
      expect(headerOnly.stderr.toString()).toBe(payloadTooLargeOutcome('pre', 1000).stderr);
      expect(runnersSince(ws, from).sort()).toEqual(['server', 'server', 'server']);
    });

    it('a slow call holds up no other: while a post waits for the status lock, pre calls are answered', async () => {
      const unlock = await holdStatusLock(statusDir());
      let slowDone = false;
      const slow = runClient(
        'post',
        post('make', { stdout: 'ok\n' }),
        clientEnv({ NEXTRUST_LOCK_TIMEOUT_MS: '600000', NEXTRUST_HOOK_CALL_TIMEOUT_MS: '600000' }),
      ).then((o) => {
        slowDone = true;
        return o;
      });
      try {
        await waitFor(async () => (await info()).inFlight === 1, 'the post call to be in progress');
        expect(await runClient('pre', pre('ls'))).toEqual(OK);
        const blocked = await runClient('pre', pre('rm -rf /'));
        expect(blocked.exitCode).toBe(2);
        expect(blocked.stderr).toMatch(/^nextrust security guard: blocked: recursive rm of \//);
        expect(slowDone).toBe(false);
        expect((await info()).inFlight).toBe(1);
      } finally {
        await unlock();
      }
      expect(await slow).toEqual(OK);
      expect(activities(statusDir()).map((a) => a.details.command)).toEqual(['make']);
    });

    it('a pre call over NEXTRUST_HOOK_CALL_TIMEOUT_MS is blocked, and its work stopped (its worker terminated: nothing recorded later)', async () => {
      await setPhase(statusDir(), 'llvm-backend'); // the build below is of a later phase: alignment records phase_misaligned
      const from = logSize(ws);
      const before = (await info()).workers.terminated;
      const unlock = await holdStatusLock(statusDir());
      try {
        const out = await runClient(
          'pre',
          pre('npx nx run rust-target:build -c m68040'),
          clientEnv({ NEXTRUST_LOCK_TIMEOUT_MS: '600000', NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1500' }),
        );
        expect(out).toEqual({
          exitCode: 2,
          stdout: '',
          stderr:
            'nextrust security guard: blocked: the hook did not finish within 1500 ms (NEXTRUST_HOOK_CALL_TIMEOUT_MS), so the command cannot be checked\n',
        });
        const w = (await info()).workers;
        expect(w).toMatchObject({ active: 0, background: 0, terminated: before + 1 });
      } finally {
        await unlock();
      }
      // A status write after the lock is free; the stopped check never writes its phase_misaligned.
      expect(await runClient('post', post('true', {}))).toEqual(OK);
      expect(activities(statusDir()).filter((a) => a.type === 'phase_misaligned')).toEqual([]);
      expect(runnersSince(ws, from)).toEqual(['server', 'server']);
    });

    it('a pre call over its time limit in CPU work (the guard on 66,000 nested substitutions, a 1 ms limit) is blocked, its worker terminated; the next call is served', async () => {
      const before = (await info()).workers.terminated;
      const out = await runClient(
        'pre',
        pre('$('.repeat(33_000) + ')'.repeat(33_000)),
        clientEnv({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1' }),
      );
      expect(out).toEqual({
        exitCode: 2,
        stdout: '',
        stderr:
          'nextrust security guard: blocked: the hook did not finish within 1 ms (NEXTRUST_HOOK_CALL_TIMEOUT_MS), so the command cannot be checked\n',
      });
      expect((await info()).workers.terminated).toBe(before + 1);
      expect(await runClient('pre', pre('ls'))).toEqual(OK);
    });

    it('another event over its time limit: a non-blocking error at the limit, its work goes on in the background and completes', async () => {
      const unlock = await holdStatusLock(statusDir());
      try {
        const out = await runClient(
          'post',
          post('make all', { stdout: 'ok\n' }),
          clientEnv({ NEXTRUST_LOCK_TIMEOUT_MS: '600000', NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1500' }),
        );
        expect(out).toEqual({
          exitCode: 1,
          stdout: '',
          stderr:
            'nextrust hook post: did not finish within 1500 ms (NEXTRUST_HOOK_CALL_TIMEOUT_MS); it goes on in the background\n',
        });
        expect((await info()).workers.background).toBe(1);
        expect(activities(statusDir())).toEqual([]);
      } finally {
        await unlock();
      }
      await waitFor(
        () => activities(statusDir()).some((a) => a.details.command === 'make all'),
        'the background post to record its command',
      );
      await waitFor(async () => (await info()).workers.background === 0, 'the background worker to be done');
    });
  });

  // Last in this block: it stops the server.
  it('a server whose code is out of date hands the call to node and stops (socket removed)', async () => {
    stale = true;
    const out = await runClient('pre', pre('mkfs.ext4 /dev/sda1'));
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/^nextrust security guard: blocked: /);
    expect(await server.closed).toBe('code out of date (dist/ rebuilt or sources edited)');
    expect(runnersSince(ws)).toEqual(['node']);
  });
});

describe('the client without a usable server', () => {
  beforeEach(freshSockDir);

  it('nothing listening: the call runs through node with the same answer', async () => {
    const stdin = pre('dd if=/dev/zero of=/dev/sda');
    const out = await runClient('pre', stdin);
    expect(out).toEqual(await dispatchHook('pre', stdin, clientEnv(), ws));
    expect(out.exitCode).toBe(2);
    expect(runnersSince(ws)[0]).toBe('node');
  });

  // Each behaviour is set up on the accepted connection; `atEnd` runs once the client has sent its request.
  const atEnd = (answer: (c: net.Socket) => void) => (c: net.Socket) => {
    c.on('data', () => undefined);
    c.on('end', () => answer(c));
  };
  it.each([
    ['answers garbage', atEnd((c) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'))],
    ['closes without answering', atEnd((c) => c.destroy())],
    [
      'answers a cut-off response',
      atEnd((c) =>
        c.end(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 50]), Buffer.from('short')])),
      ),
    ],
    [
      'answers an exit code above 255',
      atEnd((c) => c.end(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])]))),
    ],
    // The client's time limit: NEXTRUST_HOOK_CALL_TIMEOUT_MS (500 ms here) + 2 s for the whole exchange.
    ['accepts, reads the request and never answers', atEnd(() => undefined)],
    ['accepts and never reads (the 900 KB request fills the socket)', (c: net.Socket) => void c.pause()],
  ])('a server that %s: the client runs the hook through node (the guard still blocks)', async (_what, behave) => {
    const socketPath = hookSocketPath(PLUGIN, { NEXTRUST_HOOK_SOCKET_DIR: sockDir });
    const connections: net.Socket[] = [];
    const bad = net.createServer({ allowHalfOpen: true }, (c) => {
      connections.push(c);
      c.on('error', () => undefined); // the client may be gone already
      behave(c);
    });
    await new Promise<void>((r) => bad.listen(socketPath, r));
    try {
      const padded = JSON.stringify({ ...JSON.parse(pre('rm -rf /')), padding: 'p'.repeat(900_000) });
      const out = await runClient('pre', padded, clientEnv({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '500' }));
      expect(out.exitCode).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(/^nextrust security guard: blocked: recursive rm of \//);
      expect(connections.length).toBeGreaterThanOrEqual(1);
      expect(runnersSince(ws)).toEqual(['node']);
    } finally {
      for (const c of connections) c.destroy(); // the ones that never answer would keep the server open
      await new Promise((r) => bad.close(r));
      fs.rmSync(socketPath, { force: true });
    }
  });

  it('the node path (bin/nextrust.js hook, what bin/nextrust-hook runs without a client) reads at most the limit: a 50 MB payload is blocked unread', async () => {
    const io: { stdinError?: string } = {};
    const out = await runProgram(
      [process.execPath, path.join(PLUGIN, 'bin/nextrust.js'), 'hook', 'pre'],
      Buffer.alloc(50 * 1024 * 1024, 'x'),
      clientEnv(),
      ws,
      io,
    );
    expect(out).toEqual(payloadTooLargeOutcome('pre', 1024 * 1024));
    expect(io.stdinError).toBe('EPIPE');
    expect(runnersSince(ws)).toEqual(['node']);
  });

  it('the node path has the time limit too: a pre call waiting for the status lock is blocked at NEXTRUST_HOOK_CALL_TIMEOUT_MS and the process exits', async () => {
    const statusDir = path.join(ws, 'projects/ci-status');
    await setPhase(statusDir, 'llvm-backend');
    const unlock = await holdStatusLock(statusDir);
    try {
      const env = clientEnv({ NEXTRUST_LOCK_TIMEOUT_MS: '600000', NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1500' });
      const out = await runProgram(
        [process.execPath, path.join(PLUGIN, 'bin/nextrust.js'), 'hook', 'pre'],
        pre('npx nx run rust-target:build -c m68040'),
        env,
        ws,
      );
      expect(out).toEqual({
        exitCode: 2,
        stdout: '',
        stderr:
          'nextrust security guard: blocked: the hook did not finish within 1500 ms (NEXTRUST_HOOK_CALL_TIMEOUT_MS), so the command cannot be checked\n',
      });
    } finally {
      await unlock();
    }
    expect(runnersSince(ws)).toEqual(['node']);
  });

  it('usage errors are clear', () => {
    const r = spawnSync(client, ['only-one-arg'], { input: '', encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('usage: hook-client PLUGIN_DIR EVENT  (the Claude Code hook payload on stdin)\n');
    const m = spawnSync(client, [path.join(tmp, 'no-such-plugin'), 'pre'], { input: '{}', encoding: 'utf8' });
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/^nextrust hook pre: plugin directory .*no-such-plugin: No such file or directory\n$/);
  });
});

describe('the command of .claude/settings.json, end to end', () => {
  const settings = JSON.parse(fs.readFileSync(path.join(REPO, '.claude/settings.json'), 'utf8')) as {
    hooks: Record<string, { hooks: { command: string }[] }[]>;
  };
  const command = settings.hooks.PreToolUse[0].hooks[0].command;
  // The repository's command, with the scratch workspace as the project (its hook log, its status).
  const sh = (stdin: string, env = clientEnv()) => {
    const r = spawnSync('sh', ['-c', command.replaceAll('$CLAUDE_PROJECT_DIR', REPO)], {
      cwd: ws,
      env,
      input: stdin,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(PLUGIN, 'bin/nextrust.js'), ...args], {
      cwd: REPO,
      env: clientEnv(),
      encoding: 'utf8',
    });
  const wsLog = () => logSize(ws);
  const socketPath = () => hookSocketPath(PLUGIN, { NEXTRUST_HOOK_SOCKET_DIR: sockDir });
  async function waitForServer(notPid?: number) {
    // Up to 60 s: a node start-up plus the server's, on a loaded machine.
    for (let i = 0; i < 1200; i++) {
      const info = await ping(socketPath());
      if (info && info.pid !== notPid) return info;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `no hook server came up on ${socketPath()}; its log: ${fs.existsSync(socketPath().replace(/\.sock$/, '.log')) ? fs.readFileSync(socketPath().replace(/\.sock$/, '.log'), 'utf8') : '(none)'}`,
    );
  }

  beforeAll(() => {
    freshSockDir();
    // The fast path runs the built plugin: built again if sources changed while the tests above ran.
    buildIfStale();
  });
  it('a 50 MB payload through the exact command: blocked at once, one line, unread', async () => {
    const io: { stdinError?: string } = {};
    const out = await runProgram(
      ['sh', '-c', command.replaceAll('$CLAUDE_PROJECT_DIR', REPO)],
      Buffer.alloc(50 * 1024 * 1024, ' '),
      clientEnv(),
      ws,
      io,
    );
    expect(out).toEqual(payloadTooLargeOutcome('pre', 1024 * 1024));
    expect(io.stdinError).toBe('EPIPE');
  });

  it('the first call runs through node and starts a server; the next ones are served by it; a rebuild hands over; stop and status; SessionStart starts one', async () => {
    expect(command).toBe('"$CLAUDE_PROJECT_DIR"/tools/nx-plugin/bin/nextrust-hook pre');
    const from = wsLog();
    expect(sh(pre('ls'))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    const first = await waitForServer();
    const blocked = sh(pre('rm -rf /'));
    expect(blocked.exitCode).toBe(2);
    expect(blocked.stderr).toMatch(/^nextrust security guard: blocked: recursive rm of \//);
    expect(runnersSince(ws, from)).toEqual(['node', 'server']);

    const status = cli('hook-server', 'status', '--json');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      running: true,
      pid: first.pid,
      socketPath: socketPath(),
      calls: 1,
    });

    // `npm run build` rewrites dist/.build-stamp last: the running server is out of date.
    const stamp = path.join(PLUGIN, 'dist/.build-stamp');
    const now = new Date();
    fs.utimesSync(stamp, now, now);
    const afterRebuild = wsLog();
    expect(sh(pre('ls'))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(runnersSince(ws, afterRebuild)).toEqual(['node']);
    const second = await waitForServer(first.pid);
    expect(second.pid).not.toBe(first.pid);
    expect(sh(pre('ls')).exitCode).toBe(0);
    expect(runnersSince(ws, afterRebuild)).toEqual(['node', 'server']);

    expect(cli('hook-server', 'stop').stdout).toBe(`hook server stopped (socket ${socketPath()})\n`);
    for (let i = 0; i < 100 && fs.existsSync(socketPath()); i++) await new Promise((r) => setTimeout(r, 50));

    // SessionStart (settings.json) starts a server before the first tool call, which it then serves.
    const start = spawnSync(
      'sh',
      ['-c', settings.hooks.SessionStart[0].hooks[0].command.replaceAll('$CLAUDE_PROJECT_DIR', REPO)],
      {
        cwd: ws,
        env: clientEnv(),
        input: JSON.stringify({ session_id: 'sess-2', cwd: ws, hook_event_name: 'SessionStart', source: 'startup' }),
        encoding: 'utf8',
      },
    );
    expect({ status: start.status, stdout: start.stdout, stderr: start.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    await waitForServer(second.pid);
    const afterStart = wsLog();
    expect(sh(pre('ls')).exitCode).toBe(0);
    expect(runnersSince(ws, afterStart)).toEqual(['server']);
    expect(cli('hook-server', 'stop').status).toBe(0);
    for (let i = 0; i < 100 && fs.existsSync(socketPath()); i++) await new Promise((r) => setTimeout(r, 50));
    const gone = cli('hook-server', 'status');
    expect(gone.status).toBe(1);
    expect(gone.stdout).toBe(`no hook server running (socket ${socketPath()})\n`);

    // `hook-server start` returns once the server answers; off with NEXTRUST_HOOK_SERVER=0.
    const started = cli('hook-server', 'start');
    expect({ status: started.status, stderr: started.stderr }).toEqual({ status: 0, stderr: '' });
    expect(started.stdout).toMatch(
      new RegExp(`^hook server running: pid \\d+, socket ${socketPath().replace(/[.]/g, '\\.')}\n$`),
    );
    expect(await ping(socketPath())).toBeDefined();
    expect(cli('hook-server', 'stop').status).toBe(0);
    const off = spawnSync(process.execPath, [path.join(PLUGIN, 'bin/nextrust.js'), 'hook-server', 'start'], {
      cwd: REPO,
      env: clientEnv({ NEXTRUST_HOOK_SERVER: '0' }),
      encoding: 'utf8',
    });
    expect({ status: off.status, stderr: off.stderr }).toEqual({
      status: 1,
      stderr: 'nextrust hook-server: NEXTRUST_HOOK_SERVER=0: not started\n',
    });
  });
});
