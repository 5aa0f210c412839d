/**
 * Benchmark of status appends: 10,000 activities appended one by one with
 *  (a) the baseline: a line-by-line TypeScript port of the earlier status
 *      writer (a Python script that StatusStore replaced): take the lock,
 *      re-read the whole pipeline-log.json, push one entry, rewrite the whole
 *      JSON (indent 2) to a tmp file and rename it over, append one line to
 *      pipeline-log.md;
 *  (b) StatusStore.append (one JSONL line under the lock, Markdown view
 *      re-rendered from the log's tail).
 * Both take the same kind of lock (proper-lockfile, mkdir-based: Node has no
 * flock), one process, each in its own temp dir. Prints total time, the mean
 * per append over appends 0-1000, 4000-5000 and 9000-10000, final file sizes,
 * the baseline/ours ratios, and the time of `nextrust status --json` over
 * the 10,000-entry log. Progress every 1000 entries goes to stderr.
 * Run: node -r @swc-node/register tools/bench/status-append.ts [N]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { ACTIVITY_LOG, MARKDOWN_VIEW, STATE_FILE, StatusStore } from '../nx-plugin/src/pipeline/status-store';

const N = Number(process.argv[2] ?? process.env.BENCH_ENTRIES ?? 10_000);
const CHUNK = 1000;
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'tools/nx-plugin/bin/nextrust.js');
const DIST_MAIN = path.join(ROOT, 'tools/nx-plugin/dist/src/cli/main.js');

/** Which entry bin/nextrust.js takes (its own rule: dist/ when newer than every .ts/.json under src/). */
function binMode(): string {
  const newest = (dir: string): { mtime: number; file: string } =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce(
      (acc, e) => {
        const p = path.join(dir, e.name);
        const c = e.isDirectory()
          ? newest(p)
          : /\.(ts|json)$/.test(e.name)
            ? { mtime: fs.statSync(p).mtimeMs, file: p }
            : acc;
        return c.mtime > acc.mtime ? c : acc;
      },
      { mtime: 0, file: '' },
    );
  try {
    const stamp = fs.statSync(path.join(ROOT, 'tools/nx-plugin/dist/.build-stamp')).mtimeMs;
    const n = newest(path.join(ROOT, 'tools/nx-plugin/src'));
    return n.mtime <= stamp
      ? 'runs the dist/ build'
      : `compiles the TypeScript on the fly: ${path.relative(ROOT, n.file)} is newer than dist/`;
  } catch {
    return 'compiles the TypeScript on the fly: no dist/ build';
  }
}

/**
 * The earlier status writer, ported line by line: under the lock, re-read the
 * whole `<root>/docs/ci-status/pipeline-log.json`, push one entry, rewrite it,
 * and append a line to pipeline-log.md.
 */
async function rewriteWholeJsonAppend(root: string, entryType: string, data: Record<string, unknown>): Promise<void> {
  const jsonPath = path.join(root, 'docs/ci-status/pipeline-log.json');
  const mdPath = path.join(root, 'docs/ci-status/pipeline-log.md');
  const lockPath = path.join(root, '.claude/status.lock');
  // Acquire exclusive lock (the earlier writer's flock waited forever).
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const release = await lockfile.lock(path.dirname(lockPath), {
    lockfilePath: lockPath,
    realpath: false,
    retries: { forever: true, factor: 1, minTimeout: 25, maxTimeout: 25 },
  });
  try {
    // Update JSON
    let status: { activities: unknown[] };
    if (fs.existsSync(jsonPath)) status = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    else status = { activities: [] };
    // Add new entry
    const entry = { timestamp: new Date().toISOString(), type: entryType, details: data };
    status.activities.push(entry);
    // Write atomically
    const tmpJson = jsonPath.replace(/\.json$/, '.tmp');
    fs.writeFileSync(tmpJson, JSON.stringify(status, null, 2));
    fs.renameSync(tmpJson, jsonPath);
    // Update Markdown
    fs.appendFileSync(
      mdPath,
      `\n- ${entry.timestamp} - ${entryType}: ${typeof data.message === 'string' ? data.message : 'No message'}\n`,
    );
  } finally {
    await release();
  }
}

interface Run {
  name: string;
  totalMs: number;
  /** Time of each chunk of CHUNK appends. */
  chunkMs: number[];
  files: [string, number][];
}

const details = (i: number) => ({
  message: `build step ${i}: rust-target:build m68040`,
  error: 'undefined reference to `__sync_val_compare_and_swap_4`',
  file: 'atomics.c',
  cpu: 'm68040',
});

async function run(name: string, append: (i: number) => Promise<void>, files: () => [string, number][]): Promise<Run> {
  const chunkMs: number[] = [];
  const t0 = performance.now();
  let tc = t0;
  for (let i = 0; i < N; i++) {
    await append(i);
    if ((i + 1) % CHUNK === 0 || i + 1 === N) {
      const now = performance.now();
      chunkMs.push(now - tc);
      tc = now;
      process.stderr.write(
        `${name}: ${i + 1}/${N} entries, ${((now - t0) / 1000).toFixed(1)} s, last ${CHUNK}: ${((chunkMs.at(-1)! / CHUNK) * 1000).toFixed(0)} µs/append\n`,
      );
    }
  }
  return { name, totalMs: performance.now() - t0, chunkMs, files: files() };
}

