/**
 * Benchmark of known-issue matching over a large build log: grep -E against
 * the `nextrust check-known-issue` CLI and the in-process streaming matcher.
 *
 *   node -r @swc-node/register tools/bench/known-issue-match.ts [--mb 200]
 *
 * Generates a realistic build log of --mb MiB (default 200) in a temp dir:
 * cargo/rustc diagnostics, clang and LLVM CMake progress, GNU ld warnings,
 * qemu-m68k runs and test results, Nx task lines, with varying crates, paths,
 * numbers and a little UTF-8 (gcc's ‘quotes’, Nx's ✔); near the end it plants
 * a real failure (the fixture atomic-spinlock-m68k.rust.log: undefined
 * `__sync_*` references, collect2's "ld returned 1 exit status").
 *
 * Loads the real database projects/ci-status/known-issues.json (or, when it is
 * missing or invalid, a small inline list, and says so), then times, best of 3:
 *  (a) `grep -E -n -e P1 -e P2 ... LOG` with every error and context pattern of
 *      every issue (the same unique list the matcher combines), in the
 *      machine's locale (the environment is passed through unchanged);
 *  (b) the real CLI, `node tools/nx-plugin/bin/nextrust.js check-known-issue
 *      --log LOG --json --status-dir DIR` (DIR holds the database), wall time,
 *      and its peak RSS (`/usr/bin/time -f %M`, else a preloaded script that
 *      prints process.resourceUsage().maxRSS at exit);
 *  (c) scanLogFile in this process.
 * Prints MiB/s for each, the ratios CLI/grep and scan/grep (time), the peak RSS
 * of the CLI on this log and on a 20 MiB log (memory must not grow with the
 * log; each CLI run on the big log is followed by one on the small log, and
 * the bin's entry, dist/ or TypeScript compiled on the fly, is printed, since
 * it changes start-up time and RSS), and deletes the generated logs at the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { knownIssueSchema, knownIssuesFileSchema, type KnownIssue } from '../nx-plugin/src/pipeline/known-issues';
import { scanLogFile } from '../nx-plugin/src/pipeline/matcher';
import { readValidatedJson } from '../nx-plugin/src/pipeline/validated-file';
import { prng } from './prng';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'tools/nx-plugin/bin/nextrust.js');
const DB = path.join(ROOT, 'projects/ci-status/known-issues.json');
const FIXTURE = path.join(ROOT, 'tools/nx-plugin/src/pipeline/fixtures/failure-logs/atomic-spinlock-m68k.rust.log');
const MIB = 1024 * 1024;
const RUNS = 3;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!(n > 0)) throw new Error(`${name}: expected a positive number, got ${process.argv[i + 1]}`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Log generation

const CRATES = [
  'core',
  'alloc',
  'compiler_builtins',
  'nextrust-rt',
  'hello',
  'freestanding',
  'spin',
  'bitflags',
  'cfg-if',
  'libc',
  'memchr',
  'rustc-std-workspace-core',
  'heapless',
  'embedded-hal',
];
const CPUS = ['m68000', 'm68030', 'm68040', 'm68060'];
const IDENTS = ['counter', 'lock', 'state', 'buf', 'len', 'ptr', 'flags', 'idx', 'tmp', 'value', 'old', 'new_val'];
const FILES = ['lib', 'main', 'atomic', 'sync', 'fmt', 'alloc', 'panic', 'start', 'io', 'spinlock'];
const LLVM = [
  'M68kISelLowering',
  'M68kInstrInfo',
  'M68kRegisterInfo',
  'M68kAsmPrinter',
  'M68kFrameLowering',
  'M68kSubtarget',
  'M68kMCInstLower',
  'M68kExpandPseudo',
];
const TESTS = [
  'fetch_add_4',
  'compare_exchange_2',
  'swap_1',
  'lock_release',
  'spin_contention',
  'hello_world',
  'fmt_u32',
  'alloc_vec',
];

type Template = (r: () => number) => string;

function lineTemplates(): Template[] {
  const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const n = (r: () => number, max: number) => Math.floor(r() * max);
  const hex = (r: () => number, len: number) =>
    Array.from({ length: len }, () => '0123456789abcdef'[n(r, 16)]).join('');
  const ver = (r: () => number) => `${n(r, 3)}.${n(r, 30)}.${n(r, 20)}`;
  const src = (r: () => number) =>
    `/home/ci/work/nextrust/projects/rust-target/${pick(r, CRATES)}/src/${pick(r, FILES)}.rs`;
  return [
    (r) => `   Compiling ${pick(r, CRATES)} v${ver(r)} (/usr/lib/rustlib/src/rust/library/${pick(r, CRATES)})`,
    (r) => `    Checking ${pick(r, CRATES)} v${ver(r)}`,
    (r) => `warning: unused variable: \`${pick(r, IDENTS)}\``,
    (r) => `  --> ${src(r)}:${n(r, 900) + 1}:${n(r, 80) + 1}`,
    () => '   |',
    (r) =>
      `${n(r, 900) + 1} |     let ${pick(r, IDENTS)} = ${pick(r, IDENTS)}.fetch_add(${n(r, 16)}, Ordering::SeqCst);`,
    () => '   = note: `#[warn(unused_variables)]` on by default',
    (r) => `    Finished \`release\` profile [optimized] target(s) in ${n(r, 300)}.${n(r, 100)}s`,
    (r) =>
      `     Running \`rustc --crate-name ${pick(r, CRATES).replace(/-/g, '_')} --edition=2021 ${src(r)} --error-format=json --crate-type lib -C opt-level=3 -C target-cpu=M680${pick(r, ['0', '3', '4', '6'])}0 -C metadata=${hex(r, 16)}\``,
    (r) =>
      `clang-19 --target=m68k-linux-gnu -mcpu=680${pick(r, ['0', '3', '4', '6'])}0 -O2 -ffreestanding -c projects/llvm-m68k/atomics/${pick(r, FILES)}.c -o /tmp/nx-${hex(r, 8)}/${pick(r, FILES)}.o`,
    (r) =>
      `[${String(n(r, 100)).padStart(3)}%] Building CXX object lib/Target/M68k/CMakeFiles/LLVMM68kCodeGen.dir/${pick(r, LLVM)}.cpp.o`,
    (r) => `[${String(n(r, 100)).padStart(3)}%] Linking CXX static library ../../libLLVMM68kCodeGen.a`,
    (r) =>
      `projects/llvm-m68k/atomics/${pick(r, FILES)}.c:${n(r, 400) + 1}:${n(r, 60) + 1}: warning: unused parameter ‘${pick(r, IDENTS)}’ [-Wunused-parameter]`,
    (r) =>
      `m68k-linux-gnu-ld: warning: /tmp/nx-${hex(r, 8)}/${pick(r, FILES)}.o: missing .note.GNU-stack section implies executable stack`,
    () => 'm68k-linux-gnu-ld: NOTE: This behaviour is deprecated and will be removed in a future version of the linker',
    (r) =>
      `qemu-m68k -cpu ${pick(r, CPUS)} -L /usr/m68k-linux-gnu dist/rust-target/${pick(r, CPUS)}/${pick(r, ['hello', 'atomics', 'fmt', 'alloc'])}`,
    (r) =>
      `test ${pick(r, ['atomics', 'sync', 'fmt', 'alloc'])}::${pick(r, TESTS)} ... ${r() < 0.97 ? 'ok' : 'ignored'}`,
    (r) => `running ${n(r, 60) + 1} tests`,
    (r) =>
      `test result: ok. ${n(r, 60)} passed; 0 failed; ${n(r, 3)} ignored; 0 measured; 0 filtered out; finished in ${n(r, 9)}.${n(r, 100)}s`,
    (r) => `> nx run rust-target:build --configuration=${pick(r, CPUS)}`,
    (r) => ` ✔  nx run llvm-m68k:atomics:${pick(r, CPUS)} (${n(r, 9000)}ms) → dist/llvm-m68k/${pick(r, CPUS)}`,
    (r) =>
      `[rust-target:sysroot] building ${pick(r, ['core', 'alloc', 'compiler_builtins'])} for m68k-unknown-linux-gnu (${pick(r, CPUS)}), ${n(r, 200)} units left`,
    (r) =>
      `{"reason":"compiler-artifact","package_id":"path+file:///home/ci/work/nextrust/projects/rust-target/${pick(r, CRATES)}#${ver(r)}","fresh":${r() < 0.5}}`,
    (r) => `      Fresh ${pick(r, CRATES)} v${ver(r)}`,
  ];
}

/** The planted failure: a real log, else the essential lines of it. */
function failureLines(): string[] {
  if (fs.existsSync(FIXTURE)) return fs.readFileSync(FIXTURE, 'utf8').replace(/\n$/, '').split('\n');
  return [
    "m68k-linux-gnu-ld: atom.o: in function `_start':",
    "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
    'collect2: error: ld returned 1 exit status',
  ];
}

