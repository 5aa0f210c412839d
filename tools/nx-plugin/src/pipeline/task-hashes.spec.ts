// Task hash records (what `nextrust why` reads): recorded per task from Nx's task results, distinct hashes only, the
// inputs that changed named in words; and the `why` command end to end through runCli.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../cli/program';
import { StatusStore } from './status-store';
import { changedInputs, describeInput, explainMiss, MAX_RUNS, readTaskHashes, recordTaskHashes, taskHashFile, type HashDetails } from './task-hashes';

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
const result = (hash: string, d: HashDetails, status = 'success') => ({ task: { id: 'rust-target:build:m68040', hash, hashDetails: d }, status });

describe('recordTaskHashes', () => {
  it('keeps distinct hashes per task, newest last; the same hash again updates time and status only', async () => {
    const store = new StatusStore(dir);
    await recordTaskHashes(store, { a: result('h1', details()) }, new Date('2026-01-01T00:00:00Z'));
    await recordTaskHashes(store, { a: result('h1', details(), 'local-cache') }, new Date('2026-01-02T00:00:00Z'));
    await recordTaskHashes(store, { a: result('h2', details({ 'npm:execa': '40' })) }, new Date('2026-01-03T00:00:00Z'));
    const file = readTaskHashes(dir, 'rust-target:build:m68040')!;
    expect(file.runs.map((r) => [r.hash, r.at, r.status])).toEqual([
      ['h1', '2026-01-02T00:00:00.000Z', 'local-cache'],
      ['h2', '2026-01-03T00:00:00.000Z', 'success'],
    ]);
    expect(taskHashFile(dir, 'rust-target:build:m68040')).toBe(path.join(dir, 'task-hashes', 'rust-target_build_m68040.json'));
  });

  it(`keeps the last ${MAX_RUNS} distinct hashes; tasks without a hash (not cacheable) are not recorded`, async () => {
    const store = new StatusStore(dir);
    for (let i = 0; i < MAX_RUNS + 3; i++) await recordTaskHashes(store, { a: result(`h${i}`, details({ 'npm:execa': String(i) })) });
    expect(readTaskHashes(dir, 'rust-target:build:m68040')!.runs.map((r) => r.hash)).toEqual(Array.from({ length: MAX_RUNS }, (_, i) => `h${i + 3}`));
    expect(await recordTaskHashes(store, { b: { task: { id: 'x:y' }, status: 'success' } })).toBe(0);
    expect(fs.existsSync(taskHashFile(dir, 'x:y'))).toBe(false);
  });
});

describe('changedInputs and describeInput', () => {
  it('names changed, added and removed inputs in words', () => {
    const before = details();
    const after = details({ 'rust-target:ProjectConfiguration': '20', 'env:NEXTRUST_QEMU_M68K': '7', 'npm:execa': undefined }, '112');
    delete after.nodes['npm:execa'];
    expect(changedInputs(before, after)).toEqual([
      { change: 'changed', input: 'command', what: 'the target itself (executor or its definition)' },
      { change: 'changed', input: 'rust-target:ProjectConfiguration', what: 'the options or configuration of project rust-target (its nextrust.json)' },
      { change: 'added', input: 'env:NEXTRUST_QEMU_M68K', what: 'environment variable NEXTRUST_QEMU_M68K' },
      { change: 'removed', input: 'npm:execa', what: 'npm package execa (externalDependencies)' },
    ]);
    expect(changedInputs(before, details())).toEqual([]);
  });

  it.each([
    ['**/toolchain.json:dist/llvm-m68k/toolchain', 'outputs **/toolchain.json of the task writing dist/llvm-m68k/toolchain (dependentTasksOutputFiles)'],
    ['rust-target:projects/rust-target/**/*', 'files of project rust-target: projects/rust-target/**/*'],
    ['runtime:node tools/nx-plugin/bin/toolchain-fingerprint.js', 'the output of `node tools/nx-plugin/bin/toolchain-fingerprint.js` (a runtime input)'],
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
    const code = await runCli(['--status-dir', dir, 'why', ...args], { out: (t) => (out += t), err: (t) => (err += t), cwd: dir, env: process.env });
    return { code, out, err };
  };

  it('names the inputs that changed since the previous hash', async () => {
    const store = new StatusStore(dir);
    await recordTaskHashes(store, { a: result('h1', details(), 'local-cache') }, new Date('2026-01-01T00:00:00Z'));
    await recordTaskHashes(store, { a: result('h2', details({ 'env:NEXTRUST_LLVM_BIN': '50' })) }, new Date('2026-01-02T00:00:00Z'));
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
    expect(j.changes).toEqual([{ change: 'changed', input: 'env:NEXTRUST_LLVM_BIN', what: 'environment variable NEXTRUST_LLVM_BIN' }]);
  });

  it('one hash: nothing to compare; no record: exit 1 saying how records are made; a bad task name: exit 2', async () => {
    await recordTaskHashes(new StatusStore(dir), { a: result('h1', details()) });
    expect((await why('rust-target:build:m68040')).out).toContain('only one hash recorded: nothing to compare yet');
    const none = await why('rust-target:build');
    expect(none.code).toBe(1);
    expect(none.err).toBe(`nextrust: why: no recorded run of rust-target:build in ${dir} (runs are recorded after each nx run; give the configuration, e.g. rust-target:build:m68040)\n`);
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
