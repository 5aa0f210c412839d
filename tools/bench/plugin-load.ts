/**
 * Benchmark of what the nextrust plugin costs Nx, in a scratch copy of the
 * workspace with the plugin compiled from the current sources (dist/). The
 * copy has the workspace's .env, so Nx loads plugins in its own process
 * (NX_ISOLATE_PLUGINS=false) unless a variant says otherwise.
 *
 * 1. Project graph without the daemon (what CI and every `nx` command pay when
 *    the daemon is off, as in containers): `nx show projects` with
 *    NX_DAEMON=false for
 *     - no nextrust plugin (Nx's floor: Nx and its own plugins),
 *     - an empty local plugin (a createNodes that infers nothing, added to the
 *       scratch copy only): what Nx charges for any plugin in the workspace,
 *     - plugin.js with its inferred-targets cache warm (the usual case),
 *     - plugin.js with that cache deleted before every run (after an edit to
 *       every nextrust.json, or a new checkout),
 *     - plugin.js with Nx's default plugin isolation (NX_ISOLATE_PLUGINS=true:
 *       a worker process per plugin, and resolving a workspace-local plugin runs
 *       Nx's default plugins once more in workers of their own: resolveNxPlugin in
 *       https://github.com/nrwl/nx/blob/master/packages/nx/src/project-graph/plugins/resolve-plugin.ts);
 *    the median wall time of BENCH_REPEAT runs (the variants interleaved, so
 *    that load from other processes falls on all alike) and the CPU time of the
 *    whole process tree (user + system, bash's `times`: steadier than wall time
 *    on a shared machine), the cost over the floor, ratios, and Nx's own
 *    "Load Nx Plugin" and createNodes times (NX_PERF_LOGGING).
 * 2. The warm main job with the daemon: `nx run rust-target:build
 *    --configuration=m68040` with every task restored from the cache, against
 *    `nx run bench-noop:noop`, a cached `nx:noop` target this benchmark adds
 *    to the scratch copy only (same launcher, same daemon, interleaved), each
 *    launched as `node_modules/.bin/nx` and as `npx nx` (npx adds its own
 *    start-up, the same for any command).
 *    The scratch copy starts from this workspace's Nx cache (hard links to
 *    .nx/cache and a copy of the cache database), so the main job is a cache
 *    hit when this workspace's last main job ran on the current sources (run
 *    `npx nx run rust-target:build -c m68040` first); the benchmark says how
 *    many tasks it had to run before measuring.
 * Also printed, as a yardstick: `node -e 0`, the start-up every Node process
 * pays on this machine (Node reads NODE_EXTRA_CA_CERTS at start when it is set).
 *
 * Prints figures; asserts nothing. Run: node -r @swc-node/register tools/bench/plugin-load.ts
 * (BENCH_REPEAT runs per figure, default 5; BENCH_PARTS=graph or =daemon runs one part).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../nx-plugin/src/util/exec';
import { stripVTControlCharacters } from 'node:util';
import { NX_TEST_ENV, ScratchWorkspace, WORKSPACE_ROOT } from '../nx-plugin/test/scratch-workspace';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
/** Which parts to run: `graph`, `daemon` or both (default), comma-separated. */
const PARTS = (process.env.BENCH_PARTS ?? 'graph,daemon').split(',');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MAIN = ['run', 'rust-target:build', '--configuration=m68040', '--output-style=static'];
const NOOP = ['run', 'bench-noop:noop', '--output-style=static'];

/** One timed command: wall seconds, CPU seconds of its process tree (user + system), its output. */
interface Timed {
  s: number;
  cpu: number;
  out: string;
}

