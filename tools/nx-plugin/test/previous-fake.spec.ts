// The Previous backend end to end, with test/fixtures/fake-previous.js in the emulator's place: it is started as
// Previous is (no arguments, HOME), refuses any previous.cfg key that Previous's src/configuration.c does not have,
// boots only from what the configuration names (ROM by machine, SCSI disk, NFS share), and plays the guest by
// running each listed m68k program under qemu-m68k with the CPU of the configured machine. So a wrong key, a wrong
// shared path or a wrong CPU mapping fails here; so do the timeout, crash and silent-guest paths of the host side.
// The programs' expected output is the same source's output on the build host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ToolchainManifest } from '../src/toolchain/locate';
import { runTool } from '../src/util/exec';
import { runEmulatorTests, type EmulatorTestReport } from '../src/emulator/run-tests';
import { emulatorWorkspace } from './helpers/emulator-workspace';
import { PreviousSetupError } from '../src/emulator/previous';

const FAKE = path.join(__dirname, 'fixtures/fake-previous.js');

/** Whether a process runs (a zombie waiting for its reaper does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const PROGRAM_C = `#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "echo")) {
    int c, i;
    printf("argc=%d\\n", argc);
    for (i = 2; i < argc; i++) printf("[%s]\\n", argv[i]);
    while ((c = getchar()) != EOF) putchar(c);
    fprintf(stderr, "stderr line\\n");
    return 3;
  }
  if (!strcmp(mode, "hang")) {
    printf("started %d\\n", (int)getpid());
    fflush(stdout);
    for (;;) { }
  }
  if (!strcmp(mode, "abort")) {
    printf("aborting\\n");
    fflush(stdout);
    raise(SIGABRT);
  }
  if (!strcmp(mode, "move16")) {
    static char src[16] __attribute__((aligned(16))) = "0123456789abcdef";
    static char dst[16] __attribute__((aligned(16)));
#ifdef __mc68000__
    /* move16 (a0)+,(a1)+: a 68040 instruction, illegal on the 68030 */
    register char *s __asm__("a0") = src;
    register char *d __asm__("a1") = dst;
    __asm__ volatile(".short 0xf620, 0x9000" : "+a"(s), "+a"(d) : : "memory");
#else
    memcpy(dst, src, 16);
