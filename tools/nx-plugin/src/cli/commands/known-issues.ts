/**
 * CLI commands of the known issues: check-known-issue, validate,
 * known-issues-schema, and the verdicts on diagnoses (confirm, reject,
 * precision). Thin adapters over pipeline/matcher.ts,
 * pipeline/failure-analysis.ts, pipeline/known-issues.ts and
 * pipeline/precision.ts (docs/pipeline.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { analyzeFailure, formatDiagnosis, loadKnownIssues } from '../../pipeline/failure-analysis';
import {
  KNOWN_ISSUES_FILE,
  KNOWN_ISSUES_SCHEMA_FILE,
  knownIssuesFileSchema,
  knownIssuesJsonSchema,
} from '../../pipeline/known-issues';
import { scanLogFile, scanLogText } from '../../pipeline/matcher';
import { PHASES_FILE, phasesFileSchema } from '../../pipeline/phases';
import { readValidatedJson } from '../../pipeline/validated-file';
import type { CliContext } from '../context';
import { asCliError, EXIT, NegativeAnswerError, UsageError } from '../errors';
import { confidence, cpuOption } from '../options';

/** Registers check-known-issue, validate, known-issues-schema, confirm, reject and precision on `program`. */
export function registerKnownIssueCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('check-known-issue')
    .description('Match a failure log (streamed; any size) or an error text against the known issues.')
    .argument('[text...]', 'error text to check (instead of --log)')
    .option('--log <file>', 'log file to scan')
    .option('--phase <id>', 'phase of the failing step (raises or lowers confidence)')
    .addOption(cpuOption('CPU variant of the failing step'))
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
        if (!o.log && !text.length) throw new UsageError('check-known-issue: give --log FILE or the error text');
        if (o.log && text.length)
          throw new UsageError('check-known-issue: give --log FILE or the error text, not both');
        const logFile = o.log ? path.resolve(io.cwd, o.log) : undefined;
        if (logFile && !fs.existsSync(logFile)) throw new UsageError(`check-known-issue: --log ${o.log}: no such file`);
        const s = ctx.store();
        if (o.record) {
          const a = await analyzeFailure(s, {
            task: o.task,
            cpu: o.cpu,
            logFile,
            logText: text.join(' '),
            workspaceRoot: ctx.workspaceRoot,
          });
          if (o.json)
            ctx.json({
              match: a.match,
              lines: a.scan.lines,
              escalation: a.escalation,
              backoff: a.backoff ?? null,
              warnings: a.warnings,
            });
          else io.out(a.diagnosis + '\n');
          if (!a.match) ctx.setExitCode(EXIT.negative);
          return;
        }
        const { issues, warning } = loadKnownIssues(s);
        if (warning) ctx.warn(`${warning}; using its last good copy`);
        const opts = { phase: o.phase, cpu: o.cpu, minConfidence: o.minConfidence };
        const scan = logFile ? await scanLogFile(logFile, issues, opts) : scanLogText(text.join(' '), issues, opts);
        if (o.json) ctx.json({ match: scan.match, lines: scan.lines, bytes: scan.bytes });
        else
          io.out(
            formatDiagnosis(
              { match: scan.match, scan, escalation: { status: 'not-needed', summary: '' }, warnings: [] },
              logFile,
            ) + '\n',
          );
        if (!scan.match) ctx.setExitCode(EXIT.negative);
      },
    );

  program
    .command('validate')
    .description('Validate known-issues.json and phases.json (exit 2 naming the file and field when invalid).')
    .action(() => {
      const s = ctx.store();
      const ki = readValidatedJson(s.file(KNOWN_ISSUES_FILE), knownIssuesFileSchema);
      const ph = readValidatedJson(s.file(PHASES_FILE), phasesFileSchema);
      const phaseIds = new Set(ph.phases.map((p) => p.id));
      const bad = ki.known_issues.map((k, i) => ({ k, i })).filter(({ k }) => !phaseIds.has(k.phase));
      if (bad.length) {
        throw new UsageError(
          bad
            .map(
              ({ k, i }) =>
                `${s.file(KNOWN_ISSUES_FILE)}: field 'known_issues[${i}].phase': unknown phase '${k.phase}' (phases.json has ${[...phaseIds].join(', ')})`,
            )
            .join('\n'),
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
      const file = ctx.store().file(KNOWN_ISSUES_SCHEMA_FILE);
      await writeFileAtomic(file, text);
      io.out(`wrote ${file}\n`);
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
        throw new UsageError(`${verdict}: '${id}': expected a failure id (hex, as printed under a diagnosis)`);
      const { recordVerdict } = await import('../../pipeline/precision');
      let r;
      try {
        r = await recordVerdict(
          ctx.store(),
          id,
          verdict === 'confirm' ? 'confirmed' : 'rejected',
          o.by ?? io.env.USER ?? 'unknown',
          verdict === 'reject' ? o.issue : undefined,
        );
      } catch (e) {
        throw asCliError(e, verdict, NegativeAnswerError);
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
      const { readPrecision, isDemoted } = await import('../../pipeline/precision');
      const table = readPrecision(ctx.store());
      if (o.json) return ctx.json({ issues: table });
      const rows = Object.entries(table).sort(([a], [b]) => a.localeCompare(b));
      if (!rows.length) return io.out('no verdicts yet (nextrust confirm|reject <failure id>)\n');
      for (const [id, p] of rows) {
        io.out(
          `${id}: ${p.confirmed} confirmed, ${p.rejected} rejected, precision ${Math.round((p.precision ?? 0) * 100)} %${isDemoted(p) ? ' (shown as "possible")' : ''}\n`,
        );
      }
    });
}
