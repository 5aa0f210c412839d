/**
 * Design escalation: an unknown failure goes to the design model (OpenAI o3
 * by default, ai.json `design.model`), and the answer is recorded in the
 * status log as a `design_decision`. The shell design this replaced grepped
 * known-issues.json with the raw error (false positives), built its JSON
 * request by string interpolation (broken by quotes in the error), sent the
 * whole error, and paid again for every repeat; this avoids all four.
 *
 * Here: the request carries the phase, CPU, command, a bounded excerpt of the
 * log around the first error line, and the prior attempts at the same error;
 * answers are cached by a hash of the normalised error line and the three
 * lines after it (paths, numbers, addresses and quote styles removed), so the same failure never costs
 * twice; a confirmed answer can be promoted into known-issues.json
 * (promoteDesign), so the database learns.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import {
  KNOWN_ISSUES_FILE,
  knownIssueSchema,
  knownIssuesFileSchema,
  linePatternSchema,
  type KnownIssue,
} from '../pipeline/known-issues';
import type { StatusStore } from '../pipeline/status-store';
import { readValidatedJson } from '../pipeline/validated-file';
import { AiCallError, askDesignModel, type ModelAnswer } from './clients';
import type { AiConfig } from './config';
import { callCost, type PricingFile } from './pricing';
import { redactSecrets } from './redact';
import { budgetBlock, readUsage, recordUsage, spendScope } from './usage';

/** What starts an error, in the order tools print them. */
const ERROR_WORDS =
  '(error(\\[E[0-9]+\\])?:|fatal( error)?:|LLVM ERROR|Cannot select|undefined reference|panicked at|Illegal instruction|unhandled CPU exception|Segmentation fault|uncaught target signal|FAIL |assertion failed)';
/** Lines that start an error. */
const ERROR_LINE = new RegExp(`(^|\\s)${ERROR_WORDS}`, 'i');
/** The same, inside a long line read in pieces: past the line's start, the match must follow a blank (a piece starts mid-line). */
const ERROR_INSIDE = new RegExp(`\\s${ERROR_WORDS}`, 'i');

/**
 * Most characters of one log line kept: for the excerpt, the error text and the cache key. A longer line (a
 * progress bar redrawn with `\r`, a minified JSON blob) is kept as its first LINE_KEEP characters, or, when its
 * first error match lies beyond them, as the LINE_KEEP characters from just before that match; the cut is said
 * (`[… N characters cut]`). Reading and matching the whole line stays linear; everything after works on bounded text.
 */
export const LINE_KEEP = 4_096;
/** Characters kept before an error match found beyond LINE_KEEP. */
const ERROR_LEAD = 200;
/** Characters of a line's previous piece searched again with the next (a match across the piece boundary). */
const OVERLAP = 256;
/** Read size. */
const CHUNK = 64 * 1024;
/** Characters of a numbered excerpt line shown (after redaction: a secret is never cut in two before it is redacted). */
const SHOWN = 400;

/** The failure a design request is about. */
export interface DesignInput {
  /** What failed (`project:target:configuration`, or a command). */
  task: string;
  phase?: string;
  cpu?: string;
  command?: string;
  /** The failure's log (streamed). */
  logFile: string;
}

/** The excerpt around the first error line. */
export interface LogExcerpt {
  /** 1-based line number of the first error line (null: none found; the excerpt is the log's tail). */
  errorLine: number | null;
  /** The first error line itself. */
  errorText: string;
  /** The error line and the (up to) 3 lines after it: what the cache key is made of. */
  errorWindow: string;
  /** Lines around it, `N: text`, bounded by ai.json `excerpt`. */
  text: string;
}

/** The request sent to the design model (after redaction). */
export interface DesignRequest {
  task: string;
  phase: string | null;
  cpu: string | null;
  command: string | null;
  error: string;
  error_hash: string;
  excerpt: string;
  prior_attempts: { timestamp: string; summary: string }[];
}

