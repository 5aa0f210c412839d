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

/**
 * Variables removed from the program's environment: a std panic with
 * RUST_BACKTRACE set captures a backtrace, which needs unwinding that m68k std
 * lacks (the capture crashes with SIGSEGV), and a test's outcome must not
 * depend on the caller's shell.
 */
export const GUEST_ENV_REMOVED = ['RUST_BACKTRACE', 'RUST_LIB_BACKTRACE'];

/** The environment a program runs with: this process's, less GUEST_ENV_REMOVED (qemu-user passes it on). */
export function guestEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !GUEST_ENV_REMOVED.includes(k)) out[k] = v;
  return out;
}

/** Runs the program; never throws for how it ended (see ProcessResult). */
export function runUnderQemu(o: QemuRunOptions): Promise<ProcessResult> {
  return runProcess(o.qemu, qemuArgs(o), {
    timeoutMs: o.timeoutMs,
    input: o.stdin,
    cwd: o.cwd,
    env: guestEnv(),
    replaceEnv: true,
  });
}
