/**
 * Runs one m68k Linux program under qemu-m68k user mode:
 * `qemu-m68k -L <m68k sysroot> -cpu <cpu> <program> <args>`, with a timeout
 * after which the run is killed and the output captured so far is kept.
 */
import { cpuInfo } from '../toolchain/cpu';
import { runProcess, type ProcessResult } from '../util/exec';

/** Options of runUnderQemu. */
export interface QemuRunOptions {
  qemu: string;
  /** The m68k glibc sysroot (`-L`), e.g. /usr/m68k-linux-gnu. */
  m68kSysroot: string;
  cpu: string;
  program: string;
  args?: string[];
  stdin?: string;
  /** ms. */
  timeoutMs: number;
  cwd?: string;
}

/** The qemu-m68k argument list for a run. */
export function qemuArgs(o: Pick<QemuRunOptions, 'm68kSysroot' | 'cpu' | 'program' | 'args'>): string[] {
  return ['-L', o.m68kSysroot, '-cpu', cpuInfo(o.cpu).qemuCpu, o.program, ...(o.args ?? [])];
}

/** Runs the program; never throws for how it ended (see ProcessResult). */
export function runUnderQemu(o: QemuRunOptions): Promise<ProcessResult> {
  return runProcess(o.qemu, qemuArgs(o), { timeoutMs: o.timeoutMs, input: o.stdin, cwd: o.cwd });
}