/** The answer the design model must give (validated; anything else is garbage). */
export const designAnswerSchema = z.object({
  summary: z.string().min(1).max(2_000),
  root_cause: z.string().min(1).max(4_000),
  fix: z.object({ explanation: z.string().min(1).max(4_000), command: z.string().min(1).max(1_000).optional() }),
  confidence: z.number().min(0).max(1),
  /** A known-issue entry proposal, for promotion. */
  known_issue: z
    .object({
      id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
      title: z.string().min(1).max(200),
      category: knownIssueSchema.shape.category,
      error_patterns: z.array(z.string().min(3)).min(1).max(6),
      context_patterns: z.array(z.string().min(3)).max(6).default([]),
    })
    .optional(),
});
/** A validated design answer. */
export type DesignAnswer = z.output<typeof designAnswerSchema>;

/** A cached design decision: `<statusDir>/ai-cache/design/<hash>.json`. */
export interface CachedDesign {
  error_hash: string;
  request: DesignRequest;
  answer: DesignAnswer;
  model: string;
  answered_at: string;
}

/** What a design request came to. */
export interface DesignOutcome {
  status: 'answered' | 'cached' | 'skipped' | 'failed';
  /** One line for the terminal. */
  summary: string;
  errorHash: string;
  answer?: DesignAnswer;
  request?: DesignRequest;
}

/**
 * The normalised form of an error line: paths, hex, numbers, quote styles and
 * whitespace made uniform, so that the same failure in another checkout, at
 * another line or address, has the same hash.
 */
export function normaliseError(line: string): string {
  return line
    .replace(/[‘’`´]/g, "'")
    .replace(/(?:[A-Za-z]:)?(?:\/[^\s'":()]+)+/g, '<path>')
    .replace(/0x[0-9a-fA-F]+/g, '<hex>')
    .replace(/\b[0-9a-f]{12,}\b/g, '<hash>')
    .replace(/[0-9]+/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** sha256 (first 16 hex digits) of the normalised error. */
export function errorHash(line: string): string {
  return createHash('sha256').update(normaliseError(line)).digest('hex').slice(0, 16);
}

/** One line of a log as read by forEachBoundedLine. */
interface BoundedLine {
  /** The line, at most LINE_KEEP characters of it plus the cut notes. */
  text: string;
  /** Whether ERROR_LINE matches somewhere in the whole line. */
  isError: boolean;
}

/** Where a cut may fall: after a blank or a delimiter, so that a token is kept whole or not at all. */
const CUT_AT = /[\s"'`,;()[\]{}<>|]/;

/** The last index ≤ `at` (and within 256 characters of it) after which `s` may be cut, else `at`. */
function cutBefore(s: string, at: number): number {
  for (let i = at; i > 0 && i > at - 256; i--) if (CUT_AT.test(s[i - 1])) return i;
  return at;
}

/** The first index (within 256 characters of the start) after a delimiter, from which `s`, a piece from inside a line, may start; else 0. */
function cutAfter(s: string): number {
  for (let i = 1; i < s.length && i < 256; i++) if (CUT_AT.test(s[i - 1])) return i;
  return 0;
}

/**
 * Calls `fn` for each non-blank line of a file, as forEachLine does (same 1-based numbers, a `\r` kept), streaming
 * 64 KiB at a time, but never holding more than about LINE_KEEP + 64 KiB characters of a line, whatever its length:
 * a line of 100 MB costs one pass over it (BoundedLine, LINE_KEEP).
 */
async function forEachBoundedLine(file: string, fn: (line: BoundedLine, lineNo: number) => void): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  const decoder = new StringDecoder('utf8');
  let lineNo = 0;
  // The line being read.
  let head = '';
  let length = 0;
  let blank = true;
  let errorAt = -1;
  let around = '';
  let aroundStart = 0;
  let tail = '';
  const feed = (piece: string) => {
    if (!piece) return;
    if (head.length < LINE_KEEP) head += piece.slice(0, LINE_KEEP + 1 - head.length);
    if (blank && /\S/.test(piece)) blank = false;
    if (errorAt < 0) {
      // While `tail` still holds the whole line so far, `hay` starts where the line starts (`^` applies).
      const hay = tail + piece;
      const m = (length === tail.length ? ERROR_LINE : ERROR_INSIDE).exec(hay);
      if (m) {
        errorAt = length - tail.length + m.index;
        if (errorAt + ERROR_LEAD > LINE_KEEP) {
          const from = Math.max(0, m.index - ERROR_LEAD);
          aroundStart = length - tail.length + from;
          around = hay.slice(from, from + LINE_KEEP + 1);
        }
      }
    } else if (around && around.length <= LINE_KEEP) {
      around += piece.slice(0, LINE_KEEP + 1 - around.length);
    }
    tail = piece.length >= OVERLAP ? piece.slice(-OVERLAP) : (tail + piece).slice(-OVERLAP);
    length += piece.length;
  };
  const finish = (complete: boolean) => {
    if (complete) lineNo++;
    if (!blank) fn({ text: boundedText(), isError: errorAt >= 0 }, complete ? lineNo : lineNo + 1);
    head = '';
    length = 0;
    blank = true;
    errorAt = -1;
    around = '';
    tail = '';
  };
  const boundedText = (): string => {
    if (length <= LINE_KEEP) return head;
    if (around) {
      const from = aroundStart === 0 ? 0 : cutAfter(around);
      const to = around.length > LINE_KEEP ? cutBefore(around, LINE_KEEP) : around.length;
      const rest = length - aroundStart - to;
      return `[… ${aroundStart + from} characters cut] ${around.slice(from, to)}${rest > 0 ? ` [… ${rest} characters cut]` : ''}`;
    }
    const to = cutBefore(head, LINE_KEEP);
    return `${head.slice(0, to)} [… ${length - to} characters cut]`;
  };
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      const chunk = decoder.write(buf.subarray(0, bytesRead));
      let pos = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', pos)) {
        feed(chunk.slice(pos, nl));
        finish(true);
        pos = nl + 1;
      }
      feed(chunk.slice(pos));
    }
    feed(decoder.end());
    if (length) finish(false);
  } finally {
    await handle.close();
  }
}

