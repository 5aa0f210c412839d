/**
 * The GitHub REST calls the pipeline makes, through @octokit/rest: the PR
 * status comment (created once, then updated in place, found by a hidden
 * marker), replies to slash commands, and check runs whose conclusion comes
 * from the job's real outcome (never a fixed "success" for every completed
 * job, which would hide failures; check runs:
 * https://docs.github.com/en/rest/checks/runs).
 *
 * Token: GITHUB_TOKEN; API base: GITHUB_API_URL (set by GitHub Actions; also
 * GitHub Enterprise), default https://api.github.com.
 */
import { Octokit } from '@octokit/rest';

/** Marker that identifies the pipeline's own status comment. */
export const STATUS_COMMENT_MARKER = '<!-- nextrust-status -->';

/** `owner/name` split. */
export function splitRepo(full: string): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full);
  if (!m) throw new Error(`repository '${full}': expected owner/name`);
  return { owner: m[1], repo: m[2] };
}

/** Time limit of one GitHub API request, ms, unless NEXTRUST_GITHUB_TIMEOUT_MS says otherwise. */
export const GITHUB_REQUEST_TIMEOUT_MS = 30_000;

/**
 * An authenticated client whose every request is abandoned after the time limit (GITHUB_REQUEST_TIMEOUT_MS or
 * NEXTRUST_GITHUB_TIMEOUT_MS), through the fetch that Octokit takes as `request.fetch`
 * (https://github.com/octokit/octokit.js#fetch-missing).
 * @throws Error when GITHUB_TOKEN is not set, or the time limit is not a positive number.
 */
export function githubClient(env: NodeJS.ProcessEnv = process.env): Octokit {
  if (!env.GITHUB_TOKEN)
    throw new Error('GITHUB_TOKEN is not set (GitHub Actions provides it as secrets.GITHUB_TOKEN)');
  const timeoutMs = env.NEXTRUST_GITHUB_TIMEOUT_MS ? Number(env.NEXTRUST_GITHUB_TIMEOUT_MS) : GITHUB_REQUEST_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new Error(
      `NEXTRUST_GITHUB_TIMEOUT_MS '${env.NEXTRUST_GITHUB_TIMEOUT_MS}': expected a positive number of milliseconds`,
    );
  const timedFetch: typeof fetch = async (url, init) => {
    const limit = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, limit]) : limit });
    } catch (e) {
      if (limit.aborted)
        throw new Error(`GitHub API request timed out after ${timeoutMs} ms: ${init?.method ?? 'GET'} ${String(url)}`, {
          cause: e,
        });
      throw e;
    }
  };
  return new Octokit({
    auth: env.GITHUB_TOKEN,
    baseUrl: env.GITHUB_API_URL || 'https://api.github.com',
    userAgent: 'nextrust-ci',
    request: { fetch: timedFetch },
  });
}

/**
 * Creates the PR comment carrying `marker`, or updates it when it exists.
 * @returns the comment's id and whether it was created.
 */
export async function upsertComment(
  client: Octokit,
  target: { owner: string; repo: string; issue: number },
  body: string,
  marker: string = STATUS_COMMENT_MARKER,
): Promise<{ id: number; created: boolean; url: string }> {
  const text = body.startsWith(marker) ? body : `${marker}\n${body}`;
  const comments = await client.paginate(client.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    per_page: 100,
  });
  // Only a bot's comment that starts with the marker: a person quoting the marker must not
  // have their comment overwritten (or be able to fake the status by editing it).
  const mine = comments.find((c) => c.user?.type === 'Bot' && (c.body ?? '').startsWith(marker));
  if (mine) {
    const r = await client.rest.issues.updateComment({
      owner: target.owner,
      repo: target.repo,
      comment_id: mine.id,
      body: text,
    });
    return { id: r.data.id, created: false, url: r.data.html_url };
  }
  const r = await client.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    body: text,
  });
  return { id: r.data.id, created: true, url: r.data.html_url };
}

