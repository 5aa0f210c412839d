// PR slash commands, through handleSlashComment and end to end through `nextrust slash --event FILE --no-reply
// --json` (runCli, a temporary status dir holding copies of the real known-issues.json and phases.json). Payloads are
// GitHub's own issue_comment examples (@octokit/webhooks-examples) with body, author_association, login and
// issue.pull_request set. Covers: every command accepted for write access, with its effect; mutating commands refused
// without write access; read-only commands for anyone; injection attempts refused or inert and never reaching a
// process (child_process is watched; a marker file must not appear); unknown and non-commands; the cooldown;
// malformed payloads.
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import webhooks from '@octokit/webhooks-examples';
import { runCli, type CliIo } from '../../cli/program';
import { backoffState, recordFailure } from '../../pipeline/backoff';
import { findPhase, type PhasesFile } from '../../pipeline/phases';
import { StatusStore, type Activity } from '../../pipeline/status-store';
import { recordUsage } from '../../ai/usage';
import { handleSlashComment, parseCommentEvent, WRITE_ASSOCIATIONS } from './slash';

const repoRoot = path.resolve(__dirname, '../../../../..');

// ---------------------------------------------------------------------------------------------------------------
// Payloads: GitHub's examples, adjusted
// ---------------------------------------------------------------------------------------------------------------

type Payload = Record<string, any>;

const issueComment = webhooks.find((d) => d.name === 'issue_comment');
if (!issueComment) throw new Error('@octokit/webhooks-examples has no issue_comment examples');
const example = (action: string): Payload => {
  const e = issueComment.examples.find((x) => (x as Payload).action === action);
  if (!e) throw new Error(`no issue_comment example with action ${action}`);
  return e as Payload;
};

interface PayloadOptions {
  association?: string;
  login?: string;
  action?: 'created' | 'edited' | 'deleted';
  number?: number;
}

/** An issue_comment payload on a pull request: GitHub's example with the given body, author and association. */
function payload(body: string, o: PayloadOptions = {}): Payload {
  const p = structuredClone(example(o.action ?? 'created'));
  p.comment.body = body;
  p.comment.author_association = o.association ?? 'OWNER';
  if (o.login) {
    p.comment.user.login = o.login;
    p.sender.login = o.login;
  }
  if (o.number !== undefined) p.issue.number = o.number;
  // A comment on a pull request: the issue carries `pull_request` (GitHub's issue object shape).
  p.issue.pull_request = {
    url: p.issue.url.replace('/issues/', '/pulls/'),
    html_url: p.issue.html_url.replace('/issues/', '/pull/'),
    diff_url: p.issue.html_url.replace('/issues/', '/pull/') + '.diff',
    patch_url: p.issue.html_url.replace('/issues/', '/pull/') + '.patch',
    merged_at: null,
  };
  return p;
}

const PR_NUMBER = 7;

// ---------------------------------------------------------------------------------------------------------------
// Every process started while a test runs (execa, exec, ...): the comment must never reach one
// ---------------------------------------------------------------------------------------------------------------

const spawned: string[] = [];
const WATCHED = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
// The real module object (Jest hands every module the same core module, execa included).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cpModule = require('child_process') as typeof childProcess;
beforeAll(() => {
  for (const name of WATCHED) {
    const original = cpModule[name] as (...a: unknown[]) => unknown;
    jest.spyOn(cpModule, name).mockImplementation(((...args: unknown[]) => {
      spawned.push(`${name} ${JSON.stringify([args[0], Array.isArray(args[1]) ? args[1] : undefined])}`);
      return original.apply(cpModule, args);
    }) as never);
  }
});
afterAll(() => jest.restoreAllMocks());

// ---------------------------------------------------------------------------------------------------------------
// A loopback GitHub REST API answering "Get repository permissions for a user"
// (https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user); every other
// request gets GitHub's 404 body. Users not in `permissions` have `write`.
// ---------------------------------------------------------------------------------------------------------------

const API_TOKEN = 'ghs_slashSpecTokenForTheLoopbackApi0000000';
const api = {
  url: '',
  server: undefined as http.Server | undefined,
  /** Permission per login (default write); a number answers with that HTTP status instead. */
  permissions: new Map<string, string | number>(),
  /** `METHOD path` of every request, in order. */
  requests: [] as string[],
  authorizations: [] as (string | undefined)[],
};
beforeAll(async () => {
  api.server = http.createServer((req, res) => {
    api.requests.push(`${req.method} ${req.url}`);
    api.authorizations.push(req.headers.authorization);
    const m = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(req.url ?? '');
    const answer = m ? (api.permissions.get(decodeURIComponent(m[3])) ?? 'write') : 404;
    const [status, body] =
      typeof answer === 'number'
        ? [answer, { message: answer === 404 ? 'Not Found' : 'Server Error' }]
        : [200, { permission: answer, role_name: answer, user: { login: m![3] } }];
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => api.server!.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  api.server?.closeAllConnections();
  await new Promise<void>((resolve) => api.server!.close(() => resolve()));
});
beforeEach(() => {
  api.permissions.clear();
  api.requests.length = 0;
  api.authorizations.length = 0;
});

// ---------------------------------------------------------------------------------------------------------------
// Status dir and CLI runner
// ---------------------------------------------------------------------------------------------------------------

let dir: string; // status dir of one test
let work: string; // payload files of one test
let eventCount = 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-slash-status-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-slash-events-'));
  for (const f of ['known-issues.json', 'phases.json'])
    fs.copyFileSync(path.join(repoRoot, 'projects/ci-status', f), path.join(dir, f));
  spawned.length = 0;
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * The environment without keys, tokens or GitHub variables, then the loopback API and its token (so that write access
 * can be checked); the cooldown off unless a test sets it.
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e))
    if (/_API_KEY$|_BASE_URL$|^GITHUB_|^GH_TOKEN$|^NEXTRUST_|^CPU_VARIANT$/.test(k)) delete e[k];
  e.GITHUB_TOKEN = API_TOKEN;
  e.GITHUB_API_URL = api.url;
  e.NEXTRUST_SLASH_COOLDOWN_S = '0';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

