/**
 * Claude Code hook payloads (stdin JSON), as documented for command hooks
 * (https://docs.anthropic.com/en/docs/claude-code/hooks):
 * common fields `session_id`, `transcript_path`, `cwd`, `hook_event_name`;
 * PreToolUse/PostToolUse add `tool_name`, `tool_input` (Bash: `command`) and,
 * after the call, `tool_response` (Bash: `stdout`, `stderr`, `interrupted`;
 * some versions also give an exit code); Stop adds
 * `stop_hook_active`; UserPromptSubmit adds `prompt`; SessionStart adds
 * `source` (startup, resume, clear, compact; not used). An older payload
 * shape put the command in `tool_args.command`, which is also accepted.
 *
 * Checked by hand rather than with zod on purpose: this runs on every tool
 * call, and loading zod costs a large part of the latency budget.
 */

/** The hook events the dispatcher handles (`nextrust hook <event>`). */
export const HOOK_EVENTS = ['pre', 'post', 'stop', 'user-prompt-submit', 'session-start'] as const;
/** One of HOOK_EVENTS. */
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** A payload, normalised. */
export interface HookPayload {
  session_id: string;
  transcript_path?: string;
  cwd?: string;
  hook_event_name?: string;
  tool_name?: string;
  /** Bash command (tool_input.command, or the older shape's tool_args.command). */
  command?: string;
  /** Bash result, when the event carries one. */
  result?: {
    stdout: string;
    stderr: string;
    interrupted: boolean;
    /** Exit code when given (exit_code, exitCode, returnCode), else inferred: null. */
    exitCode: number | null;
    /** True when the call failed: non-zero exit or a PostToolUseFailure event, unless the user interrupted it. */
    failed: boolean;
    /** Error text of a PostToolUseFailure event. */
    error?: string;
  };
  stop_hook_active: boolean;
  prompt?: string;
  /** Tool use id, when given (idempotency). */
  tool_use_id?: string;
}

/** A payload that cannot be used: the message says which field and why. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

function str(o: Record<string, unknown>, key: string, where = ''): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw new PayloadError(
      `field '${where}${key}': expected a string, got ${Array.isArray(v) ? 'an array' : typeof v}`,
    );
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new PayloadError(`field '${where}': expected an object`);
  return v as Record<string, unknown>;
}

/**
 * Parses stdin text into a payload.
 * @throws PayloadError naming the field (empty input, not JSON, wrong types, no session_id).
 */
export function parseHookPayload(text: string): HookPayload {
  if (!text.trim()) throw new PayloadError('empty payload on stdin (Claude Code sends one JSON object)');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PayloadError(`payload is not valid JSON: ${(e as Error).message}`);
  }
  const o = obj(raw, '(root)');
  if (!o) throw new PayloadError("field '(root)': expected an object");
  const session_id = str(o, 'session_id');
  if (!session_id) throw new PayloadError("field 'session_id': missing (every Claude Code hook payload has one)");
  const toolInput = obj(o.tool_input, 'tool_input') ?? obj(o.tool_args, 'tool_args');
  const command = toolInput ? str(toolInput, 'command', o.tool_input ? 'tool_input.' : 'tool_args.') : undefined;
  const event = str(o, 'hook_event_name');
  const resp = o.tool_response;
  let result: HookPayload['result'];
  if (resp !== undefined || event === 'PostToolUseFailure') {
    const r = typeof resp === 'string' ? { stdout: resp } : (obj(resp, 'tool_response') ?? {});
    const codeRaw = r.exit_code ?? r.exitCode ?? r.returnCode ?? r.exit_status;
    if (codeRaw !== undefined && codeRaw !== null && (typeof codeRaw !== 'number' || !Number.isInteger(codeRaw))) {
      throw new PayloadError("field 'tool_response.exit_code': expected an integer");
    }
    const exitCode = typeof codeRaw === 'number' ? codeRaw : null;
    // A user interrupt (Esc) is not a failure of the command: no analysis, no backoff count.
    const interrupted = r.interrupted === true || o.is_interrupt === true;
    const error = str(o, 'error');
    result = {
      stdout: typeof r.stdout === 'string' ? r.stdout : typeof r.output === 'string' ? r.output : '',
      stderr: typeof r.stderr === 'string' ? r.stderr : '',
      interrupted,
      exitCode,
      failed:
        !interrupted &&
        ((exitCode !== null && exitCode !== 0) || event === 'PostToolUseFailure' || r.success === false),
      ...(error ? { error } : {}),
    };
  }
  if (o.stop_hook_active !== undefined && typeof o.stop_hook_active !== 'boolean')
    throw new PayloadError("field 'stop_hook_active': expected true or false");
  return {
    session_id,
    transcript_path: str(o, 'transcript_path'),
    cwd: str(o, 'cwd'),
    hook_event_name: event,
    tool_name: str(o, 'tool_name'),
    command,
    result,
    stop_hook_active: o.stop_hook_active === true,
    prompt: str(o, 'prompt'),
    tool_use_id: str(o, 'tool_use_id'),
  };
}
