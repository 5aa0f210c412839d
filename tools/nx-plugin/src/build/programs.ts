/**
 * Builds the Rust programs of a rust-target project for one CPU variant,
 * against the CPU's sysroot (no build-std here), linked with the spinlock
 * atomics archive, and lists every artifact in `<outputDir>/manifest.json`.
 *
 * Flavours (see ProgramConfig):
 *  - std, hosted: m68k-unknown-linux-gnu, linked by the m68k gcc driver against glibc,
 *    float results of libm through the libm bridge (build/libm-bridge.ts);
 *  - freestanding: same triple, `-nostdlib -nostartfiles -static`, non-PIE:
 *    `_start` and Linux `trap #0` system calls, runs on every 680x0;
 *  - nextstep: the m68k-next-nextstep spec, a staticlib (ELF objects inside:
 *    upstream LLVM has no Mach-O writer for m68k).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProgramConfig, ProgramOverride } from '../config/project-config';
import { requirePrograms } from '../config/programs';
import { cpuInfo } from '../toolchain/cpu';
import { sha256File, type ToolchainManifest } from '../toolchain/locate';
import { readJson, writeJson } from '../toolchain/manifest';
import { parseCargoArtifacts, runCargo } from './cargo';
import { libmBridgeArgs } from './libm-bridge';
import type { SysrootManifest } from './sysroot';
import { HOSTED_LINK_ARGS, HOSTED_TRIPLE, M68K_CODEGEN_FLAGS, resolveTarget } from './rust-targets';

/** Kind of a built artifact. */
export type ArtifactKind = 'executable' | 'staticlib' | 'object';

/** One entry of manifest.json (paths workspace-relative). */
export interface BuildArtifact {
  name: string;
  path: string;
  kind: ArtifactKind;
  /** Target triple or spec name. */
  target: string;
  cpu: string;
  sha256: string;
  flavor: ProgramConfig['flavor'];
  /** Bytes. */
  size: number;
}

/** manifest.json of a build. */
export interface BuildManifest {
  schemaVersion: 1;
  project: string;
  cpu: string;
  /** Workspace-relative toolchain manifest the programs were built with. */
  toolchainManifest: string;
  /** Absolute path of the m68k glibc sysroot for running hosted programs (qemu -L). */
  m68kSysroot: string;
  /** sha256 of the patched M68k backend that compiled the programs, or null for the system backend. */
  backend: string | null;
  /** Every program of the project, built for this CPU or not (a test naming another program is an error). */
  programs: string[];
  artifacts: BuildArtifact[];
}

/** Inputs of buildPrograms; paths workspace-relative unless absolute. */
export interface ProgramsBuildOptions {
  workspaceRoot: string;
  project: string;
  toolchain: ToolchainManifest;
  toolchainManifest: string;
  cpu: string;
  /** Cargo workspace folder holding the programs (the project root). */
  projectRoot: string;
  /** Folder of the program folders, relative to projectRoot (config/programs.ts). */
  programsDir: string;
  /** nextrust.json overrides of the programs' `[package.metadata.nextrust]`, by package name. */
  programOverrides: Record<string, ProgramOverride>;
  targetSpecs: Record<string, string>;
  profile: 'release' | 'dev';
  rustflags: string[];
  sysrootDir: string;
  atomicsDir: string;
  outputDir: string;
  /**
   * Scratch folder for CARGO_TARGET_DIR, kept between runs for incremental
   * builds. The target dir used is `<cargoTargetRoot>/<sysroot id>`: cargo's
   * fingerprints do not cover the sysroot's content, so a new sysroot gets a
   * fresh target dir (else crates compiled against the old core would be reused).
   */
  cargoTargetRoot: string;
  stream?: boolean;
}

/**
 * `<root>/<first 16 hex of sha256(sysroot.json)>`, removing the dirs of other sysroots.
 * @throws Error when the sysroot has no sysroot.json.
 */
async function sysrootKeyedDir(root: string, sysrootDir: string): Promise<string> {
  const manifest = path.join(sysrootDir, 'sysroot.json');
  if (!fs.existsSync(manifest)) throw new Error(`${manifest} not found: run rust-target:sysroot first`);
  const id = sha256File(manifest).slice(0, 16);
  await fs.promises.mkdir(root, { recursive: true });
  for (const d of fs.readdirSync(root)) {
    if (d !== id) await fs.promises.rm(path.join(root, d), { recursive: true, force: true });
  }
  return path.join(root, id);
}

/**
 * rustc flags of every crate compiled for the programs (and their test harnesses): the sysroot, the CPU, the
 * m68k gcc driver as linker, the code generation flags (M68K_CODEGEN_FLAGS), and the project's rustflags.
 * @param sysrootDir absolute.
 */
export function programRustflags(
  toolchain: ToolchainManifest,
  cpu: string,
  sysrootDir: string,
  rustflags: string[],
): string[] {
  return [
    `--sysroot=${sysrootDir}`,
    `-Ctarget-cpu=${cpuInfo(cpu).rustCpu}`,
    `-Clinker=${toolchain.cross.gcc.path}`,
    ...M68K_CODEGEN_FLAGS,
    ...rustflags,
  ];
}

/**
 * rustc flags for one program, beyond the common ones (linking by flavour, the atomics archive, and for
 * glibc programs `libmBridge`: bridgeLinkArgs).
 */
