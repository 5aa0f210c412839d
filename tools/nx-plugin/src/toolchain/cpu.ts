/**
 * The 680x0 CPU variants the pipeline builds for, and what each can do.
 *
 * Each variant is an Nx configuration of the CPU-dependent targets
 * (llvm-m68k:atomics, rust-target:sysroot, rust-target:build,
 * emulator-tests:test). Facts this rests on:
 *  - rustc/LLVM emit `cas.l` for atomics on the 68020 and later; on the 68000
 *    they become `__sync_*` libcalls (the spinlock atomics): LLVM's M68k
 *    backend makes ATOMIC_CMP_SWAP legal only from the 68020
 *    (https://github.com/llvm/llvm-project/blob/main/llvm/lib/Target/M68k/M68kISelLowering.cpp);
 *  - Debian's m68k glibc and its dynamic loader need a 68020 or later, and
 *    use 64-bit mulu.l, which the 68060 lacks (it traps as an unimplemented
 *    integer instruction: MC68060 User's Manual,
 *    https://www.nxp.com/docs/en/data-sheet/MC68060UM.pdf): hosted (libc)
 *    programs run under qemu-m68k on the 68030 and 68040 only.
 */

/** Name of a CPU variant, as used for Nx configurations and `qemu-m68k -cpu`. */
export type CpuVariant = 'm68000' | 'm68030' | 'm68040' | 'm68060';

/** What the toolchain and the emulator need to know of one CPU variant. */
export interface CpuInfo {
  /** Configuration name, e.g. `m68040`. */
  name: CpuVariant;
  /** clang `-mcpu=` value, e.g. `68040`. */
  clangCpu: string;
  /** rustc `-C target-cpu=` value (LLVM's CPU name), e.g. `M68040`. */
  rustCpu: string;
  /** qemu-m68k `-cpu` value. */
  qemuCpu: string;
  /** True when the CPU has the CAS instruction (68020 and later). */
  hasCas: boolean;
  /** True when Debian's m68k glibc and its dynamic loader run on it (68020 to 68040). */
  runsGlibc: boolean;
}

/** All CPU variants, oldest first. */
export const CPU_VARIANTS: readonly CpuInfo[] = [
  { name: 'm68000', clangCpu: '68000', rustCpu: 'M68000', qemuCpu: 'm68000', hasCas: false, runsGlibc: false },
  { name: 'm68030', clangCpu: '68030', rustCpu: 'M68030', qemuCpu: 'm68030', hasCas: true, runsGlibc: true },
  { name: 'm68040', clangCpu: '68040', rustCpu: 'M68040', qemuCpu: 'm68040', hasCas: true, runsGlibc: true },
  // Debian's m68k glibc (ld.so, and libc.a for static links) uses 64-bit mulu.l, which the 68060 lacks
  // (SIGILL under qemu -cpu m68060; docs/toolchain-bugs.md).
  { name: 'm68060', clangCpu: '68060', rustCpu: 'M68060', qemuCpu: 'm68060', hasCas: true, runsGlibc: false },
];

/** The configuration used when none is given: the NeXT's 68040. */
export const DEFAULT_CPU: CpuVariant = 'm68040';

/** Names of all CPU variants, for error messages and configuration lists. */
export const CPU_NAMES: readonly CpuVariant[] = CPU_VARIANTS.map((c) => c.name);

/**
 * Looks up a CPU variant by name.
 * @throws Error naming the valid variants when `name` is not one of them.
 */
export function cpuInfo(name: string): CpuInfo {
  const found = CPU_VARIANTS.find((c) => c.name === name);
  if (!found) {
    throw new Error(`unknown CPU variant '${name}': expected one of ${CPU_NAMES.join(', ')}`);
  }
  return found;
}
