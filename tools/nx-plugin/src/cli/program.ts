/**
 * The `nextrust` CLI: the root command, composed of the command modules in
 * cli/commands (each registers one group of commands on the program, as thin
 * commander adapters over the pipeline modules). Every command has `--help`;
 * machine-read commands have `--json`. Exit codes: cli/errors.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { registerAiCommands } from './commands/ai';
import { registerGithubCommands } from './commands/github';
import { registerHookCommands } from './commands/hook';
import { registerKnownIssueCommands } from './commands/known-issues';
import { registerMaintenanceCommands } from './commands/maintenance';
import { registerMetricsCommands } from './commands/metrics';
import { registerStatusCommands } from './commands/status';
import { registerTargetCommands } from './commands/targets';
import { createContext, processIo, type CliIo } from './context';
import { EXIT, exitCodesHelp, exitOf } from './errors';

export type { CliIo } from './context';

/**
 * Builds the commander program.
 * @param io where it writes (default: this process); @param setExitCode receives a command's non-zero result.
 */
export function createProgram(io: CliIo = processIo(), setExitCode: (code: number) => void = () => undefined): Command {
  const program = new Command('nextrust');
  const ctx = createContext(program, io, setExitCode);
  const { version } = JSON.parse(fs.readFileSync(path.join(ctx.pluginDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  program
    .description(
      'NeXTRust pipeline tool: status, phases, known issues, failure-loop protection, AI escalation and review.',
    )
    .option('--status-dir <dir>', 'status directory (default: $NEXTRUST_STATUS_DIR or <workspace>/projects/ci-status)')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText('after', exitCodesHelp());
  registerStatusCommands(program, ctx);
  registerKnownIssueCommands(program, ctx);
  registerMaintenanceCommands(program, ctx);
  registerAiCommands(program, ctx);
  registerGithubCommands(program, ctx);
  registerMetricsCommands(program, ctx);
  registerTargetCommands(program, ctx);
  registerHookCommands(program, ctx);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script); resolves to the exit code (errors.ts: EXIT).
 * Errors print as one line (errors.ts exitOf; a stack trace only with NEXTRUST_DEBUG=1).
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
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
    const { exitCode, stderr } = exitOf(e, io.env.NEXTRUST_DEBUG === '1');
    if (stderr) io.err(stderr);
    return exitCode;
  }
}
