/**
 * Flags for the C test and benchmark harnesses of the spinlock atomics
 * (projects/llvm-m68k/tests), shared by atomics.spec.ts and tools/bench.
 * @param atomicsDir folder of nextrust_atomics.h.
 */
export function harnessCflags(atomicsDir: string): string[] {
  return ['-O2', '-pthread', '-Wall', '-Wextra', '-Werror', `-I${atomicsDir}`];
}
