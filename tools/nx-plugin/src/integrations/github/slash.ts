/**
 * PR slash commands: a GitHub Actions workflow on `issue_comment`
 * (https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#issue_comment)
 * runs `nextrust slash --event FILE` on the webhook payload ($GITHUB_EVENT_PATH).
 *
 * Safety rules (GitHub's guidance on untrusted input in workflows):
 *  - the comment body is data: it is parsed here, never passed to a shell;
 *  - only the first line is read, and it must be `/ci-<command> [arg]`;
 *  - arguments must match the command's allow-list pattern;
 *  - commands that change anything need write access to the repository: the
 *    comment's author_association must be OWNER, MEMBER or COLLABORATOR (a
 *    cheap first filter), and GitHub's collaborator permission API must say
 *    `admin` or `write` for the author (an organisation member is not a writer
 *    by membership alone). The answer is cached per user in the status
 *    directory for NEXTRUST_SLASH_PERMISSION_TTL_S (default 600 s). When the
 *    permission cannot be read (no GITHUB_TOKEN, an API error), the command is
 *    refused: the check fails closed;
 *  - each user has a cooldown between accepted commands that change
 *    something (NEXTRUST_SLASH_COOLDOWN_S, default 30 s);
 *  - only comments on pull requests are commands.
 * A refused command answers with the reason and exits non-zero; an accepted
 * one answers with its result and exits 0.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { clearBackoff } from '../../pipeline/backoff';
import { recordVerdict } from '../../pipeline/precision';
import { checkPhaseAlignment, findPhase } from '../../pipeline/phases';
import type { StatusStore } from '../../pipeline/status-store';

/** author_association values that may have write access (GitHub webhook `comment.author_association`). */
export const WRITE_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR'];

/**
 * Repository permissions that allow commands that change something: the `permission` field of GitHub's
 * "Get repository permissions for a user" (admin, write, read or none; maintain is reported as write, triage as read;
 * https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user).
 */
export const WRITE_PERMISSIONS = ['admin', 'write'];

/** One slash command. */
interface SlashCommand {
  /** Usage shown in /ci-help. */
  usage: string;
  help: string;
  /** Allow-list of the argument; undefined: takes none. */
  arg?: RegExp;
  /** Changes something: needs write access and counts for the cooldown. */
  mutating: boolean;
  run: (ctx: SlashContext, arg: string | undefined) => Promise<string>;
}

/** What a command runs with. */
export interface SlashContext {
  store: StatusStore;
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
  /** The PR head commit, when known (from the GitHub API, or NEXTRUST_PR_HEAD_SHA); not GITHUB_SHA, which is the default branch's on issue_comment. */
  commit?: string;
  /** Looks the PR head commit up (GitHub API) when `commit` is not given; only commands that need it call it. */
  resolveCommit?: () => Promise<string | undefined>;
  login: string;
  issueNumber: number;
  /** Git ref of the PR head fetched as data (never checked out), for reviews. */
  head?: string;
  /** Re-runs a CI job through the GitHub API, when a token is available. */
  rerun?: (job: string) => Promise<string>;
  /**
   * The user's repository permission (`admin`, `write`, `read`, `none`) from GitHub's collaborator permission API,
   * when a token is available; without it, commands that change something are refused.
   * @throws Error when the API cannot answer (the command is then refused).
   */
  permissionOf?: (login: string) => Promise<string>;
}

/** The result: the reply to post, and whether the command was accepted. */
export interface SlashResult {
  accepted: boolean;
  /** `help`, `status`, ...; null when the comment is not a command. */
  command: string | null;
  reply: string;
}