/**
 * Extracts the excerpt around the first error line, streaming the log in one pass of bounded memory (lines longer
 * than LINE_KEEP are cut, saying so). When `redact` is given, the excerpt's lines are redacted together (a key's
 * lines are recognised as a run) before each is shortened to 400 characters and the whole to `maxBytes`, so that
 * no cut leaves half a secret that no longer looks like one.
 * @param contextLines lines kept before and after; @param maxBytes bound of the excerpt;
 * @param redact applied to the numbered lines before the cuts (default none).
 */
export async function extractExcerpt(
  logFile: string,
  contextLines: number,
  maxBytes: number,
  redact: (text: string) => string = (t) => t,
): Promise<LogExcerpt> {
  const before: string[] = [];
  const after: string[] = [];
  const window: string[] = [];
  let errorLine: number | null = null;
  let errorText = '';
  await forEachBoundedLine(logFile, ({ text, isError }, line) => {
    const numbered = `${line}: ${text}`;
    if (errorLine === null) {
      if (isError) {
        errorLine = line;
        errorText = text.trim();
        window.push(text);
        before.push(numbered);
        return;
      }
      before.push(numbered);
      if (before.length > contextLines) before.shift();
    } else {
      if (window.length < 4) window.push(text);
      if (after.length < contextLines) after.push(numbered);
    }
  });
  const shown = (l: string) => {
    const prefix = /^[0-9]+: /.exec(l)?.[0].length ?? 0;
    return l.length > prefix + SHOWN ? l.slice(0, prefix + SHOWN) + '…' : l;
  };
  // No error line: the last line, as shown (so the cache key is what it was when lines were cut as read).
  if (errorLine === null) errorText = shown(before.at(-1) ?? '').replace(/^[0-9]+: /, '');
  let text = redact([...before, ...after].join('\n'))
    .split('\n')
    .map(shown)
    .join('\n');
  if (Buffer.byteLength(text) > maxBytes) text = Buffer.from(text).subarray(0, maxBytes).toString('utf8') + '\n…';
  return { errorLine, errorText, errorWindow: window.length ? window.join('\n') : errorText, text };
}

