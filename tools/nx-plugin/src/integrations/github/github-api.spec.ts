// The GitHub REST integration end to end through the CLI (runCli) against a loopback server speaking the REST API
// for the endpoints the pipeline uses (list/create/update issue comments with Link-header pagination, create check
// runs; token auth, JSON bodies, GitHub's response shapes taken from @octokit/webhooks-examples). Covers
// github-comment (create, then update in place, found on page 2; secrets redacted before sending), github-check
// (conclusion from the real job status), missing/rejected tokens, slash replies posted to the right PR, and
// record-artifacts (sha256 checked independently).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import webhooks from '@octokit/webhooks-examples';
import { runCli, type CliIo } from '../../cli/program';
import { findPhase } from '../../pipeline/phases';
import { StatusStore } from '../../pipeline/status-store';
import { conclusionFromJobStatus, STATUS_COMMENT_MARKER } from './github-api';

const repoRoot = path.resolve(__dirname, '../../../../..');

type Json = Record<string, any>;

function exampleOf(event: string, action?: string): Json {
  const def = webhooks.find((d) => d.name === event);
  const e = def?.examples.find((x) => !action || (x as Json).action === action);
  if (!e) throw new Error(`@octokit/webhooks-examples: no ${event} ${action ?? ''} example`);
  return structuredClone(e) as Json;
}

/** GitHub's own objects, used as the shapes of the responses. */
const COMMENT_TEMPLATE = exampleOf('issue_comment', 'created').comment as Json;
const CHECK_RUN_TEMPLATE = exampleOf('check_run').check_run as Json;
const BOT_USER: Json = {
  ...COMMENT_TEMPLATE.user,
  login: 'github-actions[bot]',
  id: 41898282,
  node_id: 'MDM6Qm90NDE4OTgyODI=',
  avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
  url: 'https://api.github.com/users/github-actions%5Bbot%5D',
  html_url: 'https://github.com/apps/github-actions',
  type: 'Bot',
};

// ---------------------------------------------------------------------------------------------------------------
// A loopback GitHub REST API
// ---------------------------------------------------------------------------------------------------------------

interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body as received (bytes as UTF-8). */
  raw: string;
  json?: Json;
}

const DOCS = 'https://docs.github.com/rest';
const CHECK_CONCLUSIONS = [
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'success',
  'skipped',
  'stale',
  'timed_out',
];

class FakeGitHub {
  readonly requests: ReceivedRequest[] = [];
  /** Comments by `owner/repo#issue`, oldest first. */
  readonly comments = new Map<string, Json[]>();
  readonly checkRuns: Json[] = [];
  private server!: http.Server;
  private nextId = 2_000_000_001;
  url = '';

