// The libm bridge (src/build/libm-bridge.ts), proven both ways with the real toolchain:
// one C program calls every bridged libm function (double and float versions, each
// signature: (d), (d,d), (d,int), (int,d), (d,int*), (d,d*)) and prints the bits of each
// result. Built by gcc (hard-float, the reference), and by the patched clang (LLVM's
// soft-float convention) linked with the bridge and without it; run under qemu-m68k
// -cpu m68040 and m68030. With the bridge every result equals gcc's bit for bit; without
// it they do not.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratchDir } from '../src/backend/regressions';
import {
  bridgeAssembly,
  bridgedFunctions,
  bridgeLinkArgs,
  buildLibmBridge,
  floatVersion,
  LIBM_DOUBLE_FUNCTIONS,
} from '../src/build/libm-bridge';
import { runUnderQemu } from '../src/emulator/qemu';
import type { ToolchainManifest } from '../src/toolchain/locate';
import { runTool } from '../src/util/exec';
import { workspaceToolchain } from './scratch-workspace';

/** C argument list of each libm function (the double version; the float one takes the same shapes). */
const SIGNATURES: Record<string, 'd' | 'dd' | 'di' | 'id' | 'dip' | 'ddp'> = {
  atan2: 'dd',
  fdim: 'dd',
  hypot: 'dd',
  nextafter: 'dd',
  pow: 'dd',
  remainder: 'dd',
  ldexp: 'di',
  scalbn: 'di',
  jn: 'id',
  yn: 'id',
  frexp: 'dip',
  lgamma_r: 'dip',
  modf: 'ddp',
};

/** A C program that prints `name bits` for every function of LIBM_DOUBLE_FUNCTIONS and its float version. */
function harnessSource(): string {
  const lines = [
    '#include <stdio.h>',
    '#include <string.h>',
    '#define _GNU_SOURCE',
    '#include <math.h>',
    'double exp10(double); float exp10f(float); double lgamma_r(double, int *); float lgammaf_r(float, int *);',
    'static volatile double a = 0.75, b = 1.5; static volatile float fa = 0.75f, fb = 1.5f; static volatile int n = 3;',
    'static void pd(const char *name, double r) { unsigned long long u; memcpy(&u, &r, 8); printf("%s %016llx\\n", name, u); }',
    'static void pf(const char *name, float r) { unsigned int u; memcpy(&u, &r, 4); printf("%s %08x\\n", name, u); }',
    'int main(void) {',
    '  int i; double dp; float fp;',
  ];
  for (const name of LIBM_DOUBLE_FUNCTIONS) {
    const sig = SIGNATURES[name] ?? 'd';
    for (const [fn, x, y, p, ptr] of [
      [name, 'a', 'b', 'pd', '&dp'],
      [floatVersion(name), 'fa', 'fb', 'pf', '&fp'],
    ]) {
      const args = { d: x, dd: `${x}, ${y}`, di: `${x}, n`, id: `n, ${x}`, dip: `${x}, &i`, ddp: `${x}, ${ptr}` }[sig];
      lines.push(`  ${p}("${fn}", ${fn}(${args}));`);
    }
  }
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}

