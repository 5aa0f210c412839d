/**
 * The wire format between the hook client (native/hook-client.c, what
 * .claude/settings.json runs through bin/nextrust-hook) and the hook server
 * (hook-server.ts), over a Unix domain stream socket; and where that socket
 * lives. The C client implements the same rules; change both together.
 *
 * Request (client → server), then the client shuts down its write side:
 *   "NXHOOK1\n", field(event), field(cwd), field(environment), field(stdin)
 * Response (server → client), then the server closes:
 *   "NXHOOK1\n", u32 status, field(stdout), field(stderr)
 * where field(x) = u32 byte length + the bytes, u32 = unsigned 32-bit big
 * endian, environment = `KEY=VALUE` entries each ended by a NUL byte (the
 * client's environ), status = the hook's exit code (0-255) or FALLBACK_STATUS:
 * "not served, run the hook through node" (the server's code is out of date,
 * or it is shutting down). Events starting with `__` are the server's own
 * control requests (`__ping`, `__stop`).
 *
 * Limits (the same rules in the C client; docs/integrations.md):
 *  - payload: NEXTRUST_HOOK_MAX_PAYLOAD_BYTES (default 1 MiB). The client
 *    reads at most one byte more than that from stdin and answers an
 *    over-limit payload itself; the server reads a request's stdin length
 *    before its bytes and refuses an over-limit one from its header alone
 *    (HookRequestReader), so no side ever holds more than the limit.
 *  - time: NEXTRUST_HOOK_CALL_TIMEOUT_MS (default 10 s) per call in the
 *    server (and in the node fallback); the client gives the server that
 *    plus CLIENT_GRACE_MS to answer, then runs the hook through node.
 *  - header fields: event, cwd and environment have maxima of their own
 *    (MAX_EVENT_BYTES, MAX_CWD_BYTES, MAX_ENV_BYTES): a request over them is
 *    malformed (FALLBACK_STATUS, the node path serves it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** First bytes of every request and response (format version 1). */
export const HOOK_MAGIC = Buffer.from('NXHOOK1\n', 'latin1');
/** Response status meaning: not served, run the hook through node instead. */
export const FALLBACK_STATUS = 0xffffffff;
/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;

/** Environment variable of the payload limit (bytes). */
export const MAX_PAYLOAD_ENV = 'NEXTRUST_HOOK_MAX_PAYLOAD_BYTES';
/** Default payload limit: 1 MiB (Claude Code's Bash output in a payload is far smaller). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Largest payload limit that can be set: the largest field length of the wire format. */
export const MAX_MAX_PAYLOAD_BYTES = 0xfffffffe;
/** Environment variable of the per-call time limit (ms). */
export const CALL_TIMEOUT_ENV = 'NEXTRUST_HOOK_CALL_TIMEOUT_MS';
/** Default per-call time limit (ms). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** Largest per-call time limit that can be set (ms): one hour. */
export const MAX_CALL_TIMEOUT_MS = 3_600_000;
/** What the client waits for an answer beyond the call's time limit (ms), before it runs the hook through node. */
export const CLIENT_GRACE_MS = 2_000;
/** Longest event name in a request (bytes). */
export const MAX_EVENT_BYTES = 256;
/** Longest cwd in a request (bytes; Linux's PATH_MAX). */
export const MAX_CWD_BYTES = 4096;
/** Largest environment block in a request (bytes; Linux allows about 2 MiB of argv and environment together). */
export const MAX_ENV_BYTES = 2 * 1024 * 1024;

/**
 * A limit from the environment: `env[name]` when it is a decimal integer
 * (digits only, at most 10 of them) from 1 to `max`, else `dflt`. The C
 * client (env_limit) applies the same rule, so both sides agree on every
 * value, an invalid one included.
 */
export function envLimit(env: NodeJS.ProcessEnv, name: string, dflt: number, max: number): number {
  const v = env[name];
  if (v === undefined || !/^[0-9]{1,10}$/.test(v)) return dflt;
  const n = Number(v);
  return n >= 1 && n <= max ? n : dflt;
}

/** The payload limit of a call (bytes): NEXTRUST_HOOK_MAX_PAYLOAD_BYTES of its environment, default 1 MiB. */
export function maxPayloadBytes(env: NodeJS.ProcessEnv = process.env): number {
  return envLimit(env, MAX_PAYLOAD_ENV, DEFAULT_MAX_PAYLOAD_BYTES, MAX_MAX_PAYLOAD_BYTES);
}

/** The time limit of a call (ms): NEXTRUST_HOOK_CALL_TIMEOUT_MS of its environment, default 10 s. */
export function callTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return envLimit(env, CALL_TIMEOUT_ENV, DEFAULT_CALL_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS);
}

