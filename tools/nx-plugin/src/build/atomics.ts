/**
 * Builds the spinlock atomics (projects/llvm-m68k/atomics) for one CPU
 * variant: clang --target=m68k-linux-gnu -mcpu=<cpu>, one object per source,
 * archived with llvm-ar in deterministic mode. Writes `<outputDir>/<archive>`
 * and `<outputDir>/atomics.json` ({cpu, archive, sha256, symbols, ...}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpuInfo } from '../toolchain/cpu';
import { sha256File, type ToolchainManifest } from '../toolchain/locate';
import { writeJson } from '../toolchain/manifest';
import { runTool } from '../util/exec';

/** Inputs of buildAtomics; paths workspace-relative unless absolute. */
export interface AtomicsBuildOptions {
  workspaceRoot: string;
  toolchain: ToolchainManifest;
  cpu: string;
  sources: string[];
  includeDirs: string[];
  cflags: string[];
  archive: string;
  outputDir: string;
}

/** What atomics.json records. */
export interface AtomicsManifest {
  cpu: string;
  /** Workspace-relative archive path. */
  archive: string;
  sha256: string;
  /** Bytes. */
  size: number;
  /** `__sync_*` symbols the archive defines, sorted. */
  symbols: string[];
  clang: string;
  /** sha256 of the patched M68k backend that compiled it, or null for the system backend. */
  backend: string | null;
  cflags: string[];
}

/** clang flags for one CPU (the target triple, CPU and freestanding/PIC settings). */
export function atomicsCflags(cpu: string, extra: string[], includeDirs: string[]): string[] {
  return [
    '--target=m68k-linux-gnu',
    `-mcpu=${cpuInfo(cpu).clangCpu}`,
    '-ffreestanding',
    // Not -fPIC: the lock table is reached by absolute address (R_68K_32), see spinlock_atomics.c.
    '-fno-pic',
    '-Wall',
    '-Wextra',
    '-Werror',
    ...includeDirs.map((d) => `-I${d}`),
    ...extra,
  ];
}

/**
 * Compiles and archives the atomics for one CPU.
 * @returns the manifest written to atomics.json.
 * @throws ToolError with the compiler's output when clang or llvm-ar fails.
 */
export async function buildAtomics(opts: AtomicsBuildOptions): Promise<AtomicsManifest> {
  const ws = opts.workspaceRoot;
  const outDir = path.resolve(ws, opts.outputDir);
  const objDir = path.join(outDir, 'obj');
  await fs.promises.rm(outDir, { recursive: true, force: true });
  await fs.promises.mkdir(objDir, { recursive: true });
  const clang = opts.toolchain.llvm.tools.clang.path;
  const flags = atomicsCflags(opts.cpu, opts.cflags, opts.includeDirs);
  const objects: string[] = [];
  for (const src of opts.sources) {
    const obj = path.join(objDir, path.basename(src).replace(/\.c$/, '.o'));
    // Relative paths and a fixed cwd keep absolute machine paths out of the objects.
    await runTool(clang, [...flags, '-c', src, '-o', path.relative(ws, obj)], { cwd: ws });
    objects.push(obj);
  }
  const archive = path.join(outDir, opts.archive);
  await runTool(opts.toolchain.llvm.tools['llvm-ar'].path, ['rcsD', archive, ...objects], { cwd: ws });
  await fs.promises.rm(objDir, { recursive: true, force: true });
  const nm = path.join(path.dirname(opts.toolchain.llvm.tools['llvm-ar'].path), 'llvm-nm');
  const symbols = fs.existsSync(nm)
    ? (await runTool(nm, ['--defined-only', '--extern-only', '--format=just-symbols', archive])).stdout
        .split('\n')
        .filter((s) => s.startsWith('__sync_'))
        .sort()
    : [];
  const manifest: AtomicsManifest = {
    cpu: opts.cpu,
    archive: path.relative(ws, archive),
    sha256: sha256File(archive),
    size: fs.statSync(archive).size,
    symbols,
    clang: opts.toolchain.llvm.version,
    backend: opts.toolchain.backend?.sha256 ?? null,
    cflags: flags,
  };
  await writeJson(path.join(outDir, 'atomics.json'), manifest);
  return manifest;
}
