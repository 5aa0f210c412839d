// Covers the `nextrust` CLI through runCli with captured output (the command list and help of every command, usage
// errors and their exit codes, check-known-issue in --json, readable and text-argument forms, status/phase commands,
// invalid and last-good known-issues.json, rotation of the status log and of saved logs, backoff,
// usage-report/github-comment without services), plus end-to-end runs of the real bin (the hook command included).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { CPU_NAMES } from '../toolchain/cpu';
import type { CliIo } from './context';
import { EXIT, EXIT_CODE_MEANINGS } from './errors';
import { createProgram, runCli } from './program';

const repoRoot = path.resolve(__dirname, '../../../..');
const bin = path.join(repoRoot, 'tools/nx-plugin/bin/nextrust.js');

/** A small known-issues database (the real one is maintained elsewhere). */
const KNOWN_ISSUES = {
  schema_version: '2.0',
  known_issues: [
    {
      id: 'atomic-spinlock-m68k',
      title: 'No atomic libcalls on the 68000',
      phase: 'llvm-backend',
      category: 'linker',
      cpu_variants: ['m68000'],
      error_patterns: ['undefined references? to .__sync_[a-z_]+[0-9]*'],
      context_patterns: ['ld returned [0-9]+ exit status'],
      description: 'The 68000 has no CAS: atomics become __sync_* libcalls that nothing defines.',
      fix: {
        explanation: 'Link the spinlock atomics library.',
        command: 'npx nx run llvm-m68k:atomics --configuration=m68000',
      },
      confidence: 0.9,
      metadata: { first_seen: '2026-01-01', references: ['projects/llvm-m68k/atomics'] },
    },
    {
      id: 'crates-io-unreachable',
      title: 'crates.io unreachable during build-std',
      phase: 'rust-target',
      category: 'network',
      error_patterns: ['Could not resolve host: index\\.crates\\.io'],
      context_patterns: [],
      description: 'build-std needs the registry unless the sources are vendored.',
      fix: { explanation: 'Build offline with the vendored crates.' },
      confidence: 0.8,
      metadata: { first_seen: '2026-01-02' },
    },
  ],
};

const MATCHING_LOG = [
  '   Compiling nextrust-rt v0.1.0 (/work/projects/rust-target/rt)',
  "m68k-linux-gnu-ld: atom.o: in function `_start':",
  "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
  'warning: unused variable: `x`',
  'collect2: error: ld returned 1 exit status',
  '',
].join('\n');
const UNKNOWN_LOG = [
  '   Compiling app v0.1.0',
  'error[E0308]: mismatched types',
  'error: could not compile `app`',
  '',
].join('\n');

let dir: string; // the status dir of one test
let work: string; // logs of one test