export function programRustcArgs(
  program: ProgramConfig,
  atomicsDir: string,
  atomicsLib: string | null,
  libmBridge: string[] = [],
): string[] {
  const args: string[] = [];
  if (program.flavor === 'hosted' || program.flavor === 'std') args.push(...HOSTED_LINK_ARGS, ...libmBridge);
  if (program.flavor === 'freestanding') {
    // libgcc last: __mulsi3 and friends for the 68000 (its m68k versions use only
    // 68000 instructions), which compiler_builtins does not provide for m68k.
    for (const a of ['-nostartfiles', '-nostdlib', '-static', '-lgcc']) args.push(`-Clink-arg=${a}`);
  }
  if (program.linkAtomics && atomicsLib && program.flavor !== 'nextstep') {
    args.push('-L', `native=${atomicsDir}`, '-l', `static=${atomicsLib}`);
  }
  return args;
}

/**
 * Discovers the programs, builds those of one CPU and writes manifest.json.
 * @throws ProgramDiscoveryError (one line per bad program folder or override) before the last build's
 *   output is touched; ToolError with cargo's output when a build fails.
 */
export async function buildPrograms(opts: ProgramsBuildOptions): Promise<BuildManifest> {
  const ws = opts.workspaceRoot;
  const programs = requirePrograms(ws, opts.projectRoot, opts.programsDir, opts.programOverrides).map((p) => ({
    ...p,
    path: path.posix.join(opts.projectRoot, p.path),
  }));
  const cpu = cpuInfo(opts.cpu);
  const outDir = path.resolve(ws, opts.outputDir);
  const atomicsDir = path.resolve(ws, opts.atomicsDir);
  const atomicsArchive = fs.existsSync(atomicsDir)
    ? fs.readdirSync(atomicsDir).find((f) => /^lib.*\.a$/.test(f))
    : undefined;
  const atomicsLib = atomicsArchive ? atomicsArchive.replace(/^lib/, '').replace(/\.a$/, '') : null;
  const common = programRustflags(opts.toolchain, cpu.name, path.resolve(ws, opts.sysrootDir), opts.rustflags);
  await fs.promises.rm(outDir, { recursive: true, force: true });
  const cargoTargetDir = await sysrootKeyedDir(
    path.resolve(ws, opts.cargoTargetRoot),
    path.resolve(ws, opts.sysrootDir),
  );
  const sysroot = readJson<Partial<SysrootManifest>>(
    path.resolve(ws, opts.sysrootDir, 'sysroot.json'),
    'rust-target:sysroot',
  );
  const artifacts: BuildArtifact[] = [];
  const toBuild = programs.filter((p) => p.cpus.includes(cpu.name));
  const libmBridge = toBuild.some((p) => p.flavor === 'std' || p.flavor === 'hosted')
    ? await libmBridgeArgs(opts.toolchain, path.resolve(ws, opts.sysrootDir), path.join(cargoTargetDir, 'libm-bridge'))
    : [];
  for (const program of toBuild) {
    if (program.linkAtomics && !atomicsLib && program.flavor !== 'nextstep') {
      throw new Error(
        `program '${program.name}': no atomics archive in ${opts.atomicsDir}; run llvm-m68k:atomics:${opts.cpu}`,
      );
    }
    const target = resolveTarget(
      program.flavor === 'nextstep' ? 'm68k-next-nextstep' : HOSTED_TRIPLE,
      opts.targetSpecs,
      ws,
    );
    if (program.flavor === 'freestanding' && sysroot.memTargets && !sysroot.memTargets.includes(target.name)) {
      throw new Error(
        `program '${program.name}' (freestanding, no libc) is built for ${opts.cpu}, where hosted programs use ${target.name} with glibc's memcpy and friends: ` +
          `give it CPUs without hosted programs (cpus = ["m68000"] in [package.metadata.nextrust] of its Cargo.toml), or make it hosted`,
      );
    }
    const args = [
      'rustc',
      '--message-format=json-render-diagnostics',
      '-p',
      program.name,
      '--target',
      target.targetArg,
    ];
    if (target.isSpec) args.push('-Zjson-target-spec');
    if (opts.profile === 'release') args.push('--release');
    args.push('--', ...programRustcArgs(program, atomicsDir, atomicsLib, libmBridge));
    const result = await runCargo({
      toolchain: opts.toolchain,
      cwd: path.resolve(ws, opts.projectRoot),
      args,
      rustflags: common,
      targetDir: cargoTargetDir,
      stream: opts.stream ? 'stderr' : false,
      specFiles: target.isSpec ? [path.relative(ws, target.targetArg)] : [],
      crates: 'debian',
    });
    // The bin or staticlib artifacts are the program's (its dependencies are rlibs).
    const built = parseCargoArtifacts(result.stdout).filter((a) =>
      a.kinds.some((k) => k === 'bin' || k === 'staticlib'),
    );
    const files: { src: string; kind: ArtifactKind }[] = [];
    for (const a of built) {
      if (a.executable) files.push({ src: a.executable, kind: 'executable' });
      for (const f of a.filenames) if (f.endsWith('.a')) files.push({ src: f, kind: 'staticlib' });
    }
    if (files.length === 0) throw new Error(`program '${program.name}': cargo reported no executable or staticlib`);
    for (const f of files) {
      const dest = path.join(outDir, f.kind === 'executable' ? 'bin' : 'lib', path.basename(f.src));
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.copyFile(f.src, dest);
      artifacts.push({
        name: program.name,
        path: path.relative(ws, dest),
        kind: f.kind,
        target: target.name,
        cpu: opts.cpu,
        sha256: sha256File(dest),
        flavor: program.flavor,
        size: fs.statSync(dest).size,
      });
    }
  }
  const manifest: BuildManifest = {
    schemaVersion: 1,
    project: opts.project,
    cpu: opts.cpu,
    toolchainManifest: opts.toolchainManifest,
    m68kSysroot: opts.toolchain.cross.m68kSysroot,
    backend: opts.toolchain.backend?.sha256 ?? null,
    programs: programs.map((p) => p.name),
    artifacts,
  };
  await writeJson(path.join(outDir, 'manifest.json'), manifest);
  return manifest;
}
