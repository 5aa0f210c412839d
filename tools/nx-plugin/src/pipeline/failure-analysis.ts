/**
 * Failure analysis: a failed step's log against the known-issues database,
 * then the consequences: a diagnosis for the terminal, an activity in the
 * status log, the commit's failure count (backoff), and, for an unknown
 * failure, the hand-over to design escalation.
 *
 * The seed's flow (000 "Failure Handling Flow"): error → check known issues →
 * known: apply the fix; unknown: analyse, request a design (o3), store the
 * solution, update known issues. The escalation call itself is pluggable
 * (`escalate`): without one the failure is recorded as `escalation_pending`,
 * which the AI step picks up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redactSecrets } from '../ai/redact';
import { recordFailure, type BackoffState } from './backoff';
import { idempotencyKey, idempotencyParts } from './idempotency';
import { KNOWN_ISSUES_FILE, knownIssuesFileSchema, type KnownIssue } from './known-issues';
import { scanLogFile, scanLogText, type KnownIssueMatch, type ScanResult } from './matcher';
import { phaseOfTarget } from './phases';
import type { StatusStore } from './status-store';
import { readWithLastGood } from './validated-file';

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
  /** Also count the failure for backoff and record it in the status log (default true). */
  record?: boolean;
  /** Design escalation for unknown failures (the AI step); absent: recorded as pending. */
  escalate?: (request: EscalationRequest) => Promise<EscalationOutcome>;
  /** Override parts of the idempotency key (tests, hook payloads). */
  keyParts?: { session?: string; runId?: string; attempt?: string; commit?: string };
  /** Environment of the failing run, for the idempotency key's session, run id and commit (default process.env; the hook server passes each call's own). */
  env?: NodeJS.ProcessEnv;
}