interface SlashRun {
  code: number;
  out: string;
  err: string;
  /** The --json result (accepted, command, reply), when printed. */
  result?: { accepted: boolean; command: string | null; reply: string };
}

function eventFile(p: Payload | string): string {
  const file = path.join(work, `event-${++eventCount}.json`);
  fs.writeFileSync(file, typeof p === 'string' ? p : JSON.stringify(p, null, 2));
  return file;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv, cwd = repoRoot): Promise<SlashRun> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd, env };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** `nextrust --status-dir DIR slash --event FILE --no-reply --json`. */
async function slash(p: Payload | string, env: NodeJS.ProcessEnv = {}, cwd = repoRoot): Promise<SlashRun> {
  const r = await cli(
    ['--status-dir', dir, 'slash', '--event', eventFile(p), '--no-reply', '--json'],
    cleanEnv(env),
    cwd,
  );
  if (r.out) {
    const result = JSON.parse(r.out);
    expect(Object.keys(result).sort()).toEqual(['accepted', 'command', 'reply']);
    return { ...r, result };
  }
  return r;
}

const store = () => new StatusStore(dir);
const activities = async (type?: string): Promise<Activity[]> =>
  (await store().readActivities()).activities.filter((a) => !type || a.type === type);
const currentPhase = () => store().readState().state.current_phase?.id ?? null;
const phases = (): PhasesFile => store().loadPhases().phases!;
const SHA = 'a3f1c2d4e5b60718293a4b5c6d7e8f9012345678';
const OTHER_SHA = 'b4e2d3c5f6a70819304b5c6d7e8f901234567890';

function expectAccepted(r: SlashRun, command: string): string {
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.result).toMatchObject({ accepted: true, command });
  return r.result!.reply;
}

function expectRefused(r: SlashRun, reason: RegExp | string): string {
  expect(r.err).toBe('');
  expect(r.code).toBe(1);
  expect(r.result?.accepted).toBe(false);
  expect(r.result?.command).not.toBeNull();
  expect(r.result?.reply).toMatch(/^@\S+ refused: /);
  if (typeof reason === 'string') expect(r.result?.reply).toContain(reason);
  else expect(r.result?.reply).toMatch(reason);
  return r.result!.reply;
}

function expectIgnored(r: SlashRun): void {
  expect(r).toEqual({
    code: 0,
    out: expect.any(String),
    err: '',
    result: { accepted: false, command: null, reply: '' },
  });
}

