/**
 * Test helper: a self-hosted Nx remote cache on 127.0.0.1 that follows Nx's
 * OpenAPI specification for custom cache servers (Nx >= 20.8,
 * https://nx.dev/docs/guides/tasks--caching/self-hosted-caching), checked
 * against Nx 24's client (`HttpRemoteCache` in nx's native module, used when
 * NX_SELF_HOSTED_REMOTE_CACHE_SERVER is set):
 *
 *  - `PUT /v1/cache/{hash}`: body application/octet-stream (Nx sends a
 *    tar.gz of the task's cached outputs, terminal output and exit code) with
 *    Content-Length. 200 when stored; 409 when the entry exists (entries are
 *    immutable: Nx treats 409 as "already there"); 403 for a read-only token
 *    (Nx treats it as "not stored" and carries on); 401 without a bearer token
 *    or with an unknown one; 411 without Content-Length and 400 when the body
 *    is shorter or longer than Content-Length (an incomplete upload is never
 *    stored).
 *  - `GET /v1/cache/{hash}`: 200 with the stored bytes
 *    (application/octet-stream, Content-Length), 404 when absent; 401 as above
 *    (read-only and read-write tokens may both read).
 *
 * Every 401/403 body is `text/plain`, with exactly that Content-Type: Nx 24
 * shows a 401's text to the user only when the header equals `text/plain`
 * (anything else, even `text/plain; charset=utf-8`, is reported as a
 * misconfigured server). Nx's client calls no other endpoint.
 *
 * Entries live in a temporary directory (one file per hash, written to a
 * temporary name and hard-linked into place, so concurrent uploads of one hash
 * store exactly one of them). Every request is recorded, so tests can count
 * uploads and hits.
 *
 * Run standalone for manual experiments:
 *   node -r @swc-node/register tools/nx-plugin/test/helpers/remote-cache-server.ts [port] [rw-token] [ro-token]
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';

/** What a token may do. */
export type TokenAccess = 'read-write' | 'read-only';

/** Options of RemoteCacheServer.start. */
export interface RemoteCacheServerOptions {
  /**
   * Bearer tokens and their access. Without any, the server needs no token and
   * everyone may read and write (the spec makes authentication the server's choice).
   */
  tokens?: Record<string, TokenAccess>;
  /** Storage directory (kept on stop); default a new temp directory (removed on stop). */
  dir?: string;
  /** Port; default 0 (any free port). */
  port?: number;
}

/** One request the server answered. */
export interface CacheRequest {
  method: string;
  /** Request path as received. */
  path: string;
  /** The `{hash}` of `/v1/cache/{hash}`, else null. */
  hash: string | null;
  status: number;
  /** Body bytes received (PUT) or sent (GET 200). */
  bytes: number;
  /** Access of the bearer token presented: `none` without one, `invalid` for an unknown one. */
  access: TokenAccess | 'none' | 'invalid';
  /** Request headers (lower-case names; the Authorization value is redacted). */
  headers: Record<string, string>;
}

