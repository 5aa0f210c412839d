/**
 * CLI commands of the pipeline status: status, get-phase, set-phase,
 * update-status, append-status. Thin adapters over pipeline/status-store.ts
 * and pipeline/phases.ts (docs/pipeline.md).
 */
import type { Command } from 'commander';
import { requestReview } from '../../ai/review';
import { loadAiContext } from '../../ai/services';
import { findPhase, PHASES_FILE, type PhasesFile } from '../../pipeline/phases';
import {
  IDEMPOTENCY_KEY,
  NoCurrentPhaseError,
  type PhaseStatus,
  type PipelineStatus,
  type StatusStore,
} from '../../pipeline/status-store';
import type { CliContext } from '../context';
import { EXIT, NegativeAnswerError, UsageError } from '../errors';
import { phaseStatusOption, positiveInt } from '../options';

/**
 * The text `nextrust status` prints: status dir, current phase, completed phases, flaky tasks, the activity count
 * and the last 15 activities (`<timestamp> <type>: <details.message, else the details as JSON>`), one per line.
 */
export function formatStatus(dir: string, status: PipelineStatus): string {
  const cur = status.current_phase;
  const lines = [
    `status dir: ${dir}`,
    cur ? `current phase: ${cur.id} (${cur.name}), ${cur.status} since ${cur.started_at}` : 'current phase: none set',
    `phases completed: ${
      status.phase_history
        .filter((p) => p.status === 'completed')
        .map((p) => p.id)
        .join(', ') || 'none'
    }`,
  ];
  const flaky = [
    ...new Set(status.activities.filter((a) => a.type === 'flaky_task').map((a) => String(a.details.task))),
  ];
  if (flaky.length) lines.push(`flaky tasks (the same inputs passed and failed): ${flaky.join(', ')}`);
  lines.push(`activities: ${status.activities.length}`);
  for (const a of status.activities.slice(-15)) {
    const msg = typeof a.details.message === 'string' ? a.details.message : JSON.stringify(a.details);
    lines.push(`  ${a.timestamp} ${a.type}: ${msg}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The phases of `store` (phases.json, or its last good copy with a warning).
 * @throws UsageError naming the file when there is none.
 */
function phasesOf(ctx: CliContext, store: StatusStore): PhasesFile {
  const { phases, warning } = store.loadPhases();
  if (warning) ctx.warn(`${warning}; using its last good copy`);
  if (!phases)
    throw new UsageError(
      `${store.file(PHASES_FILE)}: not found: the phases file lists the pipeline's phases (copy projects/ci-status/${PHASES_FILE})`,
    );
  return phases;
}

/** Registers status, get-phase, set-phase, update-status and append-status on `program`. */
export function registerStatusCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('status')
    .description('Print the pipeline status: current phase, phase history and activities.')
    .option('--json', 'machine-readable: {current_phase, phase_history, activities, warnings}')
    .option('--limit <n>', 'only the last N activities', positiveInt('--limit'))
    .action(async (o: { json?: boolean; limit?: number }) => {
      const s = ctx.store();
      const status = await s.status(o.limit);
      for (const w of status.warnings) ctx.warn(`${w.file}${w.line ? `:${w.line}` : ''}: ${w.message}`);
      if (o.json) return ctx.json({ status_dir: s.dir, ...status });
      io.out(formatStatus(s.dir, status));
    });

  program
    .command('get-phase')
    .description('Print the current phase id (exit 1 when none is set).')
    .option('--json', 'print the whole current phase record')
    .action((o: { json?: boolean }) => {
      const { state, warnings } = ctx.store().readState();
      for (const w of warnings) ctx.warn(w.message);
      if (o.json) ctx.json({ current_phase: state.current_phase });
      else if (state.current_phase) io.out(`${state.current_phase.id}\n`);
      if (!state.current_phase) {
        if (!o.json) io.err('nextrust: no current phase (set one with `nextrust set-phase <id>`)\n');
        ctx.setExitCode(EXIT.negative);
      }
    });

  program
    .command('set-phase')
    .description('Make a phase (id, number or phase-N) the current one; the previous one goes to the history.')
    .argument('<phase>', 'phase id from phases.json, its number, or phase-N')
    .addOption(phaseStatusOption('status of the new phase').default('in_progress'))
    .option('--message <text>', 'note recorded with it')
    .option('--json', 'print the new state as JSON')
    .action(async (ref: string, o: { status: PhaseStatus; message?: string; json?: boolean }) => {
      const s = ctx.store();
      const phases = phasesOf(ctx, s);
      const phase = findPhase(phases, ref);
      if (!phase)
        throw new UsageError(
          `unknown phase '${ref}': expected one of ${phases.phases.map((p) => `${p.id} (${p.number})`).join(', ')}`,
        );
      const state = await s.setPhase(phase, o.status, o.message);
      if (o.json) ctx.json(state);
      else io.out(`current phase: ${phase.id} (${phase.name}), ${o.status}\n`);
    });

  program
    .command('update-status')
    .description("Change the current phase's status (in_progress, completed, failed, blocked) and record it.")
    .addOption(phaseStatusOption('new status').makeOptionMandatory())
    .option('--message <text>', 'note recorded with it')
    .option('--no-review', 'do not request the phase review when the status is completed')
    .option('--json', 'print the new state as JSON')
    .action(async (o: { status: PhaseStatus; message?: string; review: boolean; json?: boolean }) => {
      let state;
      try {
        state = await ctx.store().updatePhaseStatus(o.status, o.message);
      } catch (e) {
        if (e instanceof NoCurrentPhaseError) throw new NegativeAnswerError(e.message, { cause: e });
        throw e;
      }
      // A completed phase triggers its review (skipped, with the reason, without a key).
      let review: { status: string; summary: string } | undefined;
      if (o.status === 'completed' && o.review) {
        const s = ctx.store();
        review = await requestReview(s, {
          workspaceRoot: ctx.workspaceRoot,
          ...loadAiContext(s, io.env),
          phase: state.current_phase!.id,
          env: io.env,
        });
      }
      if (o.json)
        ctx.json({ ...state, ...(review ? { review: { status: review.status, summary: review.summary } } : {}) });
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
        throw new UsageError(`append-status: argument <details>: not valid JSON: ${(e as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new UsageError('append-status: argument <details>: expected a JSON object, e.g. \'{"message": "…"}\'');
      if (o.key !== undefined && !IDEMPOTENCY_KEY.test(o.key))
        throw new UsageError('append-status: --key: expected 1-128 letters, digits, _ or -');
      const r = await ctx.store().append(type, parsed as Record<string, unknown>, { key: o.key });
      if (o.json) ctx.json(r);
      else io.out(r.recorded ? `recorded ${type}\n` : `not recorded: key ${o.key} was already recorded\n`);
    });
}
