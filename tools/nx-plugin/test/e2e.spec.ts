// End to end in this workspace: the main job and the emulator tests for m68040, m68030
// and m68000, through nx and the real toolchain; checks the artifacts, manifests and reports.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../src/util/exec';
import { NX_TEST_ENV, parseTaskLines, WORKSPACE_ROOT } from './scratch-workspace';

const nx = (args: string[]) =>
  runProcess(path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'), [...args, '--output-style=static'], {
    cwd: WORKSPACE_ROOT,
    env: { ...NX_TEST_ENV, NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
    timeoutMs: 15 * 60_000,
  });
const readJson = (rel: string) => JSON.parse(fs.readFileSync(path.join(WORKSPACE_ROOT, rel), 'utf8'));
const sha256 = (rel: string) =>
  crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(WORKSPACE_ROOT, rel)))
    .digest('hex');

describe('main job: nx run rust-target:build --configuration=m68040', () => {
  it('builds the m68040 programs and lists them with correct sha256 in manifest.json', async () => {
    const r = await nx(['run', 'rust-target:build', '--configuration=m68040']);
    expect(r.exitCode).toBe(0);
    const manifest = readJson('dist/rust-target/m68040/manifest.json');
    const byName = Object.fromEntries(
      manifest.artifacts.map((a: { name: string; kind: string }) => [`${a.name}/${a.kind}`, a]),
    );
    for (const name of [
      'hello',
      'atomics-stress',
      'panic',
      'conformance-fmt',
      'conformance-control',
      'conformance-libcalls',
      'std-hello',
      'std-conformance',
      'std-panic',
      'std-crates',
      'std-libm',
    ]) {
      expect(byName[`${name}/executable`]).toMatchObject({
        target: 'm68k-unknown-linux-gnu',
        cpu: 'm68040',
        path: `dist/rust-target/m68040/bin/${name}`,
      });
    }
    expect(byName['nextstep-hello/staticlib']).toMatchObject({ target: 'm68k-next-nextstep', kind: 'staticlib' });
    for (const a of manifest.artifacts) expect(sha256(a.path)).toBe(a.sha256);
    // Big-endian 32-bit ELF for the 68k (e_machine 4).
    const elf = fs.readFileSync(path.join(WORKSPACE_ROOT, byName['hello/executable'].path));
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(1);
    expect(elf[5]).toBe(2);
    expect(elf.readUInt16BE(18)).toBe(4);
  });

  it("links hosted executables against glibc's memcpy and friends, not compiler_builtins' copies", async () => {
    const nm = await runProcess('m68k-linux-gnu-nm', [
      path.join(WORKSPACE_ROOT, 'dist/rust-target/m68040/bin/conformance-fmt'),
    ]);
    expect(nm.exitCode).toBe(0);
    const symbols = nm.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    const defined = symbols.filter((f) => f.length === 3 && /^(memcpy|memset|memmove|memcmp|bcmp|strlen)$/.test(f[2]));
    expect(defined).toEqual([]);
    expect(symbols).toContainEqual(['U', 'memcpy@GLIBC_2.0']);
  });
});

describe('rust-target:test --configuration=m68040', () => {
  it("runs the std programs' tests and the Debian crates' own suites on the 68k, all passing", async () => {
    const r = await nx(['run', 'rust-target:test', '--configuration=m68040']);
    expect(r.all).not.toMatch(/^FAIL /m);
    expect(r.exitCode).toBe(0);
    const results = readJson('dist/rust-target/test/m68040/results.json') as {
      suites: { suite: string; tests: number; failures: number; error: string | null }[];
      failures: number;
    };
    const bySuite = Object.fromEntries(results.suites.map((s) => [s.suite, s]));
    expect(bySuite['std-crates (bin std-crates)']).toMatchObject({ tests: 3, failures: 0, error: null });
    expect(bySuite['itoa (tests/test)']).toMatchObject({ failures: 0, error: null });
    expect(bySuite['memchr (unit)']).toMatchObject({ failures: 0, error: null });
    expect(bySuite['memchr (unit)'].tests).toBeGreaterThan(50);
    expect(results.failures).toBe(0);
  });
});

describe.each([
  [
    'm68040',
    [
      'atomics-stress',
      'conformance-control',
      'conformance-fmt',
      'conformance-libcalls',
      'hello',
      'nextstep-staticlib',
      'panic',
      'std-conformance',
      'std-crates',
      'std-hello',
      'std-libm',
      'std-panic',
    ],
  ],
  [
    'm68030',
    [
      'atomics-stress',
      'conformance-control',
      'conformance-fmt',
      'conformance-libcalls',
      'hello',
      'nextstep-staticlib',
      'panic',
      'std-conformance',
      'std-crates',
      'std-hello',
      'std-libm',
      'std-panic',
    ],
  ],
  ['m68000', ['freestanding', 'nextstep-staticlib']],
])('emulator-tests:test --configuration=%s', (cpu, cases) => {
  it('runs the programs under qemu-m68k and every declared expectation holds', async () => {
    const r = await nx(['run', 'emulator-tests:test', `--configuration=${cpu}`]);
    expect(r.all).not.toMatch(/FAIL /);
    expect(r.exitCode).toBe(0);
    expect(parseTaskLines(r.all).ran.concat(parseTaskLines(r.all).cached)).toContain(`emulator-tests:test:${cpu}`);
    const report = readJson(`dist/emulator-tests/${cpu}/results.json`);
    expect(report.cases.map((c: { name: string }) => c.name).sort()).toEqual(cases);
    expect(report.failed).toBe(0);
    for (const c of report.cases) if (c.command) expect(c.command).toContain(`-cpu ${cpu}`);
    const junit = fs.readFileSync(path.join(WORKSPACE_ROOT, `dist/emulator-tests/${cpu}/junit.xml`), 'utf8');
    expect(junit).toContain(`tests="${cases.length}" failures="0"`);
  });
});
