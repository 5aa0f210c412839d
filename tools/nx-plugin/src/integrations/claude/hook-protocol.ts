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
  if (buf.length < HOOK_MAGIC.length || !buf.subarray(0, HOOK_MAGIC.length).equals(HOOK_MAGIC)) throw new HookProtocolError(`${what} does not start with ${JSON.stringify(HOOK_MAGIC.toString('latin1'))}`);
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
      if (at + n > buf.length) throw new HookProtocolError(`${what} ends inside its ${name} (${n} bytes declared, ${buf.length - at} left)`);
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
  const env = Buffer.from(Object.entries(r.env).map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
  return Buffer.concat([HOOK_MAGIC, ...field(Buffer.from(r.event, 'utf8')), ...field(Buffer.from(r.cwd, 'utf8')), ...field(env), ...field(r.stdin)]);
}

/** Decodes a request. @throws HookProtocolError naming what is wrong. */
export function decodeRequest(buf: Buffer): HookRequest {
  const rd = reader(buf, 'request');
  const event = rd.bytes('event').toString('utf8');
  const cwd = rd.bytes('cwd').toString('utf8');
  const envBlock = rd.bytes('environment').toString('utf8');
  const stdin = rd.bytes('stdin');
  rd.end();
  const env: Record<string, string> = {};
  for (const entry of envBlock.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { event, cwd, env, stdin };
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
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new Error(`hook server socket path ${p} is longer than ${MAX_SOCKET_PATH} bytes: set NEXTRUST_HOOK_SOCKET_DIR to a shorter directory`);
  return p;
}
