/**
 * Phase review: when a phase completes, the changed files (git diff against
 * the base) go to the review model with the project's review guidelines
 * (GEMINI.md by default, ai.json `review.guidelines`). The review
 * is stored as an artifact (`<statusDir>/reviews/<time>-<phase>.md`) and a
 * `review_completed` activity; a skipped review is a `review_skipped`
 * activity with the reason. The diff is bounded (ai.json
 * `review.max_diff_bytes`; files beyond it are listed by name) and redacted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { StatusStore } from '../pipeline/status-store';
import { runProcess } from '../util/exec';
import { AiCallError, askReviewModel } from './clients';
import type { AiConfig } from './config';
import { callCost, type PricingFile } from './pricing';
import { redactSecrets } from './redact';
import { budgetBlock, readUsage, recordUsage, spendScope } from './usage';

/** What a review request came to. */
export interface ReviewOutcome {
  status: 'completed' | 'skipped' | 'failed';
  summary: string;
  /** The review artifact, when completed. */
  artifact?: string;
  files: string[];
  base: string;
}

/** Options of requestReview. */
export interface ReviewOptions {
  workspaceRoot: string;
  config: AiConfig;
  pricing: PricingFile;
  /** Base ref (default: origin/$GITHUB_BASE_REF, else origin/main, else main). */
  base?: string;
  /** Phase the review is for (default: the current phase). */
  phase?: string;
  /** Head to review (default: HEAD plus the working tree); e.g. a PR head fetched as a ref, never checked out. */
  head?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const r = await runProcess('git', args, { cwd });
  if (r.exitCode !== 0)
    throw new Error(`git ${args.join(' ')}: ${(r.stderr || r.all).trim().split('\n')[0] || `exit ${r.exitCode}`}`);
  return r.stdout;
}

/** The default base ref: origin/$GITHUB_BASE_REF, origin/main or main, whichever exists. */
export async function defaultBase(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [env.GITHUB_BASE_REF ? `origin/${env.GITHUB_BASE_REF}` : '', 'origin/main', 'main'].filter(
    Boolean,
  );
  for (const c of candidates) {
    const r = await runProcess('git', ['rev-parse', '--verify', '--quiet', `${c}^{commit}`], { cwd });
    if (r.exitCode === 0) return c;
  }
  return 'HEAD';
}

/**
 * Changed files and their diff against the merge base of `base` and `head`
 * (default: HEAD with the working tree), the diff cut at `maxBytes`.
 * @throws Error when git fails (not a repository, unknown base).
 */
export async function changesSince(
  cwd: string,
  base: string,
  maxBytes: number,
  head?: string,
): Promise<{ files: string[]; diff: string; truncated: string[] }> {
  const mergeBase = (await git(cwd, ['merge-base', base, head ?? 'HEAD'])).trim();
  const range = head ? [mergeBase, head] : [mergeBase];
  const files = (await git(cwd, ['diff', '--name-only', ...range])).split('\n').filter(Boolean);
  const parts: string[] = [];
  const truncated: string[] = [];
  let size = 0;
  for (const f of files) {
    const d = await git(cwd, ['diff', ...range, '--', f]);
    if (size + Buffer.byteLength(d) > maxBytes) {
      truncated.push(f);
      continue;
    }
    parts.push(d);
    size += Buffer.byteLength(d);
  }
  return { files, diff: parts.join(''), truncated };
}

/**
 * Requests a review (module doc). Never throws for AI or git problems: they
 * come back as `skipped`/`failed` with the reason, recorded as `review_skipped`.
 */
export async function requestReview(store: StatusStore, options: ReviewOptions): Promise<ReviewOutcome> {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const phase = options.phase ?? store.readState().state.current_phase?.id ?? 'none';
  let base = options.base ?? '';
  const done = async (o: ReviewOutcome): Promise<ReviewOutcome> => {
    if (o.status !== 'completed') {
      await store
        .append('review_skipped', { phase, base: o.base, status: o.status, reason: o.summary, message: o.summary })
        .catch(() => undefined);
    }
    return o;
  };
  try {
    base ||= await defaultBase(options.workspaceRoot, env);
    const changes = await changesSince(options.workspaceRoot, base, options.config.review.max_diff_bytes, options.head);
    if (!changes.files.length)
      return done({ status: 'skipped', summary: `review skipped: no changes against ${base}`, files: [], base });
    if (!env.GEMINI_API_KEY)
      return done({
        status: 'skipped',
        summary: 'review skipped: GEMINI_API_KEY is not set',
        files: changes.files,
        base,
      });
    const { records } = await readUsage(store);
    const blocked = budgetBlock(records, options.config.budgets, spendScope(env), now());
    if (blocked) return done({ status: 'skipped', summary: `review skipped: ${blocked}`, files: changes.files, base });
    const guidelinesFile = path.resolve(options.workspaceRoot, options.config.review.guidelines);
    const guidelines = fs.existsSync(guidelinesFile)
      ? fs.readFileSync(guidelinesFile, 'utf8')
      : 'Review the change for correctness, clarity and tests.';
    const user = [
      `Please review the following changes for phase: ${phase} (base ${base}).`,
      '',
      'Changed files:',
      ...changes.files.map((f) => `- ${f}${changes.truncated.includes(f) ? ' (diff omitted: size limit)' : ''}`),
      '',
      '```diff',
      changes.diff,
      '```',
    ].join('\n');
    let answer;
    try {
      answer = await askReviewModel(options.config.review, { system: guidelines, user }, env);
    } catch (e) {
      const why = e instanceof AiCallError ? e.message : redactSecrets((e as Error).message, env);
      return done({ status: 'failed', summary: `review failed: ${why}`, files: changes.files, base });
    }
    const scope = spendScope(env);
    const cost = callCost(options.pricing, answer.model, answer.inputTokens, answer.outputTokens);
    await recordUsage(store, {
      timestamp: now().toISOString(),
      kind: 'review',
      provider: 'gemini',
      model: answer.model,
      phase,
      input_tokens: answer.inputTokens,
      output_tokens: answer.outputTokens,
      latency_ms: answer.latencyMs,
      cost_usd: cost,
      session: scope.session,
      pr: scope.pr,
    });
    const stamp = now().toISOString().replace(/[:.]/g, '-');
    const artifact = path.join(store.dir, 'reviews', `${stamp}-${phase.replace(/[^A-Za-z0-9_-]/g, '_')}.md`);
    const header = `# Review of phase ${phase}\n\n*${answer.model}, base ${base}, ${changes.files.length} file(s), ${answer.inputTokens} + ${answer.outputTokens} tokens*\n\n`;
    await fs.promises.mkdir(path.dirname(artifact), { recursive: true });
    await writeFileAtomic(artifact, header + redactSecrets(answer.text, env) + '\n');
    const rel = path.relative(store.dir, artifact);
    await store.append('review_completed', {
      phase,
      base,
      files: changes.files.length,
      artifact: rel,
      model: answer.model,
      cost_usd: cost,
      message: `review of phase ${phase} by ${answer.model}: ${rel}`,
    });
    return {
      status: 'completed',
      summary: `review of phase ${phase} (${answer.model}): ${rel}`,
      artifact,
      files: changes.files,
      base,
    };
  } catch (e) {
    return done({
      status: 'failed',
      summary: `review failed: ${redactSecrets((e as Error).message, env)}`,
      files: [],
      base: base || '(unknown)',
    });
  }
}