function writeKnownIssues(value: unknown): string {
  const file = path.join(dir, 'known-issues.json');
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function log(name: string, text: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return file;
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NEXTRUST_STATUS_DIR: dir };
  delete e.NEXTRUST_DEBUG;
  // Never reach an AI service or GitHub from these tests (phase review, design escalation, comments).
  for (const k of Object.keys(e))
    if (/_API_KEY$|_BASE_URL$|^GITHUB_TOKEN$|^GH_TOKEN$|^GITHUB_API_URL$/.test(k)) delete e[k];
  return e;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in `cwd` (its workspace: the nearest folder with nx.json) with the test's status dir. */
async function runAt(cwd: string, ...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd, env: env() };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** Runs the CLI in this repository with the test's status dir. */
const run = (...argv: string[]): Promise<Run> => runAt(repoRoot, ...argv);

/** No stack trace lines (`    at fn (file:line)`) in what the user sees. */
function expectNoStack(r: Run): void {
  expect(r.err + r.out).not.toMatch(/^\s+at .+:\d+/m);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-cli-status-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-cli-logs-'));
  fs.copyFileSync(path.join(repoRoot, 'projects/ci-status/phases.json'), path.join(dir, 'phases.json'));
  writeKnownIssues(KNOWN_ISSUES);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The commands of `nextrust`, in the order of `nextrust --help`, with their descriptions. */
const COMMANDS: [string, string][] = [
  ['status', 'Print the pipeline status: current phase, phase history and activities.'],
  ['get-phase', 'Print the current phase id (exit 1 when none is set).'],
  ['set-phase', 'Make a phase (id, number or phase-N) the current one; the previous one goes to the history.'],
  ['update-status', "Change the current phase's status (in_progress, completed, failed, blocked) and record it."],
  ['append-status', 'Append one activity to the status log (locked; safe from parallel jobs).'],
  ['check-known-issue', 'Match a failure log (streamed; any size) or an error text against the known issues.'],
  ['validate', 'Validate known-issues.json and phases.json (exit 2 naming the file and field when invalid).'],
  [
    'known-issues-schema',
    'Print the JSON Schema of known-issues.json (generated from the zod schema), or --write it next to the file.',
  ],
  [
    'confirm',
    'Say that the known-issue diagnosis of a recorded failure was right (its id is printed under the diagnosis).',
  ],
  [
    'reject',
    'Say that the known-issue diagnosis of a recorded failure was wrong; an issue wrong too often is shown as "possible".',
  ],
  ['precision', 'How often each known issue was right, from confirm/reject verdicts.'],
  [
    'rotate-status',
    'Archive activities older than --days and beyond --max-bytes from the active status log into archive/ (one file per month).',
  ],
  ['rotate-logs', 'Delete saved failure logs and Claude Code hook logs older than --days.'],
  ['backoff', "Show a commit's failure count and whether it is in backoff (exit 1 when it is)."],
  ['clear-backoff', "Clear a commit's failure count (default: the current commit; --all: every commit)."],
  ['usage-report', 'AI token usage and cost by day, model and phase (from metrics/ai-usage.jsonl).'],
  [
    'request-design',
    'Escalate a failure to the design model (o3 by default) and record its decision; cached by the normalised error.',
  ],
  [
    'promote-design',
    "Add a cached design decision's known-issue proposal to known-issues.json (validated; its patterns must match the failure).",
  ],
  [
    'request-review',
    'Ask the review model (Gemini by default) to review the changes against a base, with the guidelines in GEMINI.md.',
  ],
  [
    'slash',
    'Run a PR slash command from an issue_comment webhook payload (exit 0 accepted or not a command, 1 refused).',
  ],
  ['github-comment', 'Post or update the pipeline status comment on a pull request (GITHUB_TOKEN; GITHUB_API_URL).'],
  [
    'github-check',
    "Create a completed check run whose conclusion is the job's real outcome (success, failure, cancelled, skipped; else neutral).",
  ],
  ['record-artifacts', 'Record the sha256 of build artifacts in the status log (artifact_hash activities).'],
  [
    'metrics',
    'Pipeline metrics: per-target durations, cache hits, failure rates by phase and CPU, AI tokens and cost; export as Prometheus text file and StatsD.',
  ],
  [
    'report',
    'Write the static HTML pipeline report: phase timeline, task durations, cache hit rate, failures, AI cost.',
  ],
  [
    'why',
    'Why a task ran instead of coming from the cache: the inputs whose hash changed since its previous recorded run.',
  ],
  [
    'target-help',
    "Help of a nextrust target: its executor's options, CPU configurations and examples (what `nx run <project>:<target> --help` shows).",
  ],
  ['tips', 'Helpful tips for working with the pipeline.'],
  [
    'hook-server',
    'The hook server behind .claude/settings.json (one per checkout): hook calls in a few ms instead of a Node start-up each.',
  ],
  ['hook', 'Claude Code hook dispatcher: reads the hook payload on stdin (wired in .claude/settings.json).'],
  ['help', 'display help for command'],
];

/**
 * The entries of a help section (`Commands:`, `Options:`, `Exit codes:`) as [first word, rest] pairs, long
 * lines re-joined: an entry starts on a line indented by two spaces, its continuation lines are indented further.
 */
function helpSection(help: string, title: string): [string, string][] {
  const lines = help.split('\n');
  const entries: string[] = [];
  for (const line of lines.slice(lines.indexOf(title) + 1)) {
    if (!line.startsWith('  ')) break;
    if (/^ {2}\S/.test(line)) entries.push(line.trim());
    else entries[entries.length - 1] += ' ' + line.trim();
  }
  return entries.map((e) => {
    const [, first, rest] = /^(\S+)(?:\s+(.*))?$/.exec(e)!;
    return [first, rest ?? ''];
  });
}

describe('help', () => {
  const commands = createProgram({ out: () => undefined, err: () => undefined, cwd: repoRoot, env: {} }).commands.map(
    (c) => ({
      name: c.name(),
      options: c.options.map((o) => o.long!),
      args: c.registeredArguments.map((a) => a.name()),
    }),
  );

  it('nextrust --help lists every command with its description, the global options and the exit codes', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    // Command names are the first word of each entry; the description follows the usage terms ([options] <arg>).
    const listed = helpSection(r.out, 'Commands:').map(([name, rest]) => [
      name,
      rest.replace(/\s+/g, ' ').replace(/^(\[options\] |\[[a-z:.-]+\] |<[a-z:.-]+> )*/, ''),
    ]);
    expect(listed).toEqual(COMMANDS);
    expect(helpSection(r.out, 'Options:').map(([o]) => o)).toEqual(['--status-dir', '-V,', '-h,']);
    const codes = helpSection(r.out, 'Exit codes:');
    expect(codes.slice(0, 4)).toEqual(Object.values(EXIT).map((c) => [String(c), EXIT_CODE_MEANINGS[c]]));
    expect(codes.map(([c]) => c)).toEqual(['0', '1', '2', '3', 'slash:', 'hook:']);
  });

  it.each(commands)('$name --help exits 0 and lists its options and arguments', async ({ name, options, args }) => {
    const r = await run(name, '--help');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(`Usage: nextrust ${name}`);
    for (const o of [...options, '--help']) expect(r.out).toContain(o);
    for (const a of args) expect(r.out).toContain(a);
  });

  it('--version prints the version of the plugin package (tools/nx-plugin/package.json)', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tools/nx-plugin/package.json'), 'utf8'));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const r = await run('--version');
    expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });

  it.each(['check-known-issue', 'request-design'])(
    '%s --cpu takes exactly the CPU variants of toolchain/cpu.ts',
    async (cmd) => {
      const r = await run(cmd, '--help');
      const cpu = helpSection(r.out, 'Options:').find(([o]) => o === '--cpu')!;
      expect(cpu[1]).toMatch(new RegExp(`\\(choices: ${CPU_NAMES.map((c) => `"${c}"`).join(', ')}\\)$`));
      for (const c of CPU_NAMES) expect((await run(cmd, '--cpu', c, '--help')).code).toBe(0);
      const bad = await run('check-known-issue', '--cpu', 'm68020', 'text');
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`Allowed choices are ${CPU_NAMES.join(', ')}.`);
    },
  );
});

