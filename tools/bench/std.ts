/**
 * Benchmark of std on the 68k, in a scratch copy of the workspace (own Nx
 * cache, dist and cargo dirs):
 *  - cold sysroot for the m68040: the no_std one (core, alloc,
 *    compiler_builtins) as the baseline, and the std one (plus std,
 *    panic_abort, libtest and their vendored dependencies), each built from
 *    nothing by buildSysroot; then the same through Nx cold, and warm (a hit);
 *  - the edit-build-test loop of one std program through Nx with the daemon
 *    (`nx run emulator-tests:test -c m68040` after a one-line edit of
 *    std-hello), against the same command with nothing changed;
 *  - the stripped size of the std hello world against the no_std one.
 * Prints figures; asserts nothing. Run: node -r @swc-node/register tools/bench/std.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOSTED_TRIPLE } from '../nx-plugin/src/build/rust-targets';
import { buildSysroot } from '../nx-plugin/src/build/sysroot';
import { readToolchainManifest } from '../nx-plugin/src/toolchain/manifest';
import { runTool } from '../nx-plugin/src/util/exec';
import { ScratchWorkspace } from '../nx-plugin/test/scratch-workspace';

const CPU = 'm68040';

/** Seconds taken by `fn`. */
async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const ws = ScratchWorkspace.create('nextrust-bench-std-');
  const nx = async (args: string[], env: Record<string, string> = { NX_DAEMON: 'false' }) => {
    const r = await ws.nx(args, env);
    if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${r.all.slice(-3000)}`);
    return r;
  };
  try {
    console.log(`std benchmark for ${CPU} (scratch workspace ${ws.root})`);
    await nx(['run', `llvm-m68k:atomics:${CPU}`]); // toolchain and backend, not measured
    const toolchain = readToolchainManifest(ws.file('dist/llvm-m68k/toolchain/toolchain.json'));
    const direct = (name: string, stdTargets: string[]) =>
      seconds(() =>
        buildSysroot({
          workspaceRoot: ws.root,
          toolchain,
          cpu: CPU,
          targets: [HOSTED_TRIPLE],
          memTargets: [],
          stdTargets,
          targetSpecs: {},
          profile: 'release',
          rustflags: [],
          outputDir: `tmp/bench/${name}/out`,
          workDir: `tmp/bench/${name}/work`,
        }),
      );
    const noStd = await direct('no-std', []);
    const std = await direct('std', [HOSTED_TRIPLE]);
    const nxCold = await seconds(() => nx(['run', `rust-target:sysroot:${CPU}`]));
    const nxWarm = await seconds(() => nx(['run', `rust-target:sysroot:${CPU}`]));
    console.log(`cold sysroot, no_std (baseline): ${noStd.toFixed(1)} s`);
    console.log(
      `cold sysroot, std + libtest:     ${std.toFixed(1)} s (${(std / noStd).toFixed(2)}x no_std)  [goal < 120 s]`,
    );
    console.log(
      `through nx: cold ${nxCold.toFixed(1)} s (every target of the CPU's programs), warm ${nxWarm.toFixed(2)} s (cache hit)`,
    );

    // The edit-build-test loop with the daemon.
    const daemon = { NX_DAEMON: 'true' };
    const test = ['run', 'emulator-tests:test', '-c', CPU];
    await nx(test, daemon);
    const unchanged: number[] = [];
    for (let i = 0; i < 3; i++) unchanged.push(await seconds(() => nx(test, daemon)));
    const loop: number[] = [];
    for (let i = 0; i < 3; i++) {
      ws.edit('projects/rust-target/programs/std-hello/src/main.rs', (t) => `${t}// bench edit ${i}\n`);
      loop.push(await seconds(() => nx(test, daemon)));
    }
    console.log(
      `edit-build-test loop of std-hello (nx run emulator-tests:test -c ${CPU}, daemon): ${median(loop).toFixed(1)} s ` +
        `(${(median(loop) / median(unchanged)).toFixed(1)}x the unchanged run, ${median(unchanged).toFixed(2)} s)  [goal < 15 s]`,
    );
    await ws.nx(['daemon', '--stop'], {});

    const strip = path.join(path.dirname(toolchain.cross.gcc.path), `${toolchain.cross.prefix}strip`);
    const stripped = async (program: string) => {
      const out = ws.file(`tmp/bench/${program}.stripped`);
      await runTool(strip, ['-o', out, ws.file(`dist/rust-target/${CPU}/bin/${program}`)]);
      return fs.statSync(out).size;
    };
    const stdHello = await stripped('std-hello');
    const hello = await stripped('hello');
    console.log(
      `hello world, stripped: std ${stdHello.toLocaleString('en')} B, no_std ${hello.toLocaleString('en')} B (${(stdHello / hello).toFixed(1)}x)`,
    );
  } finally {
    ws.dispose();
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