/** Writes a log of about `bytes` bytes; the failure is planted 2000 lines before the end. */
function generateLog(file: string, bytes: number, seed: number): { bytes: number; lines: number; failureAt: number } {
  const r = prng(seed);
  const templates = lineTemplates();
  const fd = fs.openSync(file, 'w');
  const failure = failureLines();
  const tailLines = 2000;
  let written = 0;
  let lines = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  const flush = () => {
    const buf = Buffer.from(batch.join('\n') + '\n');
    fs.writeSync(fd, buf);
    written += buf.length;
    batch = [];
    batchBytes = 0;
  };
  // Bulk, estimated with UTF-16 lengths (the few multibyte characters are corrected at the flushes).
  const tailBudget = tailLines * 90 + failure.join('\n').length + 4096;
  while (written + batchBytes < bytes - tailBudget) {
    const l = templates[Math.floor(r() * templates.length)](r);
    batch.push(l);
    batchBytes += l.length + 1;
    lines++;
    if (batchBytes > 4 * MIB) flush();
  }
  for (const l of failure) batch.push(l);
  const failureAt = lines + 1;
  lines += failure.length;
  for (let i = 0; i < tailLines; i++) {
    batch.push(templates[Math.floor(r() * templates.length)](r));
    lines++;
  }
  flush();
  fs.closeSync(fd);
  return { bytes: written, lines, failureAt };
}