describe('usage errors: exit 2, a message, no stack trace', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['status', '--bogus'], /unknown option '--bogus'/],
    [['status', '--limit', 'x'], /--limit must be a whole number >= 1/],
    [['status', '--limit', '0'], /argument '0' is invalid. --limit must be a whole number >= 1/],
    [['usage-report', '--days', '0'], /argument '0' is invalid. --days must be a whole number >= 1/],
    [['metrics', '--days', '1.5'], /argument '1.5' is invalid. --days must be a whole number >= 1/],
    [['rotate-logs', '--days', '-1'], /argument '-1' is invalid. --days must be a whole number >= 0/],
    [['rotate-status', '--max-bytes', '1e3'], /argument '1e3' is invalid. --max-bytes must be a whole number >= 0/],
    [['check-known-issue', '--cpu', 'm68020', 'text'], /m68020.*invalid|invalid.*m68020/i],
    [['check-known-issue', '--min-confidence', '2', 'text'], /expected a number from 0 to 1/],
    [['set-phase'], /missing required argument 'phase'/],
    [['check-known-issue'], /give --log FILE or the error text/],
    [['update-status', '--status', 'done'], /done.*invalid|invalid.*done/i],
    [['status', '--status-dir', '/etc/hostname'], /^nextrust: --status-dir \/etc\/hostname: not a directory\n$/],
    [
      ['check-known-issue', '--log', '/proc/self/mem'],
      /^nextrust: cannot read log \/proc\/self\/mem: (grep|wc): .*\n$/,
    ],
    [
      ['check-known-issue', '--log', '/dev/null/x'],
      /^nextrust: check-known-issue: --log \/dev\/null\/x: no such file\n$/,
    ],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
    expectNoStack(r);
  });

  it('--log and a text together are refused', async () => {
    const r = await run('check-known-issue', '--log', log('a.log', MATCHING_LOG), 'some', 'text');
    expect(r.code).toBe(2);
    expect(r.err).toContain('not both');
  });
});

