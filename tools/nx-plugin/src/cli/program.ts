/**
 * The `nextrust` CLI: the seed's unified tool (000 "Unified CLI Tooling",
 * `ci/scripts/tools/nextrust_cli.py`), as thin commander adapters over the
 * pipeline modules. Every command has `--help`; machine-read commands have
 * `--json`.
 *
 * Exit codes (also in `nextrust --help`):
 *   0  success (check-known-issue: a known issue matched)
 *   1  a negative answer: no known issue matched; no phase set; commit in backoff
 *   2  usage error or invalid input (bad arguments, an invalid file: the message names file and field)
 *   3  the status lock could not be taken in time
 * request-design and request-review exit 1 when the AI step was skipped or
 * failed (no key, budget reached, service down, garbage answer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { promoteDesign, requestDesign } from '../ai/design';
import { requestReview } from '../ai/review';
import { loadAiContext } from '../ai/services';
import { formatUsageTable, readUsage, usageReport } from '../ai/usage';
import { ConfigError } from '../config/project-config';
import { registerGithubCommands } from './commands/github';
import { registerHookServerCommands } from './commands/hook-server';
import { registerMetricsCommands } from './commands/metrics';
import { backoffState, clearBackoff } from '../pipeline/backoff';
import { analyzeFailure, formatDiagnosis, loadKnownIssues } from '../pipeline/failure-analysis';
import { currentCommit } from '../pipeline/idempotency';
import {
  KNOWN_ISSUES_FILE,
  KNOWN_ISSUES_SCHEMA_FILE,
  knownIssuesFileSchema,
  knownIssuesJsonSchema,
} from '../pipeline/known-issues';
import { scanLogFile, scanLogText } from '../pipeline/matcher';
import { findPhase, PHASES_FILE, phasesFileSchema, type PhasesFile } from '../pipeline/phases';
import {
  findWorkspaceRoot,
  IDEMPOTENCY_KEY,
  LockTimeoutError,
  phaseStatusSchema,
  resolveStatusDir,
  StatusStore,
  type PhaseStatus,
} from '../pipeline/status-store';
import { readValidatedJson } from '../pipeline/validated-file';
import { CPU_NAMES } from '../toolchain/cpu';

/** Exit codes of the CLI (module doc). */
export const EXIT = { ok: 0, negative: 1, usage: 2, lockTimeout: 3 } as const;

