/**
 * Builds the patched M68k backend (the `llvm-m68k:backend` target):
 *  1. the LLVM source from Debian's source package, fetched once and cached
 *     (debian-source.ts), its `llvm/lib/Target/M68k` extracted once;
 *  2. a fresh copy of that folder with the patch series applied (patches.ts);
 *  3. the patched files synced into a persistent build folder in the cache,
 *     rewriting only files whose content changed, so that make rebuilds only
 *     what a patch edit touches;
 *  4. `make -j<jobs>` with projects/llvm-m68k/backend/Makefile: TableGen with
 *     Debian's llvm-tblgen, g++ against Debian's LLVM headers, linked against
 *     libLLVM.so.<major>.<minor> as a library that exports only the target's
 *     `LLVMInitializeM68k*` entry points (under libLLVM's symbol version);
 *  5. the library and backend.json ({sha256, source, patches, llvm}) written to
 *     the target's output folder.
 * Preloading the library (LD_PRELOAD) into rustc, clang or llc of the same
 * LLVM makes them compile with it: libLLVM exports only those entry points of
 * its own M68k target, so the dynamic linker binds them to the preloaded copy
 * (ld.so(8), "LD_PRELOAD": https://man7.org/linux/man-pages/man8/ld.so.8.html).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { sha256File, ToolchainError } from '../toolchain/locate';
import { writeJson } from '../toolchain/manifest';
import { runProcess, runTool } from '../util/exec';
import { extractTarget, fetchDebianSource, nextrustCacheDir } from './debian-source';
import type { DebianSourcePin } from './types';
import { applyPatchSeries, readPatchSeries } from './patches';
import type { BackendManifest } from './types';

export type { BackendManifest } from './types';

/** File name of the backend library in the output folder. */
export const BACKEND_LIBRARY = 'libnextrust-m68k-backend.so';

/** Inputs of buildBackend; paths workspace-relative unless absolute. */
export interface BackendBuildOptions {
  workspaceRoot: string;
  source: DebianSourcePin;
  /** Folder of the patch series. */
  patchesDir: string;
  /** The backend's Makefile. */
  makefile: string;
  /** `llvm-config` of the LLVM whose libLLVM the backend replaces, e.g. `llvm-config-22`. */
  llvmConfig: string;
  /** Output folder (library and backend.json). */
  outputDir: string;
  /** Parallel compile jobs (default: the number of CPUs). */
  jobs?: number;
  /** Cache folder (default nextrustCacheDir()). */
  cacheDir?: string;
  log?: (line: string) => void;
}

/** Runs a tool that must be installed, turning "not found" into a ToolchainError naming the Debian package. */
async function probe(file: string, args: string[], pkg: string): Promise<string> {
  const r = await runProcess(file, args, { timeoutMs: 30_000 });
  if (r.startError || r.exitCode !== 0) {
    throw new ToolchainError(
      `${file} ${args.join(' ')} failed (${r.startError ?? `exit ${r.exitCode}`}): install Debian package ${pkg}`,
    );
  }
  return r.stdout.trim();
}

/** Copies `from` over `to` file by file, writing only changed files and removing files `from` lacks. */
export async function syncTree(from: string, to: string): Promise<{ written: number; removed: number }> {
  let written = 0;
  let removed = 0;
  await fs.promises.mkdir(to, { recursive: true });
  const want = new Set(fs.readdirSync(from));
  for (const name of fs.readdirSync(to)) {
    if (!want.has(name)) {
      await fs.promises.rm(path.join(to, name), { recursive: true, force: true });
      removed++;
    }
  }
  for (const name of want) {
    const src = path.join(from, name);
    const dst = path.join(to, name);
    if (fs.statSync(src).isDirectory()) {
      if (fs.existsSync(dst) && !fs.statSync(dst).isDirectory()) await fs.promises.rm(dst, { force: true });
      const r = await syncTree(src, dst);
      written += r.written;
      removed += r.removed;
    } else {
      const data = fs.readFileSync(src);
      if (fs.existsSync(dst) && fs.readFileSync(dst).equals(data)) continue;
      await fs.promises.writeFile(dst, data);
      written++;
    }
  }
  return { written, removed };
}

/**
 * Builds the backend and writes `<outputDir>/libnextrust-m68k-backend.so` and `<outputDir>/backend.json`.
 * @throws ToolchainError naming the Debian package of a missing tool; SourceError when the
 *   source cannot be fetched or verified; PatchError naming the patch and hunk that do not
 *   apply; ToolError with make's output when the compile fails.
 */
