/**
 * CLI commands of the GitHub integration: slash, github-comment,
 * github-check, record-artifacts. Thin adapters over src/integrations/github.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { UsageError } from '../errors';
import { hashFile, readRegularFile, regularFilesUnder } from '../files';

/** What the GitHub commands use of the CLI context. */
export type GithubCommandContext = Pick<CliContext, 'io' | 'store' | 'workspaceRoot' | 'setExitCode'>;

/** Registers slash, github-comment, github-check and record-artifacts on `program`. */
export function registerGithubCommands(program: Command, deps: GithubCommandContext): void {
  const { io } = deps;

  program
    .command('slash')
    .description(
      'Run a PR slash command from an issue_comment webhook payload (exit 0 accepted or not a command, 1 refused).',
    )
    .option('--event <file>', 'webhook payload (default: $GITHUB_EVENT_PATH)')
    .option('--no-reply', 'print the reply instead of posting it as a PR comment')
    .option('--json', 'print {accepted, command, reply}')
    .action(async (o: { event?: string; reply: boolean; json?: boolean }) => {
      const file = o.event ?? io.env.GITHUB_EVENT_PATH;
      if (!file) throw new UsageError('slash: give --event FILE (or set GITHUB_EVENT_PATH)');
      let raw: unknown;
      try {
        raw = JSON.parse(readRegularFile(file, '--event', io.cwd));
      } catch (e) {
        throw new UsageError(
          `slash: ${(e as Error).message.startsWith('--event ') ? '' : `--event ${file}: `}${(e as Error).message}`,
        );
      }
      const { handleSlashComment, parseCommentEvent } = await import('../../integrations/github/slash');
      let event;
      try {
        event = parseCommentEvent(raw);
      } catch (e) {
        throw new UsageError(`slash: ${file}: ${(e as Error).message}`);
      }
      const store = deps.store();
      // On issue_comment, GITHUB_SHA is the default branch's head: ask the API for the PR head.
      // Looked up only by the commands that need it.
      const commit = io.env.NEXTRUST_PR_HEAD_SHA || undefined;
      let resolveCommit: (() => Promise<string | undefined>) | undefined;
      let rerun: ((job: string) => Promise<string>) | undefined;
      let permissionOf: ((login: string) => Promise<string>) | undefined;
      if (io.env.GITHUB_TOKEN && event.isPullRequest) {
        const gh = await import('../../integrations/github/github-api');
        const client = gh.githubClient(io.env);
        const repo = gh.splitRepo(event.repository);
        resolveCommit = () => gh.pullRequestHead(client, { ...repo, pr: event.issueNumber }).catch(() => undefined);
        rerun = async (job) => {
          const sha = commit ?? (await resolveCommit!());
          return sha
            ? gh.rerunJob(client, repo, sha, job)
            : `retry of job \`${job}\` requested (the PR head commit could not be read)`;
        };
        permissionOf = (login) => gh.repositoryPermission(client, repo, login);
      }
      // The PR head fetched as data by the workflow (refs/remotes/origin/pr-head), for /ci-force-review gemini.
      const head = io.env.NEXTRUST_PR_HEAD_REF || undefined;
      const result = await handleSlashComment(event, {
        store,
        workspaceRoot: deps.workspaceRoot,
        env: io.env,
        commit,
        resolveCommit,
        rerun,
        head,
        permissionOf,
      });
      if (o.json) io.out(JSON.stringify(result, null, 2) + '\n');
      else if (result.reply) io.out(result.reply + '\n');
      if (result.command !== null && o.reply && io.env.GITHUB_TOKEN) {
        const { githubClient, postComment, splitRepo } = await import('../../integrations/github/github-api');
        await postComment(
          githubClient(io.env),
          { ...splitRepo(event.repository), issue: event.issueNumber },
          result.reply,
        );
      }
      if (result.command !== null && !result.accepted) deps.setExitCode(1);
    });

  program
    .command('github-comment')
    .description('Post or update the pipeline status comment on a pull request (GITHUB_TOKEN; GITHUB_API_URL).')
    .requiredOption('--pr <number>', 'pull request number')
    .option('--repo <owner/name>', 'repository (default: $GITHUB_REPOSITORY)')
    .option('--body-file <file>', 'Markdown body (default: the pipeline status)')
    .option('--json', 'print {id, created, url}')
    .action(async (o: { pr: string; repo?: string; bodyFile?: string; json?: boolean }) => {
      if (!/^[0-9]+$/.test(o.pr)) throw new UsageError('github-comment: --pr must be a number');
      const repo = o.repo ?? io.env.GITHUB_REPOSITORY;
      if (!repo) throw new UsageError('github-comment: give --repo owner/name (or set GITHUB_REPOSITORY)');
      const { githubClient, splitRepo, upsertComment } = await import('../../integrations/github/github-api');
      const body = o.bodyFile
        ? readRegularFile(o.bodyFile, '--body-file', io.cwd)
        : fs.existsSync(deps.store().file('pipeline-log.md'))
          ? fs.readFileSync(deps.store().file('pipeline-log.md'), 'utf8')
          : 'No pipeline status yet.';
      const { redactSecrets } = await import('../../ai/redact');
      const r = await upsertComment(
        githubClient(io.env),
        { ...splitRepo(repo), issue: Number(o.pr) },
        redactSecrets(body, io.env),
      );
      if (o.json) io.out(JSON.stringify(r) + '\n');
      else io.out(`${r.created ? 'created' : 'updated'} ${r.url}\n`);
    });

  program
    .command('github-check')
    .description(
      "Create a completed check run whose conclusion is the job's real outcome (success, failure, cancelled, skipped; else neutral).",
    )
    .requiredOption('--name <name>', 'check name, e.g. "NeXTRust Phase: rust-target (m68040)"')
    .requiredOption('--job-status <status>', 'the job outcome: ${{ job.status }}')
    .option('--sha <sha>', 'commit (default: $GITHUB_SHA)')
    .option('--repo <owner/name>', 'repository (default: $GITHUB_REPOSITORY)')
    .option('--summary <text>', 'summary text (default: the current phase)')
    .action(async (o: { name: string; jobStatus: string; sha?: string; repo?: string; summary?: string }) => {
      const sha = o.sha ?? io.env.GITHUB_SHA;
      const repo = o.repo ?? io.env.GITHUB_REPOSITORY;
      if (!sha || !repo)
        throw new UsageError('github-check: needs --sha and --repo (or GITHUB_SHA and GITHUB_REPOSITORY)');
      const { createCheckRun, githubClient, splitRepo } = await import('../../integrations/github/github-api');
      const cur = deps.store().readState().state.current_phase;
      const summary = o.summary ?? (cur ? `Current phase: ${cur.id} (${cur.status})` : 'No phase set');
      const r = await createCheckRun(githubClient(io.env), splitRepo(repo), {
        name: o.name,
        headSha: sha,
        jobStatus: o.jobStatus,
        title: `${o.name}: ${o.jobStatus}`,
        summary,
      });
      io.out(`check run ${r.id}: ${r.conclusion}\n`);
    });

  program
    .command('record-artifacts')
    .description('Record the sha256 of build artifacts in the status log (artifact_hash activities).')
    .argument('<paths...>', 'files or folders')
    .option('--matrix <name>', 'matrix entry, e.g. m68040 (default: $CPU_VARIANT)')
    .option('--json', 'print [{file, sha256, bytes}]')
    .action(async (paths: string[], o: { matrix?: string; json?: boolean }) => {
      let files: string[];
      try {
        files = regularFilesUnder(paths, io.cwd);
      } catch (e) {
        throw new UsageError(`record-artifacts: ${(e as Error).message}`);
      }
      // Every file is hashed before anything is recorded: a failure leaves the status log as it was.
      const out: { file: string; sha256: string; bytes: number }[] = [];
      for (const f of files) {
        let h: { sha256: string; bytes: number };
        try {
          h = await hashFile(f);
        } catch (e) {
          throw new UsageError(`record-artifacts: ${path.relative(io.cwd, f) || f}: ${(e as Error).message}`);
        }
        out.push({ file: path.relative(deps.workspaceRoot, f), ...h });
      }
      const store = deps.store();
      const matrix = o.matrix ?? io.env.CPU_VARIANT ?? null;
      for (const a of out) {
        await store.append('artifact_hash', {
          file: a.file,
          hash: a.sha256,
          bytes: a.bytes,
          matrix,
          message: `${a.file} sha256 ${a.sha256.slice(0, 16)}`,
        });
      }
      if (o.json) io.out(JSON.stringify(out, null, 2) + '\n');
      else io.out(`recorded ${out.length} artifact hash(es)\n`);
    });
}