/** An error with its exit code; main() prints its message alone. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where the CLI writes; replaced in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
};

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number >= 0`);
    return n;
  };
}

function confidence(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}

/** Builds the commander program. `exitCode` receives a command's non-zero result. */
export function createProgram(io: CliIo = defaultIo, setExitCode: (code: number) => void = () => undefined): Command {
  const program = new Command('nextrust');
  const workspaceRoot = findWorkspaceRoot(io.cwd);
  const json = (v: unknown) => io.out(JSON.stringify(v, null, 2) + '\n');
  const store = () => new StatusStore(resolveStatusDir(program.opts().statusDir, workspaceRoot, io.env));
  const phasesOf = (s: StatusStore): PhasesFile => {
    const file = s.file(PHASES_FILE);
    const { phases, warning } = s.loadPhases();
    if (warning) io.err(`nextrust: warning: ${warning}; using its last good copy\n`);
    if (!phases)
      throw new CliError(
        `${file}: not found: the phases file lists the pipeline's phases (copy projects/ci-status/${PHASES_FILE})`,
        EXIT.usage,
      );
    return phases;
  };

  program
    .description(
      'NeXTRust pipeline tool: status, phases, known issues, failure-loop protection, AI escalation and review.',
    )
    .option('--status-dir <dir>', 'status directory (default: $NEXTRUST_STATUS_DIR or <workspace>/projects/ci-status)')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText(
      'after',
      `
Exit codes:
  0   success (check-known-issue: a known issue matched)
  1   negative answer: no known issue matched, no phase set, commit in backoff,
      AI step skipped or failed (request-design, request-review)
  2   usage error or invalid input (the message names the file and field)
  3   the status lock could not be taken in time (NEXTRUST_LOCK_TIMEOUT_MS)
  slash: 0 accepted (or not a command), 1 refused. hook: Claude Code's contract (see hook --help).`,
    );

  program
    .command('status')
    .description('Print the pipeline status: current phase, phase history and activities.')
    .option('--json', 'machine-readable: {current_phase, phase_history, activities, warnings}')
    .option('--limit <n>', 'only the last N activities', positiveInt('--limit'))
    .action(async (o: { json?: boolean; limit?: number }) => {
      const s = store();
      const status = await s.status(o.limit);
      for (const w of status.warnings)
        io.err(`nextrust: warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.message}\n`);
      if (o.json) return json({ status_dir: s.dir, ...status });
      const cur = status.current_phase;
      io.out(`status dir: ${s.dir}\n`);
      io.out(
        cur
          ? `current phase: ${cur.id} (${cur.name}), ${cur.status} since ${cur.started_at}\n`
          : 'current phase: none set\n',
      );
      io.out(
        `phases completed: ${
          status.phase_history
            .filter((p) => p.status === 'completed')
            .map((p) => p.id)
            .join(', ') || 'none'
        }\n`,
      );
      const flaky = [
        ...new Set(status.activities.filter((a) => a.type === 'flaky_task').map((a) => String(a.details.task))),
      ];
      if (flaky.length) io.out(`flaky tasks (the same inputs passed and failed): ${flaky.join(', ')}\n`);
      io.out(`activities: ${status.activities.length}\n`);
      for (const a of status.activities.slice(-15)) {
        const msg = typeof a.details.message === 'string' ? a.details.message : JSON.stringify(a.details);
        io.out(`  ${a.timestamp} ${a.type}: ${msg}\n`);
      }
    });

  program
    .command('get-phase')
    .description('Print the current phase id (exit 1 when none is set).')
    .option('--json', 'print the whole current phase record')
    .action((o: { json?: boolean }) => {
      const { state, warnings } = store().readState();
      for (const w of warnings) io.err(`nextrust: warning: ${w.message}\n`);
      if (o.json) json({ current_phase: state.current_phase });
      else if (state.current_phase) io.out(`${state.current_phase.id}\n`);
      if (!state.current_phase) {
        if (!o.json) io.err('nextrust: no current phase (set one with `nextrust set-phase <id>`)\n');
        setExitCode(EXIT.negative);
      }
    });

  program
    .command('set-phase')
    .description('Make a phase (id, number or phase-N) the current one; the previous one goes to the history.')
    .argument('<phase>', 'phase id from phases.json, its number, or phase-N')
    .addOption(
      new Option('--status <status>', 'status of the new phase')
        .choices(phaseStatusSchema.options)
        .default('in_progress'),
    )
    .option('--message <text>', 'note recorded with it')
    .option('--json', 'print the new state as JSON')
    .action(async (ref: string, o: { status: PhaseStatus; message?: string; json?: boolean }) => {
      const s = store();
      const phases = phasesOf(s);
      const phase = findPhase(phases, ref);
      if (!phase)
        throw new CliError(
          `unknown phase '${ref}': expected one of ${phases.phases.map((p) => `${p.id} (${p.number})`).join(', ')}`,
          EXIT.usage,
        );
      const state = await s.setPhase(phase, o.status, o.message);
      if (o.json) json(state);
      else io.out(`current phase: ${phase.id} (${phase.name}), ${o.status}\n`);
    });

  program
    .command('update-status')
    .description("Change the current phase's status (in_progress, completed, failed, blocked) and record it.")
    .addOption(new Option('--status <status>', 'new status').choices(phaseStatusSchema.options).makeOptionMandatory())
    .option('--message <text>', 'note recorded with it')
    .option('--no-review', 'do not request the phase review when the status is completed')
    .option('--json', 'print the new state as JSON')
    .action(async (o: { status: PhaseStatus; message?: string; review: boolean; json?: boolean }) => {
      let state;
      try {
        state = await store().updatePhaseStatus(o.status, o.message);
      } catch (e) {
        if (/no current phase/.test((e as Error).message)) throw new CliError((e as Error).message, EXIT.negative);
        throw e;
      }
      // A completed phase triggers its review (skipped, with the reason, without a key).
      let review: { status: string; summary: string } | undefined;
      if (o.status === 'completed' && o.review) {
        const s = store();
        review = await requestReview(s, {
          workspaceRoot,
          ...loadAiContext(s, io.env),
          phase: state.current_phase!.id,
          env: io.env,
        });
      }
      if (o.json) json({ ...state, ...(review ? { review: { status: review.status, summary: review.summary } } : {}) });
      else {
        io.out(`phase ${state.current_phase!.id}: ${o.status}\n`);
        if (review) io.out(`${review.summary}\n`);
      }
    });

  program
    .command('append-status')
    .description('Append one activity to the status log (locked; safe from parallel jobs).')
    .argument('<type>', 'activity type, e.g. build_started')
    .argument('<details>', 'JSON object with the details, e.g. \'{"message": "LLVM build started"}\'')
    .option('--key <key>', 'idempotency key: an activity with this key is recorded once')
    .option('--json', 'print {recorded, activity}')
    .action(async (type: string, details: string, o: { key?: string; json?: boolean }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(details);
      } catch (e) {
        throw new CliError(`append-status: argument <details>: not valid JSON: ${(e as Error).message}`, EXIT.usage);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new CliError(
          'append-status: argument <details>: expected a JSON object, e.g. \'{"message": "…"}\'',
          EXIT.usage,
        );
      }
      if (o.key !== undefined && !IDEMPOTENCY_KEY.test(o.key)) {
        throw new CliError('append-status: --key: expected 1-128 letters, digits, _ or -', EXIT.usage);
      }
      const r = await store().append(type, parsed as Record<string, unknown>, { key: o.key });
      if (o.json) json(r);
      else io.out(r.recorded ? `recorded ${type}\n` : `not recorded: key ${o.key} was already recorded\n`);
    });

  program
    .command('check-known-issue')
    .description('Match a failure log (streamed; any size) or an error text against the known issues.')
    .argument('[text...]', 'error text to check (instead of --log)')
    .option('--log <file>', 'log file to scan')
    .option('--phase <id>', 'phase of the failing step (raises or lowers confidence)')
    .addOption(new Option('--cpu <variant>', 'CPU variant of the failing step').choices(CPU_NAMES as string[]))
    .option('--min-confidence <n>', 'lowest confidence reported as a match (default 0.5)', confidence)
    .option('--record', 'also record the failure (status activity, backoff count, escalation hand-over)')
    .option('--task <name>', 'name of the failing step, with --record', 'manual')
    .option('--json', 'print {"match": {...}} or {"match": null}')
    .action(
      async (
        text: string[],
        o: {
          log?: string;
          phase?: string;
          cpu?: string;
          minConfidence?: number;
          record?: boolean;
          task: string;
          json?: boolean;
        },
      ) => {
        if (!o.log && !text.length)
          throw new CliError('check-known-issue: give --log FILE or the error text', EXIT.usage);
        if (o.log && text.length)
          throw new CliError('check-known-issue: give --log FILE or the error text, not both', EXIT.usage);
        const logFile = o.log ? path.resolve(io.cwd, o.log) : undefined;
        if (logFile && !fs.existsSync(logFile))
          throw new CliError(`check-known-issue: --log ${o.log}: no such file`, EXIT.usage);
        const s = store();
        if (o.record) {
          const a = await analyzeFailure(s, {
            task: o.task,
            cpu: o.cpu,
            logFile,
            logText: text.join(' '),
            workspaceRoot,
          });
          if (o.json)
            json({
              match: a.match,
              lines: a.scan.lines,
              escalation: a.escalation,
              backoff: a.backoff ?? null,
              warnings: a.warnings,
            });
          else io.out(a.diagnosis + '\n');
          if (!a.match) setExitCode(EXIT.negative);
          return;
        }
        const { issues, warning } = loadKnownIssues(s);
        if (warning) io.err(`nextrust: warning: ${warning}; using its last good copy\n`);
        const opts = { phase: o.phase, cpu: o.cpu, minConfidence: o.minConfidence };
        const scan = logFile ? await scanLogFile(logFile, issues, opts) : scanLogText(text.join(' '), issues, opts);
        if (o.json) json({ match: scan.match, lines: scan.lines, bytes: scan.bytes });
        else
          io.out(
            formatDiagnosis(
              { match: scan.match, scan, escalation: { status: 'not-needed', summary: '' }, warnings: [] },
              logFile,
            ) + '\n',
          );
        if (!scan.match) setExitCode(EXIT.negative);
      },
    );

  program
    .command('rotate-status')
    .description('Archive activities older than --days (the seed keeps 30) and beyond --max-bytes into archive/.')
    .option('--days <n>', 'keep this many days in the active log', positiveInt('--days'), 30)
    .option(
      '--max-bytes <n>',
      'then keep the active log at most this many bytes',
      positiveInt('--max-bytes'),
      4 * 1024 * 1024,
    )
    .option('--dry-run', 'only report what would move')
    .option('--json', 'print the result as JSON')
    .action(async (o: { days: number; maxBytes: number; dryRun?: boolean; json?: boolean }) => {
      const r = await store().rotate({ maxAgeDays: o.days, maxBytes: o.maxBytes, dryRun: o.dryRun });
      if (o.json) return json(r);
      io.out(
        `${r.dryRun ? 'would archive' : 'archived'} ${r.archived} activities${r.archiveFiles.length ? ` into ${r.archiveFiles.join(', ')}` : ''}; ${r.kept} kept`,
      );
      io.out(
        r.quarantined ? `; ${r.quarantined} invalid lines ${r.dryRun ? 'would move' : 'moved'} to corrupt/\n` : '\n',
      );
    });

  program
    .command('rotate-logs')
    .description('Delete saved failure logs and Claude Code hook logs older than --days.')
    .option('--days <n>', 'keep this many days', positiveInt('--days'), 14)
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print the deleted files as JSON')
    .action((o: { days: number; dryRun?: boolean; json?: boolean }) => {
      const s = store();
      const cutoff = Date.now() - o.days * 86_400_000;
      const dirs = [s.file('failure-logs'), path.join(workspaceRoot, '.claude', 'hook-logs')];
      const removed: string[] = [];
      for (const dir of dirs) {
        if (!fs.existsSync(dir)) continue;
        for (const name of fs.readdirSync(dir)) {
          const f = path.join(dir, name);
          const st = fs.statSync(f);
          if (!st.isFile() || st.mtimeMs >= cutoff) continue;
          if (!o.dryRun) fs.rmSync(f);
          removed.push(path.relative(workspaceRoot, f));
        }
      }
      if (o.json) return json({ removed, dryRun: !!o.dryRun });
      io.out(`${o.dryRun ? 'would delete' : 'deleted'} ${removed.length} log files older than ${o.days} days\n`);
    });

  program
    .command('backoff')
    .description("Show a commit's failure count and whether it is in backoff (exit 1 when it is).")
    .option('--commit <sha>', 'commit (default: GITHUB_SHA or HEAD)')
    .option('--json', 'print {commit, failures, inBackoff, message}')
    .action((o: { commit?: string; json?: boolean }) => {
      const st = backoffState(store(), o.commit ?? currentCommit(workspaceRoot, io.env));
      if (o.json) json(st);
      else io.out(st.message + '\n');
      if (st.inBackoff) setExitCode(EXIT.negative);
    });

  program
    .command('clear-backoff')
    .description("Clear a commit's failure count (default: the current commit; --all: every commit).")
    .option('--commit <sha>', 'commit to clear')
    .option('--all', 'clear every commit')
    .action(async (o: { commit?: string; all?: boolean }) => {
      const s = store();
      const cleared = await clearBackoff(s, o.all ? undefined : (o.commit ?? currentCommit(workspaceRoot, io.env)));
      if (cleared.length)
        await s.append('backoff_cleared', {
          commits: cleared,
          message: `backoff cleared for ${cleared.length} commit(s)`,
        });
      io.out(cleared.length ? `cleared: ${cleared.join(', ')}\n` : 'nothing to clear\n');
    });

  program
    .command('validate')
    .description('Validate known-issues.json and phases.json (exit 2 naming the file and field when invalid).')
    .action(() => {
      const s = store();
      const ki = readValidatedJson(s.file(KNOWN_ISSUES_FILE), knownIssuesFileSchema);
      const ph = readValidatedJson(s.file(PHASES_FILE), phasesFileSchema);
      const phaseIds = new Set(ph.phases.map((p) => p.id));
      const bad = ki.known_issues.map((k, i) => ({ k, i })).filter(({ k }) => !phaseIds.has(k.phase));
      if (bad.length) {
        throw new CliError(
          bad
            .map(
              ({ k, i }) =>
                `${s.file(KNOWN_ISSUES_FILE)}: field 'known_issues[${i}].phase': unknown phase '${k.phase}' (phases.json has ${[...phaseIds].join(', ')})`,
            )
            .join('\n'),
          EXIT.usage,
        );
      }
      io.out(
        `${KNOWN_ISSUES_FILE}: ${ki.known_issues.length} known issues; ${PHASES_FILE}: ${ph.phases.length} phases: valid\n`,
      );
    });

  program
    .command('known-issues-schema')
    .description(
      'Print the JSON Schema of known-issues.json (generated from the zod schema), or --write it next to the file.',
    )
    .option('--write', `write ${KNOWN_ISSUES_SCHEMA_FILE} into the status directory`)
    .action(async (o: { write?: boolean }) => {
      const text = JSON.stringify(knownIssuesJsonSchema(), null, 2) + '\n';
      if (!o.write) return io.out(text);
      const file = store().file(KNOWN_ISSUES_SCHEMA_FILE);
      await writeFileAtomic(file, text);
      io.out(`wrote ${file}\n`);
    });

  program
    .command('usage-report')
    .description('AI token usage and cost by day, model and phase (from metrics/ai-usage.jsonl).')
    .option('--days <n>', 'days to report, today included', positiveInt('--days'), 7)
    .option(
      '--json',
      'print {days, rows: [{day, model, phase, calls, input_tokens, output_tokens, cost_usd, unpriced_calls, mean_latency_ms}], total}',
    )
    .action(async (o: { days: number; json?: boolean }) => {
      if (o.days < 1) throw new CliError('usage-report: --days must be at least 1', EXIT.usage);
      const { records, invalidLines } = await readUsage(store());
      if (invalidLines)
        io.err(`nextrust: warning: ${invalidLines} invalid line(s) in metrics/ai-usage.jsonl skipped\n`);
      const report = usageReport(records, o.days);
      if (o.json) return json({ days: o.days, ...report });
      io.out(formatUsageTable(report, o.days));
    });

  program
    .command('request-design')
    .description(
      'Escalate a failure to the design model (o3 by default) and record its decision; cached by the normalised error.',
    )
    .requiredOption('--log <file>', 'the failure log')
    .option('--phase <id>', 'phase of the failing step')
    .addOption(new Option('--cpu <variant>', 'CPU variant of the failing step').choices(CPU_NAMES as string[]))
    .option('--task <name>', 'name of the failing step', 'manual')
    .option('--force', 'ask again even when a cached decision exists')
    .option('--json', 'print {status, summary, error_hash, answer, request}')
    .action(async (o: { log: string; phase?: string; cpu?: string; task: string; force?: boolean; json?: boolean }) => {
      const logFile = path.resolve(io.cwd, o.log);
      if (!fs.existsSync(logFile)) throw new CliError(`request-design: --log ${o.log}: no such file`, EXIT.usage);
      const s = store();
      const ctx = loadAiContext(s, io.env);
      const r = await requestDesign(
        s,
        { task: o.task, phase: o.phase, cpu: o.cpu, logFile },
        { ...ctx, env: io.env, force: o.force },
      );
      if (o.json)
        json({
          status: r.status,
          summary: r.summary,
          error_hash: r.errorHash,
          answer: r.answer ?? null,
          request: r.request ?? null,
        });
      else {
        io.out(r.summary + '\n');
        if (r.answer) {
          io.out(`  root cause: ${r.answer.root_cause}\n  fix: ${r.answer.fix.explanation}\n`);
          if (r.answer.fix.command) io.out(`  run: ${r.answer.fix.command}\n`);
          if (r.answer.known_issue) io.out(`  promote with: nextrust promote-design ${r.errorHash}\n`);
        }
      }
      if (r.status === 'skipped' || r.status === 'failed') setExitCode(EXIT.negative);
    });

  program
    .command('promote-design')
    .description(
      "Add a cached design decision's known-issue proposal to known-issues.json (validated; its patterns must match the failure).",
    )
    .argument('<error-hash>', 'the decision, as printed by request-design')
    .option('--id <id>', "known-issue id (default: the proposal's)")
    .option('--pattern <regex...>', "error patterns to use instead of the proposal's")
    .option(
      '--fixture',
      "also keep the failure's excerpt as a test fixture (tools/nx-plugin/src/pipeline/fixtures/failure-logs/<id>.log, listed in its diagnoses.json) and name it in the entry's references",
    )
    .action(async (hash: string, o: { id?: string; pattern?: string[]; fixture?: boolean }) => {
      if (!/^[0-9a-f]{16}$/.test(hash))
        throw new CliError(`promote-design: '${hash}' is not an error hash (16 hex digits)`, EXIT.usage);
      try {
        const fixturesDir = path.join(workspaceRoot, 'tools/nx-plugin/src/pipeline/fixtures/failure-logs');
        if (o.fixture && !fs.existsSync(fixturesDir)) throw new Error(`--fixture: no folder ${fixturesDir}`);
        const fixtures = o.fixture ? { dir: fixturesDir, workspaceRoot } : undefined;
        const entry = await promoteDesign(store(), hash, { id: o.id, errorPatterns: o.pattern, fixtures });
        io.out(
          `known issue ${entry.id} added to ${KNOWN_ISSUES_FILE} (${entry.error_patterns.length} error pattern(s))${fixtures ? `; its log kept as ${entry.metadata.references[0]}` : ''}\n`,
        );
      } catch (e) {
        if (e instanceof LockTimeoutError) throw e;
        throw new CliError(`promote-design: ${(e as Error).message}`, EXIT.usage);
      }
    });

  program
    .command('request-review')
    .description(
      'Ask the review model (Gemini by default) to review the changes against a base, with the guidelines in GEMINI.md.',
    )
    .option('--base <ref>', 'base ref (default: origin/$GITHUB_BASE_REF, origin/main or main)')
    .option('--head <ref>', 'head to review (default: HEAD with the working tree)')
    .option('--phase <id>', 'phase the review is for (default: the current phase)')
    .option('--json', 'print {status, summary, artifact, files, base}')
    .action(async (o: { base?: string; head?: string; phase?: string; json?: boolean }) => {
      const s = store();
      const ctx = loadAiContext(s, io.env);
      const r = await requestReview(s, {
        workspaceRoot,
        ...ctx,
        base: o.base,
        head: o.head,
        phase: o.phase,
        env: io.env,
      });
      if (o.json)
        json({ status: r.status, summary: r.summary, artifact: r.artifact ?? null, files: r.files, base: r.base });
      else io.out(r.summary + '\n');
      if (r.status !== 'completed') setExitCode(EXIT.negative);
    });

  registerGithubCommands(program, {
    store,
    workspaceRoot,
    io,
    setExitCode,
    usageError: (m) => new CliError(m, EXIT.usage),
  });
  registerMetricsCommands(program, { store, io, setExitCode, usageError: (m) => new CliError(m, EXIT.usage) });
  registerHookServerCommands(program, { io, setExitCode });

  program
    .command('hook')
    .description('Claude Code hook dispatcher: reads the hook payload on stdin (wired in .claude/settings.json).')
    .argument('<event>', 'pre, post, stop, user-prompt-submit or session-start')
    .addHelpText(
      'after',
      `
Exit codes follow Claude Code's hook contract: 0 go on; 2 block (pre) or feed the
diagnosis back to Claude (post), with the reason on stderr; 1 a non-blocking error
(malformed payload). bin/nextrust.js runs this without loading the rest of the CLI;
.claude/settings.json runs bin/nextrust-hook, which has the hook server run it (see hook-server --help).`,
    )
    .action(async (event: string) => {
      const { runHook } = await import('../integrations/claude/hook-main');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const out = await runHook(event, Buffer.concat(chunks).toString('utf8'), io.env, io.cwd, 'node');
      if (out.stdout) io.out(out.stdout);
      if (out.stderr) io.err(out.stderr);
      setExitCode(out.exitCode);
    });

  for (const verdict of ['confirm', 'reject'] as const) {
    const cmd = program
      .command(verdict)
      .description(
        verdict === 'confirm'
          ? 'Say that the known-issue diagnosis of a recorded failure was right (its id is printed under the diagnosis).'
          : 'Say that the known-issue diagnosis of a recorded failure was wrong; an issue wrong too often is shown as "possible".',
      )
      .argument('<failure-id>', 'failure id, e.g. 3f9a0c2b1d')
      .option('--by <name>', 'who says so (default: $USER)');
    if (verdict === 'reject') cmd.option('--issue <id>', 'the known issue it really was, when you know');
    cmd.action(async (id: string, o: { by?: string; issue?: string }) => {
      if (!/^[0-9a-f]{6,64}$/.test(id))
        throw new CliError(
          `${verdict}: '${id}': expected a failure id (hex, as printed under a diagnosis)`,
          EXIT.usage,
        );
      const { recordVerdict } = await import('../pipeline/precision');
      let r;
      try {
        r = await recordVerdict(
          store(),
          id,
          verdict === 'confirm' ? 'confirmed' : 'rejected',
          o.by ?? io.env.USER ?? 'unknown',
          verdict === 'reject' ? o.issue : undefined,
        );
      } catch (e) {
        if (e instanceof LockTimeoutError) throw e;
        throw new CliError(`${verdict}: ${(e as Error).message}`, EXIT.negative);
      }
      const p = r.precision;
      io.out(
        `${r.issue}: ${p.confirmed} confirmed, ${p.rejected} rejected (precision ${Math.round((p.precision ?? 0) * 100)} %)\n`,
      );
    });
  }

  program
    .command('precision')
    .description('How often each known issue was right, from confirm/reject verdicts.')
    .option('--json', 'print {issues: {<id>: {confirmed, rejected, precision}}}')
    .action(async (o: { json?: boolean }) => {
      const { readPrecision, isDemoted } = await import('../pipeline/precision');
      const table = readPrecision(store());
      if (o.json) return json({ issues: table });
      const rows = Object.entries(table).sort(([a], [b]) => a.localeCompare(b));
      if (!rows.length) return io.out('no verdicts yet (nextrust confirm|reject <failure id>)\n');
      for (const [id, p] of rows) {
        io.out(
          `${id}: ${p.confirmed} confirmed, ${p.rejected} rejected, precision ${Math.round((p.precision ?? 0) * 100)} %${isDemoted(p) ? ' (shown as "possible")' : ''}\n`,
        );
      }
    });

  program
    .command('why')
    .description(
      'Why a task ran instead of coming from the cache: the inputs whose hash changed since its previous recorded run.',
    )
    .argument('<task>', 'project:target[:configuration], e.g. rust-target:build:m68040')
    .option('--json', 'print {task, newest, previous, changes: [{change, input, what}]}')
    .action(async (task: string, o: { json?: boolean }) => {
      if (!/^[^:\s]+:[^:\s]+(:[^:\s]+)?$/.test(task))
        throw new CliError(`why: '${task}': expected project:target[:configuration]`, EXIT.usage);
      const { explainMiss } = await import('../pipeline/task-hashes');
      const r = explainMiss(store().dir, task);
      if (!r)
        throw new CliError(
          `why: no recorded run of ${task} in ${store().dir} (runs are recorded after each nx run; give the configuration, e.g. ${task}:m68040)`,
          EXIT.negative,
        );
      if (o.json) return json(r);
      const ran = (s: string) => (s.includes('cache') ? `from the cache (${s})` : s);
      io.out(`${task}: newest hash ${r.newest.hash} at ${r.newest.at}, ${ran(r.newest.status)}\n`);
      if (!r.previous) return io.out('only one hash recorded: nothing to compare yet\n');
      io.out(`previous hash ${r.previous.hash} at ${r.previous.at}, ${ran(r.previous.status)}\n`);
      io.out(
        r.changes.length
          ? `inputs that changed:\n${r.changes.map((c) => `  ${c.change}: ${c.what}`).join('\n')}\n`
          : 'no input differs (the hash algorithm or Nx version changed)\n',
      );
    });

  program
    .command('target-help')
    .description(
      "Help of a nextrust target: its executor's options, CPU configurations and examples (what `nx run <project>:<target> --help` shows).",
    )
    .argument('<executor>', 'executor name (executors.json), e.g. build')
    .argument('[project:target]', 'the target, for the examples', '<project>:<target>')
    .action(async (executorName: string, projectTarget: string) => {
      const { targetHelp } = await import('../graph/target-help');
      try {
        io.out(
          targetHelp(
            path.resolve(__dirname, __filename.endsWith('.js') ? '../../..' : '../..'),
            executorName,
            projectTarget,
          ),
        );
      } catch (e) {
        throw new CliError(`target-help: ${(e as Error).message}`, EXIT.usage);
      }
    });

  program
    .command('tips')
    .description('Helpful tips for working with the pipeline.')
    .action(() => io.out(TIPS));

  return program;
}