/** A request: what `nextrust hook <event>` would have had as argv, cwd, environment and stdin. */
export interface HookRequest {
  event: string;
  cwd: string;
  env: Record<string, string>;
  stdin: Buffer;
}

/** A response: the hook's exit code (or FALLBACK_STATUS) and what it prints. */
export interface HookResponse {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Thrown for bytes that are not a well-formed request or response. */
export class HookProtocolError extends Error {
  constructor(message: string) {
    super(`hook protocol: ${message}`);
    this.name = 'HookProtocolError';
  }
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const field = (b: Buffer) => [u32(b.length), b];

/** Reads the fields of a message after its magic. @throws HookProtocolError */
function reader(buf: Buffer, what: string) {
  if (buf.length < HOOK_MAGIC.length || !buf.subarray(0, HOOK_MAGIC.length).equals(HOOK_MAGIC))
    throw new HookProtocolError(`${what} does not start with ${JSON.stringify(HOOK_MAGIC.toString('latin1'))}`);
  let at = HOOK_MAGIC.length;
  const num = (name: string) => {
    if (at + 4 > buf.length) throw new HookProtocolError(`${what} ends before its ${name}`);
    const n = buf.readUInt32BE(at);
    at += 4;
    return n;
  };
  return {
    num,
    bytes(name: string): Buffer {
      const n = num(`${name} length`);
      if (at + n > buf.length)
        throw new HookProtocolError(`${what} ends inside its ${name} (${n} bytes declared, ${buf.length - at} left)`);
      const b = buf.subarray(at, at + n);
      at += n;
      return b;
    },
    end() {
      if (at !== buf.length) throw new HookProtocolError(`${what} has ${buf.length - at} bytes after its last field`);
    },
  };
}

/** Encodes a request (what the C client sends). */
export function encodeRequest(r: HookRequest): Buffer {
  const env = Buffer.from(
    Object.entries(r.env)
      .map(([k, v]) => `${k}=${v}\0`)
      .join(''),
    'utf8',
  );
  return Buffer.concat([
    HOOK_MAGIC,
    ...field(Buffer.from(r.event, 'utf8')),
    ...field(Buffer.from(r.cwd, 'utf8')),
    ...field(env),
    ...field(r.stdin),
  ]);
}

/** The environment block of a request (`KEY=VALUE\0` entries) as a record. */
function parseEnvBlock(block: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of block.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Decodes a request (no payload limit). @throws HookProtocolError naming what is wrong. */
export function decodeRequest(buf: Buffer): HookRequest {
  const r = new HookRequestReader(() => Infinity);
  if (r.push(buf).state === 'too-large') throw new HookProtocolError('unreachable: no payload limit');
  return r.end();
}

/** A request's fields before its stdin, and the stdin's length as declared (bytes). */
export interface HookRequestHead {
  event: string;
  cwd: string;
  env: Record<string, string>;
  stdinBytes: number;
}

/**
 * What HookRequestReader.push knows: still reading; or the request's stdin
 * is over `limit` bytes (`head` says whose; its bytes are not kept, and the
 * reader takes nothing more).
 */
export type HookReadState = { state: 'reading' } | { state: 'too-large'; head: HookRequestHead; limit: number };

/**
 * Decodes a request as its bytes arrive, holding at most the header (event,
 * cwd, environment: MAX_EVENT_BYTES, MAX_CWD_BYTES, MAX_ENV_BYTES) and a
 * stdin of at most its limit: the stdin's length is known before its bytes,
 * and an over-limit one is reported at once, without reading it. What the
 * hook server uses, so that a 50 MB payload costs it a header, not 50 MB.
 */
export class HookRequestReader {
  private head?: HookRequestHead;
  /** Header bytes so far (before `head` is known). */
  private pending: Buffer = Buffer.alloc(0);
  private stdin?: Buffer;
  private filled = 0;
  private refused = false;

  /** @param limitOf the stdin limit (bytes) of a request with this environment (e.g. maxPayloadBytes). */
  constructor(private readonly limitOf: (env: Record<string, string>) => number) {}

  /**
   * Takes the next bytes of the request.
   * @returns `too-large` once the declared stdin is over the limit, else `reading`.
   * @throws HookProtocolError for a wrong magic, a header field over its maximum,
   *   bytes after the last field, or a push after `too-large`.
   */
  push(chunk: Buffer): HookReadState {
    if (this.refused) throw new HookProtocolError('request refused already (stdin over the limit)');
    if (!this.head) {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      const head = this.parseHead();
      if (!head) return { state: 'reading' };
      this.head = head.head;
      const limit = this.limitOf(head.head.env);
      if (head.head.stdinBytes > limit) {
        this.refused = true;
        this.pending = Buffer.alloc(0);
        return { state: 'too-large', head: head.head, limit };
      }
      // Its own memory (not a slice of a pooled buffer): the server hands it over to a worker thread.
      this.stdin = Buffer.from(new ArrayBuffer(head.head.stdinBytes));
      chunk = this.pending.subarray(head.used);
      this.pending = Buffer.alloc(0);
    }
    const room = this.stdin!.length - this.filled;
    if (chunk.length > room)
      throw new HookProtocolError(`request has ${chunk.length - room} bytes after its last field`);
    chunk.copy(this.stdin!, this.filled);
    this.filled += chunk.length;
    return { state: 'reading' };
  }

  /**
   * The request, once its last byte was pushed.
   * @throws HookProtocolError when it ends early (naming where) or was refused.
   */
  end(): HookRequest {
    if (this.refused) throw new HookProtocolError('request refused already (stdin over the limit)');
    if (!this.head) {
      // The strict decoder names where the bytes end.
      const rd = reader(this.pending, 'request');
      for (const f of ['event', 'cwd', 'environment', 'stdin']) rd.bytes(f);
      throw new HookProtocolError('request ends early');
    }
    if (this.filled < this.stdin!.length)
      throw new HookProtocolError(
        `request ends inside its stdin (${this.stdin!.length} bytes declared, ${this.filled} left)`,
      );
    const { event, cwd, env } = this.head;
    return { event, cwd, env, stdin: this.stdin! };
  }

  /** The head and the bytes it took, once all of it is in `pending`; checks each field's maximum as soon as its length is known. */
  private parseHead(): { head: HookRequestHead; used: number } | undefined {
    const buf = this.pending;
    const magic = Math.min(buf.length, HOOK_MAGIC.length);
    if (!buf.subarray(0, magic).equals(HOOK_MAGIC.subarray(0, magic)))
      throw new HookProtocolError(`request does not start with ${JSON.stringify(HOOK_MAGIC.toString('latin1'))}`);
    let at = HOOK_MAGIC.length;
    const fields: Buffer[] = [];
    for (const [name, max] of [
      ['event', MAX_EVENT_BYTES],
      ['cwd', MAX_CWD_BYTES],
      ['environment', MAX_ENV_BYTES],
    ] as const) {
      if (at + 4 > buf.length) return undefined;
      const n = buf.readUInt32BE(at);
      if (n > max) throw new HookProtocolError(`request's ${name} is ${n} bytes, over its maximum of ${max}`);
      if (at + 4 + n > buf.length) return undefined;
      fields.push(buf.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (at + 4 > buf.length) return undefined;
    const stdinBytes = buf.readUInt32BE(at);
    const [event, cwd, env] = fields.map((f) => f.toString('utf8'));
    return { head: { event, cwd, env: parseEnvBlock(env), stdinBytes }, used: at + 4 };
  }
}

/** Encodes a response (what the server sends). */
export function encodeResponse(r: HookResponse): Buffer {
  return Buffer.concat([HOOK_MAGIC, u32(r.status), ...field(r.stdout), ...field(r.stderr)]);
}

/** Decodes a response. @throws HookProtocolError naming what is wrong. */
export function decodeResponse(buf: Buffer): HookResponse {
  const rd = reader(buf, 'response');
  const status = rd.num('status');
  const stdout = rd.bytes('stdout');
  const stderr = rd.bytes('stderr');
  rd.end();
  return { status, stdout, stderr };
}

/** FNV-1a, 64 bits, of the UTF-8 bytes of `s`, as 16 lowercase hex digits (the socket's name). */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * The directory of hook server sockets: NEXTRUST_HOOK_SOCKET_DIR, else
 * `$TMPDIR/nextrust-hooks-<uid>` (TMPDIR without trailing slashes, default
 * /tmp). It must be the user's own, mode 0700: the client uses no socket in a
 * directory that others can write or that someone else owns.
 */
export function hookSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NEXTRUST_HOOK_SOCKET_DIR) return env.NEXTRUST_HOOK_SOCKET_DIR;
  const tmp = (env.TMPDIR || '/tmp').replace(/\/+$/, '');
  return `${tmp}/nextrust-hooks-${os.userInfo().uid}`;
}

/**
 * The socket of the hook server for one plugin checkout:
 * `<hookSocketDir>/<fnv1a64(realpath(pluginDir))>.sock`, one server per
 * checkout (a server runs the code of its own checkout).
 * @throws Error when pluginDir does not exist or the path is too long for a Unix socket.
 */
export function hookSocketPath(pluginDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const p = path.join(hookSocketDir(env), `${fnv1a64(fs.realpathSync(pluginDir))}.sock`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH)
    throw new Error(
      `hook server socket path ${p} is longer than ${MAX_SOCKET_PATH} bytes: set NEXTRUST_HOOK_SOCKET_DIR to a shorter directory`,
    );
  return p;
}