const COMMANDS: Record<string, SlashCommand> = {
  'ci-help': {
    usage: '/ci-help',
    help: 'list the commands',
    mutating: false,
    run: async () => helpText(),
  },
  'ci-status': {
    usage: '/ci-status',
    help: 'current phase and recent activities',
    mutating: false,
    run: async ({ store }) => {
      const s = await store.status(10);
      const cur = s.current_phase;
      const lines = [
        cur ? `**Current phase:** ${cur.id} (${cur.name}), ${cur.status}` : '**Current phase:** none set',
        '',
        '| time | activity | message |',
        '|---|---|---|',
      ];
      for (const a of s.activities)
        lines.push(`| ${a.timestamp} | ${a.type} | ${mdCell(String(a.details.message ?? ''))} |`);
      return lines.join('\n');
    },
  },
  'ci-check-phase': {
    usage: '/ci-check-phase',
    help: 'check that the pipeline targets fit the current phase',
    mutating: false,
    run: async ({ store }) => {
      const { phases } = store.loadPhases();
      if (!phases) return 'no phases.json in the status directory';
      const cur = store.readState().state.current_phase;
      if (!cur) return 'no current phase set';
      const rows = phases.phases.flatMap((p) =>
        p.targets.map((t) => {
          const [project, target] = t.split(':');
          const a = checkPhaseAlignment(phases, cur.id, project, target === '*' ? '*' : target);
          return `| ${t} | phase ${p.number} | ${a.aligned ? 'aligned' : 'ahead of the current phase'} |`;
        }),
      );
      return [
        `**Current phase:** ${cur.id} (${cur.status})`,
        '',
        '| target | phase | alignment |',
        '|---|---|---|',
        ...rows,
      ].join('\n');
    },
  },
  'ci-retry-job': {
    usage: '/ci-retry-job <job>',
    help: "re-run a CI job of the PR head's newest workflow run",
    arg: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    mutating: true,
    run: async ({ store, login, issueNumber, rerun }, job) => {
      await store.append('retry_requested', {
        job,
        by: login,
        pr: issueNumber,
        message: `retry of ${job} requested by @${login}`,
      });
      // Without API access (no token, or the PR head unknown) the request is recorded for a person.
      return rerun ? await rerun(job!) : `retry of job \`${job}\` requested`;
    },
  },
  'ci-reset-phase': {
    usage: '/ci-reset-phase <phase>',
    help: 'make a phase (id or number) the current one',
    arg: /^(phase-)?[a-z0-9]+(-[a-z0-9]+)*$/,
    mutating: true,
    run: async ({ store }, ref) => {
      const { phases } = store.loadPhases();
      const phase = phases && findPhase(phases, ref!);
      if (!phase)
        throw new SlashRefusal(
          `unknown phase \`${echo(ref!)}\`${phases ? `: expected one of ${phases.phases.map((p) => p.id).join(', ')}` : ''}`,
        );
      await store.setPhase(phase, 'in_progress', 'reset by a slash command');
      return `current phase: ${phase.id} (${phase.name})`;
    },
  },
  'ci-clear-backoff': {
    usage: '/ci-clear-backoff',
    help: "clear the PR head commit's failure count",
    mutating: true,
    run: async ({ store, commit: given, resolveCommit }) => {
      const commit = given ?? (await resolveCommit?.());
      if (!commit)
        throw new SlashRefusal('the PR head commit is not known (needs GITHUB_TOKEN, or NEXTRUST_PR_HEAD_SHA)');
      const cleared = await clearBackoff(store, commit);
      return cleared.length
        ? `backoff cleared for ${commit.slice(0, 12)}`
        : `commit ${commit.slice(0, 12)} was not in backoff`;
    },
  },
  ...Object.fromEntries(
    (['confirm', 'reject'] as const).map((v): [string, SlashCommand] => [
      `ci-${v}`,
      {
        usage: `/ci-${v} <failure id>`,
        help: `${v} the known-issue diagnosis of a recorded failure (its id is printed under the diagnosis)`,
        arg: /^[0-9a-f]{6,64}$/,
        mutating: true,
        run: async ({ store, login }, id) => {
          try {
            const r = await recordVerdict(store, id!, v === 'confirm' ? 'confirmed' : 'rejected', `@${login}`);
            return `${r.issue}: ${r.precision.confirmed} confirmed, ${r.precision.rejected} rejected (precision ${Math.round((r.precision.precision ?? 0) * 100)} %)`;
          } catch (e) {
            throw new SlashRefusal((e as Error).message);
          }
        },
      },
    ]),
  ),
  'ci-force-review': {
    usage: '/ci-force-review <o3|gemini>',
    help: 'request a design decision (o3, on the last unanswered failure) or a code review (gemini) now',
    arg: /^(o3|gemini)$/,
    mutating: true,
    run: async ({ store, workspaceRoot, env, head }, which) => {
      const { loadAiContext } = await import('../../ai/services');
      const ctx = loadAiContext(store, env);
      if (which === 'gemini') {
        const { requestReview } = await import('../../ai/review');
        return (await requestReview(store, { workspaceRoot, ...ctx, env, head })).summary;
      }
      const { activities } = await store.readActivities();
      const pending = [...activities]
        .reverse()
        .find((a) => a.type === 'escalation_pending' && typeof a.details.log === 'string');
      if (!pending) return 'no unanswered failure to escalate';
      const { requestDesign } = await import('../../ai/design');
      const r = await requestDesign(
        store,
        {
          task: String(pending.details.task),
          cpu: pending.details.cpu as string | undefined,
          logFile: path.join(store.dir, String(pending.details.log)),
        },
        { ...ctx, env },
      );
      return r.summary;
    },
  },
  'ci-usage': {
    usage: '/ci-usage',
    help: 'AI token usage and cost, last 7 days',
    mutating: false,
    run: async ({ store }) => {
      const { formatUsageTable, readUsage, usageReport } = await import('../../ai/usage');
      return '```\n' + formatUsageTable(usageReport((await readUsage(store)).records, 7), 7) + '```';
    },
  },
};

