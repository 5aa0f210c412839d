// The conformance corpus, with the real toolchain:
//  - the expected outputs in projects/emulator-tests/tests/expected/ are what the
//    same programs print on the build host (built by the host's rustc and run),
//    so an emulator test that passes prints exactly the host's output;
//  - built by Debian's unpatched backend (provider "system", in a scratch copy of
//    the workspace), the corpus fails its emulator tests: the tests catch the
//    miscompiles the patched backend fixes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverPrograms } from '../src/config/programs';
import { readTestCases } from '../src/emulator/test-manifest';
import { runProcess, runTool } from '../src/util/exec';
import { ScratchWorkspace, WORKSPACE_ROOT } from './scratch-workspace';

const RUST_TARGET = path.join(WORKSPACE_ROOT, 'projects/rust-target');
const TESTS = path.join(WORKSPACE_ROOT, 'projects/emulator-tests/tests');
const { programs } = discoverPrograms(WORKSPACE_ROOT, 'projects/rust-target', 'programs');
const hosted = new Set(programs.filter((p) => p.flavor === 'hosted' || p.flavor === 'std').map((p) => p.name));

/** Test cases whose stdout must equal a file, for programs that can run on the build host. */
const fileCases = readTestCases(TESTS).flatMap(({ testCase: tc }) =>
  tc.expect
    .filter((a) => a.type === 'output_equals_file')
    .filter(() => hosted.has(tc.program))
    .map(
      (a) => [tc.program, (a as { path: string }).path.replace('{testsDir}', 'projects/emulator-tests/tests')] as const,
    ),
);

describe('expected outputs are the build host output of the same programs', () => {
  const targetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-host-build-'));
  afterAll(() => fs.rmSync(targetDir, { recursive: true, force: true }));

  it('covers the conformance corpus', () => {
    expect(fileCases.map(([p]) => p)).toEqual(
      expect.arrayContaining([
        'conformance-fmt',
        'conformance-control',
        'conformance-libcalls',
        'hello',
        'std-conformance',
        'std-hello',
      ]),
    );
  });

  it.each(fileCases)('%s prints %s on the host', async (program, expectedFile) => {
    // The host's own rustc and core (x86_64), offline: the programs have only path dependencies.
    await runTool('cargo', ['--offline', 'build', '--release', '-p', program], {
      cwd: RUST_TARGET,
      env: { CARGO_TARGET_DIR: targetDir, RUSTFLAGS: '' },
      timeoutMs: 10 * 60_000,
    });
    const r = await runProcess(path.join(targetDir, 'release', program), [], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(path.join(WORKSPACE_ROOT, expectedFile), 'utf8'));
  });
});

describe('with the unpatched system backend', () => {
  let ws: ScratchWorkspace;
  beforeAll(() => {
    ws = ScratchWorkspace.create('nextrust-system-backend-');
    ws.edit('projects/llvm-m68k/nextrust.json', (t) =>
      JSON.stringify({ ...JSON.parse(t), provider: 'system' }, null, 2),
    );
    // Only the no_std corpus: without std programs and the NeXTSTEP library, the sysroot this cold run builds with
    // Debian's backend is core and alloc for one target (minutes less than std with libtest).
    const keep = new Set(['conformance-fmt', 'conformance-control', 'hello']);
    for (const p of fs.readdirSync(ws.file('projects/rust-target/programs'))) {
      if (!keep.has(p)) fs.rmSync(ws.file(`projects/rust-target/programs/${p}`), { recursive: true });
    }
    for (const t of readTestCases(ws.file('projects/emulator-tests/tests')))
      if (!keep.has(t.testCase.program)) fs.rmSync(t.file);
  });
  afterAll(() => ws.dispose());

  it(
    'the corpus fails its emulator tests on the 68040 (the tests catch the miscompiles)',
    async () => {
      const r = await ws.nx(['run', 'emulator-tests:test', '--configuration=m68040']);
      expect(r.all).toContain("provider 'system'");
      expect(r.exitCode).not.toBe(0);
      const report = JSON.parse(fs.readFileSync(ws.file('dist/emulator-tests/m68040/results.json'), 'utf8'));
      const failed = report.cases.filter((c: { passed: boolean }) => !c.passed).map((c: { name: string }) => c.name);
      expect(failed).toEqual(expect.arrayContaining(['conformance-fmt', 'conformance-control']));
    },
    20 * 60_000,
  );
});
