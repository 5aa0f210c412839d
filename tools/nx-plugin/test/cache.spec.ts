// Cache correctness of the pipeline, with the real toolchain in a scratch copy of the
// workspace: hits restore exactly what a run produces; each kind of change misses
// exactly the targets it should; nx affected selects only the dependents of an edit.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../src/util/exec';
import { ScratchWorkspace } from './scratch-workspace';

const TEST_M68040 = ['emulator-tests:test', '-c', 'm68040'];
const ALL_M68040 = [
  'llvm-m68k:backend',
  'llvm-m68k:toolchain',
  'llvm-m68k:atomics:m68040',
  'rust-target:sysroot:m68040',
  'rust-target:build:m68040',
  'emulator-tests:test:m68040',
];

describe('cache correctness (scratch workspace, real toolchain)', () => {
  let ws: ScratchWorkspace;

  beforeAll(() => {
    ws = ScratchWorkspace.create();
  });
  afterAll(() => ws.dispose());

  it('runs every task cold, then restores all of them byte-identical', async () => {
    const cold = await ws.nx(['run', ...TEST_M68040]);
    expect(cold.exitCode).toBe(0);
    expect(cold.ran.sort()).toEqual([...ALL_M68040].sort());
    const produced = ws.digest('dist');

    const warm = await ws.nx(['run', ...TEST_M68040]);
    expect(warm.exitCode).toBe(0);
    expect(warm.ran).toEqual([]);
    expect(warm.cached.sort()).toEqual([...ALL_M68040].sort());

    fs.rmSync(ws.file('dist'), { recursive: true });
    const restored = await ws.nx(['run', ...TEST_M68040]);
    expect(restored.ran).toEqual([]);
    expect(ws.digest('dist')).toEqual(produced);
  });

  it('a lockfile change reruns only the targets whose executors load that package (externalDependencies)', async () => {
    const original = fs.readFileSync(ws.file('package-lock.json'), 'utf8');
    const bump = (pkg: string) =>
      ws.edit('package-lock.json', (t) => {
        const lock = JSON.parse(t);
        // A new version has a new integrity, which is what Nx hashes for an npm package.
        const entry = lock.packages[`node_modules/${pkg}`];
        entry.version += '-bumped';
        entry.integrity = `sha512-${Buffer.from(`${pkg}@${entry.version}`).toString('base64')}`;
        return JSON.stringify(lock, null, 2) + '\n';
      });
    // openai: loaded only by the AI review after a failure, never by an executor. A README at the top of a
    // project is documentation, not an input either.
    bump('openai');
    fs.writeFileSync(ws.file('projects/rust-target/README.md'), '# Rust programs for the 68k\n');
    const unrelated = await ws.nx(['run', ...TEST_M68040]);
    fs.rmSync(ws.file('projects/rust-target/README.md'));
    expect(unrelated.ran).toEqual([]);
    // xmlbuilder2 writes the emulator tests' JUnit report.
    bump('xmlbuilder2');
    const junit = await ws.nx(['run', ...TEST_M68040]);
    expect(junit.exitCode).toBe(0);
    expect(junit.ran).toEqual(['emulator-tests:test:m68040']);
    fs.writeFileSync(ws.file('package-lock.json'), original);
  });

  it('rebuilds build and test, not sysroot, atomics or toolchain, after a program edit; affected follows', async () => {
    ws.edit('projects/rust-target/programs/hello/src/main.rs', (t) =>
      t.replace('Hello from Rust on the Motorola 68k!', 'Hello again from Rust on the Motorola 68k!'),
    );
    const affected = await ws.nx(['show', 'projects', '--affected', '--base=main', '--json']);
    // ci-status's release bundle packs the programs (bundle-graph.spec.ts)
    expect(JSON.parse(affected.stdout.trim().split('\n').pop()!).sort()).toEqual([
      'ci-status',
      'emulator-tests',
      'rust-target',
    ]);

    const run = await ws.nx(['run', ...TEST_M68040]);
    expect(run.ran.sort()).toEqual(['emulator-tests:test:m68040', 'rust-target:build:m68040']);
    expect(run.cached.sort()).toEqual([
      'llvm-m68k:atomics:m68040',
      'llvm-m68k:backend',
      'llvm-m68k:toolchain',
      'rust-target:sysroot:m68040',
    ]);
    // `nextrust why` names the input that made each of them miss.
    const why = async (task: string) => {
      const r = await runProcess(
        process.execPath,
        [path.join(ws.root, 'tools/nx-plugin/bin/nextrust.js'), 'why', task, '--json'],
        { cwd: ws.root },
      );
      expect(r.exitCode).toBe(0);
      return (JSON.parse(r.stdout) as { changes: { change: string; what: string }[] }).changes;
    };
    expect(await why('rust-target:build:m68040')).toEqual([
      { change: 'changed', input: expect.any(String), what: expect.stringMatching(/^files of project rust-target: /) },
    ]);
    expect((await why('emulator-tests:test:m68040')).map((c) => c.what)).toContainEqual(
      expect.stringMatching(/^outputs \*\*\/manifest\.json of the task writing dist\/rust-target\/m68040/),
    );
    // The edit reached the program: the hello case now fails its declared expectation.
    expect(run.exitCode).not.toBe(0);
    const results = JSON.parse(fs.readFileSync(ws.file('dist/emulator-tests/m68040/results.json'), 'utf8'));
    expect(results.cases.find((c: { name: string }) => c.name === 'hello').stdout).toContain('Hello again');
    ws.edit('projects/rust-target/programs/hello/src/main.rs', (t) => t.replace('Hello again from', 'Hello from'));
    expect((await ws.nx(['run', ...TEST_M68040])).exitCode).toBe(0);
  });

  it('misses for another CPU variant', async () => {
    const run = await ws.nx(['run', 'rust-target:build', '-c', 'm68030']);
    expect(run.exitCode).toBe(0);
    expect(run.ran.sort()).toEqual([
      'llvm-m68k:atomics:m68030',
      'rust-target:build:m68030',
      'rust-target:sysroot:m68030',
    ]);
    expect(run.cached.sort()).toEqual(['llvm-m68k:backend', 'llvm-m68k:toolchain']);
  });

  it('misses atomics and build, not sysroot, after a C compiler flag change', async () => {
    ws.edit('projects/llvm-m68k/nextrust.json', (t) => {
      const config = JSON.parse(t);
      expect(config.atomics.cflags).toEqual(['-O2']);
      config.atomics.cflags = ['-Os'];
      return JSON.stringify(config, null, 2);
    });
    const run = await ws.nx(['run', 'rust-target:build', '-c', 'm68040']);
    expect(run.exitCode).toBe(0);
    expect(run.ran).toEqual(expect.arrayContaining(['llvm-m68k:atomics:m68040', 'rust-target:build:m68040']));
    // Nx re-hashes llvm-m68k:toolchain when its project's config file changes; the manifest it
    // writes is the same, so the sysroot still hits.
    // New std, hosted and nextstep programs need no new sysroot on the 68040: it stays a hit.
    expect(run.cached).toContain('rust-target:sysroot:m68040');
  });

  it('misses sysroot and build after a target spec change', async () => {
    ws.edit('projects/rust-target/target-specs/m68k-next-nextstep.json', (t) =>
      t.replace('"code-model": "large",', '"code-model": "large",\n  "frame-pointer": "always",'),
    );
    const run = await ws.nx(['run', 'rust-target:build', '-c', 'm68040']);
    expect(run.exitCode).toBe(0);
    expect(run.ran.sort()).toEqual(['rust-target:build:m68040', 'rust-target:sysroot:m68040']);
  });

  it('misses from the toolchain down when the toolchain changes', async () => {
    // Another LLVM bin directory (links to the same LLVM 22 tools, which the patched backend
    // fits): a different toolchain manifest.
    const otherLlvm = ws.file('tmp/other-llvm/bin');
    fs.mkdirSync(otherLlvm, { recursive: true });
    for (const tool of fs.readdirSync('/usr/lib/llvm-22/bin'))
      fs.symlinkSync(path.join('/usr/lib/llvm-22/bin', tool), path.join(otherLlvm, tool));
    const run = await ws.nx(['run', 'rust-target:build', '-c', 'm68040'], { NEXTRUST_LLVM_BIN: otherLlvm });
    expect(run.exitCode).toBe(0);
    expect(run.ran).toContain('llvm-m68k:toolchain');
    expect(run.ran).toContain('llvm-m68k:atomics:m68040');
    expect(run.ran).toContain('rust-target:build:m68040');
    const manifest = JSON.parse(fs.readFileSync(ws.file('dist/llvm-m68k/toolchain/toolchain.json'), 'utf8'));
    expect(manifest.llvm.binDir).toBe(otherLlvm);
    expect(fs.readFileSync(ws.file('dist/llvm-m68k/toolchain/bin/clang'), 'utf8')).toContain(`${otherLlvm}/clang`);
  });

  it('diagnoses a known failure under the error of a real nx run, and records it in the status log', async () => {
    // A crates.io dependency: cargo must fail offline (the vendored directory lacks it).
    const manifest = 'projects/rust-target/programs/hello/Cargo.toml';
    const before = fs.readFileSync(ws.file(manifest), 'utf8');
    ws.edit(manifest, (t) => `${t}heapless = "0.8"\n`);
    const run = await ws.nx(['run', 'rust-target:build', '-c', 'm68040']);
    ws.edit(manifest, () => before);
    expect(run.exitCode).not.toBe(0);
    const failedAt = run.all.indexOf('nextrust: rust-target:build:m68040 failed:');
    const diagnosisAt = run.all.indexOf('nextrust: known issue crate-not-available-offline');
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(diagnosisAt).toBeGreaterThan(failedAt);
    // Evidence lines name the saved log by its path from the workspace root: the pipeline's own line naming the crate,
    // and cargo's line naming the offline source.
    expect(run.all.slice(diagnosisAt)).toMatch(
      /evidence:\n +projects\/ci-status\/failure-logs\/\S+\.log:\d+: crate 'heapless' \(required by hello\) is not available offline/,
    );
    expect(run.all.slice(diagnosisAt)).toMatch(
      /\n +projects\/ci-status\/failure-logs\/\S+\.log:\d+: location searched: .*which is replacing registry .crates-io./,
    );
    expect(run.all.slice(diagnosisAt)).toMatch(
      /\.log:\d+: error: no matching package named .heapless. found {2}\(context\)/,
    );
    const log = fs
      .readFileSync(ws.file('projects/ci-status/pipeline-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Every failure of this scratch workspace so far: the emulator test that the program edit
    // above broke (unknown), then this one.
    expect(log.filter((a) => a.type === 'target_failed').map((a) => [a.details.task, a.details.known_issue])).toEqual([
      ['emulator-tests:test:m68040', null],
      ['rust-target:build:m68040', 'crate-not-available-offline'],
    ]);
  });

  it("fails on a corrupt target spec with rustc's message and the spec file", async () => {
    // Earlier failures of this scratch commit may have put it in backoff: clear it with the CLI.
    const cleared = await runProcess(
      process.execPath,
      [path.join(ws.root, 'tools/nx-plugin/bin/nextrust.js'), 'clear-backoff', '--all'],
      { cwd: ws.root },
    );
    expect(cleared.exitCode).toBe(0);
    ws.edit('projects/rust-target/target-specs/m68k-next-nextstep.json', (t) =>
      t.replace('"arch": "m68k"', '"arch": 68'),
    );
    const run = await ws.nx(['run', 'rust-target:sysroot', '-c', 'm68040'], { OPENAI_API_KEY: '' });
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toMatch(/error.*target specification/i);
    expect(run.all).toContain('target spec in use: projects/rust-target/target-specs/m68k-next-nextstep.json');
    // A malformed spec is a known issue whose evidence is rustc's line naming the field; not escalated.
    expect(run.all).toContain('nextrust: known issue target-spec-invalid');
    expect(run.all).not.toContain('design escalation');
  });

  it('builds programs made by `nx g` and passes their generated tests; a broken program folder fails the build in one line and keeps the last build', async () => {
    // Undo the corrupt spec of the previous test (the sysroot is then a cache hit again).
    execFileSync('git', ['checkout', '--', 'projects/rust-target/target-specs/m68k-next-nextstep.json'], {
      cwd: ws.root,
    });
    const cli = (...args: string[]) =>
      runProcess(process.execPath, [path.join(ws.root, 'tools/nx-plugin/bin/nextrust.js'), ...args], { cwd: ws.root });
    expect((await cli('clear-backoff', '--all')).exitCode).toBe(0);
    const generate = (...args: string[]) =>
      runProcess(path.join(ws.root, 'node_modules/.bin/nx'), ['g', ...args], {
        cwd: ws.root,
        env: {
          NX_DAEMON: 'false',
          NX_NO_CLOUD: 'true',
          NO_COLOR: '1',
          NX_CACHE_DIRECTORY: ws.file('.nx/cache'),
          NX_WORKSPACE_DATA_DIRECTORY: ws.file('.nx/workspace-data'),
        },
        timeoutMs: 5 * 60_000,
      });
    // The sysroot before any program is added (a cache hit here after the earlier tests).
    expect((await ws.nx(['run', 'rust-target:sysroot', '-c', 'm68040'])).exitCode).toBe(0);
    const gitStatus = () =>
      execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ws.root })
        .toString()
        .trim()
        .split('\n')
        .sort();
    const before = new Set(gitStatus());
    for (const args of [['gen-std'], ['gen-hosted', '--flavor=hosted'], ['gen-lib', '--flavor=nextstep']]) {
      const g = await generate('./tools/nx-plugin:program', ...args);
      expect({ args, code: g.exitCode, out: g.all }).toMatchObject({ code: 0 });
    }
    // Only the program's folder and its test case were added: nothing else edited (earlier tests' edits aside).
    expect(gitStatus().filter((l) => !before.has(l))).toEqual(
      [
        '?? projects/emulator-tests/tests/gen-hosted.json',
        '?? projects/emulator-tests/tests/gen-lib.json',
        '?? projects/emulator-tests/tests/gen-std.json',
        '?? projects/rust-target/programs/gen-hosted/Cargo.toml',
        '?? projects/rust-target/programs/gen-hosted/src/main.rs',
        '?? projects/rust-target/programs/gen-lib/Cargo.toml',
        '?? projects/rust-target/programs/gen-lib/src/lib.rs',
        '?? projects/rust-target/programs/gen-std/Cargo.toml',
        '?? projects/rust-target/programs/gen-std/src/main.rs',
      ].sort(),
    );
    const run = await ws.nx(['run', ...TEST_M68040]);
    expect(run.all).not.toMatch(/FAIL /);
    expect(run.exitCode).toBe(0);
    // New std, hosted and nextstep programs need no new sysroot on the 68040: it stays a hit.
    expect(run.cached).toContain('rust-target:sysroot:m68040');
    const results = JSON.parse(fs.readFileSync(ws.file('dist/emulator-tests/m68040/results.json'), 'utf8')) as {
      cases: { name: string; passed: boolean }[];
    };
    for (const name of ['gen-std', 'gen-hosted', 'gen-lib'])
      expect(results.cases.find((c) => c.name === name)).toMatchObject({ passed: true });
    const built = JSON.parse(fs.readFileSync(ws.file('dist/rust-target/m68040/manifest.json'), 'utf8')) as {
      programs: string[];
    };
    expect(built.programs).toEqual(expect.arrayContaining(['gen-std', 'gen-hosted', 'gen-lib']));

    // A folder without Cargo.toml: one line naming it and the fix, non-zero, the last build kept.
    const lastBuild = ws.digest('dist/rust-target/m68040');
    fs.mkdirSync(ws.file('projects/rust-target/programs/stray/src'), { recursive: true });
    const broken = await ws.nx(['run', 'rust-target:build', '-c', 'm68040']);
    fs.rmSync(ws.file('projects/rust-target/programs/stray'), { recursive: true });
    expect(broken.exitCode).not.toBe(0);
    expect(broken.all).toContain(
      'projects/rust-target/programs/stray: no Cargo.toml: every folder in projects/rust-target/programs is a program (the Cargo workspace lists them by glob); create it with `npx nx g ./tools/nx-plugin:program stray` or move the folder out',
    );
    expect(ws.digest('dist/rust-target/m68040')).toEqual(lastBuild);

    // A test for a program that does not exist: the generator refuses it, naming the programs.
    const ghost = await generate('./tools/nx-plugin:emulator-test', 'ghost');
    expect(ghost.exitCode).not.toBe(0);
    expect(ghost.all).toContain("program 'ghost': no such program in projects/rust-target/programs (its programs: ");
  });
  it("shares the workspace with another plugin's project: its configurations pass, a nextrust project's unknown one stops the run", async () => {
    fs.mkdirSync(ws.file('projects/web'), { recursive: true });
    fs.writeFileSync(
      ws.file('projects/web/project.json'),
      JSON.stringify({
        name: 'web',
        targets: {
          build: {
            executor: 'nx:run-commands',
            options: { command: 'echo web-build-default' },
            configurations: { production: { command: 'echo web-build-production' } },
          },
        },
      }),
    );
    try {
      const web = await ws.nx(['run', 'web:build:production']);
      expect(web.exitCode).toBe(0);
      expect(web.all).toContain('web-build-production');
      const ours = await ws.nx(['run', 'rust-target:build:production']);
      expect(ours.exitCode).not.toBe(0);
      expect(ours.all).toContain(
        "unknown configuration 'production' for rust-target: the nextrust targets have one configuration per CPU variant: m68000, m68030, m68040, m68060",
      );
      expect(ours.ran).toEqual([]);
    } finally {
      fs.rmSync(ws.file('projects/web'), { recursive: true, force: true });
    }
  });
});