describe('check-known-issue', () => {
  it('--log FILE --json prints the match with id, confidence and evidence lines (exit 0)', async () => {
    const file = log('build.log', MATCHING_LOG);
    const r = await run('check-known-issue', '--log', file, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.match).toMatchObject({
      id: 'atomic-spinlock-m68k',
      confidence: 0.9,
      errorLines: 1,
      evidence: [
        { line: 3, text: "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'", kind: 'error' },
        { line: 5, text: 'collect2: error: ld returned 1 exit status', kind: 'context' },
      ],
      fix: { command: 'npx nx run llvm-m68k:atomics --configuration=m68000' },
    });
    expect(j.lines).toBe(5);
    expect(j.bytes).toBe(Buffer.byteLength(MATCHING_LOG));
  });

  it('--phase and --cpu lower the confidence; --min-confidence turns it into no match (exit 1)', async () => {
    const file = log('build.log', MATCHING_LOG);
    const cpu = await run('check-known-issue', '--log', file, '--json', '--cpu', 'm68040');
    expect(cpu.code).toBe(0);
    expect(JSON.parse(cpu.out).match).toMatchObject({ confidence: 0.63, context: { cpu: 'm68040' } });
    const both = await run(
      'check-known-issue',
      '--log',
      file,
      '--json',
      '--cpu',
      'm68040',
      '--phase',
      'rust-target',
      '--min-confidence',
      '0.6',
    );
    expect(both.code).toBe(1);
    expect(JSON.parse(both.out).match).toBeNull();
  });

  it('no known issue: {"match": null}, exit 1', async () => {
    const r = await run('check-known-issue', '--log', log('u.log', UNKNOWN_LOG), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ match: null, lines: 3, bytes: Buffer.byteLength(UNKNOWN_LOG) });
  });

  it('readable output names the issue, the evidence as file:line, the fix and its command', async () => {
    const r = await run('check-known-issue', '--log', log('build.log', MATCHING_LOG));
    expect(r.code).toBe(0);
    expect(r.out).toContain('known issue atomic-spinlock-m68k (confidence 0.90): No atomic libcalls on the 68000');
    expect(r.out).toContain("build.log:3: atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'");
    expect(r.out).toContain('build.log:5: collect2: error: ld returned 1 exit status  (context)');
    expect(r.out).toContain('fix: Link the spinlock atomics library.');
    expect(r.out).toContain('run: npx nx run llvm-m68k:atomics --configuration=m68000');
    expect(r.out).toMatch(/\n {2}scanned: the whole log, \d+ lines, \d+ B\n/);
    expect(r.out).not.toMatch(/^\s*[{[]/);
    const none = await run('check-known-issue', '--log', log('u.log', UNKNOWN_LOG));
    expect(none.code).toBe(1);
    expect(none.out).toContain('no known issue matches this failure (3 lines scanned, the whole log: ');
  });

  it('takes the error text as arguments', async () => {
    const words = [
      'curl:',
      '[6]',
      "Couldn't",
      'resolve',
      'host',
      'name',
      '(Could',
      'not',
      'resolve',
      'host:',
      'index.crates.io)',
    ];
    const r = await run('check-known-issue', '--json', ...words);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).match).toMatchObject({
      id: 'crates-io-unreachable',
      confidence: 0.8,
      evidence: [{ line: 1, text: words.join(' ') }],
    });
    const none = await run('check-known-issue', 'all', 'good');
    expect(none.code).toBe(1);
    expect(none.out).toContain('no known issue matches');
  });

  it('a missing log file: exit 2 naming it', async () => {
    const missing = path.join(work, 'nope.log');
    const r = await run('check-known-issue', '--log', missing, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain(missing);
    expect(r.out).toBe('');
    expectNoStack(r);
  });

  it('--record also counts the failure and records it in the status log', async () => {
    const r = await run(
      'check-known-issue',
      '--record',
      '--task',
      'rust-target:build',
      '--log',
      log('b.log', MATCHING_LOG),
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.match.id).toBe('atomic-spinlock-m68k');
    expect(j.backoff).toMatchObject({ failures: 1, inBackoff: false });
    const s = JSON.parse((await run('status', '--json')).out);
    expect(s.activities).toEqual([
      expect.objectContaining({
        type: 'target_failed',
        details: expect.objectContaining({
          task: 'rust-target:build',
          known_issue: 'atomic-spinlock-m68k',
          evidence_line: 3,
        }),
      }),
    ]);
  });
});