let toolchain: ToolchainManifest;
const work = scratchDir('nextrust-libm-bridge-');
const outputs: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  toolchain = await workspaceToolchain();

  const gcc = toolchain.cross.gcc.path;
  const ar = path.join(path.dirname(gcc), `${toolchain.cross.prefix}ar`);
  const src = path.join(work, 'libm-calls.c');
  fs.writeFileSync(src, harnessSource());
  const functions = bridgedFunctions();
  const archive = await buildLibmBridge({ gcc, ar, outDir: path.join(work, 'bridge'), functions });
  const clangObj = path.join(work, 'clang.o');
  await runTool(toolchain.llvm.tools.clang.path, [
    '--target=m68k-linux-gnu',
    '-mcpu=68040',
    '-O2',
    '-fno-builtin',
    '-c',
    src,
    '-o',
    clangObj,
  ]);
  const wrap = bridgeLinkArgs(archive, functions).map((a) => a.replace(/^-Clink-arg=/, ''));
  await runTool(gcc, ['-m68040', '-O2', '-fno-builtin', '-no-pie', src, '-o', path.join(work, 'gcc'), '-lm']);
  await runTool(gcc, ['-no-pie', clangObj, ...wrap, '-o', path.join(work, 'bridged'), '-lm']);
  await runTool(gcc, ['-no-pie', clangObj, '-o', path.join(work, 'unbridged'), '-lm']);
  for (const cpu of ['m68040', 'm68030']) {
    for (const build of ['gcc', 'bridged', 'unbridged']) {
      const run = await runUnderQemu({
        qemu: toolchain.qemu.qemuM68k.path,
        cpu,
        m68kSysroot: toolchain.cross.m68kSysroot,
        program: path.join(work, build),
        timeoutMs: 60_000,
      });
      if (run.exitCode !== 0) throw new Error(`${build} on ${cpu} exited ${run.exitCode}: ${run.stderr}`);
      outputs[`${build}/${cpu}`] = Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
    }
  }
}, 30 * 60_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe.each(['m68040', 'm68030'])('libm results under qemu-m68k -cpu %s', (cpu) => {
  it('the gcc reference calls every function, double and float', () => {
    expect(Object.keys(outputs[`gcc/${cpu}`]).sort()).toEqual(
      bridgedFunctions()
        .map((f) => f.name)
        .sort(),
    );
    // The values are the functions' (to 40 bits for doubles, 20 for floats, against JavaScript's Math).
    const bits = (x: number, float: boolean) => {
      const b = Buffer.alloc(float ? 4 : 8);
      if (float) b.writeFloatBE(x);
      else b.writeDoubleBE(x);
      return b.toString('hex').slice(0, float ? 5 : 10);
    };
    const out = outputs[`gcc/${cpu}`];
    for (const [name, value] of [
      ['sin', Math.sin(0.75)],
      ['exp', Math.exp(0.75)],
      ['pow', 0.75 ** 1.5],
      ['atan2', Math.atan2(0.75, 1.5)],
      ['ldexp', 0.75 * 8],
    ] as const) {
      expect([name, out[name].slice(0, 10)]).toEqual([name, bits(value, false)]);
      expect([`${name}f`, out[`${name}f`].slice(0, 5)]).toEqual([`${name}f`, bits(value, true)]);
    }
  });

  it('through the bridge, LLVM-compiled code gets every result bit for bit', () => {
    expect(outputs[`bridged/${cpu}`]).toEqual(outputs[`gcc/${cpu}`]);
  });

  it('without the bridge, it does not (the reproducer of the ABI mismatch)', () => {
    const wrong = Object.keys(outputs[`gcc/${cpu}`]).filter(
      (k) => outputs[`unbridged/${cpu}`][k] !== outputs[`gcc/${cpu}`][k],
    );
    expect(wrong.length).toBeGreaterThan(Object.keys(outputs[`gcc/${cpu}`]).length * 0.9);
    expect(wrong).toEqual(expect.arrayContaining(['sin', 'sinf', 'pow', 'powf', 'atan2', 'frexp', 'jn', 'modff']));
  });
});

describe('the stubs', () => {
  it('bridge every libm function in double and float, less those defined elsewhere', () => {
    const all = bridgedFunctions().map((f) => f.name);
    expect(all).toHaveLength(LIBM_DOUBLE_FUNCTIONS.length * 2);
    expect(all).toEqual(expect.arrayContaining(['sin', 'sinf', 'lgamma_r', 'lgammaf_r']));
    const less = bridgedFunctions(['cbrt', 'fdimf']).map((f) => f.name);
    expect(less).not.toContain('cbrt');
    expect(less).not.toContain('fdimf');
    expect(less).toContain('cbrtf');
  });

  it('move %fp0 into the soft-float result registers by result type', () => {
    const asm = bridgeAssembly([
      { name: 'sin', result: 'double' },
      { name: 'sinf', result: 'float' },
    ]);
    expect(asm).toContain('__wrap_sin:\n\tmove.l 16(%sp),-(%sp)');
    expect(asm).toMatch(
      /jsr __real_sin\n\tlea 16\(%sp\),%sp\n\tfmove\.d %fp0,-\(%sp\)\n\tmove\.l \(%sp\)\+,%d0\n\tmove\.l \(%sp\)\+,%d1\n\trts/,
    );
    expect(asm).toMatch(/jsr __real_sinf\n\tlea 16\(%sp\),%sp\n\tfmove\.s %fp0,%d0\n\trts/);
  });
});