#endif
    printf(memcmp(src, dst, 16) ? "move16 wrong\\n" : "move16 ok\\n");
    return 0;
  }
  return 2;
}
`;

describe('the Previous backend with a fake Previous', () => {
  let ws: string;
  let toolchain: ToolchainManifest;
  let env: NodeJS.ProcessEnv;

  const testCase = (name: string, body: object) =>
    fs.writeFileSync(path.join(ws, 'tests', `${name}.json`), JSON.stringify({ name, program: 'prog', ...body }));
  const run = (cpu: string, extraEnv: NodeJS.ProcessEnv = {}, testsDir = 'tests', outputDir = `dist/out/${cpu}`) =>
    runEmulatorTests({
      workspaceRoot: ws,
      cpu,
      emulator: 'previous',
      testsDir,
      buildManifest: 'dist/build/manifest.json',
      outputDir,
      timeoutMs: 30_000,
      env: { ...env, ...extraEnv },
    });
  const byName = (r: EmulatorTestReport, name: string) => r.cases.find((c) => c.name === name)!;

  beforeAll(async () => {
    ({ ws, toolchain } = await emulatorWorkspace('nextrust-previous-fake-', { prog: PROGRAM_C }));
    await runTool('gcc', ['-O1', 'prog.c', '-o', 'host-prog'], { cwd: ws });
    // Expected output: the same source on the build host.
    fs.mkdirSync(path.join(ws, 'tests/expected'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, 'tests/expected/echo.stdout'),
      spawnSync(path.join(ws, 'host-prog'), ['echo', 'a b', "it's"], { input: 'line in\n' }).stdout,
    );
    testCase('a-echo', {
      args: ['echo', 'a b', "it's"],
      stdin: 'line in\n',
      expect: [
        { type: 'exit_code', expected: 3 },
        { type: 'output_equals_file', path: '{testsDir}/expected/echo.stdout' },
        { type: 'output_contains', stream: 'stderr', pattern: 'stderr line' },
      ],
    });
    testCase('b-abort', {
      args: ['abort'],
      expect: [
        { type: 'exit_code', expected: 134 },
        { type: 'output_contains', pattern: 'aborting' },
      ],
    });
    testCase('c-move16', {
      args: ['move16'],
      expect: [
        { type: 'exit_code', expected: 0 },
        { type: 'output_contains', pattern: 'move16 ok' },
      ],
    });
    // What the user supplies: ROM images of NeXT ROM sizes and a disk image that starts the guest script.
    fs.writeFileSync(path.join(ws, 'rom030.bin'), Buffer.alloc(65_536, 1));
    fs.writeFileSync(path.join(ws, 'rom040.bin'), Buffer.alloc(131_072, 2));
    fs.writeFileSync(path.join(ws, 'ns33.img'), 'a NeXTSTEP 3.3 disk whose /etc/rc.local starts nextrust-run\n');
    fs.writeFileSync(path.join(ws, 'plain.img'), 'a NeXTSTEP 3.3 disk as installed\n');
    env = {
      PATH: process.env.PATH,
      NEXTRUST_PREVIOUS: FAKE,
      NEXTRUST_PREVIOUS_DISK: 'ns33.img',
      NEXTRUST_PREVIOUS_GUEST_FORMATS: 'elf',
      // The fake boots in milliseconds; a guest that never answers then fails fast (it is 600 s for NeXTSTEP).
      NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS: '20000',
      FAKE_PREVIOUS_QEMU: toolchain.qemu.qemuM68k.path,
      FAKE_PREVIOUS_M68K_SYSROOT: toolchain.cross.m68kSysroot,
    };
  });
  afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('m68040: one boot of a NeXTcube runs every case; results, JUnit, previous.cfg and the log are written', async () => {
    const seen: string[] = [];
    const report = await runEmulatorTests({
      workspaceRoot: ws,
      cpu: 'm68040',
      emulator: 'previous',
      testsDir: 'tests',
      buildManifest: 'dist/build/manifest.json',
      outputDir: 'dist/out/m68040',
      timeoutMs: 30_000,
      env: { ...env, NEXTRUST_PREVIOUS_ROM: 'rom040.bin' },
      onCase: (c) => seen.push(c.name),
    });
    for (const c of report.cases)
      expect({ name: c.name, error: c.error, passed: c.passed }).toMatchObject({ error: null, passed: true });
    expect(seen).toEqual(['a-echo', 'b-abort', 'c-move16']);
    expect(byName(report, 'a-echo')).toMatchObject({
      exitCode: 3,
      stdout: "argc=4\n[a b]\n[it's]\nline in\n",
      stderr: 'stderr line\n',
      timedOut: false,
    });
    expect(byName(report, 'a-echo').command).toBe(
      `${FAKE} (NeXTcube (68040); guest: ./bin/prog echo 'a b' 'it'\\''s')`,
    );
    expect(byName(report, 'b-abort').exitCode).toBe(134);
    const out = path.join(ws, 'dist/out/m68040');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'))).toMatchObject({
      cpu: 'm68040',
      emulator: 'previous',
      passed: 3,
      failed: 0,
    });
    expect(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8')).toMatch(/<testsuite[^>]*tests="3"[^>]*failures="0"/);
    const cfg = fs.readFileSync(path.join(out, 'previous.cfg'), 'utf8');
    expect(cfg).toContain(`szRom040FileName = ${path.join(ws, 'rom040.bin')}`);
    expect(cfg).toContain(`szImageName0 = ${path.join(ws, 'ns33.img')}`);
    const log = fs.readFileSync(path.join(out, 'previous.log'), 'utf8');
    expect(log).toContain(`machine type 1, CPU m68040; loading ROM from ${path.join(ws, 'rom040.bin')}`);
    expect(log).toContain('[RTC] Power down!');
    expect(log.match(/booted from/g)).toHaveLength(1);
  });

  it('m68030: a NeXT Computer with the 68030 ROM; the 68040-only move16 dies of SIGILL there', async () => {
    const report = await run('m68030', { NEXTRUST_PREVIOUS_ROM: 'rom030.bin' });
    expect(byName(report, 'a-echo')).toMatchObject({ passed: true, exitCode: 3 });
    expect(byName(report, 'b-abort')).toMatchObject({ passed: true, exitCode: 134 });
    expect(byName(report, 'c-move16')).toMatchObject({ passed: false, exitCode: 132, error: null });
    const log = fs.readFileSync(path.join(ws, 'dist/out/m68030/previous.log'), 'utf8');
    expect(log).toContain(
      `machine type 0, CPU m68030; loading ROM from ${path.join(ws, 'rom030.bin')} (szRom030FileName)`,
    );
  });

  it('a case over its time limit is killed with the emulator, keeps its output, and the rest run in a new boot', async () => {
    fs.mkdirSync(path.join(ws, 'tests-hang'));
    fs.copyFileSync(path.join(ws, 'tests/a-echo.json'), path.join(ws, 'tests-hang/b-echo.json'));
    fs.cpSync(path.join(ws, 'tests/expected'), path.join(ws, 'tests-hang/expected'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, 'tests-hang/a-hang.json'),
      JSON.stringify({
        name: 'a-hang',
        program: 'prog',
        args: ['hang'],
        timeoutMs: 1500,
        expect: [{ type: 'exit_code', expected: 0 }],
      }),
    );
    const t0 = Date.now();
    const report = await run('m68040', { NEXTRUST_PREVIOUS_ROM: 'rom040.bin' }, 'tests-hang', 'dist/out/hang');
    const hang = byName(report, 'a-hang');
    expect(hang).toMatchObject({ passed: false, timedOut: true, exitCode: null });
    expect(hang.error).toBe(
      'timed out after 1500 ms (output so far kept; Previous was stopped and the cases after it run in a new boot)',
    );
    expect(hang.stdout).toMatch(/^started \d+\n$/);
    expect(hang.durationMs).toBeGreaterThanOrEqual(1500);
    // The program's process went with the emulator's process group.
    const pid = Number(/started (\d+)/.exec(hang.stdout)![1]);
    expect(running(pid)).toBe(false);
    expect(byName(report, 'a-echo')).toMatchObject({ passed: true, exitCode: 3 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const log = fs.readFileSync(path.join(ws, 'dist/out/hang/previous.log'), 'utf8');
    expect(log.match(/booted from/g)).toHaveLength(2);
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'dist/out/hang/results.json'), 'utf8'))).toMatchObject({
      passed: 1,
      failed: 1,
    });
  });

  it('an emulator that crashes fails the unfinished cases, naming how it ended and quoting its log', async () => {
    const report = await run('m68040', { NEXTRUST_PREVIOUS_ROM: 'rom040.bin', FAKE_PREVIOUS_CRASH_AFTER: '1' });
    expect(byName(report, 'a-echo')).toMatchObject({ passed: true, exitCode: 3 });
    for (const name of ['b-abort', 'c-move16']) {
      const c = byName(report, name);
      expect(c).toMatchObject({ passed: false, exitCode: null });
      expect(c.error).toMatch(
        /^Previous was killed by SIGSEGV before the guest started this case; Previous's log ends:\n[^]*crashing \(FAKE_PREVIOUS_CRASH_AFTER\)/,
      );
    }
    expect(report).toMatchObject({ passed: 1, failed: 2 });
  });

  it('a guest that never answers fails every case at the boot timeout, and Previous is stopped', async () => {
    const t0 = Date.now();
    const report = await run('m68040', {
      NEXTRUST_PREVIOUS_ROM: 'rom040.bin',
      NEXTRUST_PREVIOUS_DISK: 'plain.img',
      NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS: '1500',
    });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(report).toMatchObject({ passed: 0, failed: 3 });
    for (const c of report.cases) {
      expect(c.error).toMatch(
        /^the guest did not start the run list within \d+ s of boot: the disk image must start the nextrust-run script from \/etc\/rc.local and see Previous's shared folder \(docs\/emulator-tests.md\); Previous's log ends:\n[^]*does not start the nextrust-run script/,
      );
    }
  });

  it('without ROM, disk image and emulator it refuses before anything runs, naming each', async () => {
    await expect(
      run(
        'm68040',
        { NEXTRUST_PREVIOUS: '', NEXTRUST_PREVIOUS_DISK: '', PATH: '/nonexistent' },
        'tests',
        'dist/out/none',
      ),
    ).rejects.toThrow(PreviousSetupError);
    await expect(
      run(
        'm68040',
        { NEXTRUST_PREVIOUS: '', NEXTRUST_PREVIOUS_DISK: '', PATH: '/nonexistent' },
        'tests',
        'dist/out/none',
      ),
    ).rejects.toThrow(
      /NEXTRUST_PREVIOUS_ROM is not set: [^\n]*\n {2}- NEXTRUST_PREVIOUS_DISK is not set: [^\n]*\n {2}- NEXTRUST_PREVIOUS is not set/,
    );
    await expect(run('m68060', { NEXTRUST_PREVIOUS_ROM: 'rom040.bin' }, 'tests', 'dist/out/none')).rejects.toThrow(
      /m68060: no NeXT machine has a 68060/,
    );
    expect(fs.existsSync(path.join(ws, 'dist/out/none'))).toBe(false);
  });

  it('programs of a format the guest does not run fail their case without a boot', async () => {
    const report = await run(
      'm68040',
      { NEXTRUST_PREVIOUS_ROM: 'rom040.bin', NEXTRUST_PREVIOUS_GUEST_FORMATS: '' },
      'tests',
      'dist/out/macho',
    );
    expect(report.failed).toBe(3);
    expect(report.cases[0].error).toBe(
      'dist/build/bin/prog is an m68k ELF (Linux) executable; the Previous guest runs mach-o executables (NEXTRUST_PREVIOUS_GUEST_FORMATS)',
    );
    expect(fs.existsSync(path.join(ws, 'dist/out/macho/previous.log'))).toBe(false);
  });
});
