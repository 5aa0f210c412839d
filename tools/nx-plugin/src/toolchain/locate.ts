/**
 * The `system` toolchain provider: finds and checks the tools the pipeline
 * needs on this machine and describes them in a ToolchainManifest.
 *
 *  - LLVM >= minLlvmVersion (default 19.1.5) whose `llc --version` lists m68k
 *    (clang, llc, llvm-ar from one bin directory; Debian: clang-22 llvm-22);
 *  - rustc whose sysroot has rust-src (Debian's rustc-web + rust-web-src, whose
 *    library/vendor lets build-std run offline; or a rustup nightly with the
 *    rust-src component), and the cargo beside it;
 *  - the m68k cross gcc driver and ld (gcc-m68k-linux-gnu, binutils-m68k-linux-gnu)
 *    and the m68k glibc sysroot (libc6-dev-m68k-cross);
 *  - qemu-m68k (qemu-user).
 * Search order: NEXTRUST_* environment overrides, then candidates.json, then PATH.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendManifest } from '../backend/types';
import { runTool, ToolError } from '../util/exec';
import candidates from './candidates.json';

/** One tool binary as recorded in the manifest. */
export interface ToolEntry {
  /** Absolute path as found (may be a symlink). */
  path: string;
  /** sha256 (hex) of the resolved binary. */
  sha256: string;
}

/**
 * Everything downstream targets need to know of the toolchain. Written to
 * dist/llvm-m68k/toolchain/toolchain.json and taken as an input by every
 * target that uses a tool, so a toolchain change misses their cache.
 */
export interface ToolchainManifest {
  schemaVersion: 1;
  provider: 'system' | 'source';
  llvm: { version: string; binDir: string; tools: Record<string, ToolEntry> };
  rust: {
    /** `rustc --version` text. */
    version: string;
    /** Semver part, e.g. 1.96.0. */
    semver: string;
    /** True for a nightly compiler; otherwise RUSTC_BOOTSTRAP=1 is needed for -Z flags. */
    nightly: boolean;
    /** LLVM version rustc was built with. */
    llvmVersion: string;
    rustc: ToolEntry;
    cargo: ToolEntry;
    sysroot: string;
    /** rust-src's library folder. */
    rustSrcLibrary: string;
    /** Vendored crates of the standard library (offline build-std), or null. */
    vendorDir: string | null;
  };
  cross: {
    prefix: string;
    gcc: ToolEntry;
    ld: ToolEntry;
    gccVersion: string;
    m68kSysroot: string;
    /**
     * The m68k libraries hosted programs link against, by name: glibc's (libc.a, libm.a, libc.so.6, crt1.o from the
     * sysroot's lib/) and gcc's libgcc.a (`gcc -print-libgcc-file-name`), each with its sha256, so two machines that
     * differ only there never share a build.
     */
    libraries: Record<string, ToolEntry>;
  };
  qemu: { version: string; qemuM68k: ToolEntry };
  /**
   * The patched M68k backend the compilers run with (provider `source`): its
   * backend.json. Absent for `system`, whose programs may be miscompiled.
   */
  backend?: BackendManifest;
}

/** The toolchain is missing a tool or a tool is unsuitable; the message is one line naming it and its package. */
export class ToolchainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolchainError';
  }
}

/** Options of locateToolchain. */
export interface LocateOptions {
  minLlvmVersion: string;
  /** Environment to read NEXTRUST_* overrides and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Use this LLVM bin directory only (the `source` provider: the LLVM whose libLLVM the backend replaces). */
  llvmBinDir?: string;
}

/** Compares dotted versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** sha256 (hex) of a file's content, following symlinks. */
export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function expandHome(p: string): string {
  return p.replace(/^~(?=\/)/, os.homedir());
}

/** Expands `*` path segments (one level each), sorted. */
function expandGlob(pattern: string): string[] {
  let found = [''];
  for (const part of expandHome(pattern).split('/').slice(1)) {
    const next: string[] = [];
    for (const base of found) {
      if (part === '*') {
        let entries: string[] = [];
        try {
          entries = fs.readdirSync(base || '/').sort();
        } catch {
          /* absent */
        }
        for (const e of entries) next.push(`${base}/${e}`);
      } else next.push(`${base}/${part}`);
    }
    found = next;
  }
  return found;
}