/** Result of an analysis. */
export interface FailureAnalysis {
  scan: ScanResult;
  match: KnownIssueMatch | null;
  /** Phase of the failing target, when the phases file names it. */
  phase?: string;
  /** Readable diagnosis, several lines. */
  diagnosis: string;
  backoff?: BackoffState;
  escalation: EscalationOutcome | { status: 'pending' | 'not-needed'; summary: string };
  /** Problems met along the way (invalid database used from its last good copy, status not writable). */
  warnings: string[];
  /** The failure log saved in the status dir, when one was written. */
  savedLog?: string;
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
 * Analyses one failure (see the module doc). Never throws for status or
 * escalation problems: they become warnings; the analysis itself throws only
 * when the log file cannot be read or no known-issues database can be loaded.
 */
export async function analyzeFailure(store: StatusStore, input: FailureInput, options: AnalysisOptions = {}): Promise<FailureAnalysis> {
  const warnings: string[] = [];
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
  const scanOptions = { phase, cpu: input.cpu };
  const scan = input.logFile
    ? await scanLogFile(input.logFile, issues, scanOptions)
    : scanLogText(input.logText ?? '', issues, scanOptions);
  const analysis: FailureAnalysis = {
    scan,
    match: scan.match,
    phase,
    diagnosis: '',
    escalation: { status: 'not-needed', summary: '' },
    warnings,
  };

  if (options.record !== false) {
    try {
      analysis.savedLog = await saveFailureLog(store, input);
      const env = options.env ?? process.env;
      const commit = options.keyParts?.commit ?? idempotencyParts('', input.workspaceRoot, env).commit;
      const event = `target_failed:${input.task}`;
      const key = idempotencyKey(idempotencyParts(event, input.workspaceRoot, env, { ...options.keyParts, commit }));
      const { recorded } = await store.append(
        'target_failed',
        {
          task: input.task,
          ...(input.cpu ? { cpu: input.cpu } : {}),
          ...(phase ? { target_phase: phase } : {}),
          ...(input.durationMs !== undefined ? { duration_ms: input.durationMs } : {}),
          known_issue: scan.match?.id ?? null,
          ...(scan.match ? { confidence: scan.match.confidence, evidence_line: scan.match.evidence[0].line } : {}),
          ...(analysis.savedLog ? { log: path.relative(store.dir, analysis.savedLog) } : {}),
          commit,
          message: scan.match ? `${input.task} failed: known issue ${scan.match.id}` : `${input.task} failed: unknown failure`,
        },
        { key },
      );
      // A duplicate delivery of the same failure does not count twice.
      if (recorded) analysis.backoff = await recordFailure(store, commit, input.task);
    } catch (e) {
      warnings.push(`status not recorded: ${(e as Error).message}`);
    }
  }

  if (!scan.match) {
    if (analysis.backoff?.inBackoff) {
      analysis.escalation = { status: 'skipped', summary: `design escalation skipped: ${analysis.backoff.message}` };
    } else if (options.escalate) {
      try {
        analysis.escalation = await options.escalate({ input, phase, logFile: analysis.savedLog ?? input.logFile, scan });
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
    if (analysis.escalation.status !== 'answered' && options.record !== false) {
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
  const shown = input.logFile ?? analysis.savedLog;
  analysis.diagnosis = formatDiagnosis(analysis, shown && path.relative(input.workspaceRoot, shown).startsWith('..') ? shown : shown && path.relative(input.workspaceRoot, shown));
  return analysis;
}

/** Copies the failure's log, secrets redacted, into `<statusDir>/failure-logs/` (rotated by `nextrust rotate-logs`). */
async function saveFailureLog(store: StatusStore, input: FailureInput): Promise<string | undefined> {
  if (input.logFile) return undefined; // already a file the caller keeps
  const dir = store.file('failure-logs');
  await fs.promises.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}-${input.task.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${process.pid}.log`);
  await fs.promises.writeFile(file, redactSecrets(input.logText ?? ''));
  return file;
}

/**
 * The readable diagnosis printed under a failure: the known issue with its
 * evidence (file:line), why, the fix and its command; or "unknown" with
 * what happens next.
 * @param logName how to name the log in evidence lines (a path a person can open).
 */
export function formatDiagnosis(a: Pick<FailureAnalysis, 'match' | 'scan' | 'escalation' | 'backoff' | 'warnings'>, logName?: string): string {
  const where = logName ?? 'log';
  const out: string[] = [];
  const m = a.match;
  if (m) {
    out.push(`nextrust: known issue ${m.id} (confidence ${m.confidence.toFixed(2)}): ${m.title}`);
    out.push('  evidence:');
    for (const e of m.evidence) out.push(`    ${where}:${e.line}: ${e.text}${e.kind === 'context' ? '  (context)' : ''}`);
    if (m.errorLines > m.evidence.filter((e) => e.kind === 'error').length) out.push(`    … ${m.errorLines} matching lines in all`);
    out.push(`  why: ${m.description}`);
    out.push(`  fix: ${m.fix.explanation}`);
    if (m.fix.command) out.push(`  run: ${m.fix.command}`);
    const ctx = [m.context.phase ? `phase ${m.context.phase}` : '', m.context.cpu ? `cpu ${m.context.cpu}` : ''].filter(Boolean).join(', ');
    if (ctx) out.push(`  context: ${ctx}`);
    if (m.references.length) out.push(`  see: ${m.references.join(', ')}`);
  } else {
    out.push(`nextrust: no known issue matches this failure (${a.scan.lines} lines scanned).`);
    const near = a.scan.candidates[0];
    if (near) out.push(`  closest: ${near.id} at confidence ${near.confidence.toFixed(2)}, below the threshold`);
    if (a.escalation.summary) out.push(`  ${a.escalation.summary}`);
  }
  if (a.backoff?.inBackoff && !(a.escalation.status === 'skipped' && a.escalation.summary.includes(a.backoff.message))) {
    out.push(`  backoff: ${a.backoff.message}`);
  }
  for (const w of a.warnings) out.push(`  warning: ${w}`);
  return out.join('\n');
}
