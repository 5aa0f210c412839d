/**
 * CLI commands that keep the status directory small and the failure loop in
 * check: rotate-status, rotate-logs, backoff, clear-backoff. Thin adapters
 * over pipeline/status-store.ts, pipeline/log-retention.ts and
 * pipeline/backoff.ts (docs/pipeline.md).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { backoffState, clearBackoff } from '../../pipeline/backoff';
import { currentCommit } from '../../pipeline/idempotency';
import { deleteOldLogs } from '../../pipeline/log-retention';
import type { CliContext } from '../context';
import { EXIT } from '../errors';
import { nonNegativeInt } from '../options';

/** Registers rotate-status, rotate-logs, backoff and clear-backoff on `program`. */
export function registerMaintenanceCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('rotate-status')
    .description(
      'Archive activities older than --days and beyond --max-bytes from the active status log into archive/ (one file per month).',
    )
    .option('--days <n>', 'keep this many days in the active log', nonNegativeInt('--days'), 30)
    .option(
      '--max-bytes <n>',
      'then keep the active log at most this many bytes',
      nonNegativeInt('--max-bytes'),
      4 * 1024 * 1024,
    )
    .option('--dry-run', 'only report what would move')
    .option('--json', 'print the result as JSON')
    .action(async (o: { days: number; maxBytes: number; dryRun?: boolean; json?: boolean }) => {
      const r = await ctx.store().rotate({ maxAgeDays: o.days, maxBytes: o.maxBytes, dryRun: o.dryRun });
      if (o.json) return ctx.json(r);
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
    .option('--days <n>', 'keep this many days', nonNegativeInt('--days'), 14)
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print the deleted files as JSON')
    .action((o: { days: number; dryRun?: boolean; json?: boolean }) => {
      const removed = deleteOldLogs({
        dirs: [ctx.store().file('failure-logs'), path.join(ctx.workspaceRoot, '.claude', 'hook-logs')],
        maxAgeDays: o.days,
        now: ctx.now(),
        dryRun: o.dryRun,
        relativeTo: ctx.workspaceRoot,
      });
      if (o.json) return ctx.json({ removed, dryRun: !!o.dryRun });
      io.out(`${o.dryRun ? 'would delete' : 'deleted'} ${removed.length} log files older than ${o.days} days\n`);
    });

  program
    .command('backoff')
    .description("Show a commit's failure count and whether it is in backoff (exit 1 when it is).")
    .option('--commit <sha>', 'commit (default: GITHUB_SHA or HEAD)')
    .option('--json', 'print {commit, failures, inBackoff, message}')
    .action((o: { commit?: string; json?: boolean }) => {
      const st = backoffState(ctx.store(), o.commit ?? currentCommit(ctx.workspaceRoot, io.env));
      if (o.json) ctx.json(st);
      else io.out(st.message + '\n');
      if (st.inBackoff) ctx.setExitCode(EXIT.negative);
    });

  program
    .command('clear-backoff')
    .description("Clear a commit's failure count (default: the current commit; --all: every commit).")
    .option('--commit <sha>', 'commit to clear')
    .option('--all', 'clear every commit')
    .action(async (o: { commit?: string; all?: boolean }) => {
      const s = ctx.store();
      const cleared = await clearBackoff(s, o.all ? undefined : (o.commit ?? currentCommit(ctx.workspaceRoot, io.env)));
      if (cleared.length)
        await s.append('backoff_cleared', {
          commits: cleared,
          message: `backoff cleared for ${cleared.length} commit(s)`,
        });
      io.out(cleared.length ? `cleared: ${cleared.join(', ')}\n` : 'nothing to clear\n');
    });
}
