/**
 * The Claude Code hook dispatcher: `nextrust hook <event>` with the payload on
 * stdin. A thin router over small handlers, one table from event to
 * handlers, run in order until one decides (it replaced a bash dispatcher
 * over a directory of handler scripts that read each payload field with its
 * own jq process).
 *
 *  - pre: the security guard (destructive commands: exit 2, reason on
 *    stderr, Claude Code's block contract); phase alignment for pipeline
 *    builds (a target of a later phase than the current one: the user is
 *    asked, `permissionDecision: "ask"`).
 *  - post: the command's result recorded; a failed Bash command's output
 *    analysed against the known issues (a known issue is fed back to Claude:
 *    exit 2 with the diagnosis on stderr), with backoff counting.
 *  - stop: phase completion: a completed phase without a review gets one.
 *  - user-prompt-submit: the prompt's size and hash recorded (not its text).
 *  - session-start: nothing to decide; the call itself starts the hook
 *    server (hook-server.ts), so that the session's first tool call is fast.
 *
 * Speed: this runs on every tool call. Handlers import the pipeline and AI
 * modules lazily, only when the command needs them (a pipeline build, a
 * failure); the common path (a harmless command) loads nothing but the guard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkCommand } from './security-guard';
import { HOOK_EVENTS, parseHookPayload, PayloadError, type HookEvent, type HookPayload } from './payload';
import { MAX_PAYLOAD_ENV, maxPayloadBytes } from './hook-protocol';

/** What a handler decided. */
export interface HookDecision {
  /** Block (pre) or feed back to Claude (post): exit 2 with this on stderr. */
  block?: string;
  /** Ask the user to confirm (pre): printed as Claude Code's permissionDecision JSON. */
  ask?: string;
  /** Said on stderr without blocking. */
  note?: string;
}

/** Context of one invocation. */
export interface HookContext {
  event: HookEvent;
  payload: HookPayload;
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
}

/** A handler: returns a decision, or nothing to let the next one run. */
export type HookHandler = (ctx: HookContext) => Promise<HookDecision | void> | HookDecision | void;

/** Commands that run pipeline targets (phase alignment applies). */
const PIPELINE_TARGET = /\b(llvm-m68k|rust-target|emulator-tests|ci-status):([a-z0-9_-]+)/g;

/** The guard's verdict on a command as a hook decision; the guard failing blocks the command (fails closed). */
function guardDecision(command: string): HookDecision | void {
  let v: ReturnType<typeof checkCommand>;
  try {
    v = checkCommand(command);
  } catch (e) {
    return {
      block: `nextrust security guard: blocked: the guard failed, so the command cannot be checked (${(e as Error).message})\n  command: ${command.slice(0, 300)}`,
    };
  }
  if (v.blocked) return { block: `nextrust security guard: blocked: ${v.reason}\n  command: ${command.slice(0, 300)}` };
  if (v.ask)
    return { ask: `nextrust security guard: cannot check this command (${v.ask}); allow it only after reading it` };
}

const securityGuard: HookHandler = ({ payload }) => (payload.command ? guardDecision(payload.command) : undefined);

/**
 * `tool_input.command` (or `tool_args.command`) of a payload that parseHookPayload refused, when it can still be
 * read: JSON after trailing NUL bytes and whitespace are dropped, with a string command.
 */
function readableCommand(stdin: string): string | undefined {
  try {
    const o = JSON.parse(stdin.replace(/[\0\s]+$/, '')) as Record<string, unknown>;
    const input = (o?.tool_input ?? o?.tool_args) as Record<string, unknown> | undefined;
    return typeof input?.command === 'string' ? input.command : undefined;
  } catch {
    return undefined;
  }
}

/** `nx <target> <project>` (e.g. `nx build rust-target`). */
const NX_TARGET_PROJECT = /\bnx\s+([a-z0-9_-]+)\s+(llvm-m68k|rust-target|emulator-tests|ci-status)\b/g;

const phaseAlignment: HookHandler = async ({ payload, workspaceRoot, env }) => {
  const command = payload.command ?? '';
  const llvmBuild = /build-custom-llvm|cmake\b.*llvm/.test(command);
  // Only commands that run Nx targets (not a grep or a commit message that names one).
  if (!/\bnx(\.js)?\b/.test(command) && !llvmBuild) return;
  const targets = [
    ...[...command.matchAll(PIPELINE_TARGET)].map((m) => [m[1], m[2]] as const),
    ...[...command.matchAll(NX_TARGET_PROJECT)]
      .filter((m) => !['run', 'affected', 'show', 'graph', 'reset'].includes(m[1]))
      .map((m) => [m[2], m[1]] as const),
  ];
  if (!targets.length && !llvmBuild) return;
  const { StatusStore, resolveStatusDir } = await import('../../pipeline/status-store');
  const { checkPhaseAlignment } = await import('../../pipeline/phases');
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env), { env });
  const { phases } = store.loadPhases();
  if (!phases) return;
  const current = store.readState().state.current_phase?.id;
  const checks = targets.length ? targets : ([['llvm-m68k', 'toolchain']] as const);
  for (const [project, target] of checks) {
    const a = checkPhaseAlignment(phases, current, project, target);
    if (!a.aligned) {
      await store.append('phase_misaligned', {
        task: `${project}:${target}`,
        source: 'claude-code',
        message: a.reason,
      });
      return { ask: `nextrust phase alignment: ${a.reason}` };
    }
  }
};

