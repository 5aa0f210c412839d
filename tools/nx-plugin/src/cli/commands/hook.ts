/**
 * CLI commands of the Claude Code hooks: `hook <event>` (the dispatcher
 * wired in .claude/settings.json) and `hook-server status|start|stop|run`.
 * Thin adapters over src/integrations/claude (docs/integrations.md).
 *
 * The hook entry is hookMain (integrations/claude/hook-main.ts), once:
 * bin/nextrust.js calls it directly for `nextrust hook <event>` without
 * loading this CLI, and the `hook` command here calls the same function when
 * the CLI is reached some other way (e.g. `nextrust --status-dir D hook pre`).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { EXIT } from '../errors';

/** What the hook commands use of the CLI context. */
export type HookCommandContext = Pick<CliContext, 'io' | 'pluginDir' | 'setExitCode'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers `hook-server` and `hook` on `program`. */
export function registerHookCommands(program: Command, deps: HookCommandContext): void {
  const { io } = deps;
  const hs = program
    .command('hook-server')
    .description(
      'The hook server behind .claude/settings.json (one per checkout): hook calls in a few ms instead of a Node start-up each.',
    )
    .addHelpText(
      'after',
      `
Started on first use by a hook call; exits after NEXTRUST_HOOK_SERVER_IDLE_MS without calls
(default 30 min) and whenever the plugin is rebuilt or its sources change (the next call runs
through node and starts a current one). NEXTRUST_HOOK_SERVER=0: never use it.
Limits: a payload over NEXTRUST_HOOK_MAX_PAYLOAD_BYTES (default 1 MiB) is refused unread (pre: blocked);
a call over NEXTRUST_HOOK_CALL_TIMEOUT_MS (default 10 s) is answered at the limit (pre: blocked); each call
runs in its own worker thread, so one slow call never delays another.
Socket: $NEXTRUST_HOOK_SOCKET_DIR or $TMPDIR/nextrust-hooks-<uid>, one per checkout; log beside it.`,
    );

  const socket = async () => {
    const { hookSocketPath } = await import('../../integrations/claude/hook-protocol');
    return hookSocketPath(deps.pluginDir, io.env);
  };

  hs.command('status')
    .description('Whether a server runs for this checkout (exit 0) or not (exit 1).')
    .option('--json', 'print {running, socketPath, pid, startedAt, calls, idleMs} as JSON')
    .action(async (o: { json?: boolean }) => {
      const { pingHookServer } = await import('../../integrations/claude/hook-server');
      const socketPath = await socket();
      const info = await pingHookServer(socketPath);
      if (o.json) io.out(JSON.stringify({ running: !!info, socketPath, ...info }, null, 2) + '\n');
      else
        io.out(
          info
            ? `hook server running: pid ${info.pid}, since ${info.startedAt}, ${info.calls} calls served, socket ${socketPath}\n`
            : `no hook server running (socket ${socketPath})\n`,
        );
      if (!info) deps.setExitCode(EXIT.negative);
    });

  hs.command('start')
    .description('Starts a server in the background (if none runs) and waits until it answers (up to 30 s).')
    .action(async () => {
      const { pingHookServer, startHookServerInBackground } = await import('../../integrations/claude/hook-server');
      const what = await startHookServerInBackground(deps.pluginDir, io.env);
      if (what === 'disabled' || what === 'no-client') {
        io.err(
          what === 'disabled'
            ? 'nextrust hook-server: NEXTRUST_HOOK_SERVER=0: not started\n'
            : 'nextrust hook-server: dist/hook-client is not built (npm run build): hooks run through node, no server needed\n',
        );
        return deps.setExitCode(EXIT.negative);
      }
      const socketPath = await socket();
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
        const info = await pingHookServer(socketPath);
        if (info) return io.out(`hook server running: pid ${info.pid}, socket ${socketPath}\n`);
      }
      io.err(
        `nextrust hook-server: started, but nothing answers on ${socketPath} after 30 s: see ${socketPath.replace(/\.sock$/, '.log')}\n`,
      );
      deps.setExitCode(EXIT.negative);
    });

  hs.command('stop')
    .description('Stops the server of this checkout (exit 0 also when none ran).')
    .action(async () => {
      const { callHookServer } = await import('../../integrations/claude/hook-server');
      const socketPath = await socket();
      try {
        await callHookServer(socketPath, '__stop');
        io.out(`hook server stopped (socket ${socketPath})\n`);
      } catch {
        io.out(`no hook server running (socket ${socketPath})\n`);
      }
    });

  hs.command('run')
    .description('Runs a server in the foreground (what `start` and the first hook call launch); Ctrl-C stops it.')
    .action(async () => {
      const { startHookServer, HookServerRunningError } = await import('../../integrations/claude/hook-server');
      let server;
      try {
        server = await startHookServer({
          pluginDir: deps.pluginDir,
          env: io.env,
          log: (l) => io.err(`${new Date().toISOString()} ${l}\n`),
        });
      } catch (e) {
        if (e instanceof HookServerRunningError) return io.err(`nextrust hook-server: ${e.message}\n`);
        throw e;
      }
      const stop = () => void server.close('signal');
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await server.closed;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    });

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
      // The process's own stdin, stdout and stderr, as on bin/nextrust.js's direct path.
      const { hookMain } = await import('../../integrations/claude/hook-main');
      deps.setExitCode(await hookMain(event));
    });
}
