// Task hash records (what `nextrust why` reads): recorded per task from Nx's task results, distinct hashes only, the
// inputs that changed named in words; and the `why` command end to end through runCli.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../cli/program';
import { recordNxRun } from './run-record';
import { StatusStore } from './status-store';
import {
  changedInputs,
  describeInput,
  explainMiss,
  MAX_RUNS,
  readTaskHashes,
  recordTaskHashes,
  taskHashFile,
  type HashDetails,
} from './task-hashes';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-task-hashes-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Hash details shaped as Nx 24 gives them for rust-target:build (node names from a real run). */
const details = (over: Partial<Record<string, string>> = {}, command = '111'): HashDetails => ({
  command,
  nodes: {
    '**/toolchain.json:dist/llvm-m68k/toolchain': '1',
    'rust-target:ProjectConfiguration': '2',
    'rust-target:projects/rust-target/**/*,!projects/rust-target/nextrust.json': '3',
    'npm:execa': '4',
    'env:NEXTRUST_LLVM_BIN': '5',
    'runtime:ls /usr/share/cargo/registry 2>/dev/null || true': '6',
    ...(Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as Record<string, string>),
  },
  implicitDeps: {},
  runtime: {},
});
const result = (hash: string, d: HashDetails, status = 'success', code = status === 'failure' ? 1 : 0) => ({
  task: { id: 'rust-target:build:m68040', hash, hashDetails: d },
  status,
  code,
});

describe('recordTaskHashes', () => {
  it('keeps distinct hashes per task, newest last; the same hash again updates time and status only', async () => {
    const store = new StatusStore(dir);
    await recordTaskHashes(store, { a: result('h1', details()) }, new Date('2026-01-01T00:00:00Z'));
    await recordTaskHashes(store, { a: result('h1', details(), 'local-cache') }, new Date('2026-01-02T00:00:00Z'));
    await recordTaskHashes(
      store,
      { a: result('h2', details({ 'npm:execa': '40' })) },
      new Date('2026-01-03T00:00:00Z'),
    );
    const file = readTaskHashes(dir, 'rust-target:build:m68040')!;
    expect(file.runs.map((r) => [r.hash, r.at, r.status])).toEqual([
      ['h1', '2026-01-02T00:00:00.000Z', 'local-cache'],
      ['h2', '2026-01-03T00:00:00.000Z', 'success'],
    ]);
    expect(taskHashFile(dir, 'rust-target:build:m68040')).toBe(
      path.join(dir, 'task-hashes', 'rust-target_build_m68040.json'),
    );
  });

  it(`keeps the last ${MAX_RUNS} distinct hashes; tasks without a hash (not cacheable) are not recorded`, async () => {
    const store = new StatusStore(dir);
    for (let i = 0; i < MAX_RUNS + 3; i++)
      await recordTaskHashes(store, { a: result(`h${i}`, details({ 'npm:execa': String(i) })) });
    expect(readTaskHashes(dir, 'rust-target:build:m68040')!.runs.map((r) => r.hash)).toEqual(
      Array.from({ length: MAX_RUNS }, (_, i) => `h${i + 3}`),
    );
    expect(await recordTaskHashes(store, { b: { task: { id: 'x:y' }, status: 'success' } })).toEqual({
      recorded: 0,
      flaky: [],
    });
    expect(fs.existsSync(taskHashFile(dir, 'x:y'))).toBe(false);
  });
});

describe('flaky tasks: the same hash passed and failed', () => {
  it('is reported once, when the second outcome appears; other hashes and skipped runs do not count', async () => {
    const store = new StatusStore(dir);
    const d = details();
    expect((await recordTaskHashes(store, { a: result('h1', d) })).flaky).toEqual([]);
    expect((await recordTaskHashes(store, { a: result('h1', d, 'local-cache') })).flaky).toEqual([]);
    expect(
      (await recordTaskHashes(store, { a: result('h2', details({ 'npm:execa': '9' }), 'failure') })).flaky,
    ).toEqual([]);
    expect((await recordTaskHashes(store, { a: result('h1', d, 'skipped', 1) })).flaky).toEqual([]);
    expect((await recordTaskHashes(store, { a: result('h1', d, 'failure') })).flaky).toEqual([
      { task: 'rust-target:build:m68040', hash: 'h1', passed: 2, failed: 1 },
    ]);
    // A replayed failure (cache hit with exit code 1) is one more failure, not a new flaky report.
    expect((await recordTaskHashes(store, { a: result('h1', d, 'local-cache', 1) })).flaky).toEqual([]);
    const h1 = readTaskHashes(dir, 'rust-target:build:m68040')!.runs.find((r) => r.hash === 'h1')!;
    expect([h1.passed, h1.failed]).toEqual([2, 2]);
    // h1 is the newest again: `why` compares it with h2.
    expect(readTaskHashes(dir, 'rust-target:build:m68040')!.runs.map((r) => r.hash)).toEqual(['h2', 'h1']);
  });

  it('recordNxRun appends a flaky_task activity naming the known issue of the latest failure of that task', async () => {
    fs.mkdirSync(path.join(dir, 'st'));
    const env = { ...process.env, NEXTRUST_STATUS_DIR: path.join(dir, 'st') };
    const store = new StatusStore(path.join(dir, 'st'));
    const nxResult = (status: string, code: number) => ({
      'emulator-tests:test:m68040': {
        task: {
          id: 'emulator-tests:test:m68040',
          target: { project: 'emulator-tests', target: 'test', configuration: 'm68040' },
          hash: 'h9',
          hashDetails: details(),
        },
        status,
        code,
      },
    });
    await recordNxRun(dir, nxResult('success', 0), env);
    await store.append('target_failed', {
      task: 'emulator-tests:test:m68040',
      known_issue: 'emulator-timeout',
      message: 'x',
    });
    await recordNxRun(dir, nxResult('failure', 1), env);
    const flaky = (await store.readActivities()).activities.filter((a) => a.type === 'flaky_task');
    expect(flaky.map((a) => a.details)).toEqual([
      {
        task: 'emulator-tests:test:m68040',
        hash: 'h9',
        passed: 1,
        failed: 1,
        cause: 'emulator-timeout',
        message:
          'emulator-tests:test:m68040 is flaky: the same inputs (hash h9) passed 1 and failed 1 time(s); known issue emulator-timeout',
      },
    ]);
    let out = '';
    expect(
      await runCli(['--status-dir', path.join(dir, 'st'), 'status'], {
        out: (t) => (out += t),
        err: () => undefined,
        cwd: dir,
        env: process.env,
      }),
    ).toBe(0);
    expect(out).toContain('flaky tasks (the same inputs passed and failed): emulator-tests:test:m68040\n');
  });
});