function cacheFile(store: StatusStore, hash: string): string {
  return path.join(store.dir, 'ai-cache', 'design', `${hash}.json`);
}

/** Reads a cached decision, or undefined (an unreadable cache entry is ignored, not fatal). */
export function readCachedDesign(store: StatusStore, hash: string): CachedDesign | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(cacheFile(store, hash), 'utf8')) as CachedDesign;
    designAnswerSchema.parse(c.answer);
    return c;
  } catch {
    return undefined;
  }
}

/** Earlier design decisions about the same error, from the status log (newest last, at most 5). */
async function priorAttempts(store: StatusStore, hash: string): Promise<{ timestamp: string; summary: string }[]> {
  const { activities } = await store.readActivities();
  return activities
    .filter((a) => a.type === 'design_decision' && a.details.error_hash === hash)
    .map((a) => ({ timestamp: a.timestamp, summary: String(a.details.summary ?? '') }))
    .slice(-5);
}

const SYSTEM_PROMPT = `You are the design reviewer of NeXTRust, a build pipeline that cross-compiles Rust for NeXTSTEP on the Motorola 68k (LLVM's M68k backend, rustc with -Zbuild-std, spinlock __sync_* atomics, qemu-m68k).
A pipeline step failed with an error no known issue explains. Decide the most likely root cause and the fix.
Answer with one JSON object, no prose around it:
{"summary": one sentence, "root_cause": text, "fix": {"explanation": text, "command": optional shell command},
 "confidence": number 0..1,
 "known_issue": optional {"id": kebab-case, "title": text, "category": one of linker|toolchain|build-std|network|target-spec|codegen|emulator,
   "error_patterns": [POSIX ERE regular expressions matching the characteristic log line, no paths or numbers], "context_patterns": [...]}}`;

/** Options of requestDesign. */
export interface DesignOptions {
  config: AiConfig;
  pricing: PricingFile;
  env?: NodeJS.ProcessEnv;
  /** Ask again even when a cached answer exists. */
  force?: boolean;
  now?: () => Date;
}

/**
 * Escalates one failure to the design model (module doc). Never throws for
 * AI problems: a missing key, a reached budget, a failed or garbage answer
 * come back as `skipped`/`failed` with the reason; the decision (or the
 * cached one) is recorded as a `design_decision` activity.
 * @throws Error only when the log cannot be read.
 */
