/**
 * The libm bridge: float results across the two m68k Linux float ABIs.
 *
 * LLVM's M68k backend is soft-float: a function returns `double` in
 * `%d0:%d1` (high word in `%d0`) and `float` in `%d0`. Debian's m68k glibc is
 * built hard-float by gcc, whose libm returns them in the FPU register `%fp0`
 * (the m68k System V ABI; gcc's `FUNCTION_VALUE` for m68k with an FPU).
 * Arguments agree (both pass floats on the stack). So every call from code
 * LLVM compiled into a float-returning libm function (`f64::sin`, `powf`,
 * `atan2`, …) reads garbage.
 *
 * The bridge links each such call through a small assembly stub instead
 * (GNU ld's `--wrap=SYMBOL`: references to `sin` become `__wrap_sin`, and
 * `__real_sin` is libm's `sin`; https://sourceware.org/binutils/docs/ld/Options.html):
 * the stub copies the caller's 16 bytes of stack arguments, calls libm, and
 * moves `%fp0` into `%d0:%d1` (`fmove.d %fp0,-(%sp)`) or `%d0` (`fmove.s`).
 * Functions that compiler_builtins defines itself (`sqrt`, `floor`, `fmod`, …,
 * compiled by LLVM, so already soft-float) are not wrapped: the executable
 * uses those definitions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ToolchainManifest } from '../toolchain/locate';
import { runTool } from '../util/exec';
import { HOSTED_TRIPLE } from './rust-targets';

/**
 * glibc libm functions returning `double` that LLVM-compiled code may call: those std's `f64` methods and
 * LLVM's math libcalls reach, and their neighbours. The `float` versions (suffix `f`) are bridged too.
 * Every one takes at most 16 bytes of arguments (two doubles, or a double and a pointer or int).
 */
export const LIBM_DOUBLE_FUNCTIONS = [
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atan2',
  'atanh',
  'cbrt',
  'cos',
  'cosh',
  'erf',
  'erfc',
  'exp',
  'exp10',
  'exp2',
  'expm1',
  'fdim',
  'frexp',
  'hypot',
  'j0',
  'j1',
  'jn',
  'ldexp',
  'lgamma',
  'lgamma_r',
  'log',
  'log10',
  'log1p',
  'log2',
  'logb',
  'modf',
  'nearbyint',
  'nextafter',
  'pow',
  'remainder',
  'scalbn',
  'sin',
  'sinh',
  'tan',
  'tanh',
  'tgamma',
  'y0',
  'y1',
  'yn',
] as const;

/** The `float` version of a libm `double` function (`lgamma_r` → `lgammaf_r`). */
export function floatVersion(name: string): string {
  return name.endsWith('_r') ? `${name.slice(0, -2)}f_r` : `${name}f`;
}

/** One bridged function. */
export interface BridgedFunction {
  name: string;
  /** Type of its result. */
  result: 'double' | 'float';
}

/**
 * The functions to bridge: every libm function of LIBM_DOUBLE_FUNCTIONS and its float version, less those
 * `definedElsewhere` (the math symbols compiler_builtins defines, which LLVM compiled soft-float).
 */
export function bridgedFunctions(definedElsewhere: Iterable<string> = []): BridgedFunction[] {
  const skip = new Set(definedElsewhere);
  const all: BridgedFunction[] = [];
  for (const name of LIBM_DOUBLE_FUNCTIONS) {
    all.push({ name, result: 'double' }, { name: floatVersion(name), result: 'float' });
  }
  return all.filter((f) => !skip.has(f.name));
}

/** GNU as source (m68k, Motorola syntax as gas writes it) of the stubs. */
export function bridgeAssembly(functions: BridgedFunction[]): string {
  const lines = ['/* nextrust libm bridge: libm results from %fp0 into %d0(:%d1). Generated. */', '\t.text'];
  for (const { name, result } of functions) {
    lines.push(`\t.globl __wrap_${name}`, `\t.type __wrap_${name},@function`, `__wrap_${name}:`);
    // Copy the caller's arguments (at most 16 bytes) below the return address, call libm.
    for (let i = 0; i < 4; i++) lines.push('\tmove.l 16(%sp),-(%sp)');
    lines.push(`\tjsr __real_${name}`, '\tlea 16(%sp),%sp');
    if (result === 'double') lines.push('\tfmove.d %fp0,-(%sp)', '\tmove.l (%sp)+,%d0', '\tmove.l (%sp)+,%d1');
    else lines.push('\tfmove.s %fp0,%d0');
    lines.push('\trts', `\t.size __wrap_${name},.-__wrap_${name}`);
  }
  lines.push('\t.section .note.GNU-stack,"",@progbits', '');
  return lines.join('\n');
}