/** A git workspace (nx.json) on branch `feature`, with `changed` files differing from `main`. */
function gitWorkspace(changed: boolean): string {
  const ws = fs.mkdtempSync(path.join(work, 'ws-'));
  const git = (...args: string[]) => {
    const r = childProcess.spawnSync(
      'git',
      ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
      { cwd: ws, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  fs.writeFileSync(path.join(ws, 'nx.json'), '{}\n');
  fs.writeFileSync(path.join(ws, 'lib.rs'), 'pub fn f() {}\n');
  git('init', '-q');
  git('symbolic-ref', 'HEAD', 'refs/heads/main');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('checkout', '-q', '-b', 'feature');
  if (changed) {
    fs.writeFileSync(path.join(ws, 'lib.rs'), 'pub fn f() -> u32 { 1 }\n');
    git('commit', '-q', '-am', 'change');
  }
  return ws;
}

// ---------------------------------------------------------------------------------------------------------------
// The payload fixtures themselves
// ---------------------------------------------------------------------------------------------------------------

describe('payloads from @octokit/webhooks-examples', () => {
  it('parseCommentEvent reads the fields of a real issue_comment payload on a PR', () => {
    const e = parseCommentEvent(payload('/ci-help', { association: 'MEMBER', login: 'octo-dev', number: PR_NUMBER }));
    expect(e).toEqual({
      action: 'created',
      body: '/ci-help',
      login: 'octo-dev',
      association: 'MEMBER',
      issueNumber: PR_NUMBER,
      isPullRequest: true,
      repository: example('created').repository.full_name,
    });
  });

  it('the example actions are created, edited and deleted', () => {
    expect(new Set(issueComment.examples.map((x) => (x as Payload).action))).toEqual(
      new Set(['created', 'edited', 'deleted']),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Accepted commands and their effects
// ---------------------------------------------------------------------------------------------------------------

describe.each(WRITE_ASSOCIATIONS)('write access (%s): every command is accepted and does its work', (association) => {
  const p = (body: string) => payload(body, { association, login: 'maintainer', number: PR_NUMBER });

  it('/ci-reset-phase <id> and <number> change the current phase', async () => {
    expect(currentPhase()).toBeNull();
    const reply = expectAccepted(await slash(p('/ci-reset-phase rust-target')), 'ci-reset-phase');
    expect(reply).toBe('current phase: rust-target (Rust Target Specification)');
    expect(currentPhase()).toBe('rust-target');
    expect(store().readState().state.current_phase).toMatchObject({
      status: 'in_progress',
      message: 'reset by a slash command',
    });

    expectAccepted(await slash(p('/ci-reset-phase 2')), 'ci-reset-phase');
    expect(currentPhase()).toBe('llvm-backend');
    expectAccepted(await slash(p('/ci-reset-phase phase-5')), 'ci-reset-phase');
    expect(currentPhase()).toBe('integration');
    expect(
      store()
        .readState()
        .state.phase_history.map((h) => h.id),
    ).toEqual(['rust-target', 'llvm-backend']);
    const recorded = await activities('slash_command');
    expect(recorded.map((a) => a.details)).toEqual([
      expect.objectContaining({ command: 'ci-reset-phase', arg: 'rust-target', by: 'maintainer', pr: PR_NUMBER }),
      expect.objectContaining({ command: 'ci-reset-phase', arg: '2', by: 'maintainer', pr: PR_NUMBER }),
      expect.objectContaining({ command: 'ci-reset-phase', arg: 'phase-5', by: 'maintainer', pr: PR_NUMBER }),
    ]);
  });

  it('/ci-reset-phase with an unknown phase is refused, naming the known ones, and changes nothing', async () => {
    await store().setPhase(findPhase(phases(), 'rust-target')!);
    const reply = expectRefused(await slash(p('/ci-reset-phase phase-9')), 'unknown phase `phase-9`');
    expect(reply).toContain('environment-setup, llvm-backend, rust-target, emulation-testing, integration');
    expect(currentPhase()).toBe('rust-target');
    expect(await activities('slash_command')).toEqual([]);
  });

  it('/ci-clear-backoff clears the recorded backoff of the PR head (and only that commit)', async () => {
    for (let i = 0; i < 3; i++) {
      await recordFailure(store(), SHA, 'rust-target:build');
      await recordFailure(store(), OTHER_SHA, 'rust-target:build');
    }
    expect(backoffState(store(), SHA).inBackoff).toBe(true);
    const reply = expectAccepted(
      await slash(p('/ci-clear-backoff'), { NEXTRUST_PR_HEAD_SHA: SHA }),
      'ci-clear-backoff',
    );
    expect(reply).toBe(`backoff cleared for ${SHA.slice(0, 12)}`);
    expect(backoffState(store(), SHA)).toMatchObject({ failures: 0, inBackoff: false });
    expect(fs.existsSync(path.join(dir, 'backoff', `${SHA}.json`))).toBe(false);
    expect(backoffState(store(), OTHER_SHA)).toMatchObject({ failures: 3, inBackoff: true });
    // Again: nothing left to clear.
    expect(expectAccepted(await slash(p('/ci-clear-backoff'), { NEXTRUST_PR_HEAD_SHA: SHA }), 'ci-clear-backoff')).toBe(
      `commit ${SHA.slice(0, 12)} was not in backoff`,
    );
  });

  it('/ci-clear-backoff without the PR head commit is refused with the reason', async () => {
    await recordFailure(store(), SHA, 'x');
    expectRefused(
      await slash(p('/ci-clear-backoff')),
      'the PR head commit is not known (needs GITHUB_TOKEN, or NEXTRUST_PR_HEAD_SHA)',
    );
    expect(backoffState(store(), SHA).failures).toBe(1);
  });

  it('/ci-retry-job <job> records retry_requested with the job, the user and the PR', async () => {
    const reply = expectAccepted(await slash(p('/ci-retry-job build-m68040')), 'ci-retry-job');
    // The loopback API has no pulls endpoint: the head commit stays unknown.
    expect(reply).toBe('retry of job `build-m68040` requested (the PR head commit could not be read)');
    const [retry] = await activities('retry_requested');
    expect(retry.details).toEqual({
      job: 'build-m68040',
      by: 'maintainer',
      pr: PR_NUMBER,
      message: 'retry of build-m68040 requested by @maintainer',
    });
    expect(await activities('slash_command')).toHaveLength(1);
  });

  it('/ci-status answers with the current phase and the recent activities in Markdown', async () => {
    const before = expectAccepted(await slash(p('/ci-status')), 'ci-status');
    expect(before.split('\n').slice(0, 4)).toEqual([
      '**Current phase:** none set',
      '',
      '| time | activity | message |',
      '|---|---|---|',
    ]);
    await store().setPhase(findPhase(phases(), 'llvm-backend')!);
    await store().append('build_failure', { message: 'ld | failed' });
    const after = expectAccepted(await slash(p('/ci-status')), 'ci-status');
    expect(after).toMatch(/^\*\*Current phase:\*\* llvm-backend \(LLVM Backend Modifications\), in_progress\n/);
    expect(after).toMatch(/^\| \S+Z \| build_failure \| ld \\\| failed \|$/m);
    // The first /ci-status was recorded too.
    expect(after).toMatch(/^\| \S+Z \| slash_command \| \/ci-status by @maintainer \|$/m);
  });

  it('/ci-check-phase answers with the alignment of every target in Markdown', async () => {
    expect(expectAccepted(await slash(p('/ci-check-phase')), 'ci-check-phase')).toBe('no current phase set');
    await store().setPhase(findPhase(phases(), 'rust-target')!);
    const reply = expectAccepted(await slash(p('/ci-check-phase')), 'ci-check-phase');
    expect(reply.split('\n')).toEqual([
      '**Current phase:** rust-target (in_progress)',
      '',
      '| target | phase | alignment |',
      '|---|---|---|',
      '| llvm-m68k:toolchain | phase 1 | aligned |',
      '| llvm-m68k:backend | phase 2 | aligned |',
      '| llvm-m68k:atomics | phase 2 | aligned |',
      '| rust-target:* | phase 3 | aligned |',
      '| emulator-tests:* | phase 4 | ahead of the current phase |',
      '| ci-status:* | phase 5 | ahead of the current phase |',
    ]);
  });

  it('/ci-help lists every command, marking those that need write access', async () => {
    const reply = expectAccepted(await slash(p('/ci-help')), 'ci-help');
    const items = reply.split('\n').filter((l) => l.startsWith('- '));
    expect(items.map((l) => /^- `([^`]+)`/.exec(l)![1])).toEqual([
      '/ci-help',
      '/ci-status',
      '/ci-check-phase',
      '/ci-retry-job <job>',
      '/ci-reset-phase <phase>',
      '/ci-clear-backoff',
      '/ci-confirm <failure id>',
      '/ci-reject <failure id>',
      '/ci-force-review <o3|gemini>',
      '/ci-usage',
    ]);
    expect(items.filter((l) => l.endsWith('(write access)')).map((l) => /^- `\/(ci-[a-z-]+)/.exec(l)![1])).toEqual([
      'ci-retry-job',
      'ci-reset-phase',
      'ci-clear-backoff',
      'ci-confirm',
      'ci-reject',
      'ci-force-review',
    ]);
  });

  it('/ci-confirm and /ci-reject record a verdict on a recorded failure; an unknown id is refused and changes nothing', async () => {
    await store().append('target_failed', {
      task: 'rust-target:build:m68040',
      failure_id: 'abcdef0123',
      known_issue: 'linker-not-found',
      message: 'x',
    });
    expect(expectAccepted(await slash(p('/ci-confirm abcdef0123')), 'ci-confirm')).toBe(
      'linker-not-found: 1 confirmed, 0 rejected (precision 100 %)',
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'precision.json'), 'utf8'))).toEqual({
      issues: { 'linker-not-found': { confirmed: 1, rejected: 0, precision: 1 } },
    });
    expectRefused(await slash(p('/ci-reject 9999999999')), 'no recorded failure with id 9999999999');
    expect((await activities('diagnosis_verdict')).map((a) => [a.details.verdict, a.details.by])).toEqual([
      ['confirmed', '@maintainer'],
    ]);
  });

  it('/ci-usage answers with the usage table of the last 7 days in a code block', async () => {
    await recordUsage(store(), {
      timestamp: new Date().toISOString(),
      kind: 'design',
      provider: 'openai',
      model: 'o3',
      phase: 'rust-target',
      input_tokens: 1200,
      output_tokens: 340,
      latency_ms: 900,
      cost_usd: 0.0123,
      session: null,
      pr: String(PR_NUMBER),
    });
    const reply = expectAccepted(await slash(p('/ci-usage')), 'ci-usage');
    expect(reply.startsWith('```\nAI usage, last 7 day(s)\n')).toBe(true);
    expect(reply.endsWith('\n```')).toBe(true);
    expect(reply).toMatch(/^\d{4}-\d\d-\d\d\s+o3\s+rust-target\s+1\s+1200\s+340\s+0\.0123\s+900$/m);
    expect(reply).toMatch(/^total\s+1\s+1200\s+340\s+0\.0123\s+900$/m);
  });

  it('/ci-force-review o3 with no pending failure answers so', async () => {
    expect(expectAccepted(await slash(p('/ci-force-review o3')), 'ci-force-review')).toBe(
      'no unanswered failure to escalate',
    );
  });
});

describe('/ci-force-review: AI steps skipped with the reason (no keys)', () => {
  it('o3 with a pending failure and no OPENAI_API_KEY: design escalation skipped, with the reason', async () => {
    fs.mkdirSync(path.join(dir, 'failure-logs'));
    fs.writeFileSync(
      path.join(dir, 'failure-logs', 'build.log'),
      '   Compiling app v0.1.0\nerror[E0308]: mismatched types\nerror: could not compile `app`\n',
    );
    await store().append('escalation_pending', {
      task: 'rust-target:build',
      log: 'failure-logs/build.log',
      message: 'unknown failure',
    });
    const reply = expectAccepted(
      await slash(payload('/ci-force-review o3', { association: 'COLLABORATOR' })),
      'ci-force-review',
    );
    expect(reply).toMatch(/^design escalation skipped: OPENAI_API_KEY is not set/);
  });

  it('gemini without GEMINI_API_KEY on a branch with changes: review skipped, GEMINI_API_KEY named (CLI)', async () => {
    const ws = gitWorkspace(true);
    const reply = expectAccepted(
      await slash(payload('/ci-force-review gemini', { association: 'OWNER' }), {}, ws),
      'ci-force-review',
    );
    expect(reply).toBe('review skipped: GEMINI_API_KEY is not set');
    expect((await activities('review_skipped'))[0].details).toMatchObject({
      reason: 'review skipped: GEMINI_API_KEY is not set',
    });
    // Positive control for the child_process watch used by the injection tests: the review's git calls are seen.
    expect(spawned.some((s) => s.includes('"git"') && s.includes('merge-base'))).toBe(true);
  });

  it('gemini through handleSlashComment on a branch without changes: skipped, no changes against main', async () => {
    const ws = gitWorkspace(false);
    const r = await handleSlashComment(parseCommentEvent(payload('/ci-force-review gemini')), {
      store: store(),
      workspaceRoot: ws,
      env: cleanEnv(),
      permissionOf: async () => 'write',
    });
    expect(r).toEqual({ accepted: true, command: 'ci-force-review', reply: 'review skipped: no changes against main' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Access
// ---------------------------------------------------------------------------------------------------------------

const MUTATING = [
  '/ci-retry-job build',
  '/ci-reset-phase rust-target',
  '/ci-clear-backoff',
  '/ci-confirm 0123456789',
  '/ci-reject 0123456789',
  '/ci-force-review o3',
  '/ci-force-review gemini',
];
const READ_ONLY: [string, RegExp][] = [
  ['/ci-help', /^\*\*nextrust slash commands\*\*/],
  ['/ci-status', /^\*\*Current phase:\*\* none set/],
  ['/ci-check-phase', /^no current phase set$/],
  ['/ci-usage', /^```\nAI usage, last 7 day\(s\)/],
];

describe.each(['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'FIRST_TIMER', 'NONE', 'MANNEQUIN'])(
  'without write access (%s)',
  (association) => {
    it.each(MUTATING)('%s is refused (exit 1) with the reason, and changes nothing', async (body) => {
      for (let i = 0; i < 3; i++) await recordFailure(store(), SHA, 'x');
      const name = body.slice(1).split(' ')[0];
      const reply = expectRefused(
        await slash(payload(body, { association, login: 'drive-by' }), {
          NEXTRUST_PR_HEAD_SHA: SHA,
          NEXTRUST_SLASH_COOLDOWN_S: undefined,
        }),
        `\`/${name}\` needs write access`,
      );
      expect(reply).toBe(
        `@drive-by refused: \`/${name}\` needs write access (author association ${association}; allowed: OWNER, MEMBER, COLLABORATOR)`,
      );
      expect(currentPhase()).toBeNull();
      expect(backoffState(store(), SHA).failures).toBe(3);
      expect(await activities()).toEqual([]);
      // A refusal starts no cooldown.
      expect(fs.existsSync(path.join(dir, 'slash-cooldown'))).toBe(false);
      expect(spawned).toEqual([]);
    });

    it.each(READ_ONLY)('%s is allowed', async (body, answer) => {
      expect(expectAccepted(await slash(payload(body, { association })), body.slice(1))).toMatch(answer);
    });
  },
);

// ---------------------------------------------------------------------------------------------------------------
// Injection attempts: refused or inert, never reaching a process
// ---------------------------------------------------------------------------------------------------------------

describe('an --event that is not a regular file', () => {
  it('a FIFO, a directory or a missing file is refused at once in one line (exit 2), never read', async () => {
    const fifo = path.join(work, 'event.fifo');
    childProcess.execFileSync('mkfifo', [fifo]);
    for (const [file, what] of [
      [fifo, 'a FIFO, not a regular file'],
      [work, 'a directory, not a regular file'],
      [path.join(work, 'missing.json'), 'no such file'],
    ]) {
      const r = await cli(['--status-dir', dir, 'slash', '--event', file, '--no-reply'], cleanEnv({}));
      expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: `nextrust: slash: --event ${file}: ${what}\n` });
    }
  });
});

describe('injection attempts', () => {
  const MARKER = `/tmp/pwned-nextrust-slash-${process.pid}-${Date.now()}`;
  const M = MARKER;
  const LONG = 'a'.repeat(100_000);

  beforeAll(() => expect(fs.existsSync(MARKER)).toBe(false));
  afterAll(() => {
    expect(fs.existsSync(MARKER)).toBe(false);
    fs.rmSync(MARKER, { force: true });
  });

  it('the payloads are live: run by a shell they would create the marker (control, on another file)', () => {
    const control = `${MARKER}-control`;
    for (const shellText of [
      `echo $(touch ${control})`,
      `echo \`touch ${control}\``,
      `echo build;touch\${IFS}${control}`,
    ]) {
      fs.rmSync(control, { force: true });
      childProcess.spawnSync('sh', ['-c', shellText]);
      expect(fs.existsSync(control)).toBe(true);
    }
    fs.rmSync(control, { force: true });
  });

  const REFUSED: [string, string, RegExp][] = [
    ['$() argument', `/ci-retry-job $(touch ${M})`, /expected `\/ci-<command> \[argument\]`/],
    ['$() with ${IFS}', `/ci-retry-job $(touch\${IFS}${M})`, /usage: `\/ci-retry-job <job>`/],
    ['backticks', `/ci-retry-job \`touch ${M}\``, /expected `\/ci-<command> \[argument\]`/],
    ['backticks with ${IFS}', `/ci-reset-phase \`touch\${IFS}${M}\``, /usage: `\/ci-reset-phase <phase>`/],
    ['; rm -rf /', '/ci-retry-job build; rm -rf /', /expected `\/ci-<command> \[argument\]`/],
    ['; without spaces', `/ci-retry-job build;touch\${IFS}${M}`, /usage: `\/ci-retry-job <job>`/],
    ['main && curl x', '/ci-reset-phase main && curl x', /expected `\/ci-<command> \[argument\]`/],
    ['&& without spaces', '/ci-reset-phase main&&curl${IFS}x', /usage: `\/ci-reset-phase <phase>`/],
    ['a pipe', `/ci-retry-job build|touch\${IFS}${M}`, /usage: /],
    ['a redirection', `/ci-retry-job build>${M}`, /usage: /],
    ['$() in the command name', `/ci-$(touch ${M})`, /expected `\/ci-<command> \[argument\]`/],
    ['$() after a command without argument', `/ci-status $(touch${M})`, /`\/ci-status` takes no argument/],
    ['; after force-review', `/ci-force-review o3;touch\${IFS}${M}`, /usage: `\/ci-force-review <o3\|gemini>`/],
    ['../../etc as a phase', '/ci-reset-phase ../../etc', /usage: `\/ci-reset-phase <phase>`/],
    ['../../etc/passwd as a job', '/ci-retry-job ../../etc/passwd', /usage: `\/ci-retry-job <job>`/],
    ['a path inside a job name', '/ci-retry-job a/../../etc', /usage: `\/ci-retry-job <job>`/],
    ['--help as a job', '/ci-retry-job --help', /usage: `\/ci-retry-job <job>`/],
    ['--help as a phase', '/ci-reset-phase --help', /usage: `\/ci-reset-phase <phase>`/],
    ['--help to force-review', '/ci-force-review --help', /usage: `\/ci-force-review <o3\|gemini>`/],
    ['--help to a command without argument', '/ci-help --help', /`\/ci-help` takes no argument/],
    ['-rf as a job', '/ci-retry-job -rf', /usage: /],
    ['Cyrillic а in a phase id', '/ci-reset-phase rust-t\u0430rget', /usage: `\/ci-reset-phase <phase>`/],
    ['Greek υ in a job', '/ci-retry-job b\u03c5ild', /usage: `\/ci-retry-job <job>`/],
    ['fullwidth semicolon', `/ci-retry-job build\uff1btouch`, /usage: /],
    ['zero-width space in a job', '/ci-retry-job build\u200b', /usage: /],
    ['Cyrillic е in the command name', '/ci-r\u0435set-phase rust-target', /expected `\/ci-<command> \[argument\]`/],
    ['a fullwidth o3 (ｏ3)', '/ci-force-review \uff4f3', /usage: /],
    ['a 100 000-character job', `/ci-retry-job ${LONG}`, /usage: `\/ci-retry-job <job>`/],
    ['a 65-character job (limit 64)', `/ci-retry-job ${'j'.repeat(65)}`, /usage: /],
    ['100 000 arguments', `/ci-retry-job${' a'.repeat(100_000)}`, /expected `\/ci-<command> \[argument\]`/],
  ];

  it.each(REFUSED)('%s: refused (exit 1), no effect, nothing started', async (_label, body, reason) => {
    const t0 = Date.now();
    const r = await slash(payload(body), { NEXTRUST_PR_HEAD_SHA: SHA });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const reply = expectRefused(r, reason);
    // The reply never carries the attempt back, and stays short.
    expect(reply).not.toMatch(/pwned|touch|rm -rf|curl|etc/);
    expect(reply.length).toBeLessThan(300);
    expect(r.result!.command!.length).toBeLessThanOrEqual(64);
    expect(currentPhase()).toBeNull();
    expect(await activities()).toEqual([]);
    expect(spawned).toEqual([]);
    expect(fs.existsSync(MARKER)).toBe(false);
  });

  // These two pass the command-name / argument pattern, so the refusal quotes them back (unbounded: see the report).
  it('a very long kebab-case phase id is refused as unknown and changes nothing', async () => {
    const long = 'a-'.repeat(5_000) + 'a';
    expectRefused(await slash(payload(`/ci-reset-phase ${long}`)), 'unknown phase');
    expect(currentPhase()).toBeNull();
    expect(await activities()).toEqual([]);
    expect(spawned).toEqual([]);
  });

  it('a 100 000-character command name is refused as unknown and changes nothing', async () => {
    const t0 = Date.now();
    expectRefused(await slash(payload(`/ci-${LONG}`)), 'unknown command');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await activities()).toEqual([]);
    expect(spawned).toEqual([]);
  });

  const IGNORED: [string, string][] = [
    ['a fullwidth slash', '\uff0fci-reset-phase rust-target'],
    ['a U+2010 hyphen in /ci-', '/ci\u2010reset-phase rust-target'],
    ['a command after other text', `please /ci-retry-job $(touch ${M})`],
    ['a command in a code block', '```\n/ci-reset-phase rust-target\n```'],
    ['a command quoted', '> /ci-reset-phase rust-target'],
  ];
  it.each(IGNORED)('%s: not a command (exit 0, no reply)', async (_label, body) => {
    expectIgnored(await slash(payload(body)));
    expect(currentPhase()).toBeNull();
    expect(await activities()).toEqual([]);
    expect(spawned).toEqual([]);
  });

  const SECOND_LINE: [string, string, string][] = [
    ['LF', `/ci-retry-job build\n$(touch ${M})`, 'build'],
    ['CRLF', `/ci-retry-job build\r\n\`touch ${M}\``, 'build'],
    ['a shell line after a valid command', `/ci-retry-job lint\n; rm -rf / ; touch ${M}`, 'lint'],
    ['leading blank lines', `\n\n   /ci-retry-job test-m68030  \n&& touch ${M}`, 'test-m68030'],
    ['a second command', '/ci-retry-job docs\n/ci-reset-phase integration', 'docs'],
  ];
  it.each(SECOND_LINE)(
    'newlines (%s): the first line is the command, the rest is ignored',
    async (_label, body, job) => {
      const reply = expectAccepted(await slash(payload(body)), 'ci-retry-job');
      expect(reply).toBe(`retry of job \`${job}\` requested (the PR head commit could not be read)`);
      const all = await activities();
      expect(all.map((a) => a.type)).toEqual(['retry_requested', 'slash_command']);
      expect(all[0].details.job).toBe(job);
      expect(JSON.stringify(all)).not.toMatch(/pwned|touch|rm -rf|integration/);
      expect(currentPhase()).toBeNull();
      expect(spawned).toEqual([]);
    },
  );

  it('the same attempts through handleSlashComment directly: refused, no process started', async () => {
    const ctx = { store: store(), workspaceRoot: repoRoot, env: cleanEnv(), commit: SHA };
    for (const [, body] of REFUSED) {
      const r = await handleSlashComment(parseCommentEvent(payload(body)), ctx);
      expect(r.accepted).toBe(false);
      expect(r.reply).toMatch(/^@\S+ refused: /);
    }
    for (const [, body] of IGNORED)
      expect(await handleSlashComment(parseCommentEvent(payload(body)), ctx)).toEqual({
        accepted: false,
        command: null,
        reply: '',
      });
    expect(await activities()).toEqual([]);
    expect(spawned).toEqual([]);
    expect(fs.existsSync(MARKER)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Unknown commands, non-commands, edits and deletions
// ---------------------------------------------------------------------------------------------------------------

describe('unknown commands and comments that are not commands', () => {
  it.each(['/ci-deploy', '/ci-deploy production', '/ci-retry', '/ci-'])(
    '%s is refused as unknown or malformed (exit 1)',
    async (body) => {
      const r = await slash(payload(body));
      expectRefused(r, /unknown command `\/ci-[a-z-]*` \(see \/ci-help\)|expected `\/ci-<command> \[argument\]`/);
      expect(await activities()).toEqual([]);
    },
  );

  it('/ci-deploy names the command and points to /ci-help', async () => {
    expect(expectRefused(await slash(payload('/ci-deploy')), 'unknown command')).toBe(
      '@Codertocat refused: unknown command `/ci-deploy` (see /ci-help)',
    );
  });

  it.each(['LGTM, thanks!', '', '   ', '/deploy', '/CI-HELP', 'ci-help', '/cihelp'])(
    '%j is not a command: exit 0, no reply',
    async (body) => {
      expectIgnored(await slash(payload(body)));
      // Without --json nothing is printed at all.
      const plain = await cli(
        ['--status-dir', dir, 'slash', '--event', eventFile(payload(body)), '--no-reply'],
        cleanEnv(),
      );
      expect(plain).toEqual({ code: 0, out: '', err: '' });
      expect(await activities()).toEqual([]);
    },
  );

  it.each(['edited', 'deleted'] as const)(
    'an %s comment is ignored even with a valid command: exit 0, no reply, no effect',
    async (action) => {
      const p = payload('/ci-reset-phase rust-target', { action, association: 'OWNER' });
      expect(p.action).toBe(action);
      expectIgnored(await slash(p));
      expect(currentPhase()).toBeNull();
      expect(await activities()).toEqual([]);
    },
  );

  it('without --json an accepted command prints its reply, a refused one its reason (exit 1)', async () => {
    const ok = await cli(
      ['--status-dir', dir, 'slash', '--event', eventFile(payload('/ci-retry-job build')), '--no-reply'],
      cleanEnv(),
    );
    expect(ok).toEqual({
      code: 0,
      out: 'retry of job `build` requested (the PR head commit could not be read)\n',
      err: '',
    });
    const no = await cli(
      [
        '--status-dir',
        dir,
        'slash',
        '--event',
        eventFile(payload('/ci-retry-job build', { association: 'NONE' })),
        '--no-reply',
      ],
      cleanEnv(),
    );
    expect(no.code).toBe(1);
    expect(no.out).toMatch(/^@Codertocat refused: `\/ci-retry-job` needs write access/);
  });

  it('the payload is found through GITHUB_EVENT_PATH without --event', async () => {
    const r = await cli(
      ['--status-dir', dir, 'slash', '--no-reply', '--json'],
      cleanEnv({ GITHUB_EVENT_PATH: eventFile(payload('/ci-retry-job build')) }),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ accepted: true, command: 'ci-retry-job' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Write access comes from the repository permission, not from organisation membership
// ---------------------------------------------------------------------------------------------------------------

describe("write access: GitHub's collaborator permission API, cached, failing closed", () => {
  const REPO = example('created').repository.full_name;
  const permissionRequest = (login: string) => `GET /repos/${REPO}/collaborators/${login}/permission`;

  it.each(['read', 'none'])(
    'an organisation MEMBER whose repository permission is %s is refused and changes nothing',
    async (permission) => {
      api.permissions.set('org-member', permission);
      const r = await slash(payload('/ci-reset-phase rust-target', { association: 'MEMBER', login: 'org-member' }));
      expect(expectRefused(r, 'needs write access')).toBe(
        `@org-member refused: \`/ci-reset-phase\` needs write access (repository permission of @org-member: ${permission}; allowed: admin, write)`,
      );
      expect(currentPhase()).toBeNull();
      expect(await activities()).toEqual([]);
      expect(api.requests).toEqual([permissionRequest('org-member')]);
      expect(api.authorizations).toEqual([`token ${API_TOKEN}`]);
    },
  );

  it.each(['admin', 'write'])('permission %s is accepted; read-only commands never ask', async (permission) => {
    api.permissions.set('maint', permission);
    expectAccepted(
      await slash(payload('/ci-reset-phase rust-target', { association: 'COLLABORATOR', login: 'maint' })),
      'ci-reset-phase',
    );
    expect(currentPhase()).toBe('rust-target');
    expectAccepted(await slash(payload('/ci-status', { association: 'NONE', login: 'someone' })), 'ci-status');
    expect(api.requests).toEqual([permissionRequest('maint')]);
  });

  it('the answer is cached per user for NEXTRUST_SLASH_PERMISSION_TTL_S; 0 asks every time', async () => {
    api.permissions.set('alice', 'write');
    expectAccepted(await slash(payload('/ci-retry-job a', { login: 'alice' })), 'ci-retry-job');
    expectAccepted(await slash(payload('/ci-retry-job b', { login: 'alice' })), 'ci-retry-job');
    expect(api.requests.filter((q) => q.includes('/collaborators/'))).toEqual([permissionRequest('alice')]);
    const cached = JSON.parse(fs.readFileSync(path.join(dir, 'slash-permissions', 'alice.json'), 'utf8'));
    expect(cached).toEqual({ permission: 'write', checked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // Demoted on GitHub: still allowed until the cached answer expires, then refused.
    api.permissions.set('alice', 'read');
    expectAccepted(await slash(payload('/ci-retry-job c', { login: 'alice' })), 'ci-retry-job');
    expectRefused(
      await slash(payload('/ci-retry-job d', { login: 'alice' }), { NEXTRUST_SLASH_PERMISSION_TTL_S: '0' }),
      'repository permission of @alice: read',
    );
    expect(api.requests.filter((q) => q.includes('/collaborators/'))).toHaveLength(2);
  });

  it('an API failure refuses the command (exit 1) naming the failure, and is not cached', async () => {
    api.permissions.set('bob', 500);
    const r = await slash(payload('/ci-clear-backoff', { login: 'bob' }), { NEXTRUST_PR_HEAD_SHA: SHA });
    expectRefused(r, /^@bob refused: `\/ci-clear-backoff` cannot check the write access of @bob: .+/);
    expect(fs.existsSync(path.join(dir, 'slash-permissions', 'bob.json'))).toBe(false);
    api.permissions.set('bob', 'write');
    expectAccepted(
      await slash(payload('/ci-clear-backoff', { login: 'bob' }), { NEXTRUST_PR_HEAD_SHA: SHA }),
      'ci-clear-backoff',
    );
  });

  it('a user GitHub does not know (404) has permission none', async () => {
    api.permissions.set('ghost', 404);
    expectRefused(await slash(payload('/ci-retry-job x', { login: 'ghost' })), 'repository permission of @ghost: none');
  });

  it('without GITHUB_TOKEN a command that changes something is refused; read-only commands still answer', async () => {
    const env = { GITHUB_TOKEN: undefined };
    expectRefused(
      await slash(payload('/ci-reset-phase rust-target', { login: 'owner', association: 'OWNER' }), env),
      "`/ci-reset-phase` cannot check the write access of @owner without GITHUB_TOKEN (GitHub's collaborator permission API)",
    );
    expect(currentPhase()).toBeNull();
    expectAccepted(await slash(payload('/ci-help', { login: 'owner' }), env), 'ci-help');
    expect(api.requests).toEqual([]);
  });

  it('a stale or corrupt cache entry is not trusted', async () => {
    fs.mkdirSync(path.join(dir, 'slash-permissions'));
    fs.writeFileSync(
      path.join(dir, 'slash-permissions', 'eve.json'),
      '{"permission": "admin", "checked_at": "2001-01-01T00:00:00Z"}\n',
    );
    api.permissions.set('eve', 'read');
    expectRefused(await slash(payload('/ci-retry-job x', { login: 'eve' })), 'repository permission of @eve: read');
    fs.writeFileSync(
      path.join(dir, 'slash-permissions', 'mallory.json'),
      '{"permission": "admin", "checked_at": "2999-01-01T00:00:00Z"}\n',
    );
    api.permissions.set('mallory', 'read');
    expectRefused(
      await slash(payload('/ci-retry-job x', { login: 'mallory' })),
      'repository permission of @mallory: read',
    );
    fs.writeFileSync(path.join(dir, 'slash-permissions', 'trudy.json'), 'not json');
    api.permissions.set('trudy', 'none');
    expectRefused(await slash(payload('/ci-retry-job x', { login: 'trudy' })), 'repository permission of @trudy: none');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Cooldown
// ---------------------------------------------------------------------------------------------------------------

describe('cooldown between mutating commands of one user', () => {
  const ev = (body: string, login: string) => parseCommentEvent(payload(body, { login, association: 'MEMBER' }));
  const ctx = (env: NodeJS.ProcessEnv = {}) => ({
    store: store(),
    workspaceRoot: repoRoot,
    env: cleanEnv({ NEXTRUST_SLASH_COOLDOWN_S: undefined, ...env }),
    commit: SHA,
    permissionOf: async () => 'write',
  });
  const t0 = new Date('2026-03-01T12:00:00.000Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);

  it('default 30 s: refused with the wait time until it has passed; another user and read-only commands are not affected', async () => {
    expect(await handleSlashComment(ev('/ci-retry-job a', 'alice'), ctx(), t0)).toMatchObject({ accepted: true });
    expect(await handleSlashComment(ev('/ci-reset-phase rust-target', 'alice'), ctx(), at(10))).toEqual({
      accepted: false,
      command: 'ci-reset-phase',
      reply: '@alice refused: cooldown: wait 20 s before the next command',
    });
    expect(currentPhase()).toBeNull();
    expect((await handleSlashComment(ev('/ci-retry-job b', 'alice'), ctx(), at(29.5))).reply).toBe(
      '@alice refused: cooldown: wait 1 s before the next command',
    );
    expect(await handleSlashComment(ev('/ci-retry-job c', 'bob'), ctx(), at(10))).toMatchObject({ accepted: true });
    expect(await handleSlashComment(ev('/ci-status', 'alice'), ctx(), at(11))).toMatchObject({
      accepted: true,
      command: 'ci-status',
    });
    expect(await handleSlashComment(ev('/ci-reset-phase rust-target', 'alice'), ctx(), at(30))).toMatchObject({
      accepted: true,
    });
    expect(currentPhase()).toBe('rust-target');
    expect((await activities('retry_requested')).map((a) => a.details.job)).toEqual(['a', 'c']);
  });

  it('NEXTRUST_SLASH_COOLDOWN_S sets the wait; 0 disables it', async () => {
    expect(
      await handleSlashComment(ev('/ci-retry-job a', 'alice'), ctx({ NEXTRUST_SLASH_COOLDOWN_S: '120' }), t0),
    ).toMatchObject({ accepted: true });
    expect(
      (await handleSlashComment(ev('/ci-retry-job b', 'alice'), ctx({ NEXTRUST_SLASH_COOLDOWN_S: '120' }), at(60)))
        .reply,
    ).toContain('cooldown: wait 60 s');
    expect(
      await handleSlashComment(ev('/ci-retry-job c', 'alice'), ctx({ NEXTRUST_SLASH_COOLDOWN_S: '0' }), at(60)),
    ).toMatchObject({ accepted: true });
    expect(
      await handleSlashComment(ev('/ci-retry-job d', 'alice'), ctx({ NEXTRUST_SLASH_COOLDOWN_S: '0' }), at(60)),
    ).toMatchObject({ accepted: true });
  });

  it('through the CLI (default 30 s): a second mutating command is refused (exit 1) with the wait; bob is not affected', async () => {
    const env = { NEXTRUST_SLASH_COOLDOWN_S: undefined };
    expectAccepted(await slash(payload('/ci-retry-job build', { login: 'alice' }), env), 'ci-retry-job');
    const second = await slash(payload('/ci-reset-phase rust-target', { login: 'alice' }), env);
    expectRefused(second, /^@alice refused: cooldown: wait (29|30) s before the next command$/);
    expect(currentPhase()).toBeNull();
    expectAccepted(
      await slash(payload('/ci-reset-phase rust-target', { login: 'bob', association: 'COLLABORATOR' }), env),
      'ci-reset-phase',
    );
    expect(currentPhase()).toBe('rust-target');
    expectAccepted(await slash(payload('/ci-help', { login: 'alice' }), env), 'ci-help');
  });

  it('through the CLI with NEXTRUST_SLASH_COOLDOWN_S=0: back-to-back commands are accepted', async () => {
    const env = { NEXTRUST_SLASH_COOLDOWN_S: '0' };
    expectAccepted(await slash(payload('/ci-retry-job build', { login: 'alice' }), env), 'ci-retry-job');
    expectAccepted(await slash(payload('/ci-reset-phase rust-target', { login: 'alice' }), env), 'ci-reset-phase');
    expectAccepted(await slash(payload('/ci-retry-job test', { login: 'alice' }), env), 'ci-retry-job');
    expect(currentPhase()).toBe('rust-target');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Malformed payloads
// ---------------------------------------------------------------------------------------------------------------

describe('malformed payload file: exit 2 naming the field, no stack trace', () => {
  const broken: [string, (p: Payload) => unknown][] = [
    ['action', (p) => delete p.action],
    ['comment.body', (p) => (p.comment.body = null)],
    ['comment.user.login', (p) => delete p.comment.user],
    ['comment.author_association', (p) => delete p.comment.author_association],
    ['issue.number', (p) => (p.issue.number = String(p.issue.number))],
    ['repository.full_name', (p) => delete p.repository],
  ];
  it.each(broken)("field '%s'", async (field, breakIt) => {
    const p = payload('/ci-reset-phase rust-target');
    breakIt(p);
    const file = eventFile(p);
    const r = await cli(['--status-dir', dir, 'slash', '--event', file, '--no-reply', '--json'], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(file);
    expect(r.err).toContain(`field '${field}'`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(currentPhase()).toBeNull();
  });

  it.each([
    ['not JSON', '{"action": "created", ', /not valid JSON|Unexpected end of JSON input|JSON/],
    ['null', 'null', /expected a JSON object/],
    ['an array', '[]', /field 'action'/],
  ])('%s', async (_label, text, message) => {
    const file = eventFile(text);
    const r = await cli(['--status-dir', dir, 'slash', '--event', file, '--json'], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(file);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/^\s+at .+:\d+/m);
  });

  it('a missing file, and no --event nor GITHUB_EVENT_PATH', async () => {
    const missing = await cli(['--status-dir', dir, 'slash', '--event', path.join(work, 'nope.json')], cleanEnv());
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`nextrust: slash: --event ${path.join(work, 'nope.json')}: no such file\n`);
    const none = await cli(['--status-dir', dir, 'slash'], cleanEnv());
    expect(none.code).toBe(2);
    expect(none.err).toContain('give --event FILE (or set GITHUB_EVENT_PATH)');
  });
});