describe('an invalid known-issues.json', () => {
  const invalid = {
    ...KNOWN_ISSUES,
    known_issues: [{ ...KNOWN_ISSUES.known_issues[0], confidence: 2 }, KNOWN_ISSUES.known_issues[1]],
  };

  it('without a last good copy: exit 2 naming the file and the field', async () => {
    const file = writeKnownIssues(invalid);
    const r = await run('check-known-issue', '--log', log('build.log', MATCHING_LOG), '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain(file);
    expect(r.err).toContain('known_issues[0].confidence');
    expect(r.out).toBe('');
    expectNoStack(r);
    const v = await run('validate');
    expect(v.code).toBe(2);
    expect(v.err).toContain(`${file}: field 'known_issues[0].confidence'`);
  });

  it('not JSON at all: exit 2 naming the file', async () => {
    const file = writeKnownIssues('{ "schema_version": "2.0", ');
    const r = await run('check-known-issue', 'undefined reference to `__sync_synchronize');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: not valid JSON`);
    expectNoStack(r);
  });

  it('with a last good copy (from an earlier successful run): a warning on stderr, still a result', async () => {
    const file = log('build.log', MATCHING_LOG);
    const first = await run('check-known-issue', '--log', file, '--json');
    expect(first.code).toBe(0);
    const kiFile = writeKnownIssues(invalid);
    const r = await run('check-known-issue', '--log', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).match).toMatchObject({ id: 'atomic-spinlock-m68k', confidence: 0.9 });
    expect(r.err).toMatch(/warning/);
    expect(r.err).toContain(kiFile);
    expect(r.err).toContain('known_issues[0].confidence');
    expect(r.err).toContain('last good copy');
    // validate still reports the file itself.
    expect((await run('validate')).code).toBe(2);
  });

  it('a missing known-issues.json with no last good copy: exit 2 naming it', async () => {
    fs.rmSync(path.join(dir, 'known-issues.json'));
    const r = await run('check-known-issue', 'some', 'text');
    expect(r.code).toBe(2);
    expect(r.err).toContain(path.join(dir, 'known-issues.json'));
  });
});

describe('status, phases and activities', () => {
  it('status --json on an empty status dir: {status_dir, schema_version, current_phase, phase_history, activities, warnings}', async () => {
    const r = await run('status', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toEqual({
      status_dir: dir,
      schema_version: 1,
      current_phase: null,
      phase_history: [],
      activities: [],
      warnings: [],
    });
  });

  it('append-status records an activity; status --json shows it; a key makes it idempotent', async () => {
    const a = await run('append-status', 'build_started', '{"message": "LLVM build started", "n": 1}');
    expect(a).toEqual({ code: 0, out: 'recorded build_started\n', err: '' });
    expect((await run('append-status', 'build_done', '{"message": "ok"}', '--key', 'run-1-build')).code).toBe(0);
    const again = await run('append-status', 'build_done', '{"message": "ok"}', '--key', 'run-1-build', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).recorded).toBe(false);
    const j = JSON.parse((await run('status', '--json')).out);
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining(['current_phase', 'phase_history', 'activities', 'warnings']),
    );
    expect(j.activities).toHaveLength(2);
    expect(j.activities[0]).toMatchObject({ type: 'build_started', details: { message: 'LLVM build started', n: 1 } });
    expect(Date.parse(j.activities[0].timestamp)).not.toBeNaN();
    expect(
      JSON.parse((await run('status', '--json', '--limit', '1')).out).activities.map((x: { type: string }) => x.type),
    ).toEqual(['build_done']);
    const readable = await run('status');
    expect(readable.out).toContain('current phase: none set');
    expect(readable.out).toContain('build_started: LLVM build started');
  });

  it.each([
    [['append-status', 'build_started', '{"message": '], /not valid JSON/],
    [['append-status', 'build_started', '[1, 2]'], /expected a JSON object/],
    [['append-status', 'Build-Started', '{}'], /activity type 'Build-Started'/],
    [['append-status', 'build_started', '{}', '--key', 'has space'], /--key/],
  ])('append-status %j: exit 2', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expectNoStack(r);
    expect(fs.existsSync(path.join(dir, 'pipeline-log.jsonl'))).toBe(false);
  });

  it('get-phase with no phase set: exit 1', async () => {
    const r = await run('get-phase');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('no current phase');
    const j = await run('get-phase', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toEqual({ current_phase: null });
    const u = await run('update-status', '--status', 'completed');
    expect(u.code).toBe(1);
    expect(u.err).toContain('no current phase');
  });

  it('set-phase by number, by phase-N and by id; the previous phase goes to the history', async () => {
    const byNumber = await run('set-phase', '3');
    expect(byNumber).toEqual({
      code: 0,
      out: 'current phase: rust-target (Rust Target Specification), in_progress\n',
      err: '',
    });
    expect(await run('get-phase')).toEqual({ code: 0, out: 'rust-target\n', err: '' });
    const byPhaseN = await run('set-phase', 'phase-2', '--status', 'completed', '--json');
    expect(byPhaseN.code).toBe(0);
    expect(JSON.parse(byPhaseN.out).current_phase).toMatchObject({ id: 'llvm-backend', status: 'completed' });
    const byId = await run('set-phase', 'emulation-testing', '--message', 'qemu ready');
    expect(byId.code).toBe(0);
    const s = JSON.parse((await run('status', '--json')).out);
    expect(s.current_phase).toMatchObject({
      id: 'emulation-testing',
      name: 'Emulation Testing',
      status: 'in_progress',
      message: 'qemu ready',
    });
    expect(s.phase_history.map((p: { id: string }) => p.id)).toEqual(['rust-target', 'llvm-backend']);
    expect(s.activities.map((a: { type: string }) => a.type)).toEqual([
      'phase_started',
      'phase_started',
      'phase_started',
    ]);
    const upd = await run('update-status', '--status', 'blocked');
    expect(upd).toEqual({ code: 0, out: 'phase emulation-testing: blocked\n', err: '' });
    expect(JSON.parse((await run('get-phase', '--json')).out).current_phase).toMatchObject({
      id: 'emulation-testing',
      status: 'blocked',
    });
  });

  it('set-phase when the Markdown view is a directory: exit 2 in one line naming it, and the phase is unchanged', async () => {
    expect((await run('set-phase', '2')).code).toBe(0);
    fs.rmSync(path.join(dir, 'pipeline-log.md'));
    fs.mkdirSync(path.join(dir, 'pipeline-log.md'));
    const r = await run('set-phase', '3');
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `nextrust: status file ${path.join(dir, 'pipeline-log.md')}: a directory, expected a regular file; nothing was changed\n`,
    });
    expect(await run('get-phase')).toEqual({ code: 0, out: 'llvm-backend\n', err: '' });
  });

  it('set-phase of an unknown phase: exit 2 listing the valid ones', async () => {
    for (const ref of ['phase-9', 'llvm', '0']) {
      const r = await run('set-phase', ref);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`unknown phase '${ref}'`);
      for (const p of [
        'environment-setup (1)',
        'llvm-backend (2)',
        'rust-target (3)',
        'emulation-testing (4)',
        'integration (5)',
      ])
        expect(r.err).toContain(p);
      expectNoStack(r);
    }
    expect((await run('get-phase')).code).toBe(1);
  });

  it('set-phase without a phases.json: exit 2 naming the file', async () => {
    fs.rmSync(path.join(dir, 'phases.json'));
    const r = await run('set-phase', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain(path.join(dir, 'phases.json'));
  });
});

describe('rotate-status', () => {
  it('--dry-run --json reports what would move and changes nothing', async () => {
    for (const n of [1, 2, 3])
      expect((await run('append-status', 'step_done', JSON.stringify({ message: `step ${n}` }))).code).toBe(0);
    const logFile = path.join(dir, 'pipeline-log.jsonl');
    const before = fs.readFileSync(logFile, 'utf8');
    const keep = await run('rotate-status', '--dry-run', '--json');
    expect(keep.code).toBe(0);
    expect(JSON.parse(keep.out)).toEqual({ archived: 0, kept: 3, quarantined: 0, archiveFiles: [], dryRun: true });
    const bySize = await run('rotate-status', '--dry-run', '--json', '--max-bytes', '0');
    expect(bySize.code).toBe(0);
    const month = (JSON.parse((await run('status', '--json')).out).activities[0].timestamp as string).slice(0, 7);
    expect(JSON.parse(bySize.out)).toEqual({
      archived: 3,
      kept: 0,
      quarantined: 0,
      archiveFiles: [`archive/pipeline-log-${month}.jsonl`],
      dryRun: true,
    });
    expect(fs.readFileSync(logFile, 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(dir, 'archive'))).toBe(false);
    const readable = await run('rotate-status', '--dry-run', '--max-bytes', '0');
    expect(readable.out).toMatch(
      /^would archive 3 activities into archive\/pipeline-log-\d{4}-\d{2}\.jsonl; 0 kept\n$/,
    );
  });
});

describe('rotate-logs', () => {
  it('deletes the saved failure logs and hook logs older than --days (--dry-run first lists them), keeps the newer ones', async () => {
    // A scratch workspace (nx.json): the command also cleans <workspace>/.claude/hook-logs.
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-cli-ws-'));
    try {
      fs.writeFileSync(path.join(ws, 'nx.json'), '{}');
      const failureLogs = path.join(dir, 'failure-logs');
      const hookLogs = path.join(ws, '.claude/hook-logs');
      const day = 86_400_000;
      for (const [folder, name, age] of [
        [failureLogs, 'old.log', 20 * day],
        [failureLogs, 'recent.log', 2 * day],
        [hookLogs, '2026-01-01.log', 8 * day],
      ] as const) {
        fs.mkdirSync(folder, { recursive: true });
        fs.writeFileSync(path.join(folder, name), name);
        const t = new Date(Date.now() - age);
        fs.utimesSync(path.join(folder, name), t, t);
      }
      const expected = [path.relative(ws, path.join(failureLogs, 'old.log')), '.claude/hook-logs/2026-01-01.log'];
      const dry = await runAt(ws, 'rotate-logs', '--days', '7', '--dry-run', '--json');
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.out)).toEqual({ removed: expected, dryRun: true });
      expect(fs.readdirSync(failureLogs).sort()).toEqual(['old.log', 'recent.log']);
      expect(fs.readdirSync(hookLogs)).toEqual(['2026-01-01.log']);
      expect(await runAt(ws, 'rotate-logs', '--days', '7')).toEqual({
        code: 0,
        out: 'deleted 2 log files older than 7 days\n',
        err: '',
      });
      expect(fs.readdirSync(failureLogs)).toEqual(['recent.log']);
      expect(fs.readdirSync(hookLogs)).toEqual([]);
      expect(JSON.parse((await runAt(ws, 'rotate-logs', '--days', '0', '--json', '--dry-run')).out).removed).toEqual([
        path.relative(ws, path.join(failureLogs, 'recent.log')),
      ]);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('the status lock', () => {
  it('held by another writer past NEXTRUST_LOCK_TIMEOUT_MS: exit 3 naming the directory, nothing recorded', async () => {
    const release = await lockfile.lock(dir, { lockfilePath: path.join(dir, '.status.lock'), realpath: false });
    try {
      let out = '';
      let err = '';
      const io: CliIo = {
        out: (t) => (out += t),
        err: (t) => (err += t),
        cwd: repoRoot,
        env: { ...env(), NEXTRUST_LOCK_TIMEOUT_MS: '300' },
      };
      const code = await runCli(['append-status', 'build_started', '{}'], io);
      expect({ code, out }).toEqual({ code: EXIT.lockTimeout, out: '' });
      expect(err).toMatch(new RegExp(`^nextrust: could not lock the status directory ${dir} within 300 ms: .*\\n$`));
    } finally {
      await release();
    }
    expect(fs.existsSync(path.join(dir, 'pipeline-log.jsonl'))).toBe(false);
  });
});

describe('backoff', () => {
  it('backoff --commit shows the count; three recorded failures put the commit in backoff (exit 1); clear-backoff ends it', async () => {
    const fresh = await run('backoff', '--commit', 'abcdef1', '--json');
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.out)).toMatchObject({ commit: 'abcdef1', failures: 0, inBackoff: false });

    const file = log('build.log', MATCHING_LOG);
    for (const task of ['t1', 't2', 't3']) {
      expect((await run('check-known-issue', '--record', '--task', task, '--log', file, '--json')).code).toBe(0);
    }
    // The current commit (GITHUB_SHA, or the workspace's HEAD) is what --record counted.
    const cur = await run('backoff', '--json');
    expect(cur.code).toBe(1);
    const st = JSON.parse(cur.out);
    expect(st).toMatchObject({ failures: 3, inBackoff: true });
    expect(st.message).toContain('clear-backoff');
    const byCommit = await run('backoff', '--commit', st.commit);
    expect(byCommit.code).toBe(1);
    expect(byCommit.out).toContain('has failed 3 times');

    const cleared = await run('clear-backoff', '--commit', st.commit);
    expect(cleared).toEqual({ code: 0, out: `cleared: ${st.commit}\n`, err: '' });
    const after = await run('backoff', '--commit', st.commit, '--json');
    expect(after.code).toBe(0);
    expect(JSON.parse(after.out)).toMatchObject({ failures: 0, inBackoff: false });
    expect((await run('clear-backoff', '--commit', st.commit)).out).toBe('nothing to clear\n');
    const acts = JSON.parse((await run('status', '--json')).out).activities.map((a: { type: string }) => a.type);
    expect(acts).toContain('backoff_cleared');
  });

  it('an invalid commit: exit 2', async () => {
    const r = await run('backoff', '--commit', 'not-a-sha');
    expect(r.code).toBe(2);
    expect(r.err).toContain("invalid commit 'not-a-sha'");
    expectNoStack(r);
  });
});

// usage-report and github-comment exited 69 (EX_UNAVAILABLE) until the AI services and the GitHub integration
// arrived (while these tests were written); exit 69 is gone from the CLI. What they do now without any service:
describe('usage-report and github-comment (formerly exit 69)', () => {
  it('github-comment without --pr, or with a bad one: exit 2 before any request', async () => {
    const none = await run('github-comment');
    expect(none.code).toBe(2);
    expect(none.err).toContain("required option '--pr <number>' not specified");
    const bad = await run('github-comment', '--pr', 'abc', '--repo', 'o/r');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--pr must be a number');
    expectNoStack(bad);
  });

  it('usage-report --json on a fresh status dir: an empty report, exit 0', async () => {
    const r = await run('usage-report', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ days: 7, rows: [], total: { calls: 0 } });
  });
});

describe('the real bin (node tools/nx-plugin/bin/nextrust.js)', () => {
  function spawnBin(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    return spawnSync(process.execPath, [bin, ...args], {
      cwd: repoRoot,
      env: { ...env(), ...extraEnv },
      encoding: 'utf8',
      timeout: 180_000,
    });
  }

  it('check-known-issue --log --json --status-dir: exit 0 with the JSON match on stdout, nothing on stderr', () => {
    const file = log('build.log', MATCHING_LOG);
    const r = spawnBin(['check-known-issue', '--log', file, '--json', '--status-dir', dir], {
      NEXTRUST_STATUS_DIR: '/nonexistent/status',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.match).toMatchObject({ id: 'atomic-spinlock-m68k', evidence: [{ line: 3 }, { line: 5 }] });
  });

  it('no match: exit 1 and {"match": null}; a missing log: exit 2 with one line on stderr', () => {
    const none = spawnBin(['check-known-issue', '--json', '--log', log('u.log', UNKNOWN_LOG)]);
    expect(none.status).toBe(1);
    expect(JSON.parse(none.stdout).match).toBeNull();
    const missing = spawnBin(['check-known-issue', '--log', path.join(work, 'gone.log')]);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(`nextrust: check-known-issue: --log ${path.join(work, 'gone.log')}: no such file\n`);
  });

  it('`--status-dir D hook pre` (the CLI, not the direct hook path) runs the same hook entry: payload limit, hook log', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-cli-hook-'));
    try {
      const payload = JSON.stringify({
        session_id: 'cli-hook-test',
        cwd: repoRoot,
        hook_event_name: 'PreToolUse',
        tool_name: 'Bash',
        tool_input: { command: 'ls', description: 'list' },
      });
      const hookEnv = { CLAUDE_PROJECT_DIR: project, NEXTRUST_HOOK_SERVER: '0' };
      const ok = spawnSync(process.execPath, [bin, '--status-dir', dir, 'hook', 'pre'], {
        cwd: repoRoot,
        env: { ...env(), ...hookEnv },
        input: payload,
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      const logDir = path.join(project, '.claude/hook-logs');
      const logged = fs.readdirSync(logDir).map((f) => fs.readFileSync(path.join(logDir, f), 'utf8'));
      expect(logged.join('')).toMatch(/ pre Bash exit=0 \d+ms node\n$/);
      // Over NEXTRUST_HOOK_MAX_PAYLOAD_BYTES the payload is refused unread and `pre` blocks (exit 2).
      const big = spawnSync(process.execPath, [bin, '--status-dir', dir, 'hook', 'pre'], {
        cwd: repoRoot,
        env: { ...env(), ...hookEnv, NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: '64' },
        input: payload,
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(big.status).toBe(2);
      expect(big.stderr).toBe(
        'nextrust security guard: blocked: the hook payload is over 64 bytes (NEXTRUST_HOOK_MAX_PAYLOAD_BYTES), so the command cannot be checked\n',
      );
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it('an unknown command or a missing required option: exit 2, message on stderr, no stack trace', () => {
    const r = spawnBin(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+/m);
    const gh = spawnBin(['github-comment']);
    expect(gh.status).toBe(2);
    expect(gh.stdout).toBe('');
    expect(gh.stderr).toContain("required option '--pr <number>' not specified");
    expect(gh.stderr).not.toMatch(/^\s+at .+:\d+/m);
  });
});