/** File name of the bridge archive. */
export const BRIDGE_ARCHIVE = 'libnextrust_libm_bridge.a';

/**
 * The math symbols an archive defines (`nm --defined-only`), e.g. compiler_builtins' rlib.
 * @param nm path of the m68k nm. @throws ToolError when nm fails.
 */
export async function definedSymbols(nm: string, archive: string): Promise<string[]> {
  const r = await runTool(nm, ['--defined-only', '--format=posix', archive]);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 2 && /^[TWtw]$/.test(f[1]))
    .map((f) => f[0]);
}

/** Options of buildLibmBridge. */
export interface LibmBridgeOptions {
  /** The m68k gcc driver (assembles with the FPU: `-m68040`). */
  gcc: string;
  /** The m68k ar. */
  ar: string;
  /** Folder for the source, object and archive (created). */
  outDir: string;
  functions: BridgedFunction[];
}

/**
 * Assembles the stubs into `<outDir>/libnextrust_libm_bridge.a` (rewritten only when the source changes).
 * @returns the archive's absolute path. @throws ToolError when gcc or ar fails.
 */
export async function buildLibmBridge(opts: LibmBridgeOptions): Promise<string> {
  const dir = path.resolve(opts.outDir);
  await fs.promises.mkdir(dir, { recursive: true });
  const source = path.join(dir, 'libm-bridge.S');
  const archive = path.join(dir, BRIDGE_ARCHIVE);
  const text = bridgeAssembly(opts.functions);
  if (fs.existsSync(archive) && fs.existsSync(source) && fs.readFileSync(source, 'utf8') === text) return archive;
  await fs.promises.writeFile(source, text);
  const object = path.join(dir, 'libm-bridge.o');
  // Any 68020+ CPU with an FPU: fmove exists on the 68881/68882 and the 68040's FPU alike.
  await runTool(opts.gcc, ['-m68040', '-c', source, '-o', object]);
  await fs.promises.rm(archive, { force: true });
  await runTool(opts.ar, ['rcs', archive, object]);
  return archive;
}

/**
 * rustc arguments that link an executable through the bridge: the `--wrap` of every bridged function, the
 * archive, and libm after it (the stubs reference libm; with `--as-needed` it must come after them).
 */
export function bridgeLinkArgs(archive: string, functions: BridgedFunction[]): string[] {
  if (functions.length === 0) return [];
  return [
    `-Clink-arg=-Wl,${functions.map((f) => `--wrap=${f.name}`).join(',')}`,
    `-Clink-arg=${archive}`,
    '-Clink-arg=-lm',
  ];
}

/**
 * Builds the libm bridge for the glibc target of a sysroot (bridging the libm functions that its
 * compiler_builtins does not define) into `outDir` and returns the rustc link arguments.
 * @param sysrootDir absolute sysroot folder (holds lib/rustlib/m68k-unknown-linux-gnu/lib).
 * @throws Error when the sysroot has no compiler_builtins for the target; ToolError when nm, gcc or ar fails.
 */
export async function libmBridgeArgs(
  toolchain: ToolchainManifest,
  sysrootDir: string,
  outDir: string,
): Promise<string[]> {
  const libDir = path.join(sysrootDir, 'lib', 'rustlib', HOSTED_TRIPLE, 'lib');
  const builtins = fs.existsSync(libDir)
    ? fs.readdirSync(libDir).find((f) => /^libcompiler_builtins-.*\.rlib$/.test(f))
    : undefined;
  if (!builtins)
    throw new Error(`no compiler_builtins for ${HOSTED_TRIPLE} in ${libDir}: run rust-target:sysroot first`);
  const tool = (name: string) => path.join(path.dirname(toolchain.cross.gcc.path), `${toolchain.cross.prefix}${name}`);
  const functions = bridgedFunctions(await definedSymbols(tool('nm'), path.join(libDir, builtins)));
  const archive = await buildLibmBridge({ gcc: toolchain.cross.gcc.path, ar: tool('ar'), outDir, functions });
  return bridgeLinkArgs(archive, functions);
}