// ---------------------------------------------------------------------------------------------------------------
// Database

/** Used when projects/ci-status/known-issues.json is missing or invalid. */
const FALLBACK: unknown[] = [
  {
    id: 'atomic-spinlock-m68k',
    title: 'No __sync_* atomics on m68k',
    phase: 'llvm-backend',
    category: 'linker',
    error_patterns: ['undefined references? to .__sync_[a-z_]+[0-9]*'],
    context_patterns: ['ld returned [0-9]+ exit status', 'error: linking with .[^ ]+. failed', ': in function .'],
    description: 'fallback',
    fix: { explanation: 'fallback' },
    confidence: 0.95,
    metadata: { first_seen: '2026-01-01' },
  },
  {
    id: 'linker-not-found',
    title: 'Linker not found',
    phase: 'rust-target',
    category: 'linker',
    error_patterns: ['linker .[^ ]+. not found', 'collect2: fatal error: cannot find [^ ]*ld'],
    context_patterns: ['linker command failed with exit code'],
    description: 'fallback',
    fix: { explanation: 'fallback' },
    confidence: 0.9,
    metadata: { first_seen: '2026-01-01' },
  },
  {
    id: 'crates-io-unreachable',
    title: 'crates.io unreachable',
    phase: 'rust-target',
    category: 'network',
    error_patterns: ['unable to update registry .crates-io.', 'Could not resolve host: [a-z.]*crates\\.io'],
    context_patterns: ['Updating crates\\.io index'],
    description: 'fallback',
    fix: { explanation: 'fallback' },
    confidence: 0.9,
    metadata: { first_seen: '2026-01-01' },
  },
];