function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

function entry(file: string): ToolEntry {
  return { path: file, sha256: sha256File(fs.realpathSync(file)) };
}

/**
 * The libraries of ToolchainManifest.cross.libraries.
 * @throws ToolchainError naming a missing file and its Debian package.
 */
function linkLibraries(m68kSysroot: string, libgcc: string, prefix: string): Record<string, ToolEntry> {
  const out: Record<string, ToolEntry> = {};
  // glibc's files that hosted programs link against (static and dynamic), relative to the sysroot.
  for (const rel of candidates.m68kLinkFiles) {
    const name = path.basename(rel);
    const file = path.join(m68kSysroot, rel);
    if (!fs.existsSync(file))
      throw new ToolchainError(
        `${file} not found (hosted programs link it): install Debian package libc6-dev-m68k-cross`,
      );
    out[name] = entry(file);
  }
  if (!path.isAbsolute(libgcc) || !fs.existsSync(libgcc)) {
    throw new ToolchainError(
      `${prefix}gcc -print-libgcc-file-name gave '${libgcc}', not a file: reinstall Debian package gcc-m68k-linux-gnu`,
    );
  }
  out['libgcc.a'] = entry(libgcc);
  return out;
}

async function version(file: string, args: string[]): Promise<string> {
  const r = await runTool(file, args, { timeoutMs: 30_000 });
  return r.stdout + r.stderr;
}

/** Finds an LLVM bin directory with clang, llc and llvm-ar, new enough and with the M68k backend. */
async function locateLlvm(opts: LocateOptions, env: NodeJS.ProcessEnv) {
  const dirs = opts.llvmBinDir
    ? [opts.llvmBinDir]
    : env.NEXTRUST_LLVM_BIN
      ? [env.NEXTRUST_LLVM_BIN]
      : [...candidates.llvmBinDirs, ...pathDirs(env)];
  const rejected: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const llc = path.join(dir, 'llc');
    if (!isExecutable(llc)) continue;
    let text: string;
    try {
      text = await version(llc, ['--version']);
    } catch (e) {
      rejected.push(`${llc}: ${(e as Error).message}`);
      continue;
    }
    const v = /LLVM version (\d+\.\d+\.\d+)/.exec(text)?.[1];
    if (!v) {
      rejected.push(`${llc}: no LLVM version in --version output`);
      continue;
    }
    if (compareVersions(v, opts.minLlvmVersion) < 0) {
      rejected.push(`${llc}: LLVM ${v} < ${opts.minLlvmVersion}`);
      continue;
    }
    if (!/^\s+m68k\s/m.test(text)) {
      rejected.push(`${llc}: LLVM ${v} has no m68k backend`);
      continue;
    }
    const missing = candidates.llvmTools.filter((t) => !isExecutable(path.join(dir, t)));
    if (missing.length) {
      rejected.push(`${dir}: LLVM ${v} lacks ${missing.join(', ')}`);
      continue;
    }
    const tools: Record<string, ToolEntry> = {};
    for (const t of candidates.llvmTools) tools[t] = entry(path.join(dir, t));
    return { version: v, binDir: dir, tools };
  }
  if (!opts.llvmBinDir && env.NEXTRUST_LLVM_BIN) {
    const dir = env.NEXTRUST_LLVM_BIN;
    const why = rejected.length ? rejected.join('; ') : fs.existsSync(dir) ? `no llc in ${dir}` : 'no such folder';
    throw new ToolchainError(
      `NEXTRUST_LLVM_BIN=${dir}: ${why}: point it at an LLVM >= ${opts.minLlvmVersion} bin folder with ${candidates.llvmTools.join(', ')} and the M68k backend (Debian's is /usr/lib/llvm-22/bin), or unset it`,
    );
  }
  throw new ToolchainError(
    `no LLVM >= ${opts.minLlvmVersion} with the M68k backend found` +
      (rejected.length ? ` (rejected: ${rejected.join('; ')})` : '') +
      `: install Debian packages clang-22 llvm-22, or set NEXTRUST_LLVM_BIN to an LLVM bin directory`,
  );
}