const recordResult: HookHandler = async ({ payload, workspaceRoot, env }) => {
  if (payload.tool_name !== 'Bash' || !payload.command || !payload.result) return;
  const { StatusStore, resolveStatusDir } = await import('../../pipeline/status-store');
  const { idempotencyKey } = await import('../../pipeline/idempotency');
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env), { env });
  const r = payload.result;
  const key = idempotencyKey({
    session: payload.session_id,
    commit: '-',
    runId: payload.tool_use_id ?? '-',
    attempt: '1',
    event: `command:${payload.command}:${r.stdout.length}:${r.stderr.length}`,
  });
  await store.append(
    r.failed ? 'command_failed' : 'command_completed',
    {
      command: payload.command.slice(0, 300),
      exit_code: r.exitCode,
      interrupted: r.interrupted,
      session: payload.session_id,
      message: `${r.failed ? 'failed' : 'ran'}: ${payload.command.slice(0, 120)}`,
    },
    { key },
  );
};

const analyseFailedCommand: HookHandler = async ({ payload, workspaceRoot, env }) => {
  if (!payload.result?.failed || !payload.command) return;
  const { StatusStore, resolveStatusDir } = await import('../../pipeline/status-store');
  const { analyzeFailure } = await import('../../pipeline/failure-analysis');
  const { createHash } = await import('node:crypto');
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env), { env });
  const r = payload.result;
  // Without a tool_use_id, the output tells two failures of the same command apart.
  const runId =
    payload.tool_use_id ??
    `claude-code-${createHash('sha256')
      .update(r.stdout + '\0' + r.stderr + '\0' + (r.error ?? ''))
      .digest('hex')
      .slice(0, 16)}`;
  const a = await analyzeFailure(
    store,
    {
      task: `bash: ${payload.command.slice(0, 80)}`,
      command: payload.command,
      logText: [r.stdout, r.stderr, r.error ?? ''].join('\n'),
      workspaceRoot,
    },
    { keyParts: { session: payload.session_id, runId }, env },
  );
  // A known issue goes back to Claude (PostToolUse exit 2: stderr is shown to the model).
  if (a.match) return { block: a.diagnosis };
  return { note: a.diagnosis };
};

const phaseCompletion: HookHandler = async ({ payload, workspaceRoot, env }) => {
  if (payload.stop_hook_active) return; // Claude is already continuing because of a stop hook: no loop.
  const { StatusStore, resolveStatusDir } = await import('../../pipeline/status-store');
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env), { env });
  const cur = store.readState().state.current_phase;
  if (!cur || cur.status !== 'completed') return;
  const { activities } = await store.readActivities();
  const reviewed = activities.some(
    (a) =>
      (a.type === 'review_completed' || a.type === 'review_skipped') &&
      a.details.phase === cur.id &&
      a.timestamp >= (cur.ended_at ?? cur.updated_at),
  );
  if (reviewed) return;
  const { requestReview } = await import('../../ai/review');
  const { loadAiContext } = await import('../../ai/services');
  const r = await requestReview(store, { workspaceRoot, ...loadAiContext(store, env), phase: cur.id, env });
  return { note: `nextrust: phase ${cur.id} completed: ${r.summary}` };
};

const auditPrompt: HookHandler = async ({ payload, workspaceRoot, env }) => {
  if (payload.prompt === undefined) return;
  const { createHash } = await import('node:crypto');
  const { StatusStore, resolveStatusDir } = await import('../../pipeline/status-store');
  const store = new StatusStore(resolveStatusDir(undefined, workspaceRoot, env), { env });
  await store.append('prompt_submitted', {
    session: payload.session_id,
    chars: payload.prompt.length,
    sha256: createHash('sha256').update(payload.prompt).digest('hex').slice(0, 16),
  });
};

/** The routing table: event → handlers, in order. */
export const HOOK_HANDLERS: Record<HookEvent, HookHandler[]> = {
  pre: [securityGuard, phaseAlignment],
  post: [recordResult, analyseFailedCommand],
  stop: [phaseCompletion],
  'user-prompt-submit': [auditPrompt],
  // Prints nothing (SessionStart's stdout would become session context): the call warms the hook server.
  'session-start': [],
};