const CACHE_PATH = /^\/v1\/cache\/([^/?#]+)$/;
/** Nx's task hashes are decimal strings; accept any plain file name, never a path. */
const SAFE_HASH = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** Uploads larger than this are refused (413): a guard for a test server, not a spec rule. */
const MAX_ENTRY_BYTES = 2 * 1024 * 1024 * 1024;

/** A spec-compliant self-hosted Nx remote cache, listening on 127.0.0.1. */
export class RemoteCacheServer {
  /** Every request answered, in order. */
  readonly requests: CacheRequest[] = [];

  private constructor(
    private readonly server: http.Server,
    /** Where entries are stored: `<dir>/<hash>`. */
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly tokens: Record<string, TokenAccess>,
  ) {}

  /** Starts a server on 127.0.0.1 (port 0: a free one). */
  static async start(options: RemoteCacheServerOptions = {}): Promise<RemoteCacheServer> {
    const ownsDir = !options.dir;
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-remote-cache-'));
    fs.mkdirSync(path.join(dir, '.incoming'), { recursive: true });
    const server = http.createServer();
    const cache = new RemoteCacheServer(server, dir, ownsDir, { ...(options.tokens ?? {}) });
    server.on('request', (req, res) => cache.handle(req, res));
    // Nx's client (reqwest) keeps connections alive; idle ones must not hold stop() up.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return cache;
  }

  /** Base URL for NX_SELF_HOSTED_REMOTE_CACHE_SERVER (no trailing slash: Nx appends `/v1/cache/{hash}` verbatim). */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Requests matching a method and/or status, e.g. `count('PUT', 200)` = entries stored. */
  count(method?: string, status?: number): number {
    return this.requests.filter(
      (r) => (method === undefined || r.method === method) && (status === undefined || r.status === status),
    ).length;
  }

  /** Requests matching a method and/or status. */
  matching(method?: string, status?: number): CacheRequest[] {
    return this.requests.filter(
      (r) => (method === undefined || r.method === method) && (status === undefined || r.status === status),
    );
  }

  /** Counts by `METHOD status`, e.g. `{ 'GET 404': 4, 'PUT 200': 4 }`. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[`${r.method} ${r.status}`] = (out[`${r.method} ${r.status}`] ?? 0) + 1;
    return out;
  }

  /** Forgets the recorded requests (stored entries stay). */
  resetCounts(): void {
    this.requests.length = 0;
  }

  /** Hashes stored, sorted. */
  entries(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => SAFE_HASH.test(f))
      .sort();
  }

  /** Whether an entry is stored. */
  has(hash: string): boolean {
    return SAFE_HASH.test(hash) && fs.existsSync(path.join(this.dir, hash));
  }

  /** Stops listening, closes open connections and removes the storage directory it created. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    if (this.ownsDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private access(req: http.IncomingMessage): TokenAccess | 'none' | 'invalid' {
    const auth = req.headers.authorization;
    if (!auth) return 'none';
    const m = /^Bearer (.+)$/i.exec(auth.trim());
    if (!m) return 'invalid';
    return Object.prototype.hasOwnProperty.call(this.tokens, m[1]) ? this.tokens[m[1]] : 'invalid';
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const urlPath = (req.url ?? '/').split('?')[0];
    const m = CACHE_PATH.exec(urlPath);
    const hash = m ? decodeURIComponent(m[1]) : null;
    const access = this.access(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = k === 'authorization' ? '<redacted>' : String(v);
    const record: CacheRequest = {
      method: req.method ?? '',
      path: urlPath,
      hash,
      status: 0,
      bytes: 0,
      access,
      headers,
    };

    const reply = (status: number, text?: string) => {
      record.status = status;
      this.requests.push(record);
      if (!res.headersSent) {
        res.statusCode = status;
        if (text !== undefined) {
          res.setHeader('Content-Type', 'text/plain');
          res.setHeader('Content-Length', Buffer.byteLength(text));
        }
      }
      res.end(text);
    };
    /**
     * Refuses the request once its body (if any) has been read: answering
     * before an upload is complete and closing would make the client see a
     * reset connection instead of the status.
     */
    const refuse = (status: number, text: string) => {
      if (req.complete) return reply(status, text);
      req.on('error', () => undefined);
      req.on('end', () => reply(status, text));
      req.resume();
    };

    if (!m) return refuse(404, `not found: ${urlPath} (this server serves /v1/cache/{hash})`);
    if (hash === null || !SAFE_HASH.test(hash)) return refuse(400, 'invalid hash');
    if (req.method !== 'GET' && req.method !== 'PUT') {
      res.setHeader('Allow', 'GET, PUT');
      return refuse(405, `method ${req.method} not allowed`);
    }
    const hasTokens = Object.keys(this.tokens).length > 0;
    if (hasTokens && access === 'none') return refuse(401, 'missing bearer token');
    if (hasTokens && access === 'invalid') return refuse(401, 'invalid bearer token');
    const entry = path.join(this.dir, hash);

    if (req.method === 'GET') {
      let size: number;
      try {
        size = fs.statSync(entry).size;
      } catch {
        return refuse(404, 'no such entry');
      }
      record.status = 200;
      record.bytes = size;
      this.requests.push(record);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
      fs.createReadStream(entry).pipe(res);
      req.resume();
      return;
    }

    // PUT
    if (hasTokens && access !== 'read-write') return refuse(403, 'this token is read-only: uploads are not allowed');
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) return refuse(411, 'Content-Length is required');
    const declared = Number(lengthHeader);
    if (declared > MAX_ENTRY_BYTES) return refuse(413, 'entry too large');
    if (fs.existsSync(entry)) return refuse(409, 'cannot override an existing record');

    const incoming = path.join(this.dir, '.incoming', `${hash}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    const out = fs.createWriteStream(incoming);
    let received = 0;
    let done = false;
    const discard = () => fs.rmSync(incoming, { force: true });
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    req.pipe(out);
    // A client that goes away mid-body leaves a partial file: never store it.
    const abandoned = () => {
      if (done) return;
      done = true;
      record.bytes = received;
      record.status = 499;
      this.requests.push(record);
      out.destroy();
      discard();
    };
    req.on('aborted', abandoned);
    req.on('error', abandoned);
    out.on('error', () => {
      if (done) return;
      done = true;
      discard();
      reply(500, 'could not store the entry');
    });
    out.on('finish', () => {
      if (done) return;
      done = true;
      record.bytes = received;
      if (received !== declared) {
        discard();
        return reply(400, `body has ${received} bytes, Content-Length says ${declared}`);
      }
      try {
        // link() fails if the name exists: of two concurrent uploads one wins, the other gets 409.
        fs.linkSync(incoming, entry);
      } catch (e) {
        discard();
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return reply(409, 'cannot override an existing record');
        return reply(500, 'could not store the entry');
      }
      discard();
      reply(200);
    });
  }
}

if (require.main === module) {
  const [port, rw, ro] = process.argv.slice(2);
  const tokens: Record<string, TokenAccess> = {};
  if (rw) tokens[rw] = 'read-write';
  if (ro) tokens[ro] = 'read-only';
  void RemoteCacheServer.start({ port: port ? Number(port) : 0, tokens }).then((s) => {
    process.stdout.write(`nx remote cache at ${s.url}, entries in ${s.dir}\n`);
    const log = setInterval(() => process.stdout.write(`${JSON.stringify(s.summary())}\n`), 10_000);
    process.on('SIGINT', () => {
      clearInterval(log);
      void s.stop().then(() => process.exit(0));
    });
  });
}
