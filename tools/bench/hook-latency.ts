/**
 * Hook latency: what one Claude Code hook call costs, ours
 * (`nextrust hook <event>`, .claude/settings.json) against the seed's bash +
 * jq dispatcher (tools/bench/seed-dispatcher.sh, 001 "Smart Dispatcher
 * Pattern").
 *
 * Each call is made as Claude Code makes it: `sh -c '<command>'` with the exact
 * command string of .claude/settings.json (the seed's own settings call
 * `./hooks/dispatcher.sh pre`; here `"$CLAUDE_PROJECT_DIR"/tools/bench/
 * seed-dispatcher.sh pre`), the JSON payload on stdin, cwd = the repository
 * root, CLAUDE_PROJECT_DIR set. Wall time from spawn to exit, including sh.
 *
 * Scenarios (N runs each after 3 warm-ups, interleaved round-robin so that
 * machine noise hits all alike): ours pre with a harmless command, ours pre
 * with a blocked command, ours post after a successful command (all served by
 * the hook server, which the first call of the pass starts, as in a session);
 * ours pre and post with the server off (NEXTRUST_HOOK_SERVER=0: a node
 * process per call, as before the server); the seed's pre and post with the
 * same payloads (the seed has no guard: the blocked command passes it); and
 * `node -e 0` as the floor of any Node hook.
 *
 * Every run has its own session_id and tool_use_id: the seed skips every call
 * after the first one of a session (its idempotency file holds the last
 * session), which would measure only `cat` + jq + an early exit.
 *
 * Side effects: `npm run build` first (so that the bin runs the compiled
 * dist/ and the native hook client exists); a hook server in a scratch socket
 * directory for the pass (stopped after it); our post appends command_completed activities, to a scratch status
 * dir (NEXTRUST_STATUS_DIR) rather than the repository's; both dispatchers log
 * to .claude/hook-logs (ours appends to the day's log; the seed's per-second
 * log files and its .claude/sessions file are removed afterwards when this run
 * created them).
 *
 * When some runs of ours found dist/ stale (someone edited the sources
 * meanwhile), a second pass measures the same in a frozen copy of the files a
 * hook call uses (BENCH_FROZEN=1 forces it).
 *
 * Run: node -r @swc-node/register tools/bench/hook-latency.ts [N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const N = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;
const ROOT = path.resolve(__dirname, '../..');
const SEED_REL = 'tools/bench/seed-dispatcher.sh';

type Settings = { hooks: Record<string, { hooks: { command: string }[] }[]> };
const settings = JSON.parse(fs.readFileSync(path.join(ROOT, '.claude/settings.json'), 'utf8')) as Settings;
const OURS = { pre: settings.hooks.PreToolUse[0].hooks[0].command, post: settings.hooks.PostToolUse[0].hooks[0].command };
const SEED_CMD = { pre: `"$CLAUDE_PROJECT_DIR"/${SEED_REL} pre`, post: `"$CLAUDE_PROJECT_DIR"/${SEED_REL} post` };

/** The bin's own rule (bin/nextrust.js): dist/ when .build-stamp is newer than every non-spec .ts/.json under src/ (fixtures aside). */
function binRule(root: string): { compiled: boolean; why: string } {
  const plugin = path.join(root, 'tools/nx-plugin');
  let newest = { mtime: 0, file: '' };
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'fixtures') walk(p);
      else if ((e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) || e.name.endsWith('.json')) {
        const m = fs.statSync(p).mtimeMs;
        if (m > newest.mtime) newest = { mtime: m, file: p };
      }
    }
  };
  walk(path.join(plugin, 'src'));
  try {
    const stamp = fs.statSync(path.join(plugin, 'dist/.build-stamp')).mtimeMs;
    return newest.mtime <= stamp ? { compiled: true, why: 'dist/.build-stamp is newer than every source' } : { compiled: false, why: `${path.relative(root, newest.file)} is newer than dist/` };
  } catch {
    return { compiled: false, why: 'no dist/ build' };
  }
}