export async function requestDesign(
  store: StatusStore,
  input: DesignInput,
  options: DesignOptions,
): Promise<DesignOutcome> {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const excerpt = await extractExcerpt(
    input.logFile,
    options.config.excerpt.context_lines,
    options.config.excerpt.max_bytes,
    (t) => redactSecrets(t, env),
  );
  // The same failure: the same error line and the lines right after it (rustc's location and
  // code snippet), normalised; not just the error line, which many failures share.
  const hash = errorHash(excerpt.errorWindow);
  const cached = options.force ? undefined : readCachedDesign(store, hash);
  if (cached) {
    await store.append('design_decision', {
      task: input.task,
      error_hash: hash,
      cached: true,
      model: cached.model,
      summary: cached.answer.summary,
      fix: cached.answer.fix.explanation,
      message: `design decision (cached, no cost) for ${input.task}: ${cached.answer.summary}`,
    });
    return {
      status: 'cached',
      summary: `design decision (cached ${hash}): ${cached.answer.summary}`,
      errorHash: hash,
      answer: cached.answer,
      request: cached.request,
    };
  }
  const request: DesignRequest = {
    task: input.task,
    phase: input.phase ?? null,
    cpu: input.cpu ?? null,
    command: input.command ? redactSecrets(input.command, env) : null,
    error: redactSecrets(excerpt.errorText, env),
    error_hash: hash,
    excerpt: redactSecrets(excerpt.text, env),
    prior_attempts: await priorAttempts(store, hash),
  };
  const skip = (reason: string): DesignOutcome => ({
    status: 'skipped',
    summary: `design escalation skipped: ${reason}`,
    errorHash: hash,
    request,
  });
  if (!env.OPENAI_API_KEY)
    return skip('OPENAI_API_KEY is not set (the failure stays pending for `nextrust request-design`)');
  const { records } = await readUsage(store);
  const blocked = budgetBlock(records, options.config.budgets, spendScope(env), now());
  if (blocked) return skip(blocked);

  let answer: ModelAnswer;
  try {
    answer = await askDesignModel(
      options.config.design,
      { system: SYSTEM_PROMPT, user: JSON.stringify(request, null, 2) },
      env,
    );
  } catch (e) {
    const why = e instanceof AiCallError ? e.message : redactSecrets((e as Error).message, env);
    return { status: 'failed', summary: `design escalation failed: ${why}`, errorHash: hash, request };
  }
  const scope = spendScope(env);
  await recordUsage(store, {
    timestamp: now().toISOString(),
    kind: 'design',
    provider: 'openai',
    model: answer.model,
    phase: input.phase ?? null,
    input_tokens: answer.inputTokens,
    output_tokens: answer.outputTokens,
    latency_ms: answer.latencyMs,
    cost_usd: callCost(options.pricing, answer.model, answer.inputTokens, answer.outputTokens),
    session: scope.session,
    pr: scope.pr,
  });
  let parsed: DesignAnswer;
  try {
    parsed = designAnswerSchema.parse(JSON.parse(answer.text));
  } catch (e) {
    const why = e instanceof SyntaxError ? 'not JSON' : 'not the expected fields';
    return {
      status: 'failed',
      summary: `design escalation failed: the model's answer was ${why} (ignored)`,
      errorHash: hash,
      request,
    };
  }
  parsed = redactDeepAnswer(parsed, env);
  const entry: CachedDesign = {
    error_hash: hash,
    request,
    answer: parsed,
    model: answer.model,
    answered_at: now().toISOString(),
  };
  await fs.promises.mkdir(path.dirname(cacheFile(store, hash)), { recursive: true });
  await writeFileAtomic(cacheFile(store, hash), JSON.stringify(entry, null, 2) + '\n');
  await store.append('design_decision', {
    task: input.task,
    ...(input.phase ? { phase_of_task: input.phase } : {}),
    ...(input.cpu ? { cpu: input.cpu } : {}),
    error_hash: hash,
    error: request.error,
    cached: false,
    model: answer.model,
    confidence: parsed.confidence,
    summary: parsed.summary,
    fix: parsed.fix.explanation,
    message: `design decision for ${input.task}: ${parsed.summary}`,
  });
  return {
    status: 'answered',
    summary: `design decision (${answer.model}, ${hash}): ${parsed.summary}`,
    errorHash: hash,
    answer: parsed,
    request,
  };
}

function redactDeepAnswer(a: DesignAnswer, env: NodeJS.ProcessEnv): DesignAnswer {
  return JSON.parse(redactSecrets(JSON.stringify(a), env)) as DesignAnswer;
}

/** Options of promoteDesign. */
export interface PromoteOptions {
  /** Override the proposed id. */
  id?: string;
  /** Override the proposed error patterns. */
  errorPatterns?: string[];
  now?: Date;
  /**
   * Keep the failure's (redacted) excerpt as a fixture log: `<dir>/<id>.log`, listed in `<dir>/diagnoses.json`
   * (`{expect: <id>}`), and named in the entry's references by its path from `workspaceRoot`. Without it the entry
   * has no reference (the `known_issue_promoted` activity keeps the decision's hash).
   */
  fixtures?: { dir: string; workspaceRoot: string };
}

/**
 * Promotes a cached design decision into known-issues.json: builds the entry
 * from the answer's `known_issue` proposal, validates it, checks that its
 * error patterns match the failure's own excerpt, and writes the database
 * atomically (its previous content stays the last good copy); with
 * `options.fixtures`, the excerpt becomes the entry's fixture log.
 * @returns the new entry.
 * @throws Error naming what is missing or wrong (no cached decision, no
 *   proposal, invalid patterns, patterns that miss the failure, a duplicate id,
 *   an invalid database).
 */
