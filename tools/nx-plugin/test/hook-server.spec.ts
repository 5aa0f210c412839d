/**
 * The hook fast path for real: the native client (native/hook-client.c,
 * compiled here with the project's build script) talking to a hook server
 * over its Unix socket, its fallback to node, and the command of
 * .claude/settings.json end to end (the first call starts a server, a rebuilt
 * plugin makes the server hand over).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ACTIVITY_LOG, type Activity } from '../src/pipeline/status-store';
import { readJsonLines } from './helpers/jsonl';
import { dispatchHook } from '../src/integrations/claude/dispatcher';
import { hookSocketPath } from '../src/integrations/claude/hook-protocol';
import { callHookServer, pingHookServer, startHookServer, type RunningHookServer } from '../src/integrations/claude/hook-server';

jest.setTimeout(120_000);

const REPO = path.resolve(__dirname, '../../..');
const PLUGIN = path.join(REPO, 'tools/nx-plugin');
const FIXTURES = path.join(PLUGIN, 'src/pipeline/fixtures/failure-logs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildHookClient } = require('../scripts/build-hook-client.js') as { buildHookClient: (out: string) => { built: boolean; message: string } };

let tmp: string;
let client: string;
let sockDir: string;
let ws: string;

/** A scratch workspace: nx.json and the real known issues and phases. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'ws-'));
  fs.writeFileSync(path.join(dir, 'nx.json'), '{ "plugins": [] }\n');
  fs.mkdirSync(path.join(dir, 'projects/ci-status'), { recursive: true });
  for (const f of ['known-issues.json', 'phases.json']) fs.copyFileSync(path.join(REPO, 'projects/ci-status', f), path.join(dir, 'projects/ci-status', f));
  return dir;
}

/** The client's environment: no AI keys, the scratch socket dir, a short idle time for servers it starts. */
const clientEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: 'C.UTF-8',
  CLAUDE_PROJECT_DIR: ws,
  NEXTRUST_HOOK_SOCKET_DIR: sockDir,
  NEXTRUST_HOOK_SERVER_IDLE_MS: '30000',
  ...extra,
});

type Outcome = { exitCode: number | null; stdout: string; stderr: string };
/** Runs the client (asynchronously: the server may be in this very process). */
function runClient(event: string, stdin: string, env = clientEnv(), cwd = ws): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const c = spawn(client, [PLUGIN, event], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    c.stdin.on('error', () => undefined);
    c.stdin.end(stdin);
  });
}

let seq = 0;
const pre = (command: string) => JSON.stringify({ session_id: 'sess-1', cwd: ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: `toolu_${++seq}` });
const post = (command: string, response: Record<string, unknown>) =>
  JSON.stringify({ session_id: 'sess-1', cwd: ws, hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command }, tool_response: { stdout: '', stderr: '', interrupted: false, ...response }, tool_use_id: `toolu_${++seq}` });

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