export async function buildBackend(opts: BackendBuildOptions): Promise<BackendManifest> {
  const ws = opts.workspaceRoot;
  const log = opts.log ?? ((l: string) => console.log(l));
  const cacheDir = opts.cacheDir ?? nextrustCacheDir();
  const started = Date.now();

  const llvmVersion = await probe(opts.llvmConfig, ['--version'], 'llvm-22-dev (and llvm-22)');
  const libDir = await probe(opts.llvmConfig, ['--libdir'], 'llvm-22-dev');
  const includeDir = await probe(opts.llvmConfig, ['--includedir'], 'llvm-22-dev');
  if (!fs.existsSync(path.join(includeDir, 'llvm/Target/Target.td'))) {
    throw new ToolchainError(
      `${includeDir}/llvm/Target/Target.td not found (LLVM's TableGen files): install Debian package llvm-22-dev`,
    );
  }
  const compiler = (await probe('g++', ['--version'], 'g++')).split('\n')[0];
  await probe('make', ['--version'], 'make');
  await probe('patch', ['--version'], 'patch');
  await probe('xz', ['--version'], 'xz-utils');
  const [major, minor] = llvmVersion.split('.');
  const libLLVM = path.join(libDir, `libLLVM.so.${major}.${minor}`);
  if (!fs.existsSync(libLLVM)) throw new ToolchainError(`${libLLVM} not found: install Debian package libllvm${major}`);

  const tarball = await fetchDebianSource({ pin: opts.source, cacheDir, log });
  const pristine = await extractTarget(tarball, opts.source.sha256, cacheDir, 'M68k');

  const patchesDir = path.resolve(ws, opts.patchesDir);
  const series = readPatchSeries(patchesDir);
  const makefile = path.resolve(ws, opts.makefile);
  // One build folder per source, compiler and LLVM: a patch edit reuses it (incremental).
  const key = crypto
    .createHash('sha256')
    .update([opts.source.sha256, llvmVersion, compiler, fs.readFileSync(makefile, 'utf8')].join('\n'))
    .digest('hex')
    .slice(0, 16);
  const buildDir = path.join(cacheDir, 'backend-build', key);
  return withBuildLock(buildDir, async () => {
    const staging = path.join(buildDir, 'staging');
    await fs.promises.rm(staging, { recursive: true, force: true });
    await fs.promises.mkdir(path.join(staging, 'llvm/lib/Target'), { recursive: true });
    await fs.promises.cp(path.join(pristine, 'llvm/lib/Target/M68k'), path.join(staging, 'llvm/lib/Target/M68k'), {
      recursive: true,
    });
    await applyPatchSeries(patchesDir, series, staging);
    log(`backend: ${series.length} patches applied (${series.map((p) => p.file.replace(/\.patch$/, '')).join(', ')})`);
    const synced = await syncTree(path.join(staging, 'llvm/lib/Target/M68k'), path.join(buildDir, 'src'));
    await fs.promises.rm(staging, { recursive: true, force: true });
    log(`backend: build folder ${buildDir} (${synced.written} files changed since its last build)`);

    const jobs = opts.jobs ?? Math.max(1, os.cpus().length);
    await runTool(
      'make',
      [
        '-C',
        buildDir,
        '-f',
        makefile,
        `-j${jobs}`,
        'SRC=src',
        `LLVM_CONFIG=${opts.llvmConfig}`,
        `VERSION_NODE=LLVM_${major}.${minor}`,
      ],
      {
        stream: true,
        timeoutMs: 60 * 60_000,
      },
    );

    const outDir = path.resolve(ws, opts.outputDir);
    await fs.promises.rm(outDir, { recursive: true, force: true });
    await fs.promises.mkdir(outDir, { recursive: true });
    const library = path.join(outDir, BACKEND_LIBRARY);
    await fs.promises.copyFile(path.join(buildDir, BACKEND_LIBRARY), library);
    const manifest: BackendManifest = {
      schemaVersion: 1,
      library: path.relative(ws, library),
      sha256: sha256File(library),
      size: fs.statSync(library).size,
      source: opts.source,
      patches: series,
      llvm: { version: llvmVersion, libLLVM, libLLVMSha256: sha256File(libLLVM) },
      compiler,
    };
    await writeJson(path.join(outDir, 'backend.json'), manifest);
    log(
      `backend: ${manifest.library} (${(manifest.size / 1e6).toFixed(1)} MB, sha256 ${manifest.sha256.slice(0, 16)}…) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    return manifest;
  });
}

/**
 * Runs `fn` holding the lock of a backend build folder (proper-lockfile,
 * `<dir>.lock`): another checkout building in the same folder is waited for,
 * and the lock of a killed build goes stale after a minute.
 */
async function withBuildLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await fs.promises.mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    retries: { retries: 120, minTimeout: 1000, maxTimeout: 5000 },
    onCompromised: () => undefined,
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
