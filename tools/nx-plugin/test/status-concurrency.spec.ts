// Real multi-process tests of the status store: parallel writers (StatusStore in
// separate node processes, and the real `nextrust` CLI), writers SIGKILLed at random
// moments and while holding the lock, and one idempotency key raced by 4 processes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ACTIVITY_LOG,
  MARKDOWN_VIEW,
  parseActivityLine,
  StatusStore,
  type Activity,
} from '../src/pipeline/status-store';

const ROOT = path.resolve(__dirname, '../../..');
const WRITER = path.join(__dirname, 'helpers/status-writer.ts');
const CLI = path.join(ROOT, 'tools/nx-plugin/bin/nextrust.js');

jest.setTimeout(90_000);

/** A spawned process, with its stdout lines collected as they arrive. */
interface Proc {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a stdout line matches. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  // A generous lock wait: these tests are about lost and torn entries, not the timeout (tested in
  // status-store.spec.ts); killed holders each cost a stale period, and a loaded machine is slow.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NEXTRUST_LOCK_TIMEOUT_MS: '120000', WRITER_LOCK_TIMEOUT_MS: '120000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let carry = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find((l) => re.test(l));
      if (hit) return resolve(hit);
      const t = setTimeout(
        () => reject(new Error(`timed out waiting for ${re} from ${args.join(' ')}; stderr: ${err}`)),
        timeoutMs,
      );
      waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      void exit.then(() =>
        setTimeout(() => reject(new Error(`${args.join(' ')} exited before printing ${re}; stderr: ${err}`)), 50),
      );
    });
  return { child, lines, stderr: () => err, exit, waitFor };
}

const writer = (
  mode: string,
  dir: string,
  id: string,
  count?: number,
  stopFile?: string,
  env: NodeJS.ProcessEnv = {},
) =>
  start(
    [
      '-r',
      '@swc-node/register',
      WRITER,
      mode,
      dir,
      id,
      ...(count !== undefined ? [String(count)] : []),
      ...(stopFile ? [stopFile] : []),
    ],
    env,
  );
const cli = (dir: string, ...args: string[]) => start([CLI, '--status-dir', dir, ...args]);

/** Recorded (writer, seq) pairs a writer reported. */
const reported = (p: Proc) => p.lines.filter((l) => l.startsWith('recorded ')).map((l) => l.slice('recorded '.length));

/** Every line of the log, parsed and validated; fails on any invalid or torn line. */
function readLogStrict(dir: string): Activity[] {
  const text = fs.readFileSync(path.join(dir, ACTIVITY_LOG), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const parsed = parseActivityLine(line);
      if ('error' in parsed) throw new Error(`${ACTIVITY_LOG}:${i + 1} invalid (${parsed.error}): ${line}`);
      return parsed.activity;
    });
}

const idOf = (a: Activity) => `${a.details.writer} ${a.details.seq}`;

/** Count of each (writer, seq) of concurrency_test activities. */
function counts(activities: Activity[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of activities.filter((x) => x.type === 'concurrency_test')) m.set(idOf(a), (m.get(idOf(a)) ?? 0) + 1);
  return m;
}