  constructor(readonly token: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => this.send(res, 500, { message: `test server: ${(e as Error).message}` }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Everything received, raw, for leak checks. */
  allReceived(): string {
    return this.requests.map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.raw}`).join('\n');
  }

  seedComments(repo: string, issue: number, n: number): void {
    const list = this.issueComments(repo, issue);
    for (let i = 0; i < n; i++)
      list.push(
        this.comment(
          repo,
          issue,
          `comment ${i + 1} by a reviewer`,
          { ...COMMENT_TEMPLATE.user, login: `reviewer-${i % 5}` },
          'CONTRIBUTOR',
        ),
      );
  }

  issueComments(repo: string, issue: number): Json[] {
    const key = `${repo}#${issue}`;
    if (!this.comments.has(key)) this.comments.set(key, []);
    return this.comments.get(key)!;
  }

  private comment(repo: string, issue: number, body: string, user: Json, association: string): Json {
    const id = this.nextId++;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      ...structuredClone(COMMENT_TEMPLATE),
      id,
      node_id: Buffer.from(`012:IssueComment${id}`).toString('base64'),
      url: `${this.url}/repos/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${this.url}/repos/${repo}/issues/${issue}`,
      user: structuredClone(user),
      author_association: association,
      created_at: now,
      updated_at: now,
      body,
    };
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `0000:${this.requests.length}`,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(5000 - this.requests.length),
      ...headers,
    });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      raw: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(rec);
    const u = new URL(rec.url, this.url);

    // Authentication: `token X` (classic and installation tokens) or `Bearer X`.
    const auth = req.headers.authorization;
    if (!auth) return this.send(res, 401, { message: 'Requires authentication', documentation_url: DOCS });
    const m = /^(token|bearer) (\S+)$/i.exec(auth);
    if (!m || m[2] !== this.token) return this.send(res, 401, { message: 'Bad credentials', documentation_url: DOCS });

    if (rec.method === 'POST' || rec.method === 'PATCH') {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
        return this.send(res, 415, { message: 'Unsupported Media Type', documentation_url: DOCS });
      try {
        rec.json = JSON.parse(rec.raw);
      } catch {
        return this.send(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS });
      }
    }
    const body = rec.json ?? {};
    let r: RegExpExecArray | null;

    // GET /repos/{owner}/{repo}/collaborators/{username}/permission: everyone here is a writer.
    if (
      rec.method === 'GET' &&
      (r = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(u.pathname))
    ) {
      return this.send(res, 200, {
        permission: 'write',
        role_name: 'write',
        user: { ...COMMENT_TEMPLATE.user, login: r[3] },
      });
    }

    // GET /repos/{owner}/{repo}/issues/{issue_number}/comments: paginated (per_page default 30, max 100).
    if (rec.method === 'GET' && (r = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname))) {
      const repo = `${r[1]}/${r[2]}`;
      const all = this.issueComments(repo, Number(r[3]));
      const perPage = Math.min(Math.max(Number(u.searchParams.get('per_page') ?? 30) || 30, 1), 100);
      const page = Math.max(Number(u.searchParams.get('page') ?? 1) || 1, 1);
      const last = Math.max(Math.ceil(all.length / perPage), 1);
      const link = (p: number) => {
        const q = new URL(u.toString());
        q.searchParams.set('per_page', String(perPage));
        q.searchParams.set('page', String(p));
        return `<${q.toString()}>`;
      };
      const rels: string[] = [];
      if (page > 1) rels.push(`${link(page - 1)}; rel="prev"`);
      if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
      if (page > 1) rels.push(`${link(1)}; rel="first"`);
      return this.send(
        res,
        200,
        all.slice((page - 1) * perPage, page * perPage),
        rels.length ? { link: rels.join(', ') } : {},
      );
    }

    // POST /repos/{owner}/{repo}/issues/{issue_number}/comments
    if (rec.method === 'POST' && (r = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname))) {
      const bad = this.commentBodyError(body);
      if (bad) return this.send(res, 422, bad);
      const repo = `${r[1]}/${r[2]}`;
      const c = this.comment(repo, Number(r[3]), body.body, BOT_USER, 'NONE');
      this.issueComments(repo, Number(r[3])).push(c);
      return this.send(res, 201, c, { location: c.url });
    }

    // PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
    if (rec.method === 'PATCH' && (r = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname))) {
      const repo = `${r[1]}/${r[2]}`;
      const c = [...this.comments.entries()]
        .filter(([k]) => k.startsWith(`${repo}#`))
        .flatMap(([, v]) => v)
        .find((x) => x.id === Number(r![3]));
      if (!c) return this.send(res, 404, { message: 'Not Found', documentation_url: DOCS });
      const bad = this.commentBodyError(body);
      if (bad) return this.send(res, 422, bad);
      c.body = body.body;
      c.updated_at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      return this.send(res, 200, c);
    }

    // POST /repos/{owner}/{repo}/check-runs
    if (rec.method === 'POST' && (r = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(u.pathname))) {
      const invalid = (message: string) =>
        this.send(res, 422, { message: 'Invalid request.\n\n' + message, documentation_url: DOCS });
      if (typeof body.name !== 'string' || !body.name) return invalid('"name" wasn\'t supplied.');
      if (typeof body.head_sha !== 'string') return invalid('"head_sha" wasn\'t supplied.');
      if (!/^[0-9a-f]{40}$/.test(body.head_sha))
        return this.send(res, 422, { message: `No commit found for SHA: ${body.head_sha}`, documentation_url: DOCS });
      const status = body.status ?? 'queued';
      if (!['queued', 'in_progress', 'completed'].includes(status))
        return invalid(`${JSON.stringify(status)} is not a member of ["queued", "in_progress", "completed"].`);
      if (body.conclusion !== undefined && !CHECK_CONCLUSIONS.includes(body.conclusion))
        return invalid(`${JSON.stringify(body.conclusion)} is not a valid conclusion.`);
      if (status === 'completed' && body.conclusion === undefined) return invalid('"conclusion" wasn\'t supplied.');
      if (body.output && (typeof body.output.title !== 'string' || typeof body.output.summary !== 'string'))
        return invalid('"title" and "summary" are required in "output".');
      if (body.output && body.output.summary.length > 65535)
        return invalid('"summary" is too long (maximum is 65535 characters).');
      const repo = `${r[1]}/${r[2]}`;
      const id = this.nextId++;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const run = {
        ...structuredClone(CHECK_RUN_TEMPLATE),
        id,
        node_id: Buffer.from(`08:CheckRun${id}`).toString('base64'),
        head_sha: body.head_sha,
        url: `${this.url}/repos/${repo}/check-runs/${id}`,
        html_url: `https://github.com/${repo}/runs/${id}`,
        name: body.name,
        status,
        conclusion: body.conclusion ?? null,
        started_at: now,
        completed_at: status === 'completed' ? now : null,
        output: {
          title: body.output?.title ?? null,
          summary: body.output?.summary ?? null,
          text: null,
          annotations_count: 0,
          annotations_url: `${this.url}/repos/${repo}/check-runs/${id}/annotations`,
        },
      };
      this.checkRuns.push(run);
      return this.send(res, 201, run);
    }

    return this.send(res, 404, { message: 'Not Found', documentation_url: DOCS });
  }

  private commentBodyError(body: Json): Json | undefined {
    if (typeof body.body !== 'string')
      return { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS };
    if (body.body.length > 65536) {
      return {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'IssueComment',
            code: 'custom',
            field: 'body',
            message: 'body is too long (maximum is 65536 characters)',
          },
        ],
        documentation_url: DOCS,
      };
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Test set-up
// ---------------------------------------------------------------------------------------------------------------

