/**
 * Failure analysis: a failed step's log against the known-issues database,
 * then the consequences: a diagnosis for the terminal, an activity in the
 * status log, the commit's failure count (backoff), and, for an unknown
 * failure, the hand-over to design escalation.
 *
 * Three outcomes (matcher.ts decides): a known issue (its fix is printed);
 * a user error, a compile error in the workspace's own code (the compiler's
 * message and its file:line relative to the repository root are printed; it
 * is not counted for backoff and not escalated: the fix is in the user's
 * hands); unknown (handed to design escalation). Backoff and escalation run
 * only where the caller asks for them (AnalysisOptions.automation; for Nx
 * targets, target-hooks.ts turns them on in CI or with NEXTRUST_ESCALATE=1).
 * The escalation call itself is pluggable (`escalate`): without one the
 * failure is recorded as `escalation_pending`, which the AI step picks up.
 *
 * The text analysed is the text saved: run-context lines (the task, phase and
 * CPU, the toolchain provider, NEXTRUST_* overrides; matcher.ts
 * formatRunContext) followed by the output, secrets redacted. So
 * `nextrust check-known-issue --log <saved log>` gives the same match and
 * confidence as the analysis did.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redactSecrets } from '../ai/redact';
import candidates from '../toolchain/candidates.json';
import { recordFailure, type BackoffState } from './backoff';
import { failureIdOf, isDemoted, readPrecision, type IssuePrecision } from './precision';
import { idempotencyKey, idempotencyParts } from './idempotency';
import { KNOWN_ISSUES_FILE, knownIssuesFileSchema, type KnownIssue } from './known-issues';
import {
  explainConfidence,
  formatRunContext,
  scanLogFile,
  scanLogText,
  type KnownIssueMatch,
  type RunContextInput,
  type ScanResult,
  type UserError,
} from './matcher';
import { phaseOfTarget } from './phases';
import type { StatusStore } from './status-store';
import { readWithLastGood } from './validated-file';

/**
 * The toolchain manifest `llvm-m68k:toolchain` writes (its `outputFile`, relative to the workspace root); its
 * `provider` field says which M68k backend built the run's code.
 */
export const TOOLCHAIN_MANIFEST = 'dist/llvm-m68k/toolchain/toolchain.json';

/** The failure to analyse. */
export interface FailureInput {
  /** What failed: `project:target[:configuration]`, or a command. */
  task: string;
  /** Nx project and target, when it was a target (for the phase). */
  project?: string;
  target?: string;
  cpu?: string;
  /** The log: a file (streamed) or text already in memory. */
  logFile?: string;
  logText?: string;
  /** Command that failed, when known. */
  command?: string;
  /** How long the failing step ran (ms), when known. */
  durationMs?: number;
  workspaceRoot: string;
}

/** What the escalation hook receives for an unknown failure. */
export interface EscalationRequest {
  input: FailureInput;
  phase?: string;
  /** Path of the saved failure log. */
  logFile?: string;
  scan: ScanResult;
}

/** What the escalation hook answers. */
export interface EscalationOutcome {
  status: 'answered' | 'skipped' | 'failed';
  /** One line for the terminal. */
  summary: string;
}

/** Options of analyzeFailure. */
export interface AnalysisOptions {
  /** Also record the failure in the status log and save its log (default true). */
  record?: boolean;
  /**
   * Count the failure for backoff and hand an unknown one to design escalation (default true: the CLI's
   * `--record` and the Claude Code hook ask for it). Never for a user error. Nx targets pass
   * automationWanted() (target-hooks.ts): on in CI or with NEXTRUST_ESCALATE=1.
   */
  automation?: boolean;
  /** Design escalation for unknown failures (the AI step); absent: recorded as pending. */
  escalate?: (request: EscalationRequest) => Promise<EscalationOutcome>;
  /** Override parts of the idempotency key (tests, hook payloads). */
  keyParts?: { session?: string; runId?: string; attempt?: string; commit?: string };
  /** Environment of the failing run, for the idempotency key's session, run id and commit, and the NEXTRUST_* overrides named in the saved log (default process.env; the hook server passes each call's own). */
  env?: NodeJS.ProcessEnv;
}

/** Result of an analysis. */
export interface FailureAnalysis {
  scan: ScanResult;
  match: KnownIssueMatch | null;
  /** A compile error in the workspace's own code (when no known issue matched). */
  userError: UserError | null;
  /** Phase of the failing target, when the phases file names it. */
  phase?: string;
  /** Readable diagnosis, several lines. */
  diagnosis: string;
  backoff?: BackoffState;
  /** `not-needed`: a known issue or a user error; `not-run`: automation is off (AnalysisOptions.automation). */
  escalation: EscalationOutcome | { status: 'pending' | 'not-needed' | 'not-run'; summary: string };
  /** Problems met along the way (invalid database used from its last good copy, status not writable). */
  warnings: string[];
  /** The failure log saved in the status dir, when one was written. */
  savedLog?: string;
  /** Id of the recorded failure (`failure_id` of its target_failed activity), for `nextrust confirm|reject`. */
  failureId?: string;
  /** What people said of the matched issue's diagnoses before (precision.ts); absent without verdicts. */
  precision?: IssuePrecision;
}