/** Posts a new comment (slash command replies). */
export async function postComment(
  client: Octokit,
  target: { owner: string; repo: string; issue: number },
  body: string,
): Promise<{ id: number; url: string }> {
  const r = await client.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    body,
  });
  return { id: r.data.id, url: r.data.html_url };
}

/** Check-run conclusions (GitHub REST "Create a check run"). */
export type CheckConclusion =
  'success' | 'failure' | 'cancelled' | 'skipped' | 'neutral' | 'timed_out' | 'action_required';

/**
 * Maps a GitHub Actions `job.status` (success, failure, cancelled) or a step
 * outcome (success, failure, cancelled, skipped) to a check conclusion;
 * anything else is neutral, never success.
 */
export function conclusionFromJobStatus(status: string): CheckConclusion {
  const s = status.trim().toLowerCase();
  if (s === 'success' || s === 'failure' || s === 'cancelled' || s === 'skipped') return s;
  if (s === 'timed_out' || s === 'timeout') return 'timed_out';
  return 'neutral';
}

/** Creates a completed check run on `headSha` with the mapped conclusion. */
export async function createCheckRun(
  client: Octokit,
  target: { owner: string; repo: string },
  run: { name: string; headSha: string; jobStatus: string; title: string; summary: string },
): Promise<{ id: number; conclusion: CheckConclusion }> {
  const conclusion = conclusionFromJobStatus(run.jobStatus);
  const r = await client.rest.checks.create({
    owner: target.owner,
    repo: target.repo,
    name: run.name,
    head_sha: run.headSha,
    status: 'completed',
    conclusion,
    output: { title: run.title, summary: run.summary.slice(0, 65_000) },
  });
  return { id: r.data.id, conclusion };
}

/**
 * The repository permission of `login`: `admin`, `write`, `read` or `none` (GitHub maps maintain to write and triage to
 * read), from "Get repository permissions for a user"
 * (https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user; needs the
 * token's metadata read permission, which GitHub Actions' GITHUB_TOKEN always has). A user GitHub does not know: `none`.
 * @throws Error (Octokit's RequestError) on any other API failure, or the request's time limit.
 */
export async function repositoryPermission(
  client: Octokit,
  target: { owner: string; repo: string },
  login: string,
): Promise<string> {
  try {
    const r = await client.rest.repos.getCollaboratorPermissionLevel({
      owner: target.owner,
      repo: target.repo,
      username: login,
    });
    return r.data.permission;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return 'none';
    throw e;
  }
}

/** The head commit of a pull request. */
export async function pullRequestHead(
  client: Octokit,
  target: { owner: string; repo: string; pr: number },
): Promise<string> {
  const r = await client.rest.pulls.get({ owner: target.owner, repo: target.repo, pull_number: target.pr });
  return r.data.head.sha;
}

/**
 * Re-runs the CI job named `jobName` (or `name (matrix)`) of the newest workflow
 * run of `headSha` (GitHub REST "Re-run a job from a workflow run").
 * @returns what was done, for the reply.
 */
export async function rerunJob(
  client: Octokit,
  target: { owner: string; repo: string },
  headSha: string,
  jobName: string,
): Promise<string> {
  const runs = await client.rest.actions.listWorkflowRunsForRepo({
    owner: target.owner,
    repo: target.repo,
    head_sha: headSha,
    per_page: 20,
  });
  for (const run of runs.data.workflow_runs) {
    const jobs = await client.paginate(client.rest.actions.listJobsForWorkflowRun, {
      owner: target.owner,
      repo: target.repo,
      run_id: run.id,
      per_page: 100,
    });
    const job = jobs.find(
      (j) => j.name === jobName || j.name.startsWith(`${jobName} (`) || j.name.endsWith(`(${jobName})`),
    );
    if (job) {
      await client.rest.actions.reRunJobForWorkflowRun({ owner: target.owner, repo: target.repo, job_id: job.id });
      return `re-running job \`${job.name}\` of run ${run.id}`;
    }
  }
  return `no job named \`${jobName}\` in the workflow runs of ${headSha.slice(0, 12)}`;
}
