/**
 * Runs a linked image as a static Linux executable under qemu's user mode:
 * `qemu-m68k -cpu m68040 <file>` for the 68k, `qemu-i386 <file>` for i386 (whose
 * Mach-O objects exercise the same generic relocations). The program is
 * freestanding: its entry makes Linux system calls itself (68k: `trap #0`,
 * d0 = number, write = 4, exit = 1; i386: `int $0x80`, eax = number, the same
 * numbers); see https://man7.org/linux/man-pages/man2/syscall.2.html.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess, type ProcessResult } from '../util/exec';
import { elfExecutable } from './elf-exec';
import type { LinkResult } from './linker';

/** Options of runLinked(). */
export interface RunLinkedOptions {
  /** Where the executable is written (its folder must exist). */
  file: string;
  /** qemu binary; default `qemu-m68k` or `qemu-i386` from PATH by machine. */
  qemu?: string;
  /** qemu `-cpu` for the 68k; default m68040. */
  cpu?: string;
  /** ms; default 20000. */
  timeoutMs?: number;
}

/**
 * Writes the executable (mode 0755) and runs it; never throws for how the program ended.
 * @returns qemu's ProcessResult (stdout, exit code, signal, timedOut).
 */
export async function runLinked(linked: LinkResult, o: RunLinkedOptions): Promise<ProcessResult> {
  fs.mkdirSync(path.dirname(o.file), { recursive: true });
  fs.writeFileSync(o.file, elfExecutable(linked), { mode: 0o755 });
  const qemu = o.qemu ?? (linked.machine === 'm68k' ? 'qemu-m68k' : 'qemu-i386');
  const args = linked.machine === 'm68k' ? ['-cpu', o.cpu ?? 'm68040', o.file] : [o.file];
  return runProcess(qemu, args, { timeoutMs: o.timeoutMs ?? 20000 });
}
