// `#[test]` on the 68k (src/build/cargo-test.ts) with the real toolchain: a std program with
// passing, failing, should_panic, crashing and integration tests, and a Debian crate's own
// suite, built against this workspace's m68040 sysroot and run under qemu-m68k. Each outcome
// must be what libtest reports for it: a wrong runner (every test passing, counts lost,
// a crash hidden) fails here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratchDir } from '../src/backend/regressions';
import { packageNameOf } from '../src/build/cargo';
import { junitCounts, qemuLauncher, runCargoTests, type CargoTestReport } from '../src/build/cargo-test';
import { runProcess } from '../src/util/exec';
import { NX_TEST_ENV, workspaceToolchain, WORKSPACE_ROOT } from './scratch-workspace';

const work = scratchDir('nextrust-cargo-test-');
let report: CargoTestReport;

/** Writes a file under the scratch project. */
function put(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), text);
}

beforeAll(async () => {
  for (const t of ['rust-target:sysroot:m68040', 'llvm-m68k:atomics:m68040']) {
    const r = await runProcess(path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'), ['run', t, '--output-style=static'], {
      cwd: WORKSPACE_ROOT,
      env: NX_TEST_ENV,
      timeoutMs: 30 * 60_000,
    });
    if (r.exitCode !== 0) throw new Error(`nx run ${t} failed:\n${r.all}`);
  }
  const toolchain = await workspaceToolchain();
  put('proj/Cargo.toml', '[workspace]\nresolver = "2"\nmembers = ["programs/*"]\n');
  put(
    'proj/programs/probe/Cargo.toml',
    '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n\n[package.metadata.nextrust]\nflavor = "std"\n',
  );
  put(
    'proj/programs/probe/src/lib.rs',
    [
      'pub fn add(a: u32, b: u32) -> u32 { a + b }',
      '#[cfg(test)]',
      'mod tests {',
      '    use super::*;',
      '    #[test] fn adds() { assert_eq!(add(2, 2), 4); }',
      '    #[test] fn fails() { assert_eq!(add(2, 2), 5, "two and two"); }',
      '    #[test] #[should_panic(expected = "boom")] fn panics_as_expected() { panic!("boom") }',
      '    #[test] #[should_panic] fn should_panic_but_does_not() {}',
      '    #[test] fn formats() { assert_eq!(format!("{:>5}|{:x}", add(40, 2), 255), "   42|ff"); }',
      '    #[test] #[ignore] fn ignored() { panic!("not run") }',
      '}',
      '',
    ].join('\n'),
  );
  put('proj/programs/probe/tests/outside.rs', '#[test]\nfn from_outside() { assert_eq!(probe::add(1, 1), 2); }\n');
  // Another flavour: not a std program, so no harness for it.
  put(
    'proj/programs/bare/Cargo.toml',
    '[package]\nname = "bare"\nversion = "0.1.0"\nedition = "2021"\n\n[package.metadata.nextrust]\nflavor = "nextstep"\n',
  );
  put('proj/programs/bare/src/lib.rs', '#![no_std]\n#[cfg(test)] mod t { #[test] fn never_built() {} }\n');
  report = await runCargoTests({
    workspaceRoot: work,
    toolchain,
    cpu: 'm68040',
    projectRoot: 'proj',
    programsDir: 'programs',
    programOverrides: {},
    debianCrates: ['itoa'],
    profile: 'release',
    rustflags: [],
    sysrootDir: path.join(WORKSPACE_ROOT, 'dist/rust-target/sysroot/m68040'),
    atomicsDir: path.join(WORKSPACE_ROOT, 'dist/llvm-m68k/m68040'),
    outputDir: 'out',
    workDir: 'work',
    timeoutMs: 10 * 60_000,
  });
}, 40 * 60_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('a std program and a Debian crate tested under qemu-m68k -cpu m68040', () => {
  it("reports each harness with libtest's counts", () => {
    const bySuite = Object.fromEntries(report.suites.map((s) => [s.suite, s]));
    expect(Object.keys(bySuite).sort()).toEqual([
      'itoa (tests/test)',
      'itoa (unit)',
      'probe (tests/outside)',
      'probe (unit)',
    ]);
    // 5 run (the ignored one is counted by libtest's JUnit as a test too), 2 of them wrong.
    expect(bySuite['probe (unit)']).toMatchObject({ source: 'program', failures: 2, error: null });
    expect(bySuite['probe (unit)'].tests).toBeGreaterThanOrEqual(5);
    expect(bySuite['probe (tests/outside)']).toMatchObject({ tests: 1, failures: 0, error: null });
    expect(bySuite['itoa (tests/test)']).toMatchObject({ source: 'debian', failures: 0, error: null });
    expect(bySuite['itoa (tests/test)'].tests).toBeGreaterThan(5);
    expect(report.failures).toBe(2);
  });

  it('keeps the JUnit report, naming the failing tests and their messages', () => {
    const unit = report.suites.find((s) => s.suite === 'probe (unit)')!;
    const xml = fs.readFileSync(path.join(work, unit.junit), 'utf8');
    expect(junitCounts(xml)).toEqual({ tests: unit.tests, failures: 2 });
    const failing = [...xml.matchAll(/<testcase classname="([^"]+)" name="([^"]+)"[^>]*>\s*<failure/g)]
      .map((m) => m[2])
      .sort();
    expect(failing).toEqual(['fails', 'should_panic_but_does_not']);
    expect(xml).toContain('two and two');
    expect(xml).toMatch(/name="panics_as_expected" time="[^"]*"\/>/);
    const results = JSON.parse(fs.readFileSync(path.join(work, 'out/results.json'), 'utf8'));
    expect(results).toMatchObject({ cpu: 'm68040', failures: 2, errors: 0 });
  });
});

describe('pieces', () => {
  it('qemuLauncher makes the guest argv[0] the launcher itself', async () => {
    const script = qemuLauncher('/usr/bin/qemu-m68k', ['-L', '/usr/m68k-linux-gnu', '-cpu', 'm68040', "/tmp/it's/bin"]);
    expect(script).toContain(
      `exec '/usr/bin/qemu-m68k' '-L' '/usr/m68k-linux-gnu' '-cpu' 'm68040' -0 "$0" '/tmp/it'\\''s/bin' "$@"`,
    );
    const sh = await runProcess('sh', ['-n', '-c', script]);
    expect(sh.exitCode).toBe(0);
  });

  it('junitCounts sums every testsuite', () => {
    const xml =
      '<?xml version="1.0"?><testsuites><testsuite tests="3" failures="1" errors="0"/><testsuite tests="2" failures="0" errors="1"/></testsuites>';
    expect(junitCounts(xml)).toEqual({ tests: 5, failures: 2 });
  });

  it('reads package names from both forms of cargo package ids', () => {
    expect(packageNameOf('path+file:///w/projects/rust-target/programs/std-crates#0.1.0')).toBe('std-crates');
    expect(packageNameOf('registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.1')).toBe('itoa');
    expect(packageNameOf('path+file:///w/programs/bare#probe@0.1.0')).toBe('probe');
  });
});