/** A refusal with its reason. */
class SlashRefusal extends Error {}

function helpText(): string {
  return [
    '**nextrust slash commands**',
    '',
    ...Object.values(COMMANDS).map((c) => `- \`${c.usage}\`: ${c.help}${c.mutating ? ' (write access)' : ''}`),
  ].join('\n');
}

/** User input quoted back in a reply, cut short (a reply must stay far below GitHub's 65,536-character limit). */
function echo(s: string): string {
  return s.length > 64 ? s.slice(0, 64) + '…' : s;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 120);
}

/** The parts of an issue_comment payload this needs, checked. */
export interface CommentEvent {
  action: string;
  body: string;
  login: string;
  association: string;
  issueNumber: number;
  isPullRequest: boolean;
  repository: string;
}

/**
 * Reads the fields of a GitHub `issue_comment` webhook payload.
 * @throws Error naming the missing field.
 */
export function parseCommentEvent(raw: unknown): CommentEvent {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each field is checked by need() below
  const o = raw as Record<string, any>;
  const need = (v: unknown, field: string, type: string) => {
    if (typeof v !== type) throw new Error(`event payload: field '${field}': expected a ${type}`);
    return v as never;
  };
  if (typeof o !== 'object' || o === null) throw new Error('event payload: expected a JSON object');
  return {
    action: need(o.action, 'action', 'string'),
    body: need(o.comment?.body ?? null, 'comment.body', 'string'),
    login: need(o.comment?.user?.login, 'comment.user.login', 'string'),
    association: need(o.comment?.author_association, 'comment.author_association', 'string'),
    issueNumber: need(o.issue?.number, 'issue.number', 'number'),
    isPullRequest: !!o.issue?.pull_request,
    repository: need(o.repository?.full_name, 'repository.full_name', 'string'),
  };
}

/** A non-negative number of seconds from `env[name]`, else `fallback` (an unset workflow variable arrives as ''). */
function secondsFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** A login as a file name in the status directory. */
const loginFile = (dir: string, login: string) => path.join(dir, `${login.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);

/**
 * Whether `login` may run commands that change something: the repository permission from `ctx.permissionOf`, cached in
 * `<status dir>/slash-permissions/<login>.json` (`{permission, checked_at}`) for NEXTRUST_SLASH_PERMISSION_TTL_S
 * seconds (default 600). Fails closed.
 * @returns null when allowed, else the reason for the refusal.
 */
async function writeAccessProblem(
  login: string,
  ctx: Omit<SlashContext, 'login' | 'issueNumber'>,
  now: Date,
): Promise<string | null> {
  const file = loginFile(path.join(ctx.store.dir, 'slash-permissions'), login);
  const ttl = secondsFromEnv(ctx.env, 'NEXTRUST_SLASH_PERMISSION_TTL_S', 600);
  let permission: string | undefined;
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { permission?: unknown; checked_at?: unknown };
    const at = Date.parse(String(cached.checked_at));
    if (typeof cached.permission === 'string' && at <= now.getTime() && now.getTime() - at < ttl * 1000)
      permission = cached.permission;
  } catch {
    // not cached, or an unreadable cache entry: ask GitHub
  }
  if (permission === undefined) {
    if (!ctx.permissionOf)
      return `cannot check the write access of @${login} without GITHUB_TOKEN (GitHub's collaborator permission API)`;
    try {
      permission = await ctx.permissionOf(login);
    } catch (e) {
      return `cannot check the write access of @${login}: ${(e as Error).message.split('\n')[0].slice(0, 200)}`;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ permission, checked_at: now.toISOString() }) + '\n');
  }
  return WRITE_PERMISSIONS.includes(permission)
    ? null
    : `needs write access (repository permission of @${login}: ${echo(permission)}; allowed: ${WRITE_PERMISSIONS.join(', ')})`;
}