function loadDatabase(): { issues: KnownIssue[]; source: string; text: string } {
  if (fs.existsSync(DB)) {
    try {
      const file = readValidatedJson(DB, knownIssuesFileSchema);
      return {
        issues: file.known_issues,
        source: `${path.relative(ROOT, DB)} (the real database)`,
        text: fs.readFileSync(DB, 'utf8'),
      };
    } catch (e) {
      console.log(
        `NOTE: ${path.relative(ROOT, DB)} is invalid (${(e as Error).message.split('\n')[0]}): using the inline fallback list`,
      );
    }
  } else {
    console.log(`NOTE: ${path.relative(ROOT, DB)} does not exist: using the inline fallback list`);
  }
  const issues = FALLBACK.map((i) => knownIssueSchema.parse(i));
  const text = JSON.stringify({ schema_version: '2.0', known_issues: FALLBACK }, null, 2);
  return { issues, source: 'inline fallback list (3 issues)', text };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

interface Timed<T> {
  best: number;
  runs: number[];
  last: T;
}

async function bestOf<T>(fn: () => Promise<T> | T): Promise<Timed<T>> {
  const runs: number[] = [];
  let last!: T;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    last = await fn();
    runs.push(seconds(t));
  }
  return { best: Math.min(...runs), runs, last };
}

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs the CLI on `log`; returns its exit code, parsed stdout and peak RSS (KiB). */
function runCli(
  log: string,
  statusDir: string,
  rssHook: string,
): {
  code: number | null;
  json: { match: { id: string; confidence: number; evidence: { line: number }[] } | null; lines: number };
  maxRssKiB: number;
} {
  const args = ['check-known-issue', '--log', log, '--json', '--status-dir', statusDir];
  const r = TIME
    ? spawnSync(TIME, ['-f', 'maxrss=%M', process.execPath, CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * MIB })
    : spawnSync(process.execPath, ['--require', rssHook, CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * MIB });
  const m = /maxrss=(\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS in the CLI's stderr: ${r.stderr}`);
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`CLI exit ${r.status}: stdout is not JSON: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
  return { code: r.status, json, maxRssKiB: Number(m[1]) };
}

/** Which entry bin/nextrust.js takes (its rule: dist/ when newer than every non-spec .ts/.json under src/). */
function binMode(): string {
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((acc, e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'fixtures' ? acc : Math.max(acc, newest(p));
      return (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) || e.name.endsWith('.json')
        ? Math.max(acc, fs.statSync(p).mtimeMs)
        : acc;
    }, 0);
  try {
    const stamp = fs.statSync(path.join(ROOT, 'tools/nx-plugin/dist/.build-stamp')).mtimeMs;
    return newest(path.join(ROOT, 'tools/nx-plugin/src')) <= stamp
      ? 'dist/ build'
      : 'TypeScript compiled on the fly (dist/ is stale)';
  } catch {
    return 'TypeScript compiled on the fly (no dist/)';
  }
}

const fmt = (n: number, d = 2) => n.toFixed(d);

async function main(): Promise<void> {
  const mb = arg('--mb', 200);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bench-match-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const db = loadDatabase();
    const statusDir = path.join(tmp, 'status');
    fs.mkdirSync(statusDir);
    fs.writeFileSync(path.join(statusDir, 'known-issues.json'), db.text);
    const rssHook = path.join(tmp, 'report-rss.js');
    fs.writeFileSync(
      rssHook,
      "process.on('exit', () => require('fs').writeSync(2, `maxrss=${process.resourceUsage().maxRSS}\\n`));\n",
    );
    const patterns = [...new Set(db.issues.flatMap((i) => [...i.error_patterns, ...i.context_patterns]))];

    const log = path.join(tmp, 'build.log');
    const t = process.hrtime.bigint();
    const gen = generateLog(log, Math.round(mb * MIB), 1);
    const genSecs = seconds(t);
    const small = path.join(tmp, 'build-20.log');
    const gen20 = generateLog(small, 20 * MIB, 2);
    const sizeMiB = gen.bytes / MIB;

    console.log('known-issue matching benchmark');
    console.log(
      `  machine:   ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, node ${process.version}`,
    );
    console.log(
      `  locale:    LC_ALL=${process.env.LC_ALL ?? ''} LC_CTYPE=${process.env.LC_CTYPE ?? ''} LANG=${process.env.LANG ?? ''} (grep runs in it)`,
    );
    console.log(`  grep:      ${spawnSync('grep', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`);
    console.log(
      `  database:  ${db.source}: ${db.issues.length} issues, ${patterns.length} unique patterns (error + context)`,
    );
    console.log(
      `  log:       ${fmt(sizeMiB, 1)} MiB, ${gen.lines} lines, failure planted at line ${gen.failureAt} (generated in ${fmt(genSecs, 1)} s)`,
    );
    console.log(`  small log: ${fmt(gen20.bytes / MIB, 1)} MiB, ${gen20.lines} lines (for peak RSS against log size)`);
    console.log(
      `  CLI peak RSS via ${TIME ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS in a preloaded script'}`,
    );
    console.log(`  each timing: best of ${RUNS} (all runs listed)`);
    console.log('');

    // (a) grep
    const grepArgs = ['-E', '-n', ...patterns.flatMap((p) => ['-e', p]), log];
    const grep = await bestOf(() => {
      const r = spawnSync('grep', grepArgs, { encoding: 'utf8', maxBuffer: 256 * MIB });
      if (r.status !== 0) throw new Error(`grep -E exited ${r.status}: ${r.stderr}`);
      return r.stdout.split('\n').filter(Boolean).length;
    });

    // (b) the CLI; each run on the big log is followed by one on the 20 MiB log, so that both see the same
    // bin entry (dist/ or on-the-fly TypeScript: other work in the tree can make dist/ stale mid-benchmark).
    const cliRuns: Array<ReturnType<typeof runCli> & { mode: string }> = [];
    const smallRuns: Array<ReturnType<typeof runCli> & { mode: string }> = [];
    const cli = await bestOf(() => {
      const mode = binMode();
      const r = { ...runCli(log, statusDir, rssHook), mode };
      cliRuns.push(r);
      smallRuns.push({ ...runCli(small, statusDir, rssHook), mode: binMode() });
      return r;
    });
    const startupMode = binMode();
    const startup = await bestOf(() => spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).status);

    // (c) in-process scan
    const scan = await bestOf(() => scanLogFile(log, db.issues));

    const cliMatch = cli.last.json.match;
    const rssPeak = Math.max(...cliRuns.map((r) => r.maxRssKiB)) / 1024;
    const rss20 = Math.max(...smallRuns.map((r) => r.maxRssKiB)) / 1024;
    const modes = [...new Set([...cliRuns, ...smallRuns].map((r) => r.mode))];
    const row = (name: string, secs: number, runs: number[], extra: string) =>
      console.log(
        `  ${name.padEnd(34)} ${fmt(secs, 3).padStart(8)} s  ${fmt(sizeMiB / secs, 1).padStart(8)} MiB/s   runs ${runs.map((x) => fmt(x, 3)).join(' / ')}  ${extra}`,
      );
    console.log(`results on the ${fmt(sizeMiB, 1)} MiB log:`);
    row('(a) grep -E -n (all patterns)', grep.best, grep.runs, `${grep.last} matching lines`);
    row(
      '(b) nextrust check-known-issue',
      cli.best,
      cli.runs,
      `exit ${cli.last.code}, match ${cliMatch ? `${cliMatch.id} (${cliMatch.confidence}) at line ${cliMatch.evidence[0].line}` : 'none'}, ${cli.last.json.lines} lines`,
    );
    row(
      '(c) scanLogFile in-process',
      scan.best,
      scan.runs,
      `match ${scan.last.match?.id ?? 'none'}, ${scan.last.lines} lines`,
    );
    console.log(
      `  CLI start-up alone (--version):    ${fmt(startup.best, 3)} s (${startupMode}); CLI minus start-up: ${fmt(cli.best - startup.best, 3)} s = ${fmt(sizeMiB / (cli.best - startup.best), 1)} MiB/s`,
    );
    console.log('');
    console.log(`  ratio CLI/grep:  ${fmt(cli.best / grep.best)} x the time of grep`);
    console.log(`  ratio scan/grep: ${fmt(scan.best / grep.best)} x the time of grep`);
    console.log(
      `  CLI entry (bin/nextrust.js): ${modes.join('; ')}${modes.length > 1 ? ' (changed during the runs)' : ''}`,
    );
    console.log(
      `  CLI peak RSS, ${fmt(sizeMiB, 0)} MiB log: ${[...cliRuns].map((r) => fmt(r.maxRssKiB / 1024, 1)).join(' / ')} MiB, max ${fmt(rssPeak, 1)} MiB`,
    );
    console.log(
      `  CLI peak RSS,  ${fmt(gen20.bytes / MIB, 0)} MiB log: ${[...smallRuns].map((r) => fmt(r.maxRssKiB / 1024, 1)).join(' / ')} MiB, max ${fmt(rss20, 1)} MiB (match ${smallRuns[0].json.match?.id ?? 'none'})`,
    );
    console.log(
      `  peak RSS ratio ${fmt(sizeMiB, 0)} MiB log / 20 MiB log: ${fmt(rssPeak / rss20)} (log size ratio ${fmt(gen.bytes / gen20.bytes, 1)})`,
    );
    if (scan.last.lines !== gen.lines)
      console.log(`  WARNING: the scan counted ${scan.last.lines} lines, the generator wrote ${gen.lines}`);
    if (!cliMatch || cliMatch.id !== 'atomic-spinlock-m68k')
      console.log('  WARNING: the CLI did not find the planted atomic-spinlock-m68k failure');
  } finally {
    cleanup();
    console.log(`\n(generated logs deleted: ${tmp})`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
