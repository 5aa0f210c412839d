/**
 * The backend's regression reproducers (projects/llvm-m68k/regressions): each
 * `<name>.c` is a whole C program; a `<name>.ll` beside it is LLVM IR linked
 * into it (compiled without IR optimisation, so the backend sees exactly the
 * reproducer, as `llc` would). The expected output is the same sources
 * compiled and run on the build host; the reproducer is then compiled for
 * m68k with a given clang (the system one, or the wrapper that preloads the
 * patched backend), linked with the m68k gcc driver and run under qemu-m68k.
 * A fix is proven both ways: the system backend's output differs from the
 * host's, the patched backend's equals it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuInfo } from '../toolchain/cpu';
import type { ToolchainManifest } from '../toolchain/locate';
import { runProcess, runTool } from '../util/exec';

/** One reproducer: its name and source files (absolute). */
export interface Reproducer {
  name: string;
  sources: string[];
}

/** Lists the reproducers of a folder: every `<name>.c`, with `<name>.ll` when present. */
export function listReproducers(dir: string): Reproducer[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -2);
      const ll = path.join(dir, `${name}.ll`);
      return { name, sources: [path.join(dir, f), ...(fs.existsSync(ll) ? [ll] : [])] };
    });
}

/** clang flags per source kind: IR (`.ll`) goes to the backend unoptimised, as with `llc`. */
export function sourceFlags(file: string): string[] {
  return file.endsWith('.ll') ? ['-Wno-override-module', '-Xclang', '-disable-llvm-optzns'] : [];
}

/**
 * clang arguments that compile one reproducer source for m68k linux (`clangCpu`: a `-mcpu` value, e.g. 68040)
 * into `obj`. A backend crash is an expected result in the harness: clang writes no crash reproducer files.
 */
export function m68kCompileArgs(src: string, clangCpu: string, opt: number, obj: string): string[] {
  return [
    ...sourceFlags(src),
    '--target=m68k-linux-gnu',
    `-mcpu=${clangCpu}`,
    `-O${opt}`,
    '-fno-crash-diagnostics',
    '-c',
    src,
    '-o',
    obj,
  ];
}

/** Options of runReproducer. */
export interface ReproducerRun {
  toolchain: ToolchainManifest;
  /** The clang that compiles for m68k (system or wrapper). */
  clang: string;
  cpu: string;
  /** Scratch folder (created). */
  workDir: string;
  /** Optimisation level, default 2. */
  opt?: number;
}

/**
 * How one reproducer ended. `stage` `compile`: the m68k compiler failed (a crash of the backend is a result,
 * the bug a fix removes), and `output`, `exitCode` are the compiler's; `run`: the program ran under qemu-m68k,
 * and `output` is its stdout and stderr together.
 */
export interface ReproducerResult {
  stage: 'compile' | 'run';
  output: string;
  /** Exit code; 128 + signal number when killed by a signal (a compiler's SIGSEGV is 139). */
  exitCode: number | null;
  timedOut: boolean;
}

/**
 * The expected output: the reproducer compiled by `hostClang` for the build host and run.
 * @throws ToolError when it does not compile or exits non-zero.
 */
export async function hostOutput(r: Reproducer, hostClang: string, workDir: string): Promise<string> {
  fs.mkdirSync(workDir, { recursive: true });
  const exe = path.join(workDir, `${r.name}.host`);
  const objs: string[] = [];
  for (const src of r.sources) {
    const obj = path.join(workDir, `${path.basename(src)}.host.o`);
    await runTool(hostClang, [...sourceFlags(src), '-O2', '-c', src, '-o', obj]);
    objs.push(obj);
  }
  await runTool(hostClang, [...objs, '-o', exe]);
  return (await runTool(exe, [], { timeoutMs: 30_000 })).all;
}

/**
 * Compiles the reproducer for m68k with `run.clang`, links it with the m68k gcc driver and runs it under qemu-m68k.
 * A compile that fails, and a run that crashes, are results (`stage`), not errors.
 * @throws ToolError when the compiled objects do not link.
 */
export async function runReproducer(r: Reproducer, run: ReproducerRun): Promise<ReproducerResult> {
  fs.mkdirSync(run.workDir, { recursive: true });
  const cpu = cpuInfo(run.cpu);
  const tag = `${path.basename(run.clang)}-${randomBytes(4).toString('hex')}`;
  const objs: string[] = [];
  for (const src of r.sources) {
    const obj = path.join(run.workDir, `${path.basename(src)}.${tag}.o`);
    const compile = await runProcess(run.clang, m68kCompileArgs(src, cpu.clangCpu, run.opt ?? 2, obj), {
      timeoutMs: 120_000,
    });
    if (compile.exitCode !== 0)
      return { stage: 'compile', output: compile.all, exitCode: compile.exitCode, timedOut: compile.timedOut };
    objs.push(obj);
  }
  const exe = path.join(run.workDir, `${r.name}.${tag}`);
  await runTool(run.toolchain.cross.gcc.path, [...objs, '-o', exe]);
  const p = await runProcess(
    run.toolchain.qemu.qemuM68k.path,
    ['-cpu', cpu.qemuCpu, '-L', run.toolchain.cross.m68kSysroot, exe],
    { timeoutMs: 30_000 },
  );
  return { stage: 'run', output: p.all, exitCode: p.exitCode, timedOut: p.timedOut };
}

/** A scratch folder under the OS temp folder. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
