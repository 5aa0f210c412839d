// The patched M68k backend, with the real toolchain: llvm-m68k:toolchain (and so
// llvm-m68k:backend) through nx, then
//  - the wrappers (dist/llvm-m68k/toolchain/bin) load the rebuilt backend, the
//    real tools do not (the backend's marker comment in the assembly);
//  - every regression reproducer (projects/llvm-m68k/regressions) prints the
//    build host's output when compiled by the patched backend, and something
//    else when compiled by Debian's (or Debian's crashes compiling it): each
//    fix is proven both ways, under qemu-m68k -cpu m68040 and m68030;
//  - every patch names a test that exists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildBackend } from '../src/backend/build-backend';
import { fetchDebianSource } from '../src/backend/debian-source';
import { readPatchSeries } from '../src/backend/patches';
import { DEFAULT_BACKEND_SOURCE } from '../src/config/project-config';
import { hostOutput, listReproducers, runReproducer, scratchDir } from '../src/backend/regressions';
import { BACKEND_MARKER, backendVersionLine, checkWrapper } from '../src/backend/wrappers';
import type { ToolchainManifest } from '../src/toolchain/locate';
import { runProcess } from '../src/util/exec';
import { workspaceToolchain, WORKSPACE_ROOT } from './scratch-workspace';

const REGRESSIONS = path.join(WORKSPACE_ROOT, 'projects/llvm-m68k/regressions');
const PATCHES = path.join(WORKSPACE_ROOT, 'projects/llvm-m68k/patches');
let toolchain: ToolchainManifest;
/** Debian's clang of the same LLVM, without the preload. */
let systemClang: string;
const work = scratchDir('nextrust-regressions-');

beforeAll(async () => {
  toolchain = await workspaceToolchain();
  systemClang = path.join(toolchain.llvm.binDir, 'clang');
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the preloaded backend is the one in use', () => {
  it('the toolchain manifest records the backend and names wrappers', () => {
    expect(toolchain.provider).toBe('source');
    expect(toolchain.backend?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(toolchain.backend?.patches.map((p) => p.file)).toEqual(readPatchSeries(PATCHES).map((p) => p.file));
    expect(toolchain.rust.rustc.path).toBe(path.join(WORKSPACE_ROOT, 'dist/llvm-m68k/toolchain/bin/rustc'));
    expect(toolchain.llvm.tools.clang.path).toBe(path.join(WORKSPACE_ROOT, 'dist/llvm-m68k/toolchain/bin/clang'));
  });

  it.each(['rustc', 'clang', 'llc'] as const)('%s through its wrapper writes the marker', async (tool) => {
    const wrapper = tool === 'rustc' ? toolchain.rust.rustc.path : toolchain.llvm.tools[tool].path;
    await expect(checkWrapper(tool, wrapper)).resolves.toBeUndefined();
  });

  it('the real clang and llc, without the preload, do not', async () => {
    const src = path.join(work, 'marker.c');
    fs.writeFileSync(src, 'int x;\n');
    for (const [tool, args] of [
      [systemClang, ['--target=m68k-linux-gnu', '-S', '-o', '-', src]],
      [toolchain.llvm.tools.clang.path, ['--target=m68k-linux-gnu', '-S', '-o', '-', src]],
    ] as const) {
      const r = await runProcess(tool, [...args]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.includes(BACKEND_MARKER)).toBe(tool !== systemClang);
    }
  });

  it('rustc -vV through the wrapper names the backend (cargo fingerprints it)', async () => {
    const r = await runProcess(toolchain.rust.rustc.path, ['-vV']);
    expect(r.stdout.trim().split('\n').pop()).toBe(backendVersionLine(toolchain.backend!.sha256));
  });
});

describe.each(listReproducers(REGRESSIONS).map((r) => [r.name, r] as const))('regression %s', (_name, reproducer) => {
  let expected: string;
  beforeAll(async () => {
    expected = await hostOutput(reproducer, systemClang, work);
  });

  it.each(['m68040', 'm68030'])(
    'fails with the system backend and passes with the patched one (-cpu %s)',
    async (cpu) => {
      const system = await runReproducer(reproducer, { toolchain, clang: systemClang, cpu, workDir: work });
      const patched = await runReproducer(reproducer, {
        toolchain,
        clang: toolchain.llvm.tools.clang.path,
        cpu,
        workDir: work,
      });
      expect(expected.length).toBeGreaterThan(0);
      expect(system.output).not.toBe(expected);
      expect(patched).toEqual({ stage: 'run', output: expected, exitCode: 0, timedOut: false });
    },
  );
});

describe('the patch series', () => {
  it('every patch names a test that exists in the repository', () => {
    const series = readPatchSeries(PATCHES);
    expect(series.length).toBeGreaterThanOrEqual(5);
    for (const p of series) {
      const file = p.test.split(/\s/)[0];
      expect(fs.existsSync(path.join(WORKSPACE_ROOT, file))).toBe(true);
    }
  });
});

describe('bad input', () => {
  it("refuses a source whose pinned sha256 differs from the archive's Checksums-Sha256 (apt, Debian archive)", async () => {
    const cacheDir = scratchDir('nextrust-source-');
    try {
      const pin = { ...DEFAULT_BACKEND_SOURCE, sha256: '0'.repeat(64) };
      await expect(fetchDebianSource({ pin, cacheDir, log: () => undefined })).rejects.toThrow(
        `${pin.tarball}: the archive's Checksums-Sha256 is ${DEFAULT_BACKEND_SOURCE.sha256}, projects/llvm-m68k/nextrust.json field 'backend.source.sha256' pins ${pin.sha256}; refused`,
      );
      expect(fs.existsSync(path.join(cacheDir, 'sources', pin.tarball))).toBe(false);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('names the Debian package of a missing llvm-config', async () => {
    await expect(
      buildBackend({
        workspaceRoot: WORKSPACE_ROOT,
        source: DEFAULT_BACKEND_SOURCE,
        patchesDir: 'projects/llvm-m68k/patches',
        makefile: 'projects/llvm-m68k/backend/Makefile',
        llvmConfig: 'llvm-config-nonexistent',
        outputDir: path.relative(WORKSPACE_ROOT, path.join(work, 'out')),
        log: () => undefined,
      }),
    ).rejects.toThrow(/^llvm-config-nonexistent --version failed \(.*\): install Debian package llvm-22-dev/);
  });
});