describe('changedInputs and describeInput', () => {
  it('names changed, added and removed inputs in words', () => {
    const before = details();
    const after = details(
      { 'rust-target:ProjectConfiguration': '20', 'env:NEXTRUST_QEMU_M68K': '7', 'npm:execa': undefined },
      '112',
    );
    delete after.nodes['npm:execa'];
    expect(changedInputs(before, after)).toEqual([
      { change: 'changed', input: 'command', what: 'the target itself (executor or its definition)' },
      {
        change: 'changed',
        input: 'rust-target:ProjectConfiguration',
        what: 'the options or configuration of project rust-target (its nextrust.json)',
      },
      { change: 'added', input: 'env:NEXTRUST_QEMU_M68K', what: 'environment variable NEXTRUST_QEMU_M68K' },
      { change: 'removed', input: 'npm:execa', what: 'npm package execa (externalDependencies)' },
    ]);
    expect(changedInputs(before, details())).toEqual([]);
  });

  it.each([
    [
      '**/toolchain.json:dist/llvm-m68k/toolchain',
      'outputs **/toolchain.json of the task writing dist/llvm-m68k/toolchain (dependentTasksOutputFiles)',
    ],
    ['rust-target:projects/rust-target/**/*', 'files of project rust-target: projects/rust-target/**/*'],
    [
      'runtime:sh tools/nx-plugin/bin/toolchain-fingerprint.sh',
      'the output of `sh tools/nx-plugin/bin/toolchain-fingerprint.sh` (a runtime input)',
    ],
    ['workspace:[{workspaceRoot}/nx.json]', 'workspace files [{workspaceRoot}/nx.json]'],
    ['llvm-m68k:TsConfig', 'the TypeScript configuration seen by project llvm-m68k'],
  ])('%s', (node, words) => {
    expect(describeInput(node)).toBe(words);
  });
});

describe('nextrust why', () => {
  const why = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(['--status-dir', dir, 'why', ...args], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      cwd: dir,
      env: process.env,
    });
    return { code, out, err };
  };

  it('names the inputs that changed since the previous hash', async () => {
    const store = new StatusStore(dir);
    await recordTaskHashes(store, { a: result('h1', details(), 'local-cache') }, new Date('2026-01-01T00:00:00Z'));
    await recordTaskHashes(
      store,
      { a: result('h2', details({ 'env:NEXTRUST_LLVM_BIN': '50' })) },
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(await why('rust-target:build:m68040')).toEqual({
      code: 0,
      err: '',
      out: [
        'rust-target:build:m68040: newest hash h2 at 2026-01-02T00:00:00.000Z, success',
        'previous hash h1 at 2026-01-01T00:00:00.000Z, from the cache (local-cache)',
        'inputs that changed:',
        '  changed: environment variable NEXTRUST_LLVM_BIN',
        '',
      ].join('\n'),
    });
    const j = JSON.parse((await why('rust-target:build:m68040', '--json')).out);
    expect(j).toEqual(explainMiss(dir, 'rust-target:build:m68040'));
    expect(j.changes).toEqual([
      { change: 'changed', input: 'env:NEXTRUST_LLVM_BIN', what: 'environment variable NEXTRUST_LLVM_BIN' },
    ]);
  });

  it('one hash: nothing to compare; no record: exit 1 saying how records are made; a bad task name: exit 2', async () => {
    await recordTaskHashes(new StatusStore(dir), { a: result('h1', details()) });
    expect((await why('rust-target:build:m68040')).out).toContain('only one hash recorded: nothing to compare yet');
    const none = await why('rust-target:build');
    expect(none.code).toBe(1);
    expect(none.err).toBe(
      `nextrust: why: no recorded run of rust-target:build in ${dir} (runs are recorded after each nx run; give the configuration, e.g. rust-target:build:m68040)\n`,
    );
    expect((await why('not a task')).code).toBe(2);
  });

  it('an unreadable record names its file', async () => {
    fs.mkdirSync(path.join(dir, 'task-hashes'));
    fs.writeFileSync(taskHashFile(dir, 'a:b'), '{broken');
    const r = await why('a:b');
    expect(r.code).toBe(2);
    expect(r.err).toContain(taskHashFile(dir, 'a:b'));
  });
});
