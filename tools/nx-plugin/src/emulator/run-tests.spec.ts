// runEmulatorTests with real qemu-m68k: a program that hangs fails at its timeout with the
// output captured so far; a crash by signal is reported as 128 + signal; reports are written;
// a timeout is reported as one however late the spawn returns.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ToolchainManifest } from '../toolchain/locate';
import { emulatorWorkspace } from '../../test/helpers/emulator-workspace';
import { runUnderQemu } from './qemu';
import { retryableFailure, runEmulatorTests } from './run-tests';

const HANG_C = `#include <stdio.h>
#include <signal.h>
int main(int argc, char **argv) {
  printf("started %s\\n", argc > 1 ? argv[1] : "");
  fflush(stdout);
  if (argc > 1 && argv[1][0] == 'a') raise(SIGABRT);
  /* "flaky MARKER": hangs the first time (and leaves MARKER), passes when MARKER exists. */
  if (argc > 2 && argv[1][0] == 'f') {
    FILE *m = fopen(argv[2], "r");
    if (m) { fclose(m); printf("second run\\n"); return 0; }
    m = fopen(argv[2], "w");
    if (m) fclose(m);
  }
  for (;;) { }
}
`;

describe('runEmulatorTests under qemu-m68k', () => {
  let ws: string;
  let toolchain: ToolchainManifest;

  beforeAll(async () => {
    ({ ws, toolchain } = await emulatorWorkspace('nextrust-emu-', { hang: HANG_C }));
    fs.mkdirSync(path.join(ws, 'tests'));
    fs.writeFileSync(
      path.join(ws, 'tests/hang.json'),
      JSON.stringify({
        name: 'hang',
        program: 'hang',
        args: ['looping'],
        timeoutMs: 2000,
        expect: [{ type: 'exit_code', expected: 0 }],
      }),
    );
    fs.writeFileSync(
      path.join(ws, 'tests/abort.json'),
      JSON.stringify({
        name: 'abort',
        program: 'hang',
        args: ['abort'],
        expect: [
          { type: 'exit_code', expected: 134 },
          { type: 'output_contains', pattern: 'started abort' },
        ],
      }),
    );
  });
  afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('retries a timeout once and records it: a hang fails twice; a run that passes the second time passes, with its first run kept', async () => {
    const tests = path.join(ws, 'tests-retry');
    fs.mkdirSync(tests, { recursive: true });
    fs.writeFileSync(
      path.join(tests, 'flaky.json'),
      JSON.stringify({
        name: 'flaky',
        program: 'hang',
        args: ['flaky', 'flaky.marker'],
        timeoutMs: 1500,
        expect: [{ type: 'output_contains', pattern: 'second run' }],
      }),
    );
    fs.writeFileSync(
      path.join(tests, 'crash.json'),
      JSON.stringify({ name: 'crash', program: 'hang', args: ['abort'], expect: [{ type: 'exit_code', expected: 0 }] }),
    );
    fs.rmSync(path.join(ws, 'flaky.marker'), { force: true });
    const report = await runEmulatorTests({
      workspaceRoot: ws,
      cpu: 'm68040',
      emulator: 'qemu',
      testsDir: 'tests-retry',
      buildManifest: 'dist/build/manifest.json',
      outputDir: 'dist/out-retry',
      timeoutMs: 30_000,
    });
    const flaky = report.cases.find((c) => c.name === 'flaky')!;
    expect(flaky).toMatchObject({ passed: true, timedOut: false, exitCode: 0, stdout: 'started flaky\nsecond run\n' });
    expect(flaky.retry).toMatchObject({
      class: 'timeout',
      first: { timedOut: true, error: 'timed out after 1500 ms (output so far kept)', stdout: 'started flaky\n' },
    });
    // A crash (SIGABRT) is the program's: not retried.
    const crash = report.cases.find((c) => c.name === 'crash')!;
    expect(crash).toMatchObject({ passed: false, exitCode: 134 });
    expect(crash.retry).toBeUndefined();
    const saved = JSON.parse(fs.readFileSync(path.join(ws, 'dist/out-retry/results.json'), 'utf8'));
    expect(saved.cases.find((c: { name: string }) => c.name === 'flaky').retry.class).toBe('timeout');
    expect(fs.readFileSync(path.join(ws, 'dist/out-retry/junit.xml'), 'utf8')).toContain(
      '<property name="retried" value="timeout"/>',
    );
  });

  it('retryableFailure: timeouts and resource errors starting qemu; not a missing qemu', () => {
    expect(retryableFailure({ timedOut: true })).toBe('timeout');
    expect(retryableFailure({ timedOut: false, startError: 'spawn EAGAIN' })).toBe('emulator-start');
    expect(retryableFailure({ timedOut: false, startError: 'spawn /usr/bin/qemu-m68k ENOENT' })).toBeNull();
    expect(retryableFailure({ timedOut: false })).toBeNull();
  });

  it('fails a hanging program at its timeout, keeping its output, and reports a signal as 128 + n', async () => {
    const seen: string[] = [];
    const report = await runEmulatorTests({
      workspaceRoot: ws,
      cpu: 'm68040',
      emulator: 'qemu',
      testsDir: 'tests',
      buildManifest: 'dist/build/manifest.json',
      outputDir: 'dist/out',
      timeoutMs: 30_000,
      onCase: (c) => seen.push(c.name),
    });
    expect(seen).toEqual(['abort', 'hang']);
    const hang = report.cases.find((c) => c.name === 'hang')!;
    expect(hang.passed).toBe(false);
    expect(hang.timedOut).toBe(true);
    expect(hang.error).toBe('timed out after 2000 ms (output so far kept)');
    expect(hang.stdout).toBe('started looping\n');
    expect(hang.durationMs).toBeGreaterThanOrEqual(2000);
    expect(hang.durationMs).toBeLessThan(15_000);
    const abort = report.cases.find((c) => c.name === 'abort')!;
    expect(abort).toMatchObject({ passed: true, exitCode: 134, timedOut: false });
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    const written = JSON.parse(fs.readFileSync(path.join(ws, 'dist/out/results.json'), 'utf8'));
    expect(written.failed).toBe(1);
    expect(fs.readFileSync(path.join(ws, 'dist/out/junit.xml'), 'utf8')).toContain('type="timeout"');
  });

  it('reports the timeout however late the spawn returns (execa 5 used to lose it: sindresorhus/execa#726)', async () => {
    // execa 5 hands `timeout` to child_process.spawn too: Node's timer, set in spawn(), killed first and,
    // when execa's own timer was set late (load), execa said timedOut false. runProcess now keeps the
    // timeout itself; a spawn() that returns 200 ms late stands in for the load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cp = require('child_process') as typeof import('child_process'); // the module execa uses
    const spawn = cp.spawn as (...a: unknown[]) => unknown;
    const spy = jest.spyOn(cp, 'spawn').mockImplementation(((...args: unknown[]) => {
      const child = spawn.apply(cp, args);
      for (const until = Date.now() + 200; Date.now() < until;);
      return child;
    }) as never);
    try {
      const run = await runUnderQemu({
        qemu: toolchain.qemu.qemuM68k.path,
        m68kSysroot: toolchain.cross.m68kSysroot,
        cpu: 'm68040',
        program: path.join(ws, 'dist/build/bin/hang'),
        args: ['looping'],
        timeoutMs: 1000,
      });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(run).toMatchObject({ timedOut: true, exitCode: 137, signal: 'SIGKILL', startError: null });
    } finally {
      spy.mockRestore();
    }
  });

  it('fails a test whose program is not a program of the build, naming the file and the program', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ws, 'dist/build/manifest.json'), 'utf8'));
    fs.writeFileSync(
      path.join(ws, 'dist/build/manifest-programs.json'),
      JSON.stringify({ ...manifest, programs: ['hang'] }),
    );
    fs.mkdirSync(path.join(ws, 'tests-typo'));
    fs.writeFileSync(
      path.join(ws, 'tests-typo/ghost.json'),
      JSON.stringify({ name: 'ghost', program: 'hnag', expect: [{ type: 'exit_code', expected: 0 }] }),
    );
    const report = await runEmulatorTests({
      workspaceRoot: ws,
      cpu: 'm68040',
      emulator: 'qemu',
      testsDir: 'tests-typo',
      buildManifest: 'dist/build/manifest-programs.json',
      outputDir: 'dist/out-typo',
      timeoutMs: 30_000,
    });
    expect(report.failed).toBe(1);
    expect(report.cases[0]).toMatchObject({
      name: 'ghost',
      passed: false,
      error: "tests-typo/ghost.json: field 'program': no program 'hnag' in the build (its programs: hang)",
    });
  });

  it('refuses the previous emulator without its ROM, disk image and executable, before anything runs', async () => {
    await expect(
      runEmulatorTests({
        workspaceRoot: ws,
        cpu: 'm68040',
        emulator: 'previous',
        testsDir: 'tests',
        buildManifest: 'dist/build/manifest.json',
        outputDir: 'dist/out2',
        timeoutMs: 1000,
        env: { PATH: '/nonexistent' },
      }),
    ).rejects.toThrow(
      /^the previous emulator cannot run the m68040 tests; nothing was run:\n {2}- NEXTRUST_PREVIOUS_ROM is not set/,
    );
    expect(fs.existsSync(path.join(ws, 'dist/out2'))).toBe(false);
  });
});