/** Which hook-main module the bin at `root` actually loads (asked of a real run). */
function loadedHookMain(root: string, env: NodeJS.ProcessEnv): string {
  const bin = path.join(root, 'tools/nx-plugin/bin/nextrust.js');
  const probe = `process.argv = [process.argv[0], ${JSON.stringify(bin)}, 'hook', 'pre'];
process.on('exit', () => process.stderr.write('\\nLOADED ' + Object.keys(require.cache).filter((k) => k.includes('hook-main')).join(' ')));
require(${JSON.stringify(bin)});`;
  const r = spawnSync(process.execPath, ['-e', probe], { cwd: root, env, input: payloadPre('ls', 'probe', root), encoding: 'utf8' });
  const m = /LOADED (.*)$/.exec(r.stderr);
  return m ? m[1].split(' ').map((f) => path.relative(root, f)).join(', ') || '(none)' : `(probe failed: ${r.stderr.trim().split('\n')[0]})`;
}

let seq = 0;
const common = (event: string, tag: string, cwd: string) => ({
  session_id: `bench-${process.pid}-${tag}-${++seq}`,
  transcript_path: path.join(os.homedir(), '.claude/projects/bench/transcript.jsonl'),
  cwd,
  permission_mode: 'default',
  hook_event_name: event,
});
function payloadPre(command: string, tag: string, cwd: string): string {
  return JSON.stringify({ ...common('PreToolUse', tag, cwd), tool_name: 'Bash', tool_input: { command, description: 'bench' }, tool_use_id: `toolu_bench_${seq}` });
}
function payloadPost(command: string, tag: string, cwd: string): string {
  return JSON.stringify({
    ...common('PostToolUse', tag, cwd),
    tool_name: 'Bash',
    tool_input: { command, description: 'bench' },
    tool_response: { stdout: '   Compiling hello v0.1.0\n    Finished `release` profile [optimized] target(s) in 1.02s\n', stderr: '', interrupted: false, isImage: false },
    tool_use_id: `toolu_bench_${seq}`,
  });
}

const HARMLESS = 'cargo build --release';
const BLOCKED = 'rm -rf /';

interface Scenario {
  name: string;
  /** argv of the child: sh -c <command>, or node -e 0. */
  argv: string[];
  payload: (cwd: string) => string;
  expectExit: number;
  /** Extra environment of this scenario. */
  env?: NodeJS.ProcessEnv;
  times: number[];
  /** Ours only: whether the bin's compiled path was current for each timed run. */
  compiled?: boolean[];
}

type Stats = { median: number; p90: number; mean: number };

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, p90: q(0.9), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