/**
 * Handles one comment (module doc). Comments that are not commands
 * (no `/ci-` first line, or an edit/delete) are ignored: accepted false,
 * command null.
 */
export async function handleSlashComment(
  event: CommentEvent,
  ctx: Omit<SlashContext, 'login' | 'issueNumber'>,
  now: Date = new Date(),
): Promise<SlashResult> {
  const first = event.body.replace(/^\s+/, '').split(/\r?\n/)[0].trim();
  if (event.action !== 'created' || !event.isPullRequest || !first.startsWith('/ci-'))
    return { accepted: false, command: null, reply: '' };
  const m = /^\/(ci-[a-z-]+)(?:\s+(\S+))?\s*$/.exec(first);
  const refuse = (command: string | null, why: string): SlashResult => ({
    accepted: false,
    command,
    reply: `@${event.login} refused: ${why}`,
  });
  if (!m)
    return refuse(
      first.slice(1).split(/\s/)[0].slice(0, 40),
      'expected `/ci-<command> [argument]` on the first line (see /ci-help)',
    );
  const [, name, arg] = m;
  const cmd = COMMANDS[name];
  if (!cmd) return refuse(echo(name), `unknown command \`/${echo(name)}\` (see /ci-help)`);
  if (cmd.arg && (arg === undefined || !cmd.arg.test(arg)))
    return refuse(name, `usage: \`${cmd.usage}\` (argument must match ${cmd.arg.source})`);
  if (!cmd.arg && arg !== undefined) return refuse(name, `\`/${name}\` takes no argument`);
  if (cmd.mutating && !WRITE_ASSOCIATIONS.includes(event.association)) {
    return refuse(
      name,
      `\`/${name}\` needs write access (author association ${event.association}; allowed: ${WRITE_ASSOCIATIONS.join(', ')})`,
    );
  }
  if (cmd.mutating) {
    const problem = await writeAccessProblem(event.login, ctx, now);
    if (problem) return refuse(name, `\`/${name}\` ${problem}`);
  }
  const full: SlashContext = { ...ctx, login: event.login, issueNumber: event.issueNumber };
  const cooldownFile = loginFile(path.join(ctx.store.dir, 'slash-cooldown'), event.login);
  if (cmd.mutating) {
    const wait = secondsFromEnv(ctx.env, 'NEXTRUST_SLASH_COOLDOWN_S', 30);
    try {
      const last = Date.parse(JSON.parse(fs.readFileSync(cooldownFile, 'utf8')).last);
      const left = Math.ceil((last + wait * 1000 - now.getTime()) / 1000);
      if (left > 0) return refuse(name, `cooldown: wait ${left} s before the next command`);
    } catch {
      // no earlier command
    }
  }
  let reply: string;
  try {
    reply = await cmd.run(full, arg);
  } catch (e) {
    if (e instanceof SlashRefusal) return refuse(name, e.message);
    throw e;
  }
  // Only an accepted command starts the cooldown.
  if (cmd.mutating) {
    fs.mkdirSync(path.dirname(cooldownFile), { recursive: true });
    await writeFileAtomic(cooldownFile, JSON.stringify({ last: now.toISOString() }) + '\n');
  }
  await ctx.store.append('slash_command', {
    command: name,
    ...(arg ? { arg } : {}),
    by: event.login,
    pr: event.issueNumber,
    message: `/${name}${arg ? ' ' + arg : ''} by @${event.login}`,
  });
  return { accepted: true, command: name, reply };
}
