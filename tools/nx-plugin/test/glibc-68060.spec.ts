// Why hosted and std programs have no 68060 configuration (docs/toolchain-bugs.md): Debian's
// m68k glibc uses the 64-bit mulu.l/divu.l forms the 68060 lacks, in its static libc.a too, so
// even a statically linked C hello world dies with SIGILL under qemu-m68k -cpu m68060, while
// it runs on the 68040. If this ever changes (a glibc built for the 68060, or qemu emulating
// the instructions as Linux does on real hardware), this test says so.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratchDir } from '../src/backend/regressions';
import { runProcess, runTool } from '../src/util/exec';

const work = scratchDir('nextrust-glibc-68060-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

it('a static glibc program runs on the 68040 and dies with SIGILL on the 68060', async () => {
  const src = path.join(work, 'hello.c');
  fs.writeFileSync(
    src,
    '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { int *p = calloc(4, sizeof *p); printf("hello %d\\n", p[3]); return 0; }\n',
  );
  const exe = path.join(work, 'hello');
  await runTool('m68k-linux-gnu-gcc', ['-m68060', '-O2', '-static', src, '-o', exe]);
  const ok = await runProcess('qemu-m68k', ['-cpu', 'm68040', exe], { timeoutMs: 60_000 });
  expect({ code: ok.exitCode, out: ok.stdout }).toEqual({ code: 0, out: 'hello 0\n' });
  const ill = await runProcess('qemu-m68k', ['-cpu', 'm68060', exe], { timeoutMs: 60_000 });
  expect(ill.exitCode).not.toBe(0);
  expect(ill.all).toMatch(/signal 4 \(Illegal instruction\)/);
  // The instruction is a 64-bit multiply in glibc's calloc.
  const dump = await runTool('m68k-linux-gnu-objdump', ['-d', '--no-show-raw-insn', exe]);
  const calloc = dump.stdout.split(/\n(?=[0-9a-f]+ <)/).find((f) => /^[0-9a-f]+ <(__libc_|__)?calloc>:/.test(f));
  expect(calloc).toMatch(/mulul [^\n]*,%d[0-7],%d[0-7]/);
});