export async function promoteDesign(
  store: StatusStore,
  hash: string,
  options: PromoteOptions = {},
): Promise<KnownIssue> {
  const cached = readCachedDesign(store, hash);
  if (!cached) throw new Error(`no cached design decision ${hash} in ${path.join(store.dir, 'ai-cache', 'design')}`);
  const proposal = cached.answer.known_issue;
  if (!proposal && !(options.id && options.errorPatterns?.length)) {
    throw new Error(`design decision ${hash} proposes no known-issue entry: give --id and --pattern`);
  }
  const errorPatterns = options.errorPatterns?.length ? options.errorPatterns : proposal!.error_patterns;
  for (const [i, p] of errorPatterns.entries()) {
    const r = linePatternSchema.safeParse(p);
    if (!r.success) throw new Error(`error pattern ${i + 1} '${p}': ${r.error.issues[0].message}`);
  }
  const lines = cached.request.excerpt.split('\n').map((l) => l.replace(/^[0-9]+: /, ''));
  const missing = errorPatterns.filter((p) => !lines.some((l) => new RegExp(p).test(l)));
  if (missing.length) {
    throw new Error(
      `error pattern(s) ${missing.map((p) => `'${p}'`).join(', ')} match nothing in the failure's log excerpt (${cached.request.error}); give --pattern`,
    );
  }
  const day = (options.now ?? new Date()).toISOString().slice(0, 10);
  const id = options.id ?? proposal!.id;
  const fixture = options.fixtures ? path.join(options.fixtures.dir, `${id}.log`) : null;
  if (fixture && fs.existsSync(fixture)) throw new Error(`${fixture} exists already: give another --id`);
  const entry = knownIssueSchema.parse({
    id,
    title: proposal?.title ?? cached.answer.summary.slice(0, 200),
    phase: cached.request.phase ?? 'rust-target',
    category: proposal?.category ?? 'toolchain',
    cpu_variants: [],
    error_patterns: errorPatterns,
    context_patterns: proposal?.context_patterns ?? [],
    description: cached.answer.root_cause,
    fix: cached.answer.fix,
    // A promoted answer is confirmed by a person: at least 0.6 (above the 0.5 match threshold), at most 0.9.
    confidence: Math.min(0.9, Math.max(0.6, cached.answer.confidence)),
    metadata: {
      first_seen: cached.answered_at.slice(0, 10) || day,
      occurrences: 1,
      last_fix_success: null,
      references: fixture ? [path.relative(options.fixtures!.workspaceRoot, fixture)] : [],
    },
  });
  const file = store.file(KNOWN_ISSUES_FILE);
  await store.withLock(async () => {
    const db = readValidatedJson(file, knownIssuesFileSchema);
    if (db.known_issues.some((k) => k.id === entry.id))
      throw new Error(`${file}: a known issue '${entry.id}' exists already: give another --id`);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { known_issues: unknown[] };
    raw.known_issues.push(entry);
    knownIssuesFileSchema.parse(raw);
    await writeFileAtomic(file, JSON.stringify(raw, null, 2) + '\n');
  });
  if (fixture) {
    // The excerpt as the log it came from (without the line numbers the excerpt adds), and its expected diagnosis.
    await writeFileAtomic(fixture, lines.join('\n') + '\n');
    const listing = path.join(options.fixtures!.dir, 'diagnoses.json');
    if (fs.existsSync(listing)) {
      const d = JSON.parse(fs.readFileSync(listing, 'utf8')) as { logs: Record<string, unknown> };
      d.logs[`${id}.log`] = {
        expect: id,
        what: `the failure excerpt of design decision ${hash} (${cached.model}), promoted`,
      };
      d.logs = Object.fromEntries(Object.entries(d.logs).sort(([a], [b]) => a.localeCompare(b)));
      await writeFileAtomic(listing, JSON.stringify(d, null, 2) + '\n');
    }
  }
  await store.append('known_issue_promoted', {
    id: entry.id,
    error_hash: hash,
    message: `design decision ${hash} promoted to known issue ${entry.id}`,
  });
  return entry;
}
