// The known-issues database against failures reproduced live with this machine's real
// toolchain (clang-19, m68k binutils and gcc, qemu-m68k, Debian's rustc): the patterns
// must keep matching what the installed tools print today, not only the committed fixtures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { knownIssuesFileSchema } from '../src/pipeline/known-issues';
import { scanLogText } from '../src/pipeline/matcher';
import { readValidatedJson } from '../src/pipeline/validated-file';
import { runProcess } from '../src/util/exec';
import { WORKSPACE_ROOT } from './scratch-workspace';

const issues = readValidatedJson(path.join(WORKSPACE_ROOT, 'projects/ci-status/known-issues.json'), knownIssuesFileSchema).known_issues;
const CLANG = '/usr/lib/llvm-19/bin/clang';

describe('known issues reproduced live with the real toolchain', () => {
  let dir: string;
  let hello: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-live-'));
    fs.writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    fs.writeFileSync(
      path.join(dir, 'atom.c'),
      'int counter;\nvoid _start(void) { __sync_fetch_and_add(&counter, 1); __sync_val_compare_and_swap(&counter, 1, 2); for (;;) ; }\n',
    );
    hello = path.join(dir, 'hello');
    const built = await runProcess('m68k-linux-gnu-gcc', ['-O2', path.join(dir, 'hello.c'), '-o', hello]);
    expect(built.exitCode).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs a failing command and scans what it printed. */
  async function failing(file: string, args: string[], env: Record<string, string | undefined> = {}) {
    const r = await runProcess(file, args, { cwd: dir, env });
    expect(r.exitCode).not.toBe(0);
    return { output: r.all, scan: scanLogText(r.all, issues) };
  }

  it('atomic-spinlock-m68k: 68000 atomics linked without the spinlock library', async () => {
    const obj = path.join(dir, 'atom.o');
    const cc = await runProcess(CLANG, ['--target=m68k-linux-gnu', '-mcpu=68000', '-O2', '-ffreestanding', '-fno-pic', '-c', 'atom.c', '-o', obj], { cwd: dir });
    expect(cc.exitCode).toBe(0);
    const { output, scan } = await failing('m68k-linux-gnu-ld', ['-static', '-nostdlib', obj, '-o', path.join(dir, 'atom')]);
    expect(output).toContain('__sync_fetch_and_add_4');
    expect(scan.match?.id).toBe('atomic-spinlock-m68k');
  });

  it('llvm-triple-unrecognized: clang given an unknown arch', async () => {
    const { scan } = await failing(CLANG, ['--target=m86k-next-nextstep', '-c', 'hello.c', '-o', 'x.o']);
    expect(scan.match?.id).toBe('llvm-triple-unrecognized');
  });

  it('llvm-triple-unrecognized: rustc given the spec name instead of its path', async () => {
    const { scan } = await failing('/usr/bin/rustc', ['--target', 'm68k-next-nextstep', '--print', 'cfg'], { RUSTC_BOOTSTRAP: '1' });
    expect(scan.match?.id).toBe('llvm-triple-unrecognized');
  });

  it('nightly-required: a -Z flag on the stable rustc', async () => {
    const { scan } = await failing('/usr/bin/rustc', ['-Zunstable-options', '--print', 'sysroot'], { RUSTC_BOOTSTRAP: undefined });
    expect(scan.match?.id).toBe('nightly-required');
  });

  it('linker-not-found: a linker that is not installed', async () => {
    const { scan } = await failing(CLANG, ['--target=m68k-linux-gnu', '-fuse-ld=nextrust-no-such-ld', 'hello.c', '-o', 'x']);
    expect(scan.match?.id).toBe('linker-not-found');
  });

  it('qemu-sysroot-missing: qemu-m68k without the m68k sysroot', async () => {
    const { output, scan } = await failing('qemu-m68k', ['-cpu', 'm68040', hello], { QEMU_LD_PREFIX: undefined });
    expect(output).toContain('ld.so.1');
    expect(scan.match?.id).toBe('qemu-sysroot-missing');
  });

  it('emulator-cpu-mismatch: a glibc program on the 68000', async () => {
    const { scan } = await failing('qemu-m68k', ['-L', '/usr/m68k-linux-gnu', '-cpu', 'm68000', hello]);
    expect(scan.match?.id).toBe('emulator-cpu-mismatch');
    // On the CPU it was built for, the same program runs.
    const ok = await runProcess('qemu-m68k', ['-L', '/usr/m68k-linux-gnu', '-cpu', 'm68040', hello]);
    expect(ok.exitCode).toBe(0);
    expect(scanLogText(ok.all, issues).match).toBeNull();
  });
});