/**
 * Loads the known issues from the status directory, falling back to the last
 * good copy when the file is invalid.
 * @throws ConfigError when it is invalid and there is no last good copy.
 */
export function loadKnownIssues(store: StatusStore): { issues: KnownIssue[]; warning?: string } {
  const loaded = readWithLastGood(store.file(KNOWN_ISSUES_FILE), knownIssuesFileSchema, store.file('.last-good'));
  return { issues: loaded.value.known_issues, warning: loaded.fallbackError };
}

/**
 * What a run's log should say about it (matcher.ts formatRunContext): the task, its phase and CPU, the
 * toolchain provider recorded in TOOLCHAIN_MANIFEST (when it exists and is readable), and the NEXTRUST_*
 * tool overrides (`envOverrides` of src/toolchain/candidates.json) set in `env`.
 */
export function runContextOf(
  input: Pick<FailureInput, 'task' | 'cpu' | 'workspaceRoot'>,
  phase: string | undefined,
  env: NodeJS.ProcessEnv,
): RunContextInput {
  const ctx: RunContextInput = {
    task: input.task,
    ...(phase ? { phase } : {}),
    ...(input.cpu ? { cpu: input.cpu } : {}),
  };
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(input.workspaceRoot, TOOLCHAIN_MANIFEST), 'utf8')) as {
      provider?: unknown;
      backend?: { sha256?: unknown };
    };
    if (manifest.provider === 'system') {
      ctx.provider = {
        name: 'system',
        detail: `M68k backend: the system one inside libLLVM, unpatched; ${TOOLCHAIN_MANIFEST}`,
      };
    } else if (manifest.provider === 'source') {
      const sha =
        typeof manifest.backend?.sha256 === 'string' ? `, sha256 ${manifest.backend.sha256.slice(0, 16)}…` : '';
      ctx.provider = { name: 'source', detail: `M68k backend: patched${sha}; ${TOOLCHAIN_MANIFEST}` };
    }
  } catch {
    // No toolchain built yet (or unreadable): the log says nothing about the provider.
  }
  const overrides = candidates.envOverrides
    .filter((name) => env[name] !== undefined && env[name] !== '')
    .map((name) => `${name}=${env[name]}`);
  if (overrides.length) ctx.overrides = overrides;
  return ctx;
}

/**
 * Analyses one failure (see the module doc). Never throws for status or
 * escalation problems: they become warnings; the analysis itself throws only
 * when the log file cannot be read or no known-issues database can be loaded.
 */