function scenarios(): Scenario[] {
  const sh = (name: string, command: string, payload: (cwd: string) => string, expectExit: number, env?: NodeJS.ProcessEnv): Scenario => ({
    name,
    argv: ['sh', '-c', command],
    payload,
    expectExit,
    env,
    times: [],
    ...(name.startsWith('ours') ? { compiled: [] } : {}),
  });
  return [
    { name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'], payload: () => '', expectExit: 0, times: [] },
    sh('ours pre, harmless', OURS.pre, (cwd) => payloadPre(HARMLESS, 'ours', cwd), 0),
    sh('ours pre, blocked', OURS.pre, (cwd) => payloadPre(BLOCKED, 'ours', cwd), 2),
    sh('ours post, success', OURS.post, (cwd) => payloadPost(HARMLESS, 'ours', cwd), 0),
    // The same command with the hook server off: every call is its own node process.
    sh('ours pre, harmless, node', OURS.pre, (cwd) => payloadPre(HARMLESS, 'ours', cwd), 0, { NEXTRUST_HOOK_SERVER: '0' }),
    sh('ours post, success, node', OURS.post, (cwd) => payloadPost(HARMLESS, 'ours', cwd), 0, { NEXTRUST_HOOK_SERVER: '0' }),
    sh('seed pre, harmless', SEED_CMD.pre, (cwd) => payloadPre(HARMLESS, 'seed', cwd), 0),
    sh('seed pre, "blocked"', SEED_CMD.pre, (cwd) => payloadPre(BLOCKED, 'seed', cwd), 0),
    sh('seed post, success', SEED_CMD.post, (cwd) => payloadPost(HARMLESS, 'seed', cwd), 0),
  ];
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * One pass: every scenario N times after the warm-ups, round-robin, with cwd =
 * `root` and CLAUDE_PROJECT_DIR = `root`. Prints the table and the ratios.
 * @returns the number of timed runs of ours that found dist/ stale.
 */
function pass(title: string, root: string): number {
  // A scratch status dir for our post (NEXTRUST_STATUS_DIR), with the inputs it reads.
  const statusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-hook-bench-'));
  for (const f of ['phases.json', 'known-issues.json']) fs.copyFileSync(path.join(ROOT, 'projects/ci-status', f), path.join(statusDir, f));
  // The hook server's socket in a scratch directory: the first call of ours starts one there (as in a
  // Claude Code session), stopped at the end of the pass.
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxhb-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_PROJECT_DIR: root, NEXTRUST_STATUS_DIR: statusDir, NEXTRUST_HOOK_SOCKET_DIR: socketDir };
  const hookLog = path.join(root, '.claude/hook-logs', `${new Date().toISOString().slice(0, 10)}.log`);
  const hookLogStart = fs.existsSync(hookLog) ? fs.statSync(hookLog).size : 0;
  delete env.GEMINI_API_KEY;
  delete env.OPENAI_API_KEY;

  console.log(`\n=== ${title} ===`);
  const rule = binRule(root);
  console.log(`cwd = CLAUDE_PROJECT_DIR = ${root}`);
  console.log(`bin path at start: ${rule.compiled ? 'compiled dist/' : 'on-the-fly TypeScript (@swc-node/register)'} (${rule.why}); loaded: ${loadedHookMain(root, env)}`);

  const list = scenarios();
  const problems: string[] = [];
  const staleBy = new Set<string>();
  console.log(`load average before: ${load()}`);
  for (let i = 0; i < WARMUP + N; i++) {
    for (const s of list) {
      const input = s.payload(root);
      // Work on the sources can make dist/ stale mid-run (the bin then compiles on the fly): noted per run, untimed.
      const fresh = s.compiled ? binRule(root) : undefined;
      if (fresh && !fresh.compiled) staleBy.add(fresh.why);
      const start = process.hrtime.bigint();
      const r = spawnSync(s.argv[0], s.argv.slice(1), { cwd: root, env: { ...env, ...s.env }, input, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== s.expectExit && problems.length < 10) {
        problems.push(`${s.name}: exit ${r.status} (expected ${s.expectExit}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
      }
      if (i >= WARMUP) {
        s.times.push(ms);
        if (fresh) s.compiled!.push(fresh.compiled);
      }
    }
  }
  console.log(`load average after:  ${load()}\n`);

  const row = (name: string, st: Stats) => `${name.padEnd(28)} ${st.median.toFixed(1).padStart(8)} ${st.p90.toFixed(1).padStart(8)} ${st.mean.toFixed(1).padStart(8)}`;
  console.log(`${'scenario'.padEnd(28)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'mean'.padStart(8)}   (ms)`);
  const st = new Map(list.map((s) => [s.name, stats(s.times)]));
  for (const s of list) console.log(row(s.name, st.get(s.name)!));
  const ours = list.filter((s) => s.compiled);
  const staleRuns = ours.reduce((n, s) => n + s.compiled!.filter((c) => !c).length, 0);
  if (staleRuns) {
    console.log(`\n${staleRuns} of ${ours.length * N} timed runs of ours found dist/ stale (sources edited meanwhile: ${[...staleBy].slice(0, 4).join('; ')}),`);
    console.log('so the bin compiled the TypeScript on the fly for them; ours on the compiled path only:');
    for (const s of ours) {
      const t = s.times.filter((_, k) => s.compiled![k]);
      if (t.length) {
        st.set(`${s.name} [dist]`, stats(t));
        console.log(`${row(`${s.name} [dist]`, stats(t))}   (${t.length} runs)`);
      }
    }
  } else {
    console.log(`\nall ${ours.length * N} timed runs of ours took the compiled dist/ path`);
  }

  // Who ran our calls: the hook log's runner column (server, or a node process).
  const runners = new Map<string, number>();
  if (fs.existsSync(hookLog)) {
    for (const line of fs.readFileSync(hookLog).subarray(hookLogStart).toString('utf8').split('\n')) {
      const m = / exit=\d+ \d+ms (server|node)$/.exec(line);
      if (m) runners.set(m[1], (runners.get(m[1]) ?? 0) + 1);
    }
  }
  console.log(`\nour calls run by: the hook server ${runners.get('server') ?? 0}, a node process ${runners.get('node') ?? 0} (the first of the pass starts the server; the ", node" scenarios turn it off)`);
  spawnSync(process.execPath, [path.join(root, 'tools/nx-plugin/bin/nextrust.js'), 'hook-server', 'stop'], { cwd: root, env, stdio: 'ignore' });
  fs.rmSync(socketDir, { recursive: true, force: true });

  console.log('\nratio ours/seed (median, mean):');
  const pairs: [string, string][] = [
    ['ours pre, harmless', 'seed pre, harmless'],
    ['ours pre, blocked', 'seed pre, "blocked"'],
    ['ours post, success', 'seed post, success'],
    ['ours pre, harmless, node', 'seed pre, harmless'],
    ['ours post, success, node', 'seed post, success'],
  ];
  for (const [o, sd] of pairs) {
    for (const name of [o, `${o} [dist]`]) {
      const a = st.get(name);
      const b = st.get(sd)!;
      if (a) console.log(`  ${name.padEnd(29)} / ${sd.padEnd(22)} ${(a.median / b.median).toFixed(2)}x  ${(a.mean / b.mean).toFixed(2)}x`);
    }
  }
  const floor = st.get('node -e 0 (floor)')!.median;
  const above = (n: string) => {
    const x = st.get(`${n} [dist]`) ?? st.get(n)!;
    return `${x.median - floor >= 0 ? '+' : ''}${(x.median - floor).toFixed(1)} ms`;
  };
  console.log(`\nours above the node floor (median${staleRuns ? ', compiled-path runs' : ''}): pre harmless ${above('ours pre, harmless')}, pre blocked ${above('ours pre, blocked')}, post ${above('ours post, success')}; without the server: pre ${above('ours pre, harmless, node')}, post ${above('ours post, success, node')}`);
  const goal = (n: string) => (st.get(`${n} [dist]`) ?? st.get(n)!).median;
  console.log(`goal "median under 80 ms": pre harmless ${goal('ours pre, harmless').toFixed(1)} ms, pre blocked ${goal('ours pre, blocked').toFixed(1)} ms, post ${goal('ours post, success').toFixed(1)} ms -> ${['ours pre, harmless', 'ours pre, blocked', 'ours post, success'].every((n) => goal(n) < 80) ? 'met' : 'NOT met'}`);

  const log = path.join(statusDir, 'pipeline-log.jsonl');
  const recorded = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
  console.log(`our post recorded ${recorded} command_completed activities (expected ${2 * (WARMUP + N)}: with and without the server)`);
  if (problems.length) console.log(`unexpected exit codes:\n  ${problems.join('\n  ')}`);
  else console.log('exit codes: all as expected (ours 0 / 2 / 0 / 0 / 0; the seed 0 throughout)');
  fs.rmSync(statusDir, { recursive: true, force: true });
  return staleRuns;
}

/**
 * A frozen copy of what a hook call uses (settings, bin, src, the seed
 * script, node_modules linked) with the dist/ that `npm run build` produced at
 * the start (`builtDist`, copied aside right after the build), stamped after
 * the copy; in its own git repository for the seed's `git rev-parse HEAD`.
 * Nobody edits it, so the bin takes its compiled path for the whole pass.
 */
function frozenWorkspace(builtDist: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-hook-bench-ws-'));
  try {
    const copy = (rel: string) => fs.cpSync(path.join(ROOT, rel), path.join(dir, rel), { recursive: true });
    for (const rel of ['nx.json', 'package.json', '.claude/settings.json', SEED_REL, 'projects/ci-status/phases.json', 'projects/ci-status/known-issues.json']) copy(rel);
    for (const rel of ['bin', 'src', 'package.json']) copy(path.join('tools/nx-plugin', rel));
    fs.cpSync(builtDist, path.join(dir, 'tools/nx-plugin/dist'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tools/nx-plugin/dist/.build-stamp'), '');
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', '-c', 'commit.gpgsign=false', ...a], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'frozen');
    return dir;
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function main(): void {
  console.log(`hook latency: N=${N} runs per scenario after ${WARMUP} warm-ups, round-robin; node ${process.version}, ${os.cpus().length} CPU(s), ${os.platform()} ${os.release()}`);
  console.log(`jq: ${spawnSync('jq', ['--version'], { encoding: 'utf8' }).stdout.trim() || 'MISSING'}; bash: ${spawnSync('bash', ['-c', 'echo $BASH_VERSION'], { encoding: 'utf8' }).stdout.trim()}`);
  console.log(`ours: ${OURS.pre} | ${OURS.post}\nseed: ${SEED_CMD.pre} | ${SEED_CMD.post}`);

  // Fresh dist/, so that the bin takes its compiled path.
  const t0 = Date.now();
  let builtDist: string | undefined;
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    // Kept aside at once, for the frozen pass (the repository's dist/ goes stale as soon as a source is edited).
    builtDist = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-hook-bench-dist-'));
    fs.cpSync(path.join(ROOT, 'tools/nx-plugin/dist'), builtDist, { recursive: true });
    console.log(`npm run build: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    console.log(`npm run build FAILED: ${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n  ')}`);
  }

  // The seed's side effects in the repository, removed afterwards when this run created them.
  const logDir = path.join(ROOT, '.claude/hook-logs');
  const sessionDir = path.join(ROOT, '.claude/sessions');
  const logsBefore = new Set(fs.existsSync(logDir) ? fs.readdirSync(logDir) : []);
  const sessionDirExisted = fs.existsSync(sessionDir);
  let stale: number;
  try {
    stale = pass('pass 1: the repository, as Claude Code runs the hooks', ROOT);
  } finally {
    let removed = 0;
    for (const f of fs.existsSync(logDir) ? fs.readdirSync(logDir) : []) {
      if (!logsBefore.has(f) && /^\d{8}-\d{6}-(pre|post|stop)\.log$/.test(f)) {
        fs.rmSync(path.join(logDir, f));
        removed++;
      }
    }
    if (!sessionDirExisted) fs.rmSync(sessionDir, { recursive: true, force: true });
    console.log(`cleanup: removed ${removed} seed log file(s)${sessionDirExisted ? '' : ' and .claude/sessions'} from the repository`);
  }

  if (builtDist && (stale || process.env.BENCH_FROZEN === '1')) {
    // Ours measured partly on the on-the-fly path: measure again where nobody edits the sources.
    let ws: string | undefined;
    try {
      ws = frozenWorkspace(builtDist);
      pass('pass 2: a frozen copy (same settings and bin, the dist/ built at the start; nobody editing)', ws);
    } catch (e) {
      const err = e as Error & { stdout?: Buffer; stderr?: Buffer };
      console.log(`frozen copy failed: ${err.message.split('\n')[0]} ${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(0, 5).join('\n  ')}`);
    } finally {
      if (ws) fs.rmSync(ws, { recursive: true, force: true });
    }
  }
  if (builtDist) fs.rmSync(builtDist, { recursive: true, force: true });
}

main();
