/**
 * CLI commands of the hook server (src/integrations/claude/hook-server.ts):
 * `hook-server status|start|stop|run`. Thin adapters; see docs/integrations.md.
 */
import * as path from 'node:path';
import type { Command } from 'commander';

/** What the commands need from the program. */
export interface HookServerCommandDeps {
  io: { out: (t: string) => void; err: (t: string) => void; cwd: string; env: NodeJS.ProcessEnv };
  setExitCode: (code: number) => void;
}

/** tools/nx-plugin of this CLI's own checkout (src/cli/commands → ../../..; the same from dist/src/cli/commands → ../../../..). */
function pluginDirOfThisCli(): string {
  const up = __filename.endsWith('.js') ? '../../../..' : '../../..';
  return path.resolve(__dirname, up);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers `hook-server` on `program`. */
export function registerHookServerCommands(program: Command, deps: HookServerCommandDeps): void {
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
    return hookSocketPath(pluginDirOfThisCli(), io.env);
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
      if (!info) deps.setExitCode(1);
    });

  hs.command('start')
    .description('Starts a server in the background (if none runs) and waits until it answers (up to 30 s).')
    .action(async () => {
      const { pingHookServer, startHookServerInBackground } = await import('../../integrations/claude/hook-server');
      const what = await startHookServerInBackground(pluginDirOfThisCli(), io.env);
      if (what === 'disabled' || what === 'no-client') {
        io.err(
          what === 'disabled'
            ? 'nextrust hook-server: NEXTRUST_HOOK_SERVER=0: not started\n'
            : 'nextrust hook-server: dist/hook-client is not built (npm run build): hooks run through node, no server needed\n',
        );
        return deps.setExitCode(1);
      }
      const socketPath = await socket();
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
        const info = await pingHookServer(socketPath);
        if (info) return io.out(`hook server running: pid ${info.pid}, socket ${socketPath}\n`);
      }
      io.err(
        `nextrust hook-server: started, but nothing answers on ${socketPath} after 30 s: see ${socketPath.replace(/\.sock$/, '.log')}\n`,
      );
      deps.setExitCode(1);
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
          pluginDir: pluginDirOfThisCli(),
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
}
