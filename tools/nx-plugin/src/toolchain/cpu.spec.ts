// Covers the CPU variant table: cpuInfo lookups, errors that list the valid variant names, and every name against the
// tool that must accept it (qemu-m68k -cpu help, llc -mcpu=help, clang -mcpu=).
import { spawnSync } from 'node:child_process';
import { CPU_NAMES, CPU_VARIANTS, DEFAULT_CPU, cpuInfo } from './cpu';

/** stdout+stderr of a tool the test machine has (scripts/setup.sh installs it); fails the test when it cannot run. */
function run(file: string, args: string[]): { status: number | null; text: string } {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${file}: ${r.error.message}`);
  return { status: r.status, text: `${r.stdout}${r.stderr}` };
}

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

describe('the names each tool is given', () => {
  it.each(CPU_VARIANTS.map((c) => [c.name, c] as const))('%s: qemu, LLVM and clang know them', (_name, c) => {
    const qemu = run('qemu-m68k', ['-cpu', 'help'])
      .text.split('\n')
      .map((l) => l.trim());
    expect(qemu).toContain(c.qemuCpu);
    const llc = run('/usr/lib/llvm-22/bin/llc', ['-march=m68k', '-mcpu=help']).text;
    expect(llc).toMatch(new RegExp(`^\\s+${c.rustCpu}\\s+- `, 'm'));
    const clang = run('clang-22', [
      '--target=m68k-linux-gnu',
      `-mcpu=${c.clangCpu}`,
      '-fsyntax-only',
      '-x',
      'c',
      '/dev/null',
    ]);
    expect({ status: clang.status, text: clang.text }).toEqual({ status: 0, text: '' });
  });

  it('a name no tool knows is refused by them (the oracle can fail)', () => {
    expect(
      run('qemu-m68k', ['-cpu', 'help'])
        .text.split('\n')
        .map((l) => l.trim()),
    ).not.toContain('m68050');
    expect(
      run('clang-22', ['--target=m68k-linux-gnu', '-mcpu=68050', '-fsyntax-only', '-x', 'c', '/dev/null']).status,
    ).not.toBe(0);
  });
});

describe('CPU_NAMES and DEFAULT_CPU', () => {
  it('lists the variants oldest first, with the NeXT 68040 as default', () => {
    expect(CPU_NAMES).toEqual(['m68000', 'm68030', 'm68040', 'm68060']);
    expect(CPU_NAMES).toEqual(CPU_VARIANTS.map((c) => c.name));
    expect(DEFAULT_CPU).toBe('m68040');
  });
});
