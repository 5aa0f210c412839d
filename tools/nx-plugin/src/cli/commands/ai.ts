/**
 * CLI commands of the AI steps: usage-report, request-design,
 * promote-design, request-review. Thin adapters over ai/usage.ts,
 * ai/design.ts and ai/review.ts (docs/ai.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { promoteDesign, requestDesign } from '../../ai/design';
import { requestReview } from '../../ai/review';
import { loadAiContext } from '../../ai/services';
import { formatUsageTable, readUsage, usageReport } from '../../ai/usage';
import { KNOWN_ISSUES_FILE } from '../../pipeline/known-issues';
import type { CliContext } from '../context';
import { asCliError, EXIT, UsageError } from '../errors';
import { cpuOption, positiveInt } from '../options';

/** Where `promote-design --fixture` keeps failure excerpts, relative to the workspace. */
const FIXTURES_DIR = 'tools/nx-plugin/src/pipeline/fixtures/failure-logs';

/** Registers usage-report, request-design, promote-design and request-review on `program`. */
export function registerAiCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('usage-report')
    .description('AI token usage and cost by day, model and phase (from metrics/ai-usage.jsonl).')
    .option('--days <n>', 'days to report, today included', positiveInt('--days'), 7)
    .option(
      '--json',
      'print {days, rows: [{day, model, phase, calls, input_tokens, output_tokens, cost_usd, unpriced_calls, mean_latency_ms}], total}',
    )
    .action(async (o: { days: number; json?: boolean }) => {
      const { records, invalidLines } = await readUsage(ctx.store());
      if (invalidLines) ctx.warn(`${invalidLines} invalid line(s) in metrics/ai-usage.jsonl skipped`);
      const report = usageReport(records, o.days);
      if (o.json) return ctx.json({ days: o.days, ...report });
      io.out(formatUsageTable(report, o.days));
    });

  program
    .command('request-design')
    .description(
      'Escalate a failure to the design model (o3 by default) and record its decision; cached by the normalised error.',
    )
    .requiredOption('--log <file>', 'the failure log')
    .option('--phase <id>', 'phase of the failing step')
    .addOption(cpuOption('CPU variant of the failing step'))
    .option('--task <name>', 'name of the failing step', 'manual')
    .option('--force', 'ask again even when a cached decision exists')
    .option('--json', 'print {status, summary, error_hash, answer, request}')
    .action(async (o: { log: string; phase?: string; cpu?: string; task: string; force?: boolean; json?: boolean }) => {
      const logFile = path.resolve(io.cwd, o.log);
      if (!fs.existsSync(logFile)) throw new UsageError(`request-design: --log ${o.log}: no such file`);
      const s = ctx.store();
      const r = await requestDesign(
        s,
        { task: o.task, phase: o.phase, cpu: o.cpu, logFile },
        { ...loadAiContext(s, io.env), env: io.env, force: o.force },
      );
      if (o.json)
        ctx.json({
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
      if (r.status === 'skipped' || r.status === 'failed') ctx.setExitCode(EXIT.negative);
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
      `also keep the failure's excerpt as a test fixture (${FIXTURES_DIR}/<id>.log, listed in its diagnoses.json) and name it in the entry's references`,
    )
    .action(async (hash: string, o: { id?: string; pattern?: string[]; fixture?: boolean }) => {
      if (!/^[0-9a-f]{16}$/.test(hash))
        throw new UsageError(`promote-design: '${hash}' is not an error hash (16 hex digits)`);
      try {
        const fixturesDir = path.join(ctx.workspaceRoot, FIXTURES_DIR);
        if (o.fixture && !fs.existsSync(fixturesDir)) throw new Error(`--fixture: no folder ${fixturesDir}`);
        const fixtures = o.fixture ? { dir: fixturesDir, workspaceRoot: ctx.workspaceRoot } : undefined;
        const entry = await promoteDesign(ctx.store(), hash, { id: o.id, errorPatterns: o.pattern, fixtures });
        io.out(
          `known issue ${entry.id} added to ${KNOWN_ISSUES_FILE} (${entry.error_patterns.length} error pattern(s))${fixtures ? `; its log kept as ${entry.metadata.references[0]}` : ''}\n`,
        );
      } catch (e) {
        throw asCliError(e, 'promote-design', UsageError);
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
      const s = ctx.store();
      const r = await requestReview(s, {
        workspaceRoot: ctx.workspaceRoot,
        ...loadAiContext(s, io.env),
        base: o.base,
        head: o.head,
        phase: o.phase,
        env: io.env,
      });
      if (o.json)
        ctx.json({ status: r.status, summary: r.summary, artifact: r.artifact ?? null, files: r.files, base: r.base });
      else io.out(r.summary + '\n');
      if (r.status !== 'completed') ctx.setExitCode(EXIT.negative);
    });
}