/** `times`' line for the shell's children (`0m3.210s 0m0.520s`), in seconds of user + system time. */
function childCpuSeconds(timesOutput: string): number {
  const line = timesOutput.trim().split('\n').pop() ?? '';
  let total = 0;
  for (const m of line.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(m[1]) * 60 + Number(m[2]);
  return total;
}

/** How `nx` is started: the workspace's own bin, or through npx (what the README's commands use). */
type Launcher = 'bin' | 'npx';
const LAUNCH: Record<Launcher, string> = { bin: 'node_modules/.bin/nx', npx: 'npx nx' };

/**
 * Runs `nx ...args` (by default through npx) in the scratch copy (its own cache and workspace data) under bash, whose
 * `times` gives the CPU time of every process it waited for (npx, nx and Nx's plugin workers), and times it.
 */
async function npxNx(
  ws: ScratchWorkspace,
  args: string[],
  env: Record<string, string>,
  launcher: Launcher = 'npx',
): Promise<Timed> {
  const timesFile = ws.file('.nx/bench-times');
  const t0 = process.hrtime.bigint();
  const script = `${LAUNCH[launcher]} "$@"; rc=$?; times > "$BENCH_TIMES"; exit $rc`;
  const r = await runProcess('bash', ['-c', script, 'bash', ...args], {
    cwd: ws.root,
    env: {
      ...NX_TEST_ENV,
      NX_CACHE_DIRECTORY: ws.file('.nx/cache'),
      NX_WORKSPACE_DATA_DIRECTORY: ws.file('.nx/workspace-data'),
      BENCH_TIMES: timesFile,
      ...env,
    },
    timeoutMs: 60 * 60_000,
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.exitCode !== 0) throw new Error(`${LAUNCH[launcher]} ${args.join(' ')} failed:\n${r.all.slice(-3000)}`);
  return { s, cpu: childCpuSeconds(fs.readFileSync(timesFile, 'utf8')), out: r.all };
}

/**
 * Task lines of `--output-style=static` output: `> nx run <task>` and, for a task Nx did not run, `[local cache]`,
 * `[remote cache]` or (outputs already in place, as with the daemon) `[existing outputs match the cache, left as is]`.
 */
function taskLines(out: string): { cached: string[]; ran: string[] } {
  const cached: string[] = [];
  const ran: string[] = [];
  for (const m of stripVTControlCharacters(out).matchAll(/^> nx run (\S+)(.*)$/gm))
    (/\[(local cache|remote cache|existing outputs match the cache, left as is)\]/.test(m[2]) ? cached : ran).push(
      m[1],
    );
  return { cached, ran };
}

/** Nx's NX_PERF_LOGGING figure `Time taken for '<label>' <ms>ms`, in seconds, or null. */
function perf(out: string, label: string): number | null {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`Time taken for '${escaped}' ([\\d.]+)ms`).exec(out);
  return m ? Number(m[1]) / 1000 : null;
}

/** Seeds the scratch copy's Nx cache from this workspace's: hard links to the entries, a copy of the database. */
function seedCache(ws: ScratchWorkspace): void {
  const cache = path.join(WORKSPACE_ROOT, '.nx/cache');
  const data = path.join(WORKSPACE_ROOT, '.nx/workspace-data');
  fs.mkdirSync(ws.file('.nx/workspace-data'), { recursive: true });
  if (fs.existsSync(cache)) execFileSync('cp', ['-al', cache, ws.file('.nx/cache')]);
  if (fs.existsSync(data))
    for (const f of fs.readdirSync(data).filter((n) => n.endsWith('.db')))
      fs.copyFileSync(path.join(data, f), ws.file(`.nx/workspace-data/${f}`));
}

async function graphWithoutDaemon(ws: ScratchWorkspace): Promise<void> {
  const nxJson = fs.readFileSync(ws.file('nx.json'), 'utf8');
  const floorJson = nxJson.replace('"plugins": ["./tools/nx-plugin/plugin.js"]', '"plugins": []');
  if (floorJson === nxJson) throw new Error('nx.json: no `"plugins": ["./tools/nx-plugin/plugin.js"]` to remove');
  fs.writeFileSync(
    ws.file('tools/bench-empty-plugin.js'),
    "exports.createNodesV2 = ['**/nextrust.json', async () => []];\n",
  );
  const emptyJson = floorJson.replace('"plugins": []', '"plugins": ["./tools/bench-empty-plugin.js"]');
  const dataDir = ws.file('.nx/workspace-data');
  const clearTargetsCache = () => {
    for (const f of fs.readdirSync(dataDir).filter((n) => /^nextrust-targets-.*\.json$/.test(n)))
      fs.rmSync(path.join(dataDir, f));
  };
  const variants = [
    { name: 'no nextrust plugin (floor)', nxJson: floorJson, before: () => {}, env: {} as Record<string, string> },
    { name: 'an empty local plugin', nxJson: emptyJson, before: () => {}, env: {} },
    { name: 'plugin.js, cached targets', nxJson, before: () => {}, env: {} },
    { name: 'plugin.js, cache cleared', nxJson, before: clearTargetsCache, env: {} },
    { name: "plugin.js, Nx's isolation", nxJson, before: () => {}, env: { NX_ISOLATE_PLUGINS: 'true' } },
  ].map((v) => ({
    ...v,
    walls: [] as number[],
    cpus: [] as number[],
    loads: [] as number[],
    creates: [] as number[],
    projects: 0,
  }));
  for (let round = 0; round <= REPEAT; round++) {
    for (const v of variants) {
      fs.writeFileSync(ws.file('nx.json'), v.nxJson);
      v.before();
      const r = await npxNx(
        ws,
        ['show', 'projects', '--json'],
        { NX_DAEMON: 'false', NX_PERF_LOGGING: 'true', ...v.env },
        'bin',
      );
      if (round === 0) continue; // warm-up: file system caches, the targets cache
      v.walls.push(r.s);
      v.cpus.push(r.cpu);
      const load = perf(r.out, 'Load Nx Plugin: ./tools/nx-plugin/plugin.js');
      const create = perf(r.out, './tools/nx-plugin/plugin.js:createNodes');
      if (load !== null) v.loads.push(load);
      if (create !== null) v.creates.push(create);
      const json = r.out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('['));
      v.projects = json ? (JSON.parse(json) as string[]).length : 0;
    }
  }
  fs.writeFileSync(ws.file('nx.json'), nxJson);
  const floor = median(variants[0].walls);
  const floorCpu = median(variants[0].cpus);
  console.log(
    `1. project graph without the daemon (node_modules/.bin/nx show projects, NX_DAEMON=false, median of ${REPEAT}):`,
  );
  for (const v of variants) {
    const wall = median(v.walls);
    const cpu = median(v.cpus);
    const own =
      v.loads.length && v.creates.length
        ? `  [Load Nx Plugin ${median(v.loads).toFixed(2)} s, createNodes ${median(v.creates).toFixed(3)} s]`
        : '';
    console.log(
      `   ${v.name.padEnd(28)} wall ${wall.toFixed(2)} s (${(wall / floor).toFixed(2)}x the floor, +${(wall - floor).toFixed(2)} s)` +
        `  CPU ${cpu.toFixed(2)} s (${(cpu / floorCpu).toFixed(2)}x, +${(cpu - floorCpu).toFixed(2)} s)${own}  ${v.projects} projects`,
    );
  }
  const ours = median(variants[2].walls);
  const isolated = median(variants[4].walls);
  console.log(
    `   plugin load + project graph, whole command: ${ours.toFixed(2)} s (goal < 1 s); with Nx's isolation ${isolated.toFixed(2)} s (${(isolated / ours).toFixed(2)}x)`,
  );
}

