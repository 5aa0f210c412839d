/**
 * Builds the spinlock atomics (projects/llvm-m68k/atomics) for one CPU
 * variant: clang --target=m68k-linux-gnu -mcpu=<cpu>, one object per source,
 * archived with llvm-ar in deterministic mode. Writes `<outputDir>/<archive>`
 * and `<outputDir>/atomics.json` ({cpu, archive, sha256, symbols, ...}).
 * With the patched backend it also writes the NeXTSTEP copy,
 * `<outputDir>/nextstep/<archive>`: the same sources as Mach-O objects
 * (m68k-next-nextstep-macho, docs/nextstep.md) in a BSD archive.
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
  /** The Mach-O archive for NeXTSTEP; null without the patched backend (Debian's has no Mach-O writer). */
  nextstep: NextstepAtomics | null;
}

/** The NeXTSTEP (Mach-O) build of the atomics, as atomics.json records it. */
export interface NextstepAtomics {
  /** Workspace-relative archive path (`<outputDir>/nextstep/<archive>`). */
  archive: string;
  sha256: string;
  /** Bytes. */
  size: number;
  /** C names of the `__sync_*` symbols it defines (without Mach-O's leading underscore), sorted. */
  symbols: string[];
  /** The LLVM triple of its objects. */
  triple: string;
}

/** LLVM triple of Mach-O objects for NeXTSTEP (docs/nextstep.md explains the choice). */
export const NEXTSTEP_MACHO_TRIPLE = 'm68k-next-nextstep-macho';

/**
 * llc flags that turn the atomics' bitcode into NeXTSTEP Mach-O objects (the static relocation model
 * and the large code model, as every m68k crate: M68K_CODEGEN_FLAGS in rust-targets.ts).
 */
export const NEXTSTEP_LLC_FLAGS = [
  `-mtriple=${NEXTSTEP_MACHO_TRIPLE}`,
  '-relocation-model=static',
  '-code-model=large',
  '-filetype=obj',
];

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
  const definedSyncSymbols = async (file: string, prefix: string) =>
    fs.existsSync(nm)
      ? (await runTool(nm, ['--defined-only', '--extern-only', '--format=just-symbols', file])).stdout
          .split('\n')
          .filter((s) => s.startsWith(`${prefix}__sync_`))
          .map((s) => s.slice(prefix.length))
          .sort()
      : [];
  const symbols = await definedSyncSymbols(archive, '');
  const nextstep = opts.toolchain.backend ? await buildNextstepAtomics(opts, flags, definedSyncSymbols) : null;
  const manifest: AtomicsManifest = {
    cpu: opts.cpu,
    archive: path.relative(ws, archive),
    sha256: sha256File(archive),
    size: fs.statSync(archive).size,
    symbols,
    clang: opts.toolchain.llvm.version,
    backend: opts.toolchain.backend?.sha256 ?? null,
    cflags: flags,
    nextstep,
  };
  await writeJson(path.join(outDir, 'atomics.json'), manifest);
  return manifest;
}

/**
 * The NeXTSTEP copy: each source to bitcode by clang's front end for the Mach-O triple, then to a Mach-O
 * object by the patched llc (NEXTSTEP_LLC_FLAGS), archived by llvm-ar in BSD format (`__.SYMDEF`; NeXT's ar
 * and ld read BSD archives) in `<outputDir>/nextstep/`.
 * The front end: the driver cannot target a Mach-O m68k triple, so it runs for `m68k-next-nextstep` with
 * cc1's triple replaced (`-Xclang -triple`), which makes `__asm__` labels literal (NeXT's `_` user label
 * prefix); it is Debian's clang without the preload, because clang refuses a backend whose data layout
 * (`m:o`) differs from its own (`m:e` for every m68k triple), even for `-emit-llvm` (docs/nextstep.md).
 * @throws ToolError with the tool's output when clang, llc or llvm-ar fails.
 */
async function buildNextstepAtomics(
  opts: AtomicsBuildOptions,
  linuxFlags: string[],
  definedSyncSymbols: (file: string, prefix: string) => Promise<string[]>,
): Promise<NextstepAtomics> {
  const ws = opts.workspaceRoot;
  const outDir = path.join(path.resolve(ws, opts.outputDir), 'nextstep');
  const objDir = path.join(outDir, 'obj');
  await fs.promises.mkdir(objDir, { recursive: true });
  const frontEnd = path.join(opts.toolchain.llvm.binDir, 'clang');
  const flags = [
    ...linuxFlags.map((f) => (f === '--target=m68k-linux-gnu' ? '--target=m68k-next-nextstep' : f)),
    ...['-Xclang', '-triple', '-Xclang', NEXTSTEP_MACHO_TRIPLE],
  ];
  const objects: string[] = [];
  for (const src of opts.sources) {
    const base = path.join(objDir, path.basename(src).replace(/\.c$/, ''));
    await runTool(frontEnd, [...flags, '-emit-llvm', '-c', src, '-o', path.relative(ws, `${base}.bc`)], { cwd: ws });
    await runTool(
      opts.toolchain.llvm.tools.llc.path,
      [...NEXTSTEP_LLC_FLAGS, path.relative(ws, `${base}.bc`), '-o', path.relative(ws, `${base}.o`)],
      { cwd: ws },
    );
    objects.push(`${base}.o`);
  }
  const archive = path.join(outDir, opts.archive);
  await runTool(opts.toolchain.llvm.tools['llvm-ar'].path, ['--format=bsd', 'rcsD', archive, ...objects], {
    cwd: ws,
  });
  await fs.promises.rm(objDir, { recursive: true, force: true });
  return {
    archive: path.relative(ws, archive),
    sha256: sha256File(archive),
    size: fs.statSync(archive).size,
    // C names: Mach-O's symbols carry the leading underscore of NeXT's C ABI.
    symbols: await definedSyncSymbols(archive, '_'),
    triple: NEXTSTEP_MACHO_TRIPLE,
  };
}