/** Finds a rustc whose sysroot has rust-src of the same version, and its cargo. */
async function locateRust(env: NodeJS.ProcessEnv) {
  const list = env.NEXTRUST_RUSTC
    ? [env.NEXTRUST_RUSTC]
    : [...candidates.rustcPaths.flatMap(expandGlob), ...pathDirs(env).map((d) => path.join(d, 'rustc'))];
  const rejected: string[] = [];
  let sawRustc = false;
  for (const rustc of [...new Set(list)]) {
    if (!isExecutable(rustc)) continue;
    sawRustc = true;
    let vv: string;
    let sysroot: string;
    try {
      vv = await version(rustc, ['-vV']);
      sysroot = (await runTool(rustc, ['--print', 'sysroot'], { timeoutMs: 30_000 })).stdout.trim();
    } catch (e) {
      rejected.push(`${rustc}: ${(e as Error).message}`);
      continue;
    }
    const semver = /^release: (\S+)/m.exec(vv)?.[1] ?? '';
    const rustSrcLibrary = path.join(sysroot, 'lib/rustlib/src/rust/library');
    if (!fs.existsSync(path.join(rustSrcLibrary, 'core/src/lib.rs'))) {
      rejected.push(`${rustc} (${semver}): no rust-src in ${sysroot}`);
      continue;
    }
    // Debian's rust-src records its version in src/version; rustup installs rust-src of the toolchain's own version.
    const srcVersionFile = path.join(sysroot, 'lib/rustlib/src/rust/src/version');
    if (fs.existsSync(srcVersionFile)) {
      const srcVersion = fs.readFileSync(srcVersionFile, 'utf8').trim();
      if (srcVersion.replace(/-.*/, '') !== semver.replace(/-.*/, '')) {
        rejected.push(`${rustc} (${semver}): rust-src is ${srcVersion}`);
        continue;
      }
    }
    const cargo = env.NEXTRUST_CARGO ?? path.join(path.dirname(rustc), 'cargo');
    if (!isExecutable(cargo)) {
      rejected.push(`${rustc} (${semver}): no cargo beside it (${cargo})`);
      continue;
    }
    const vendor = path.join(rustSrcLibrary, 'vendor');
    return {
      version: vv.split('\n')[0],
      semver,
      nightly: semver.includes('nightly') || semver.includes('dev'),
      llvmVersion: /^LLVM version: (\S+)/m.exec(vv)?.[1] ?? 'unknown',
      rustc: entry(rustc),
      cargo: entry(cargo),
      sysroot,
      rustSrcLibrary,
      vendorDir: fs.existsSync(vendor) ? vendor : null,
    };
  }
  if (env.NEXTRUST_RUSTC || (env.NEXTRUST_CARGO && sawRustc)) {
    const set = [
      env.NEXTRUST_RUSTC && `NEXTRUST_RUSTC=${env.NEXTRUST_RUSTC}`,
      env.NEXTRUST_CARGO && `NEXTRUST_CARGO=${env.NEXTRUST_CARGO}`,
    ]
      .filter(Boolean)
      .join(', ');
    const why =
      !sawRustc && env.NEXTRUST_RUSTC
        ? `${env.NEXTRUST_RUSTC} ${fs.existsSync(env.NEXTRUST_RUSTC) ? 'is not an executable file' : 'does not exist'}`
        : rejected.join('; ');
    throw new ToolchainError(
      `${set}: ${why}: point them at a rustc with rust-src and its cargo (Debian's are /usr/bin/rustc and /usr/bin/cargo), or unset them`,
    );
  }
  if (!sawRustc) {
    throw new ToolchainError(
      'no rustc found: install Debian packages rustc-web cargo-web rust-web-src, or set NEXTRUST_RUSTC',
    );
  }
  throw new ToolchainError(
    `no rustc with rust-src found (rejected: ${rejected.join('; ')}): install Debian package rust-web-src ` +
      '(with rustc-web cargo-web), or `rustup component add rust-src --toolchain nightly` and set NEXTRUST_RUSTC',
  );
}