const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : -1);
const kib = (n: number) => (n < 0 ? 'absent' : `${(n / 1024).toFixed(1)} KiB`);
const ms = (n: number) => `${n.toFixed(2)} ms`;

/** Mean per append (ms) over the chunk ending at `upTo` entries. */
function meanAt(r: Run, upTo: number): number {
  const idx = Math.ceil(upTo / CHUNK) - 1;
  return r.chunkMs[Math.min(idx, r.chunkMs.length - 1)] / CHUNK;
}

async function main(): Promise<void> {
  const baselineDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bench-rewrite-'));
  const oursDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bench-ours-'));
  try {
    fs.mkdirSync(path.join(baselineDir, 'docs/ci-status'), { recursive: true }); // where the earlier writer kept its files
    console.log(
      `status append benchmark: ${N} entries appended one by one, one process (${os.cpus().length} CPUs, node ${process.version})`,
    );
    const baseline = await run(
      'baseline (rewrite whole JSON)',
      (i) => rewriteWholeJsonAppend(baselineDir, 'build_failure', details(i)),
      () => [
        ['pipeline-log.json', size(path.join(baselineDir, 'docs/ci-status/pipeline-log.json'))],
        ['pipeline-log.md', size(path.join(baselineDir, 'docs/ci-status/pipeline-log.md'))],
      ],
    );
    const store = new StatusStore(oursDir);
    const ours = await run(
      'ours (StatusStore.append)',
      async (i) => {
        await store.append('build_failure', details(i));
      },
      () => [
        [ACTIVITY_LOG, size(store.file(ACTIVITY_LOG))],
        [MARKDOWN_VIEW, size(store.file(MARKDOWN_VIEW))],
        [STATE_FILE, size(store.file(STATE_FILE))],
      ],
    );

    // Sanity: both hold every entry.
    const baselineCount = (
      JSON.parse(fs.readFileSync(path.join(baselineDir, 'docs/ci-status/pipeline-log.json'), 'utf8')) as {
        activities: unknown[];
      }
    ).activities.length;
    const oursCount = fs.readFileSync(store.file(ACTIVITY_LOG), 'utf8').split('\n').filter(Boolean).length;
    if (baselineCount !== N || oursCount !== N)
      throw new Error(`entry counts: baseline ${baselineCount}, ours ${oursCount}, expected ${N}`);

    const points = [1000, 5000, 10_000].filter((p) => p <= N);
    console.log('');
    console.log(
      `${'design'.padEnd(32)}${'total'.padStart(12)}${points.map((p) => `mean@${p / 1000}k`.padStart(14)).join('')}`,
    );
    for (const r of [baseline, ours]) {
      console.log(
        `${r.name.padEnd(32)}${`${(r.totalMs / 1000).toFixed(2)} s`.padStart(12)}${points.map((p) => ms(meanAt(r, p)).padStart(14)).join('')}`,
      );
    }
    console.log(
      `${'ratio baseline/ours'.padEnd(32)}${`${(baseline.totalMs / ours.totalMs).toFixed(2)}x`.padStart(12)}${points.map((p) => `${(meanAt(baseline, p) / meanAt(ours, p)).toFixed(2)}x`.padStart(14)).join('')}`,
    );
    console.log('(mean@Nk: mean time per append over appends N-1000..N)');
    console.log('');
    console.log('final file sizes:');
    for (const r of [baseline, ours])
      console.log(`  ${r.name}: ${r.files.map(([f, n]) => `${f} ${kib(n)}`).join(', ')}`);

    // `nextrust status --json` over the 10,000-entry log (CLI start included), and the CLI start alone.
    const time = (entry: string, args: string[]) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [entry, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      const took = performance.now() - t;
      if (r.status !== 0) throw new Error(`nextrust ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return { took, stdout: r.stdout };
    };
    const best = (entry: string, args: string[]) => Math.min(...[0, 1, 2].map(() => time(entry, args).took));
    const out = time(CLI, ['--status-dir', oursDir, 'status', '--json']).stdout;
    const parsed = JSON.parse(out) as { activities: unknown[]; warnings: unknown[] };
    if (parsed.activities.length !== N || parsed.warnings.length)
      throw new Error(`status --json: ${parsed.activities.length} activities, ${parsed.warnings.length} warnings`);
    console.log('');
    const entries: [string, string][] = [[`bin/nextrust.js (${binMode()})`, CLI]];
    const stamp = path.join(ROOT, 'tools/nx-plugin/dist/.build-stamp');
    if (fs.existsSync(DIST_MAIN) && fs.existsSync(stamp))
      entries.push([`dist/src/cli/main.js directly (build of ${fs.statSync(stamp).mtime.toISOString()})`, DIST_MAIN]);
    for (const [label, entry] of entries) {
      console.log(`${label}:`);
      console.log(
        `  status --json over ${N} entries (${kib(Buffer.byteLength(out))} printed): best of 3 ${ms(best(entry, ['--status-dir', oursDir, 'status', '--json']))}`,
      );
      console.log(
        `  status --json --limit 25:            best of 3 ${ms(best(entry, ['--status-dir', oursDir, 'status', '--json', '--limit', '25']))}`,
      );
      console.log(`  --version (CLI start alone):         best of 3 ${ms(best(entry, ['--version']))}`);
    }
  } finally {
    fs.rmSync(baselineDir, { recursive: true, force: true });
    fs.rmSync(oursDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