export async function analyzeFailure(
  store: StatusStore,
  input: FailureInput,
  options: AnalysisOptions = {},
): Promise<FailureAnalysis> {
  const warnings: string[] = [];
  const env = options.env ?? process.env;
  const { issues, warning } = loadKnownIssues(store);
  if (warning) warnings.push(`${warning}\n  (using the last good copy of ${KNOWN_ISSUES_FILE})`);
  let phase: string | undefined;
  try {
    const { phases, warning: pw } = store.loadPhases();
    if (pw) warnings.push(pw);
    if (phases && input.project && input.target) phase = phaseOfTarget(phases, input.project, input.target)?.id;
  } catch (e) {
    warnings.push((e as Error).message);
  }
  // A file the caller keeps is scanned as it is (with the caller's CPU); text is saved with its run context
  // first, and the saved text is what is scanned (module doc).
  let text: string | undefined;
  if (!input.logFile)
    text = redactSecrets([...formatRunContext(runContextOf(input, phase, env)), input.logText ?? ''].join('\n'));
  const scan = input.logFile
    ? await scanLogFile(input.logFile, issues, { cpu: input.cpu, workspaceRoot: input.workspaceRoot })
    : scanLogText(text!, issues, { workspaceRoot: input.workspaceRoot });
  const userError = scan.diagnosis === 'user-error' ? scan.userError : null;
  const automation = options.automation !== false && !userError;
  const analysis: FailureAnalysis = {
    scan,
    match: scan.match,
    userError,
    phase,
    diagnosis: '',
    escalation: { status: 'not-needed', summary: '' },
    warnings,
  };

  if (options.record !== false) {
    try {
      if (text !== undefined) analysis.savedLog = await saveFailureLog(store, input, text);
      const commit = options.keyParts?.commit ?? idempotencyParts('', input.workspaceRoot, env).commit;
      const event = `target_failed:${input.task}`;
      const key = idempotencyKey(idempotencyParts(event, input.workspaceRoot, env, { ...options.keyParts, commit }));
      analysis.failureId = failureIdOf(key);
      const where = userError?.location
        ? ` (${userError.location.file}${userError.location.line ? `:${userError.location.line}` : ''})`
        : '';
      const { recorded } = await store.append(
        'target_failed',
        {
          task: input.task,
          failure_id: analysis.failureId,
          ...(input.cpu ? { cpu: input.cpu } : {}),
          ...(phase ? { target_phase: phase } : {}),
          ...(input.durationMs !== undefined ? { duration_ms: input.durationMs } : {}),
          diagnosis: scan.diagnosis,
          known_issue: scan.match?.id ?? null,
          ...(scan.match ? { confidence: scan.match.confidence, evidence_line: scan.match.evidence[0].line } : {}),
          ...(userError
            ? {
                user_error: {
                  message: userError.message,
                  line: userError.line,
                  ...(userError.location ? { file: userError.location.file } : {}),
                },
              }
            : {}),
          ...(analysis.savedLog ? { log: path.relative(store.dir, analysis.savedLog) } : {}),
          commit,
          message: scan.match
            ? `${input.task} failed: known issue ${scan.match.id}`
            : userError
              ? `${input.task} failed: user error: ${userError.message}${where}`
              : `${input.task} failed: unknown failure`,
        },
        { key },
      );
      // A duplicate delivery of the same failure does not count twice; a user error never counts.
      if (recorded && automation) analysis.backoff = await recordFailure(store, commit, input.task);
    } catch (e) {
      warnings.push(`status not recorded: ${(e as Error).message}`);
    }
  }

  if (scan.diagnosis === 'unknown') {
    if (!automation) {
      analysis.escalation = {
        status: 'not-run',
        summary: 'not escalated: design escalation and backoff run in CI (CI=true) or with NEXTRUST_ESCALATE=1',
      };
    } else if (analysis.backoff?.inBackoff) {
      analysis.escalation = { status: 'skipped', summary: `design escalation skipped: ${analysis.backoff.message}` };
    } else if (options.escalate) {
      try {
        analysis.escalation = await options.escalate({
          input,
          phase,
          logFile: analysis.savedLog ?? input.logFile,
          scan,
        });
      } catch (e) {
        analysis.escalation = { status: 'failed', summary: `design escalation failed: ${(e as Error).message}` };
      }
    } else {
      analysis.escalation = {
        status: 'pending',
        summary: 'handed to design escalation: recorded as escalation_pending (`nextrust request-design` answers it)',
      };
    }
    // Not answered now: leave it pending for `nextrust request-design`, with the reason.
    if (automation && analysis.escalation.status !== 'answered' && options.record !== false) {
      try {
        await store.append('escalation_pending', {
          task: input.task,
          ...(input.cpu ? { cpu: input.cpu } : {}),
          ...(analysis.savedLog ? { log: path.relative(store.dir, analysis.savedLog) } : {}),
          reason: analysis.escalation.summary,
          message: `unknown failure of ${input.task} awaits a design decision`,
        });
      } catch (e) {
        warnings.push(`status not recorded: ${(e as Error).message}`);
      }
    }
  }
  if (scan.match) {
    try {
      analysis.precision = readPrecision(store)[scan.match.id];
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  const shown = input.logFile ?? analysis.savedLog;
  analysis.diagnosis = formatDiagnosis(
    analysis,
    shown && path.relative(input.workspaceRoot, shown).startsWith('..')
      ? shown
      : shown && path.relative(input.workspaceRoot, shown),
  );
  return analysis;
}

/** Writes the analysed text (run context and output, secrets already redacted) into `<statusDir>/failure-logs/` (rotated by `nextrust rotate-logs`). */
async function saveFailureLog(store: StatusStore, input: FailureInput, text: string): Promise<string> {
  const dir = store.file('failure-logs');
  await fs.promises.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}-${input.task.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${process.pid}.log`);
  await fs.promises.writeFile(file, text);
  return file;
}

/**
 * The readable diagnosis printed under a failure: the known issue with its
 * evidence (file:line), how its confidence came about, why, the fix and its
 * command; or the user error (the compiler's message first, then its file:line
 * and quoted source); or "unknown" with what happens next. A user error gets
 * no backoff or escalation lines.
 * @param logName how to name the log in evidence lines (a path a person can open).
 */
export function formatDiagnosis(
  a: Pick<FailureAnalysis, 'match' | 'scan' | 'escalation' | 'backoff' | 'warnings'> & {
    userError?: UserError | null;
    failureId?: string;
    precision?: IssuePrecision;
  },
  logName?: string,
): string {
  const where = logName ?? 'log';
  const out: string[] = [];
  const m = a.match;
  const userError = m ? null : (a.userError ?? (a.scan.diagnosis === 'user-error' ? a.scan.userError : null));
  if (m) {
    const demoted = isDemoted(a.precision);
    out.push(
      `nextrust: ${demoted ? 'possible known issue' : 'known issue'} ${m.id} (confidence ${m.confidence.toFixed(2)}): ${m.title}`,
    );
    if (demoted) {
      const p = a.precision!;
      out.push(
        `  warning: people rejected this diagnosis ${p.rejected} of ${p.confirmed + p.rejected} times (precision ${Math.round((p.precision ?? 0) * 100)} %): check it before applying the fix`,
      );
    }
    out.push('  evidence:');
    // Each line once, with every kind it is evidence of (a line can be required and context both).
    const kinds = new Map<number, string[]>();
    for (const e of m.evidence) kinds.set(e.line, [...(kinds.get(e.line) ?? []), e.kind]);
    for (const e of m.evidence) {
      const k = kinds.get(e.line);
      if (!k) continue;
      kinds.delete(e.line);
      out.push(`    ${where}:${e.line}: ${e.text}${k.includes('error') ? '' : `  (${k.join(', ')})`}`);
    }
    if (m.errorLines > m.evidence.filter((e) => e.kind === 'error').length)
      out.push(`    … ${m.errorLines} matching lines in all`);
    out.push('  how sure:');
    for (const line of explainConfidence(m)) out.push(`    ${line}`);
    out.push(`  why: ${m.description}`);
    out.push(`  fix: ${m.fix.explanation}`);
    if (m.fix.command) out.push(`  run: ${m.fix.command}`);
    // The run's phase and CPU: the caller's, else what the log's run context says.
    const phase = m.context.phase ?? a.scan.runContext?.phase;
    const cpu = m.context.cpu ?? a.scan.runContext?.cpu;
    const ctx = [phase ? `phase ${phase}` : '', cpu ? `cpu ${cpu}` : ''].filter(Boolean).join(', ');
    if (ctx) out.push(`  context: ${ctx}`);
    if (m.references.length) out.push(`  see: ${m.references.join(', ')}`);
    if (a.failureId)
      out.push(`  right or wrong? npx nextrust confirm ${a.failureId}  |  npx nextrust reject ${a.failureId}`);
  } else if (userError) {
    out.push(`nextrust: user error: ${userError.message}`);
    const loc = userError.location;
    if (loc)
      out.push(
        `  --> ${loc.file}${loc.line !== undefined ? `:${loc.line}` : ''}${loc.column !== undefined ? `:${loc.column}` : ''}`,
      );
    if (userError.source !== undefined) out.push(`   ${loc?.line ?? ''} | ${userError.source}`);
    if (userError.hint) out.push(`  ${userError.hint}`);
    const more = userError.count > 1 ? `; ${userError.count} such errors in all` : '';
    out.push(`  (${where}:${userError.line}${more})`);
    const what =
      userError.kind === 'package'
        ? 'no such program in the cargo workspace: check the name against projects/rust-target/programs/'
        : userError.kind === 'dependency'
          ? "a path dependency under another name than the crate's: make the dependency's name the package name in the crate's Cargo.toml"
          : loc?.file.endsWith('Cargo.toml')
            ? 'cargo rejected a manifest of the workspace'
            : "the compiler rejected the workspace's own code";
    out.push(
      `  ${what}; fix it and run the target again. Not a toolchain problem: not a known issue, not escalated, not counted for backoff.`,
    );
  } else {
    out.push(
      `nextrust: no known issue matches this failure (${a.scan.lines} lines scanned, the whole log: ${formatBytes(a.scan.bytes)}).`,
    );
    const near = a.scan.candidates[0];
    if (near) out.push(`  closest: ${near.id} at confidence ${near.confidence.toFixed(2)}, below the threshold`);
    if (a.escalation.summary) out.push(`  ${a.escalation.summary}`);
  }
  if (
    !userError &&
    a.backoff?.inBackoff &&
    !(a.escalation.status === 'skipped' && a.escalation.summary.includes(a.backoff.message))
  ) {
    out.push(`  backoff: ${a.backoff.message}`);
  }
  // Scan coverage: the whole log is always read (long lines in pieces), never a silent prefix.
  if (m || userError) out.push(`  scanned: the whole log, ${a.scan.lines} lines, ${formatBytes(a.scan.bytes)}`);
  for (const w of a.warnings) out.push(`  warning: ${w}`);
  return out.join('\n');
}

/** Bytes in words: `812 B`, `4.2 KiB`, `200.0 MiB`. */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
