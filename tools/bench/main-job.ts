/**
 * Benchmark of the main job, `nx run rust-target:build --configuration=m68040`,
 * in a scratch copy of the workspace (own Nx cache, dist and cargo dirs):
 *  - cold: nothing cached (toolchain, atomics, sysroot, programs all built);
 *  - warm: everything restored from the Nx cache;
 *  - incremental: after a one-line edit to a program;
 * each in seconds and as a ratio to `nx run` of a cached no-op target measured
 * in the same mode (with the Nx daemon, and with NX_DAEMON=false as in CI).
 * Prints figures; asserts nothing. Run: npm run bench
 */
import { ScratchWorkspace } from '../nx-plugin/test/scratch-workspace';

const MAIN = ['run', 'rust-target:build', '--configuration=m68040'];
const NOOP = ['run', 'bench-noop:noop'];
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);

async function timed(ws: ScratchWorkspace, args: string[], env: Record<string, string>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await ws.nx(args, env);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${r.all.slice(-3000)}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const ws = ScratchWorkspace.create('nextrust-bench-');
  try {
    ws.addNoopProject();
    const modes: [string, Record<string, string>][] = [
      ['daemon', { NX_DAEMON: 'true' }],
      ['no daemon (CI)', { NX_DAEMON: 'false' }],
    ];
    console.log(`main job benchmark: ${MAIN.join(' ')} (scratch workspace ${ws.root})`);
    const cold = await timed(ws, MAIN, { NX_DAEMON: 'false' });
    const rows: string[] = [];
    let edits = 0;
    for (const [mode, env] of modes) {
      await timed(ws, NOOP, env); // prime: start the daemon, fill the no-op's cache entry
      await timed(ws, MAIN, env);
      const noopXs: number[] = [];
      for (let i = 0; i < REPEAT; i++) noopXs.push(await timed(ws, NOOP, env));
      const noop = median(noopXs);
      const warmXs: number[] = [];
      for (let i = 0; i < REPEAT; i++) warmXs.push(await timed(ws, MAIN, env));
      const warm = median(warmXs);
      const incXs: number[] = [];
      for (let i = 0; i < 3; i++) {
        edits++;
        ws.edit('projects/rust-target/programs/hello/src/main.rs', (t) => `${t}// bench edit ${edits}\n`);
        incXs.push(await timed(ws, MAIN, env));
      }
      const inc = median(incXs);
      rows.push(
        `${mode.padEnd(15)} no-op ${noop.toFixed(2)} s | warm ${warm.toFixed(2)} s (${(warm / noop).toFixed(2)}x no-op) | incremental ${inc.toFixed(2)} s (${(inc / noop).toFixed(2)}x no-op)`,
      );
      if (mode === 'no daemon (CI)')
        rows.push(`${''.padEnd(15)} cold ${cold.toFixed(2)} s (${(cold / noop).toFixed(1)}x no-op)`);
    }
    console.log(`cold (nothing cached, NX_DAEMON=false): ${cold.toFixed(2)} s  [goal < 60 s]`);
    for (const r of rows) console.log(r);
    console.log(
      `medians of ${REPEAT} (warm, no-op) and 3 (incremental) runs; goals: warm <= 1.5x no-op, incremental < 10 s`,
    );
    await ws.nx(['daemon', '--stop'], {});
  } finally {
    ws.dispose();
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
