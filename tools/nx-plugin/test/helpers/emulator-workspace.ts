// A scratch workspace for emulator tests: the located toolchain's manifest, C programs compiled for m68k, and the
// build manifest (manifest.json) that runEmulatorTests reads, as rust-target:build would write them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { locateToolchain, type ToolchainManifest } from '../../src/toolchain/locate';
import { runTool } from '../../src/util/exec';

/**
 * Creates `<tmp>/<prefix>XXXXXX` with `dist/tc/toolchain.json` and, for each `programs` entry (name → C source),
 * `<name>.c` compiled by the m68k cross gcc to `dist/build/bin/<name>` (hosted, m68k-unknown-linux-gnu, m68040),
 * listed in `dist/build/manifest.json`. gcc, not clang: the test is of the runner, not of LLVM's backend.
 * @returns the workspace root and the toolchain manifest.
 * @throws ToolchainError when the toolchain is missing; ToolError when gcc fails.
 */
export async function emulatorWorkspace(
  prefix: string,
  programs: Record<string, string>,
): Promise<{ ws: string; toolchain: ToolchainManifest }> {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const toolchain = await locateToolchain({ minLlvmVersion: '19.1.5' });
  fs.mkdirSync(path.join(ws, 'dist/tc'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'dist/tc/toolchain.json'), JSON.stringify(toolchain));
  fs.mkdirSync(path.join(ws, 'dist/build/bin'), { recursive: true });
  for (const [name, source] of Object.entries(programs)) {
    fs.writeFileSync(path.join(ws, `${name}.c`), source);
    await runTool(toolchain.cross.gcc.path, ['-O1', `${name}.c`, '-o', `dist/build/bin/${name}`], { cwd: ws });
  }
  fs.writeFileSync(
    path.join(ws, 'dist/build/manifest.json'),
    JSON.stringify({
      schemaVersion: 1,
      project: 'p',
      cpu: 'm68040',
      toolchainManifest: 'dist/tc/toolchain.json',
      m68kSysroot: toolchain.cross.m68kSysroot,
      programs: Object.keys(programs),
      artifacts: Object.keys(programs).map((name) => ({
        name,
        path: `dist/build/bin/${name}`,
        kind: 'executable',
        target: 'm68k-unknown-linux-gnu',
        cpu: 'm68040',
        sha256: '',
        flavor: 'hosted',
        size: 0,
      })),
    }),
  );
  return { ws, toolchain };
}