/** An installation token, as GitHub Actions' GITHUB_TOKEN looks. */
const TOKEN = 'ghs_' + 'Q7x9kLmN2pR4sT6vW8yZ0aB1cD3eF5gH7jK9'.slice(0, 36);
const REPO = 'Codertocat/Hello-World';
const PR = 42;
const SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

let gh: FakeGitHub;
let dir: string;
let work: string;

beforeEach(async () => {
  gh = new FakeGitHub(TOKEN);
  await gh.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-gh-status-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-gh-work-'));
  for (const f of ['known-issues.json', 'phases.json'])
    fs.copyFileSync(path.join(repoRoot, 'projects/ci-status', f), path.join(dir, f));
});
afterEach(async () => {
  await gh.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The environment without keys or GitHub variables, then the loopback API and token (unless overridden). */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e))
    if (/_API_KEY$|_BASE_URL$|^GITHUB_|^GH_TOKEN$|^NEXTRUST_|^CPU_VARIANT$/.test(k)) delete e[k];
  Object.assign(e, { GITHUB_API_URL: gh.url, GITHUB_TOKEN: TOKEN, NEXTRUST_SLASH_COOLDOWN_S: '0' });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], e: NodeJS.ProcessEnv = env()): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd: repoRoot, env: e };
  const code = await runCli(['--status-dir', dir, ...argv], io);
  return { code, out, err };
}