/** Checks the Markdown view: layout, and its recent activities are exactly the log's last 25 lines. */
function checkMarkdown(dir: string, log: Activity[]): void {
  const md = fs.readFileSync(path.join(dir, MARKDOWN_VIEW), 'utf8');
  const lines = md.split('\n');
  expect(lines[0]).toBe('# NeXTRust CI Pipeline Status');
  expect(lines[1]).toMatch(/^\*Last updated: \d{4}-\d{2}-\d{2}T[\d:.]+Z\*$/);
  expect(lines).toContain('## Current Phase: none set');
  const recentAt = lines.indexOf('## Recent Activities');
  expect(recentAt).toBeGreaterThan(0);
  const recent = lines.slice(recentAt + 1).filter((l) => l !== '');
  for (const l of recent) expect(l).toMatch(/^- \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z - [a-z_]+: .+$/);
  const expected = log
    .slice(-25)
    .map((a) => `- ${a.timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} - ${a.type}: ${a.details.message}`);
  expect(recent).toEqual(expected);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('status store with many processes', () => {
  let dir: string;
  const procs: Proc[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-status-mp-'));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exit;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('6 processes appending 50 activities each at once: exactly 300 whole lines, each (writer, seq) once', async () => {
    const go = path.join(dir, 'go');
    const ws = Array.from({ length: 6 }, (_, i) =>
      writer('append', dir, `w${i}`, 50, undefined, { WRITER_GO_FILE: go }),
    );
    procs.push(...ws);
    // All six start appending at the same moment.
    await Promise.all(ws.map((p) => p.waitFor(/^ready$/)));
    fs.writeFileSync(go, '');
    const results = await Promise.all(ws.map((p) => p.exit));
    ws.forEach((p, i) =>
      expect({ writer: i, ...results[i], stderr: p.stderr() }).toEqual({
        writer: i,
        code: 0,
        signal: null,
        stderr: '',
      }),
    );

    const log = readLogStrict(dir);
    expect(log).toHaveLength(300);
    const c = counts(log);
    for (let w = 0; w < 6; w++)
      for (let s = 0; s < 50; s++) expect([`w${w} ${s}`, c.get(`w${w} ${s}`)]).toEqual([`w${w} ${s}`, 1]);
    // Each writer's own activities are in its order.
    for (let w = 0; w < 6; w++) {
      expect(log.filter((a) => a.details.writer === `w${w}`).map((a) => a.details.seq)).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
    }
    // The writers really interleaved (one after the other would switch writer 5 times).
    const switches = log.filter((a, i) => i > 0 && a.details.writer !== log[i - 1].details.writer).length;
    expect(switches).toBeGreaterThan(10);
    expect(fs.existsSync(path.join(dir, '.status.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'corrupt'))).toBe(false);
    const read = await new StatusStore(dir).readActivities();
    expect(read.warnings).toEqual([]);
    expect(read.activities).toHaveLength(300);
    checkMarkdown(dir, log);
  });

  it('writers SIGKILLed at random moments and while holding the lock: no torn or lost line, the fragment in corrupt/, the next append works', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const stop = path.join(dir, 'stop-survivors');
    // Four writers appending in a loop: two are killed at random moments, two run until told to stop.
    const victims = [writer('append', dir, 'k0', 0), writer('append', dir, 'k1', 0)];
    const survivors = [writer('append', dir, 's0', 0, stop), writer('append', dir, 's1', 0, stop)];
    procs.push(...victims, ...survivors);
    await Promise.all([...victims, ...survivors].map((p) => p.waitFor(/^recorded /)));

    // Random kills of the looping writers, wherever they are (often inside the lock).
    const randomKills = victims.map(async (p) => {
      await sleep(50 + Math.floor(Math.random() * 1000));
      p.child.kill('SIGKILL');
      return p.exit;
    });

    // A writer killed while it holds the lock...
    const holder = writer('hold', dir, 'h0');
    procs.push(holder);
    await holder.waitFor(/^locked$/);
    // A survivor's last `recorded` line (its append done before the holder got the lock) may still be
    // in its pipe: let it arrive before counting, or it would pass for progress after the kill.
    await sleep(300);
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    const afterHold = survivors.map((p) => reported(p).length);
    // ...and one killed mid-line while holding it (it waits for the dead holder's lock like everyone else).
    const tearer = writer('tear', dir, 't0');
    procs.push(tearer);
    expect((await holder.exit).signal).toBe('SIGKILL');
    // Nobody gets the lock until the dead holder's lock goes stale (3 s after its last refresh, which is at
    // most 1 s old). The first to get it may be a survivor or the tearer (which then keeps it until killed),
    // so either one's progress ends the wait.
    const torn = tearer.waitFor(/^torn /, 120_000);
    await Promise.race([
      torn,
      ...survivors.map((p, i) => p.waitFor(new RegExp(`^recorded s${i} ${afterHold[i] + 1}$`), 120_000)),
    ]);
    const staleWait = Date.now() - killedAt;
    expect(staleWait).toBeGreaterThanOrEqual(1_500);
    expect(staleWait).toBeLessThan(20_000);

    const fragment = Buffer.from((await torn).slice('torn '.length), 'base64');
    tearer.child.kill('SIGKILL');
    expect((await tearer.exit).signal).toBe('SIGKILL');
    const afterTear = survivors.map((p) => reported(p).length);
    for (const e of await Promise.all(randomKills)) expect(e.signal).toBe('SIGKILL');

    // The survivors go on after each dead holder's lock goes stale (3 s) instead of failing.
    await Promise.all(survivors.map((p, i) => p.waitFor(new RegExp(`^recorded s${i} ${afterTear[i] + 10}$`), 120_000)));
    fs.writeFileSync(stop, '');
    const survived = await Promise.all(survivors.map((p) => p.exit));
    survivors.forEach((p, i) =>
      expect({ ...survived[i], stderr: p.stderr() }).toEqual({ code: 0, signal: null, stderr: '' }),
    );

    // One more clean append, through the real CLI.
    const final = cli(dir, 'append-status', 'final_append', '{"message":"after the kills"}', '--json');
    procs.push(final);
    const fe = await final.exit;
    expect({ code: fe.code, stderr: final.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(final.lines.join('\n')).recorded).toBe(true);

    const log = readLogStrict(dir);
    expect(log[log.length - 1]).toMatchObject({ type: 'final_append', details: { message: 'after the kills' } });
    const c = counts(log);
    // Every activity a writer (surviving or killed) reported as recorded is there exactly once; nothing is there twice.
    const all = [...victims, ...survivors].flatMap(reported);
    expect(all.length).toBeGreaterThan(40);
    for (const id of all) expect([id, c.get(id)]).toEqual([id, 1]);
    for (const [id, n] of c) expect([id, n]).toEqual([id, 1]);
    // Each writer's activities in the log are a prefix of its sequence: nothing lost before its last one.
    for (const w of ['k0', 'k1', 's0', 's1']) {
      const seqs = log.filter((a) => a.details.writer === w).map((a) => a.details.seq as number);
      expect(seqs.length).toBeGreaterThan(0);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    }
    // The torn fragment was not silently dropped: its exact bytes are in corrupt/, and it is not in the log.
    expect(fragment.includes(Buffer.from('"type":"torn_write"'))).toBe(true);
    expect(fragment.at(-1)).not.toBe(0x0a);
    const kept = fs
      .readdirSync(path.join(dir, 'corrupt'))
      .map((n) => ({ n, bytes: fs.readFileSync(path.join(dir, 'corrupt', n)) }));
    const withTear = kept.filter((k) => k.bytes.includes(fragment));
    expect(withTear.map((k) => k.n)).toEqual([expect.stringMatching(/^pipeline-log\.jsonl\..*\.torn$/)]);
    expect(withTear[0].bytes.equals(fragment)).toBe(true);
    // (Its first bytes are a timestamp that a survivor's line written in the same millisecond shares: look
    // for what only the torn line has.)
    expect(fs.readFileSync(path.join(dir, ACTIVITY_LOG)).includes(Buffer.from('"type":"torn_write"'))).toBe(false);

    const read = await new StatusStore(dir).readActivities();
    expect(read.warnings).toEqual([]);
    expect(read.activities).toHaveLength(log.length);
    expect(fs.existsSync(path.join(dir, '.status.lock'))).toBe(false);
    checkMarkdown(dir, log);
  }, 300_000);

  it('one idempotency key appended by 4 CLI processes at once is recorded exactly once', async () => {
    const key = 'session-1_abc1234_run-9_1_target_failed';
    const ps = Array.from({ length: 4 }, (_, i) =>
      cli(
        dir,
        'append-status',
        'target_failed',
        JSON.stringify({ message: `from ${i}`, from: i }),
        '--key',
        key,
        '--json',
      ),
    );
    procs.push(...ps);
    const exits = await Promise.all(ps.map((p) => p.exit));
    ps.forEach((p, i) => expect({ ...exits[i], stderr: p.stderr() }).toEqual({ code: 0, signal: null, stderr: '' }));
    const answers = ps.map((p) => JSON.parse(p.lines.join('\n')) as { recorded: boolean; activity: Activity });
    expect(answers.filter((a) => a.recorded)).toHaveLength(1);
    expect(answers.filter((a) => !a.recorded)).toHaveLength(3);
    const log = readLogStrict(dir);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ type: 'target_failed', key });
    // The one recorded is the one that said so.
    expect(log[0].details).toEqual(answers.find((a) => a.recorded)!.activity.details);
    expect(fs.readdirSync(path.join(dir, 'idempotency'))).toEqual([key]);
  });
});
