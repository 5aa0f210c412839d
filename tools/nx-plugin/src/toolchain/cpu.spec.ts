// Covers the CPU variant table: cpuInfo lookups, and errors that list the valid variant names.
import { CPU_NAMES, CPU_VARIANTS, DEFAULT_CPU, cpuInfo } from './cpu';

describe('cpuInfo', () => {
  it.each(['m68000', 'm68030', 'm68040', 'm68060'])('finds %s with matching clang, rustc and qemu names', (name) => {
    const info = cpuInfo(name);
    const digits = name.slice(1);
    expect(info).toMatchObject({ name, clangCpu: digits, rustCpu: `M${digits}`, qemuCpu: name });
  });

  it('knows that only the 68000 lacks CAS, and that glibc runs on the 68030 and 68040 only', () => {
    expect(cpuInfo('m68000')).toMatchObject({ hasCas: false, runsGlibc: false });
    for (const name of ['m68030', 'm68040']) expect(cpuInfo(name)).toMatchObject({ hasCas: true, runsGlibc: true });
    // Debian's ld.so uses 64-bit mulu.l, which the 68060 lacks.
    expect(cpuInfo('m68060')).toMatchObject({ hasCas: true, runsGlibc: false });
  });

  it.each(['m68020', 'M68040', '68040', '', 'm68040 '])('rejects %j, listing the valid names', (name) => {
    expect(() => cpuInfo(name)).toThrow(
      new Error(`unknown CPU variant '${name}': expected one of m68000, m68030, m68040, m68060`),
    );
  });
});

describe('CPU_NAMES and DEFAULT_CPU', () => {
  it('lists the variants oldest first, with the NeXT 68040 as default', () => {
    expect(CPU_NAMES).toEqual(['m68000', 'm68030', 'm68040', 'm68060']);
    expect(CPU_NAMES).toEqual(CPU_VARIANTS.map((c) => c.name));
    expect(DEFAULT_CPU).toBe('m68040');
  });
});
