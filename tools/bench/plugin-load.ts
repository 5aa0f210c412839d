/**
 * Benchmark of project-graph computation without the Nx daemon (what CI and a
 * first `nx` command pay): `nx show projects` in a scratch copy of the
 * workspace with the compiled plugin, for
 *  - the plugin entry Nx loads now (plugin.js: compiled dist/),
 *  - the TypeScript entry it used to load (`./tools/nx-plugin`: Nx registers
 *    its TypeScript transpiler and compiles the plugin on every run),
 *  - no nextrust plugin at all (the floor: Nx and its own plugins),
 * as the median wall time of BENCH_REPEAT runs, Nx's own "Load Nx Plugin" time
 * (NX_PERF_LOGGING), and ratios to the floor, measured in the same run.
 * Prints figures; asserts nothing.
 * Run: node -r @swc-node/register tools/bench/plugin-load.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScratchWorkspace, WORKSPACE_ROOT } from '../nx-plugin/test/scratch-workspace';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dist = path.join(WORKSPACE_ROOT, 'tools/nx-plugin/dist');
  if (!fs.existsSync(path.join(dist, '.build-stamp')))
    throw new Error('run `npm run build` first: the benchmark copies the compiled plugin');
  const ws = ScratchWorkspace.create('nextrust-bench-load-');
  try {
    fs.cpSync(dist, ws.file('tools/nx-plugin/dist'), { recursive: true });
    // Copied sources are newer than the copied stamp: stamp again so that dist/ counts as fresh.
    fs.writeFileSync(ws.file('tools/nx-plugin/dist/.build-stamp'), '');
    const nxJson = fs.readFileSync(ws.file('nx.json'), 'utf8');
    const variants: [string, string][] = [
      ['plugin.js (compiled dist/)', nxJson],
      ['./tools/nx-plugin (TypeScript)', nxJson.replace('"./tools/nx-plugin/plugin.js"', '"./tools/nx-plugin"')],
      ['no nextrust plugin (floor)', nxJson.replace('"plugins": ["./tools/nx-plugin/plugin.js"]', '"plugins": []')],
    ];
    const results: { name: string; wall: number; load: number | null; projects: number }[] = [];
    for (const [name, text] of variants) {
      fs.writeFileSync(ws.file('nx.json'), text);
      const walls: number[] = [];
      const loads: number[] = [];
      let projects = 0;
      for (let i = 0; i < REPEAT + 1; i++) {
        const t0 = process.hrtime.bigint();
        const r = await ws.nx(['show', 'projects', '--json'], { NX_DAEMON: 'false', NX_PERF_LOGGING: 'true' });
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        if (r.exitCode !== 0) throw new Error(`nx show projects (${name}) failed:\n${r.all.slice(-2000)}`);
        if (i === 0) continue; // warm-up: file system caches
        walls.push(s);
        const m = /Load Nx Plugin: \.\/tools\/nx-plugin[^']*' ([\d.]+)ms/.exec(r.all);
        if (m) loads.push(Number(m[1]) / 1000);
        projects = (JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]).length;
      }
      results.push({ name, wall: median(walls), load: loads.length ? median(loads) : null, projects });
    }
    const floor = results[2].wall;
    console.log(`project graph without the daemon (nx show projects, median of ${REPEAT}, ${ws.root}):`);
    for (const r of results) {
      console.log(
        `  ${r.name.padEnd(32)} ${r.wall.toFixed(2)} s  (${(r.wall / floor).toFixed(2)}x the floor, +${(r.wall - floor).toFixed(2)} s)` +
          `${r.load !== null ? `  Load Nx Plugin ${r.load.toFixed(2)} s` : ''}  ${r.projects} projects`,
      );
    }
  } finally {
    ws.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
