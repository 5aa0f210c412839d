/**
 * CLI commands about the Nx targets: why (cache misses), target-help, tips.
 * Thin adapters over pipeline/task-hashes.ts and graph/target-help.ts
 * (docs/pipeline.md).
 */
import type { Command } from 'commander';
import { CPU_NAMES } from '../../toolchain/cpu';
import type { CliContext } from '../context';
import { NegativeAnswerError, UsageError } from '../errors';

/** What `nextrust tips` prints. */
export const TIPS = `nextrust tips
  - Main job: npx nx run rust-target:build --configuration=m68040 (configurations: ${CPU_NAMES.join(', ')}).
  - A failing target prints its known issue and fix under the error; check any log by hand with
      npx nextrust check-known-issue --log build.log
  - Status for humans: projects/ci-status/pipeline-log.md; for machines: npx nextrust status --json.
  - Parallel CI jobs or tests: point each at its own status dir with NEXTRUST_STATUS_DIR or --status-dir.
  - After 3 failures of one commit, escalation pauses: npx nextrust backoff; npx nextrust clear-backoff.
  - Keep the active log small: npx nextrust rotate-status (30 days; archive/ keeps the rest).
`;

/** Registers why, target-help and tips on `program`. */
export function registerTargetCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('why')
    .description(
      'Why a task ran instead of coming from the cache: the inputs whose hash changed since its previous recorded run.',
    )
    .argument('<task>', 'project:target[:configuration], e.g. rust-target:build:m68040')
    .option('--json', 'print {task, newest, previous, changes: [{change, input, what}]}')
    .action(async (task: string, o: { json?: boolean }) => {
      if (!/^[^:\s]+:[^:\s]+(:[^:\s]+)?$/.test(task))
        throw new UsageError(`why: '${task}': expected project:target[:configuration]`);
      const { explainMiss } = await import('../../pipeline/task-hashes');
      const dir = ctx.store().dir;
      const r = explainMiss(dir, task);
      if (!r)
        throw new NegativeAnswerError(
          `why: no recorded run of ${task} in ${dir} (runs are recorded after each nx run; give the configuration, e.g. ${task}:m68040)`,
        );
      if (o.json) return ctx.json(r);
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
      const { targetHelp } = await import('../../graph/target-help');
      let text: string;
      try {
        text = targetHelp(ctx.pluginDir, executorName, projectTarget);
      } catch (e) {
        throw new UsageError(`target-help: ${(e as Error).message}`, { cause: e });
      }
      io.out(text);
    });

  program
    .command('tips')
    .description('Helpful tips for working with the pipeline.')
    .action(() => io.out(TIPS));
}