const TIPS = `nextrust tips
  - Main job: npx nx run rust-target:build --configuration=m68040 (configurations: ${CPU_NAMES.join(', ')}).
  - A failing target prints its known issue and fix under the error; check any log by hand with
      npx nextrust check-known-issue --log build.log
  - Status for humans: projects/ci-status/pipeline-log.md; for machines: npx nextrust status --json.
  - Parallel CI jobs or tests: point each at its own status dir with NEXTRUST_STATUS_DIR or --status-dir.
  - After 3 failures of one commit, escalation pauses: npx nextrust backoff; npx nextrust clear-backoff.
  - Keep the active log small: npx nextrust rotate-status (30 days; archive/ keeps the rest).
`;

/**
 * Runs the CLI with `argv` (without node and script); resolves to the exit code.
 * Errors print as one message (never a stack trace unless NEXTRUST_DEBUG=1).
 */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = createProgram(io, (c) => {
    code = c;
  });
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; usage errors were printed by commander.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (io.env.NEXTRUST_DEBUG === '1' && e instanceof Error) io.err(`${e.stack}\n`);
    const message = e instanceof Error ? e.message : String(e);
    io.err(`nextrust: ${message}\n`);
    if (e instanceof CliError) return e.exitCode;
    if (e instanceof LockTimeoutError) return EXIT.lockTimeout;
    if (e instanceof ConfigError) return EXIT.usage;
    return EXIT.usage;
  }
}