function file(name: string, text: string | Buffer): string {
  const f = path.join(work, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
}

const expectNoStack = (r: Run) => expect(r.out + r.err).not.toMatch(/^\s+at .+:\d+/m);
const apiRequests = (method: string, pattern: RegExp) =>
  gh.requests.filter((q) => q.method === method && pattern.test(q.url));

// ---------------------------------------------------------------------------------------------------------------
// github-comment
// ---------------------------------------------------------------------------------------------------------------

describe('github-comment', () => {
  it('creates the status comment the first time, then updates that same comment (found on page 2) in place', async () => {
    gh.seedComments(REPO, PR, 130);
    gh.seedComments(REPO, PR + 1, 3); // another PR's comments are never touched

    const first = await run([
      'github-comment',
      '--pr',
      String(PR),
      '--repo',
      REPO,
      '--body-file',
      file('status1.md', '## Pipeline\n\nPhase rust-target: **in progress**\n'),
      '--json',
    ]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const created = JSON.parse(first.out);
    const comments = gh.issueComments(REPO, PR);
    expect(comments).toHaveLength(131);
    const mine = comments[130];
    expect(created).toEqual({ id: mine.id, created: true, url: mine.html_url });
    expect(mine.body).toBe(`${STATUS_COMMENT_MARKER}\n## Pipeline\n\nPhase rust-target: **in progress**\n`);
    expect(mine.user.login).toBe('github-actions[bot]');
    // It listed every page (100 + 30) before creating.
    expect(gh.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100`,
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100&page=2`,
      `POST /repos/${REPO}/issues/${PR}/comments`,
    ]);

    gh.requests.length = 0;
    const second = await run([
      'github-comment',
      '--pr',
      String(PR),
      '--repo',
      REPO,
      '--body-file',
      file('status2.md', '## Pipeline\n\nPhase rust-target: **completed**\n'),
    ]);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toBe(`updated ${mine.html_url}\n`);
    // The marker comment is on page 2 (index 130 with 100 per page): found there and patched, nothing new posted.
    expect(comments.findIndex((c) => c.body.includes(STATUS_COMMENT_MARKER))).toBe(130);
    expect(gh.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100`,
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100&page=2`,
      `PATCH /repos/${REPO}/issues/comments/${mine.id}`,
    ]);
    expect(comments).toHaveLength(131);
    expect(comments.filter((c) => c.body.includes(STATUS_COMMENT_MARKER))).toHaveLength(1);
    expect(mine.body).toBe(`${STATUS_COMMENT_MARKER}\n## Pipeline\n\nPhase rust-target: **completed**\n`);
    expect(gh.issueComments(REPO, PR + 1).map((c) => c.body)).toEqual([
      'comment 1 by a reviewer',
      'comment 2 by a reviewer',
      'comment 3 by a reviewer',
    ]);
  });

  it('sends the token, JSON and the client identity as GitHub expects', async () => {
    const r = await run(['github-comment', '--pr', String(PR), '--repo', REPO, '--body-file', file('s.md', 'hello')]);
    expect(r.code).toBe(0);
    for (const q of gh.requests) {
      expect(q.headers.authorization).toBe(`token ${TOKEN}`);
      expect(q.headers.accept).toBe('application/vnd.github.v3+json');
      expect(q.headers['user-agent']).toMatch(/^nextrust-ci /);
    }
    const [post] = apiRequests('POST', /comments$/);
    expect(post.headers['content-type']).toMatch(/^application\/json/);
    expect(post.json).toEqual({ body: `${STATUS_COMMENT_MARKER}\nhello` });
  });

  it('a body that already starts with the marker is sent as it is', async () => {
    const r = await run([
      'github-comment',
      '--pr',
      String(PR),
      '--repo',
      REPO,
      '--body-file',
      file('s.md', `${STATUS_COMMENT_MARKER}\n# Status\nok`),
    ]);
    expect(r.code).toBe(0);
    expect(gh.issueComments(REPO, PR)[0].body).toBe(`${STATUS_COMMENT_MARKER}\n# Status\nok`);
  });

  it('secrets in the body are redacted before anything is sent', async () => {
    const openai = 'sk-proj-' + 'Zq3Xr7Lm9Np2Ks5Tv8Wy1Ab4Cd6Ef0Gh2Ij4Kl6Mn8';
    const body = [
      '## Failure',
      `OPENAI_API_KEY=${openai}`,
      `curl -H "Authorization: Bearer ${openai}" https://api.openai.com/v1/models`,
      `the token was ${TOKEN}`,
      'Build of rust-target failed.',
    ].join('\n');
    const r = await run(['github-comment', '--pr', String(PR), '--repo', REPO, '--body-file', file('s.md', body)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const received = gh.allReceived();
    expect(received).toContain('Build of rust-target failed.');
    expect(received).not.toContain(openai);
    expect(received).not.toContain(openai.slice(8, 30));
    const sent = gh.issueComments(REPO, PR)[0].body as string;
    expect(sent).toContain('[REDACTED:');
    expect(sent).not.toContain(TOKEN);
    expect(sent.split('\n')[2]).toMatch(/^OPENAI_API_KEY=\[REDACTED:[a-z-]+\]$/);
  });

  it("without --body-file it posts the status dir's pipeline-log.md", async () => {
    const store = new StatusStore(dir);
    await store.setPhase(findPhase(store.loadPhases().phases!, 'rust-target')!);
    const r = await run(['github-comment', '--pr', String(PR), '--repo', REPO]);
    expect(r.code).toBe(0);
    expect(gh.issueComments(REPO, PR)[0].body).toBe(
      `${STATUS_COMMENT_MARKER}\n${fs.readFileSync(path.join(dir, 'pipeline-log.md'), 'utf8')}`,
    );
  });

  it('GITHUB_REPOSITORY is the default repository', async () => {
    const r = await run(
      ['github-comment', '--pr', '5', '--body-file', file('s.md', 'x')],
      env({ GITHUB_REPOSITORY: 'octo-org/nextrust' }),
    );
    expect(r.code).toBe(0);
    expect(apiRequests('POST', /./).map((q) => q.url)).toEqual(['/repos/octo-org/nextrust/issues/5/comments']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// github-check
// ---------------------------------------------------------------------------------------------------------------

describe('a GitHub that never answers', () => {
  it('github-comment gives up after the request time limit, with one line and exit 2', async () => {
    const silent = http.createServer(() => {
      // Accepts the request and never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = Date.now();
      const r = await run(
        ['github-comment', '--repo', 'octo/repo', '--pr', '7'],
        env({ GITHUB_API_URL: url, NEXTRUST_GITHUB_TIMEOUT_MS: '500' }),
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r.code).toBe(2);
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expectNoStack(r);
      expect(r.err).toMatch(
        /GitHub API request timed out after 500 ms: GET http:\/\/127\.0\.0\.1:\d+\/repos\/octo\/repo\/issues\/7\/comments/,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe("github-check: the conclusion is the job's real outcome", () => {
  const CASES: [string, string][] = [
    ['success', 'success'],
    ['failure', 'failure'],
    ['cancelled', 'cancelled'],
    ['skipped', 'skipped'],
    ['unknown', 'neutral'],
    ['FAILURE', 'failure'],
    [' Success ', 'success'],
    ['timed_out', 'timed_out'],
    ['', 'neutral'],
    ['failed', 'neutral'],
    ['succeeded', 'neutral'],
  ];

  it.each(CASES)('job status %j → conclusion %s in the POSTed check run', async (status, conclusion) => {
    const name = 'NeXTRust Phase: rust-target (m68040)';
    const r = await run(['github-check', '--name', name, '--job-status', status, '--sha', SHA, '--repo', REPO]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const posts = apiRequests('POST', new RegExp(`^/repos/${REPO}/check-runs$`));
    expect(posts).toHaveLength(1);
    expect(posts[0].headers.authorization).toBe(`token ${TOKEN}`);
    expect(posts[0].json).toEqual({
      name,
      head_sha: SHA,
      status: 'completed',
      conclusion,
      output: { title: `${name}: ${status}`, summary: 'No phase set' },
    });
    if (status.trim().toLowerCase() !== 'success') expect(posts[0].json!.conclusion).not.toBe('success');
    expect(r.out).toBe(`check run ${gh.checkRuns[0].id}: ${conclusion}\n`);
    expect(gh.checkRuns[0]).toMatchObject({ conclusion, status: 'completed', head_sha: SHA, name });
  });

  it('conclusionFromJobStatus never answers success for anything but success', () => {
    const inputs = [
      'failure',
      'cancelled',
      'skipped',
      'neutral',
      'unknown',
      '',
      'success!',
      'successful',
      'ok',
      'passed',
      '0',
      'null',
      'in_progress',
    ];
    for (const s of inputs) expect(conclusionFromJobStatus(s)).not.toBe('success');
  });

  it('the summary is the current phase; GITHUB_SHA and GITHUB_REPOSITORY are the defaults', async () => {
    const store = new StatusStore(dir);
    await store.setPhase(findPhase(store.loadPhases().phases!, 'llvm-backend')!);
    const r = await run(
      ['github-check', '--name', 'build', '--job-status', 'failure'],
      env({ GITHUB_SHA: SHA, GITHUB_REPOSITORY: 'octo-org/nextrust' }),
    );
    expect(r.code).toBe(0);
    const [post] = apiRequests('POST', /^\/repos\/octo-org\/nextrust\/check-runs$/);
    expect(post.json).toMatchObject({
      head_sha: SHA,
      conclusion: 'failure',
      output: { summary: 'Current phase: llvm-backend (in_progress)' },
    });
  });

  it('without --sha and GITHUB_SHA: exit 2 before any request', async () => {
    const r = await run(['github-check', '--name', 'build', '--job-status', 'success', '--repo', REPO]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('needs --sha and --repo');
    expect(gh.requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------------------------

describe('no GITHUB_TOKEN, or a rejected one', () => {
  it.each([
    ['github-comment', ['github-comment', '--pr', String(PR), '--repo', REPO, '--body-file', 'BODY']],
    ['github-check', ['github-check', '--name', 'build', '--job-status', 'failure', '--sha', SHA, '--repo', REPO]],
  ])('%s without GITHUB_TOKEN: exit 2, one clear line, no stack trace, no request', async (_name, argv) => {
    const body = file('s.md', 'x');
    const r = await run(
      argv.map((a) => (a === 'BODY' ? body : a)),
      env({ GITHUB_TOKEN: undefined }),
    );
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('nextrust: GITHUB_TOKEN is not set (GitHub Actions provides it as secrets.GITHUB_TOKEN)\n');
    expectNoStack(r);
    expect(gh.requests).toEqual([]);
  });

  it("a rejected token: exit 2 with GitHub's message on one line, the token never printed", async () => {
    const wrong = 'ghs_' + 'x'.repeat(36);
    const r = await run(
      ['github-comment', '--pr', String(PR), '--repo', REPO, '--body-file', file('s.md', 'x')],
      env({ GITHUB_TOKEN: wrong }),
    );
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^nextrust: Bad credentials/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toContain(wrong);
    expectNoStack(r);
    expect(gh.requests[0].headers.authorization).toBe(`token ${wrong}`);
    expect(gh.issueComments(REPO, PR)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// slash: replies posted as PR comments
// ---------------------------------------------------------------------------------------------------------------

describe('slash with GITHUB_TOKEN: the reply is posted to the PR of the comment', () => {
  function event(body: string, association = 'OWNER', issue = PR): string {
    const p = exampleOf('issue_comment', 'created');
    p.comment.body = body;
    p.comment.author_association = association;
    p.issue.number = issue;
    p.issue.pull_request = {
      url: `https://api.github.com/repos/${REPO}/pulls/${issue}`,
      html_url: `https://github.com/${REPO}/pull/${issue}`,
      diff_url: `https://github.com/${REPO}/pull/${issue}.diff`,
      patch_url: `https://github.com/${REPO}/pull/${issue}.patch`,
      merged_at: null,
    };
    expect(p.repository.full_name).toBe(REPO);
    return file(`event-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(p));
  }

  it('an accepted command: its reply becomes a new comment on that PR (exit 0)', async () => {
    gh.seedComments(REPO, 77, 2);
    const r = await run(['slash', '--event', event('/ci-retry-job build-m68040', 'MEMBER', 77)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // The retry looks the PR head up first (this server has no pulls endpoint: 404), then records the request.
    const said = 'retry of job `build-m68040` requested (the PR head commit could not be read)';
    expect(r.out).toBe(said + '\n');
    // Write access is checked first (the permission API), then the retry looks the PR head up.
    expect(gh.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      `GET /repos/${REPO}/collaborators/Codertocat/permission`,
      `GET /repos/${REPO}/pulls/77`,
      `POST /repos/${REPO}/issues/77/comments`,
    ]);
    expect(gh.requests[2].json).toEqual({ body: said });
    expect(gh.requests[2].headers.authorization).toBe(`token ${TOKEN}`);
    expect(gh.issueComments(REPO, 77).map((c) => c.body)).toEqual([
      'comment 1 by a reviewer',
      'comment 2 by a reviewer',
      said,
    ]);
    expect(gh.issueComments(REPO, PR)).toEqual([]);
  });

  it('a refused command: the reason is posted (exit 1)', async () => {
    const r = await run(['slash', '--event', event('/ci-reset-phase rust-target', 'CONTRIBUTOR')]);
    expect(r.code).toBe(1);
    const reason =
      '@Codertocat refused: `/ci-reset-phase` needs write access (author association CONTRIBUTOR; allowed: OWNER, MEMBER, COLLABORATOR)';
    expect(r.out).toBe(reason + '\n');
    expect(gh.requests.map((q) => `${q.method} ${q.url}`)).toEqual([`POST /repos/${REPO}/issues/${PR}/comments`]);
    expect(gh.issueComments(REPO, PR).map((c) => c.body)).toEqual([reason]);
  });

  it('a comment that is not a command, and --no-reply: nothing is posted', async () => {
    expect((await run(['slash', '--event', event('thanks, LGTM')])).code).toBe(0);
    expect((await run(['slash', '--event', event('/ci-help'), '--no-reply'])).code).toBe(0);
    expect(gh.requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// record-artifacts
// ---------------------------------------------------------------------------------------------------------------

describe('record-artifacts', () => {
  const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

  it('records one artifact_hash activity per file of a folder, with its sha256, size and matrix entry', async () => {
    const files = [
      file('artifacts/hello.bin', randomBytes(256 * 1024 + 13)),
      file('artifacts/abc.txt', 'abc'),
      file('artifacts/sub/empty', ''),
      file('artifacts/sub/deeper/libnextrust_rt.rlib', randomBytes(4096)),
    ];
    // Known test vectors, independent of both implementations.
    expect(sha256(files[1])).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(files[2])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

    const r = await run(['record-artifacts', path.join(work, 'artifacts'), '--matrix', 'm68040', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const sorted = [...files].sort(); // the walk is in name order
    const expected = sorted.map((f) => ({
      file: path.relative(repoRoot, f),
      sha256: sha256(f),
      bytes: fs.statSync(f).size,
    }));
    expect(JSON.parse(r.out)).toEqual(expected);

    const acts = (await new StatusStore(dir).readActivities()).activities.filter((a) => a.type === 'artifact_hash');
    expect(acts.map((a) => a.details)).toEqual(
      expected.map((e) => ({
        file: e.file,
        hash: e.sha256,
        bytes: e.bytes,
        matrix: 'm68040',
        message: `${e.file} sha256 ${e.sha256.slice(0, 16)}`,
      })),
    );
    for (const a of acts) expect(path.resolve(repoRoot, String(a.details.file))).toBe(sorted[acts.indexOf(a)]);
  });

  it('single files; the matrix entry from CPU_VARIANT, else null; plain output', async () => {
    const a = file('one.o', randomBytes(100));
    const b = file('two.o', randomBytes(200));
    const r = await run(['record-artifacts', a, b], env({ CPU_VARIANT: 'm68030' }));
    expect(r).toEqual({ code: 0, out: 'recorded 2 artifact hash(es)\n', err: '' });
    const r2 = await run(['record-artifacts', a]);
    expect(r2.code).toBe(0);
    const acts = (await new StatusStore(dir).readActivities()).activities.filter((x) => x.type === 'artifact_hash');
    expect(acts.map((x) => [x.details.hash, x.details.matrix])).toEqual([
      [sha256(a), 'm68030'],
      [sha256(b), 'm68030'],
      [sha256(a), null],
    ]);
  });

  it('a FIFO (named, or inside a folder) is refused in one line (exit 2) before anything is hashed or recorded', async () => {
    const fifo = path.join(work, 'pipe.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await run(['record-artifacts', file('ok.bin', 'x'), fifo]);
    expect({ code: r.code, err: r.err }).toEqual({
      code: 2,
      err: `nextrust: record-artifacts: ${fifo}: a FIFO, not a regular file or folder\n`,
    });
    const folder = path.join(work, 'out');
    file('out/a.bin', 'a');
    execFileSync('mkfifo', [path.join(folder, 'b.fifo')]);
    const r2 = await run(['record-artifacts', folder]);
    expect({ code: r2.code, err: r2.err }).toEqual({
      code: 2,
      err: `nextrust: record-artifacts: ${path.join(folder, 'b.fifo')}: a FIFO, not a regular file or folder\n`,
    });
    expect(fs.existsSync(path.join(dir, 'pipeline-log.jsonl'))).toBe(false);
  });

  it('a symbolic link loop inside a folder ends: each real folder is walked once', async () => {
    const a = file('loop/a.bin', 'a');
    fs.symlinkSync('..', path.join(work, 'loop', 'up'));
    fs.symlinkSync('.', path.join(work, 'loop', 'self'));
    const r = await run(['record-artifacts', path.join(work, 'loop'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ file: path.relative(repoRoot, a), sha256: sha256(a), bytes: 1 }]);
  });

  it('a 256 MiB file is hashed as a stream: the process stays far below the file size', () => {
    const big = path.join(work, 'big.bin');
    const fd = fs.openSync(big, 'w');
    const block = randomBytes(1 << 20);
    for (let i = 0; i < 256; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const program = path.join(__dirname, '../../cli/program.ts');
    const child = `require(${JSON.stringify(program)}).runCli(['--status-dir', ${JSON.stringify(dir)}, 'record-artifacts', ${JSON.stringify(big)}, '--json'],
      { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd(), env: process.env })
      .then((code) => { process.stderr.write('maxRSS ' + process.resourceUsage().maxRSS + '\\n'); process.exitCode = code; });`;
    const res = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', child], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: env(),
      timeout: 300_000,
    });
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([
      { file: path.relative(repoRoot, big), sha256: sha256(big), bytes: 256 << 20 },
    ]);
    const rssKiB = Number(/maxRSS (\d+)/.exec(res.stderr)![1]);
    // node with the CLI loaded is ~100-200 MiB; reading the file whole would add its 256 MiB.
    expect(rssKiB * 1024).toBeLessThan(256 << 20);
  });

  it('a missing path: exit 2 naming it, nothing recorded', async () => {
    const r = await run(['record-artifacts', file('ok.bin', 'x'), path.join(work, 'missing-dir')]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`nextrust: record-artifacts: ${path.join(work, 'missing-dir')}: no such file or folder\n`);
    expect(fs.existsSync(path.join(dir, 'pipeline-log.jsonl'))).toBe(false);
  });
});