async function warmMainJobWithDaemon(ws: ScratchWorkspace): Promise<void> {
  const daemon = { NX_DAEMON: 'true' };
  const prime = await npxNx(ws, MAIN, { NX_DAEMON: 'false' }, 'bin');
  const primed = taskLines(prime.out);
  console.log(
    `2. warm main job with the daemon (nx ${MAIN.join(' ')} vs nx ${NOOP.join(' ')}, a cached nx:noop target):`,
  );
  console.log(
    primed.ran.length
      ? `   priming ran ${primed.ran.length} task(s) (${primed.ran.join(', ')}) in ${prime.s.toFixed(0)} s: this workspace's cache had no entry for the current sources`
      : `   priming: all ${primed.cached.length} tasks from this workspace's cache (${prime.s.toFixed(1)} s without the daemon)`,
  );
  await npxNx(ws, NOOP, daemon, 'bin'); // starts the daemon, fills the no-op's cache entry
  await npxNx(ws, MAIN, daemon, 'bin');
  for (const launcher of ['bin', 'npx'] as const) {
    const mains: number[] = [];
    const noops: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      noops.push((await npxNx(ws, NOOP, daemon, launcher)).s);
      const m = await npxNx(ws, MAIN, daemon, launcher);
      const tasks = taskLines(m.out);
      if (tasks.ran.length) throw new Error(`the warm main job ran ${tasks.ran.join(', ')}: not a cache hit`);
      mains.push(m.s);
    }
    const main = median(mains);
    const noop = median(noops);
    console.log(
      `   ${LAUNCH[launcher].padEnd(19)} cached no-op ${noop.toFixed(2)} s | warm main job ${main.toFixed(2)} s (${(main / noop).toFixed(2)}x the no-op), median of ${REPEAT}`,
    );
  }
  console.log('   goals: warm main job < 1 s and <= 1.5x the no-op');
}

/** Median wall time of `node -e 0`: what starting any Node process costs on this machine. */
async function nodeStartup(): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    await runProcess(process.execPath, ['-e', '0'], { timeoutMs: 60_000 });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(walls);
}

async function main(): Promise<void> {
  const ws = ScratchWorkspace.create('nextrust-bench-load-');
  try {
    console.log(`plugin load benchmark (scratch workspace ${ws.root})`);
    const extraCerts = process.env.NODE_EXTRA_CA_CERTS
      ? ' (NODE_EXTRA_CA_CERTS is set: Node reads it at every start)'
      : '';
    console.log(`0. node -e 0: ${(await nodeStartup()).toFixed(3)} s, median of 10${extraCerts}`);
    await ws.buildPlugin();
    ws.addNoopProject();
    seedCache(ws);
    if (PARTS.includes('graph')) await graphWithoutDaemon(ws);
    if (PARTS.includes('daemon')) await warmMainJobWithDaemon(ws);
  } finally {
    await npxNx(ws, ['daemon', '--stop'], { NX_DAEMON: 'true' }, 'bin').catch(() => undefined);
    ws.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