function findOnDirs(name: string, dirs: string[]): string | null {
  for (const d of dirs) {
    const f = path.join(d, name);
    if (isExecutable(f)) return f;
  }
  return null;
}

/**
 * Finds and checks the whole toolchain.
 * @throws ToolchainError with one line naming the missing or unsuitable tool and the package providing it.
 */
export async function locateToolchain(opts: LocateOptions): Promise<ToolchainManifest> {
  const env = opts.env ?? process.env;
  const llvm = await locateLlvm(opts, env);
  const rust = await locateRust(env);

  const prefix = env.NEXTRUST_CROSS_PREFIX ?? candidates.crossPrefix;
  const crossDirs = [...candidates.crossBinDirs, ...pathDirs(env)];
  const gcc = prefix.includes('/') ? prefix + 'gcc' : findOnDirs(prefix + 'gcc', crossDirs);
  if (!gcc || !isExecutable(gcc)) {
    throw new ToolchainError(
      `${prefix}gcc not found (the m68k gcc driver links the programs): install Debian package gcc-m68k-linux-gnu`,
    );
  }
  const ld = prefix.includes('/') ? prefix + 'ld' : findOnDirs(prefix + 'ld', crossDirs);
  if (!ld || !isExecutable(ld)) {
    throw new ToolchainError(`${prefix}ld not found: install Debian package binutils-m68k-linux-gnu`);
  }
  const m68kSysroot = env.NEXTRUST_M68K_SYSROOT ?? candidates.m68kSysroot;
  if (
    !fs.existsSync(path.join(m68kSysroot, 'lib/ld.so.1')) ||
    !fs.existsSync(path.join(m68kSysroot, 'lib/libc.so.6'))
  ) {
    throw new ToolchainError(
      env.NEXTRUST_M68K_SYSROOT
        ? `NEXTRUST_M68K_SYSROOT=${m68kSysroot}: not an m68k glibc sysroot (no lib/ld.so.1, lib/libc.so.6): point it at one (Debian's is /usr/m68k-linux-gnu) or unset it`
        : `m68k glibc sysroot not found at ${m68kSysroot} (lib/ld.so.1, lib/libc.so.6): install Debian package libc6-dev-m68k-cross, or set NEXTRUST_M68K_SYSROOT`,
    );
  }
  const qemu =
    env.NEXTRUST_QEMU_M68K ?? findOnDirs('qemu-m68k', [...candidates.qemuPaths.map(path.dirname), ...pathDirs(env)]);
  if (!qemu || !isExecutable(qemu)) {
    throw new ToolchainError(
      env.NEXTRUST_QEMU_M68K
        ? `NEXTRUST_QEMU_M68K=${env.NEXTRUST_QEMU_M68K}: ${fs.existsSync(env.NEXTRUST_QEMU_M68K) ? 'not an executable file' : 'no such file'}: point it at qemu-m68k (Debian's is /usr/bin/qemu-m68k) or unset it`
        : 'qemu-m68k not found: install Debian package qemu-user, or set NEXTRUST_QEMU_M68K',
    );
  }
  let gccVersion: string;
  let qemuVersion: string;
  let libgcc: string;
  try {
    gccVersion = (await version(gcc, ['-dumpfullversion'])).trim();
    libgcc = (await runTool(gcc, ['-print-libgcc-file-name'], { timeoutMs: 30_000 })).stdout.trim();
    qemuVersion = /version (\S+)/.exec(await version(qemu, ['--version']))?.[1] ?? 'unknown';
  } catch (e) {
    throw new ToolchainError(`${(e as ToolError).command}: ${(e as Error).message}`);
  }
  return {
    schemaVersion: 1,
    provider: 'system',
    llvm,
    rust,
    cross: {
      prefix,
      gcc: entry(gcc),
      ld: entry(ld),
      gccVersion,
      m68kSysroot,
      libraries: linkLibraries(m68kSysroot, libgcc, prefix),
    },
    qemu: { version: qemuVersion, qemuM68k: entry(qemu) },
  };
}