/** The workspace root: the nearest folder with nx.json above `start`. */
function workspaceRootOf(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

/**
 * A PreToolUse `ask` answer: JSON on stdout, exit 0
 * (https://docs.anthropic.com/en/docs/claude-code/hooks#pretooluse-decision-control).
 */
function askOutcome(reason: string, notes: string[]): HookOutcome {
  const out = {
    hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: reason },
  };
  return { exitCode: 0, stdout: JSON.stringify(out) + '\n', stderr: notes.length ? notes.join('\n') + '\n' : '' };
}

/** What the process prints and how it exits. */
export interface HookOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The answer to a payload over the limit (`limit` bytes,
 * NEXTRUST_HOOK_MAX_PAYLOAD_BYTES), which is not read: for `pre` the command
 * cannot be checked, so it is blocked (exit 2, one line on stderr: fails
 * closed); any other event gets a non-blocking error (exit 1, one line). The
 * C client (native/hook-client.c) prints the same bytes when it refuses such
 * a payload itself; change both together.
 */
export function payloadTooLargeOutcome(event: string, limit: number): HookOutcome {
  if (event === 'pre') {
    return {
      exitCode: 2,
      stdout: '',
      stderr: `nextrust security guard: blocked: the hook payload is over ${limit} bytes (${MAX_PAYLOAD_ENV}), so the command cannot be checked\n`,
    };
  }
  return {
    exitCode: 1,
    stdout: '',
    stderr: `nextrust hook ${event}: the hook payload is over ${limit} bytes (${MAX_PAYLOAD_ENV}): not read, nothing done\n`,
  };
}

/**
 * Runs the handlers of `event` on the stdin text. Never throws: a payload
 * over the limit (maxPayloadBytes of `env`, counted in UTF-8 bytes) is
 * refused unread (payloadTooLargeOutcome: pre blocked); a malformed payload
 * is exit 1 with one line on stderr (a non-blocking error for Claude Code),
 * except for `pre`, which fails closed: a command still readable in it is
 * checked, and an unreadable one is blocked (exit 2); the security guard
 * failing blocks too (exit 2); any other handler that fails is reported as
 * exit 1 and never blocks.
 */
export async function dispatchHook(
  event: string,
  stdin: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<HookOutcome> {
  const limit = maxPayloadBytes(env);
  // Each UTF-16 unit is at most 3 UTF-8 bytes: only a long string needs counting.
  if (stdin.length * 3 > limit && Buffer.byteLength(stdin, 'utf8') > limit) return payloadTooLargeOutcome(event, limit);
  if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
    return {
      exitCode: 1,
      stdout: '',
      stderr: `nextrust hook: unknown event '${event}': expected one of ${HOOK_EVENTS.join(', ')}\n`,
    };
  }
  let payload: HookPayload;
  try {
    payload = parseHookPayload(stdin);
  } catch (e) {
    const msg = e instanceof PayloadError ? e.message : String(e);
    if (event === 'pre') {
      // Fail closed: whatever else is wrong, a command that can be read is checked; one that cannot is blocked.
      const command = readableCommand(stdin);
      if (command === undefined)
        return {
          exitCode: 2,
          stdout: '',
          stderr: `nextrust security guard: blocked: the hook payload cannot be read, so the command cannot be checked (${msg})\n`,
        };
      const d = guardDecision(command);
      if (d?.block) return { exitCode: 2, stdout: '', stderr: `${d.block}\n` };
      if (d?.ask) return askOutcome(d.ask, [`nextrust hook ${event}: ${msg}`]);
    }
    return { exitCode: 1, stdout: '', stderr: `nextrust hook ${event}: ${msg}\n` };
  }
  const ctx: HookContext = {
    event: event as HookEvent,
    payload,
    workspaceRoot: workspaceRootOf(payload.cwd ?? cwd),
    env,
  };
  const notes: string[] = [];
  let handlerFailed = false;
  for (const handler of HOOK_HANDLERS[ctx.event]) {
    let d: HookDecision | void;
    try {
      d = await handler(ctx);
    } catch (e) {
      notes.push(`nextrust hook ${event}: ${handler.name || 'handler'} failed: ${(e as Error).message}`);
      handlerFailed = true;
      continue;
    }
    if (!d) continue;
    if (d.block)
      return { exitCode: 2, stdout: '', stderr: d.block + '\n' + (notes.length ? notes.join('\n') + '\n' : '') };
    if (d.ask) return askOutcome(d.ask, notes);
    if (d.note) notes.push(d.note);
  }
  return { exitCode: handlerFailed ? 1 : 0, stdout: '', stderr: notes.length ? notes.join('\n') + '\n' : '' };
}