beforeAll(() => {
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
    server = await startHookServer({ pluginDir: PLUGIN, env: { NEXTRUST_HOOK_SOCKET_DIR: sockDir }, isStale: () => stale });
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
  it.each(cases)('%s: exactly what the dispatcher answers in-process, served by the server', async (_what, event, payload) => {
    const before = (await ping(socketPath()))!.calls;
    const from = logSize(ws);
    const stdin = payload();
    const viaServer = await runClient(event, stdin);
    const direct = await dispatchHook(event, stdin, clientEnv(), ws);
    expect(viaServer).toEqual(direct);
    expect((await ping(socketPath()))!.calls).toBe(before + 1);
    expect(runnersSince(ws, from)).toEqual(['server']);
  });

  it('post: the environment and cwd are the client\'s: the activity goes to its NEXTRUST_STATUS_DIR, the log to its cwd', async () => {
    const other = fs.mkdtempSync(path.join(tmp, 'status-'));
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    // No CLAUDE_PROJECT_DIR and no cwd in the payload: the hook log goes to the client's cwd.
    const payload = JSON.stringify({ session_id: 's', hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'make' }, tool_response: { stdout: 'ok', stderr: '' }, tool_use_id: 'toolu_env' });
    const out = await runClient('post', payload, clientEnv({ CLAUDE_PROJECT_DIR: undefined, NEXTRUST_STATUS_DIR: other }), cwd);
    expect(out).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(activities(other).map((a) => [a.type, a.details.command])).toEqual([['command_completed', 'make']]);
    expect(activities(path.join(ws, 'projects/ci-status'))).toEqual([]);
    expect(runnersSince(cwd)).toEqual(['server']);
  });

  it('post: a known failure in an 8 MiB output is diagnosed (exit 2) through the socket, recorded once', async () => {
    const log = 'x'.repeat(1000).concat('\n').repeat(8 * 1024) + fs.readFileSync(path.join(FIXTURES, 'linker-not-found.log'), 'utf8');
    const out = await runClient('post', post('cargo build --target m68k-unknown-linux-gnu', { stderr: log, exit_code: 101 }));
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain('known issue linker-not-found');
    const acts = activities(path.join(ws, 'projects/ci-status'));
    expect(acts.filter((a) => a.type === 'target_failed').map((a) => a.details.known_issue)).toEqual(['linker-not-found']);
    expect(runnersSince(ws)).toEqual(['server']);
  });

  it('8 clients at once: each answered, each command recorded once', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => runClient('post', post(`echo ${i}`, { stdout: `${i}\n` }))));
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
    expect(answer.subarray(0, 12)).toEqual(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
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
    expect(await runClient('pre', pre('ls'), clientEnv({ NEXTRUST_HOOK_SERVER: '0' }))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect((await ping(socketPath()))!.calls).toBe(before);
    expect(runnersSince(ws)).toEqual(['node']);
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

  it.each([
    ['answers garbage', (c: net.Socket) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n')],
    ['closes without answering', (c: net.Socket) => c.destroy()],
    ['answers a cut-off response', (c: net.Socket) => c.end(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 50]), Buffer.from('short')]))],
    ['answers an exit code above 255', (c: net.Socket) => c.end(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])]))],
  ])('a server that %s: the client runs the hook through node (the guard still blocks)', async (_what, behave) => {
    const socketPath = hookSocketPath(PLUGIN, { NEXTRUST_HOOK_SOCKET_DIR: sockDir });
    let connections = 0;
    const bad = net.createServer({ allowHalfOpen: true }, (c) => {
      connections++;
      c.on('error', () => undefined); // the client may be gone already
      c.on('data', () => undefined);
      c.on('end', () => behave(c));
    });
    await new Promise<void>((r) => bad.listen(socketPath, r));
    try {
      const out = await runClient('pre', pre('rm -rf /'));
      expect(out.exitCode).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(/^nextrust security guard: blocked: recursive rm of \//);
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(runnersSince(ws)).toEqual(['node']);
    } finally {
      await new Promise((r) => bad.close(r));
      fs.rmSync(socketPath, { force: true });
    }
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
  const settings = JSON.parse(fs.readFileSync(path.join(REPO, '.claude/settings.json'), 'utf8')) as { hooks: Record<string, { hooks: { command: string }[] }[]> };
  const command = settings.hooks.PreToolUse[0].hooks[0].command;
  // The repository's command, with the scratch workspace as the project (its hook log, its status).
  const sh = (stdin: string, env = clientEnv()) => {
    const r = spawnSync('sh', ['-c', command.replaceAll('$CLAUDE_PROJECT_DIR', REPO)], { cwd: ws, env, input: stdin, encoding: 'utf8', timeout: 60_000 });
    return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(PLUGIN, 'bin/nextrust.js'), ...args], { cwd: REPO, env: clientEnv(), encoding: 'utf8' });
  const wsLog = () => logSize(ws);
  const socketPath = () => hookSocketPath(PLUGIN, { NEXTRUST_HOOK_SOCKET_DIR: sockDir });
  async function waitForServer(notPid?: number) {
    // Up to 60 s: a node start-up plus the server's, on a loaded machine.
    for (let i = 0; i < 1200; i++) {
      const info = await ping(socketPath());
      if (info && info.pid !== notPid) return info;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no hook server came up on ${socketPath()}; its log: ${fs.existsSync(socketPath().replace(/\.sock$/, '.log')) ? fs.readFileSync(socketPath().replace(/\.sock$/, '.log'), 'utf8') : '(none)'}`);
  }

  beforeAll(() => {
    freshSockDir();
    // The fast path runs the built plugin (what setup's `npm run build` makes): build it if sources changed since.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { distFreshness } = require('../bin/freshness.js') as { distFreshness: (d: string) => { fresh: boolean } };
    if (!distFreshness(PLUGIN).fresh || !fs.existsSync(path.join(PLUGIN, 'dist/hook-client'))) {
      const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`npm run build failed: ${b.stdout}${b.stderr}`);
    }
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
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: first.pid, socketPath: socketPath(), calls: 1 });

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
    const start = spawnSync('sh', ['-c', settings.hooks.SessionStart[0].hooks[0].command.replaceAll('$CLAUDE_PROJECT_DIR', REPO)], {
      cwd: ws,
      env: clientEnv(),
      input: JSON.stringify({ session_id: 'sess-2', cwd: ws, hook_event_name: 'SessionStart', source: 'startup' }),
      encoding: 'utf8',
    });
    expect({ status: start.status, stdout: start.stdout, stderr: start.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
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
    expect(started.stdout).toMatch(new RegExp(`^hook server running: pid \\d+, socket ${socketPath().replace(/[.]/g, '\\.')}\n$`));
    expect(await ping(socketPath())).toBeDefined();
    expect(cli('hook-server', 'stop').status).toBe(0);
    const off = spawnSync(process.execPath, [path.join(PLUGIN, 'bin/nextrust.js'), 'hook-server', 'start'], { cwd: REPO, env: clientEnv({ NEXTRUST_HOOK_SERVER: '0' }), encoding: 'utf8' });
    expect({ status: off.status, stderr: off.stderr }).toEqual({ status: 1, stderr: 'nextrust hook-server: NEXTRUST_HOOK_SERVER=0: not started\n' });
  });
});
