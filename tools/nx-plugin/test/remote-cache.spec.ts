// Remote caching across machines (docs/remote-cache.md), with Nx's self-hosted
// remote cache: a spec-compliant server on 127.0.0.1 and separate scratch clones
// of the workspace, each with its own local cache. Clone A builds cold and
// uploads; clone B restores everything from A's uploads, byte for byte; a
// read-only token downloads but cannot upload, without failing the build; a
// wrong token stops the run with the server's message.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { stripVTControlCharacters } from 'node:util';
import { RemoteCacheServer } from './helpers/remote-cache-server';
import { ScratchWorkspace, type NxRun } from './scratch-workspace';

const RW = 'nextrust-test-rw-token';
const RO = 'nextrust-test-ro-token';

describe('remote cache server (the self-hosted cache spec)', () => {
  let server: RemoteCacheServer;
  const put = (hash: string, body: Buffer, token?: string) =>
    fetch(`${server.url}/v1/cache/${hash}`, {
      method: 'PUT',
      body,
      headers: { 'Content-Type': 'application/octet-stream', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
  const get = (hash: string, token?: string) =>
    fetch(`${server.url}/v1/cache/${hash}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    server = await RemoteCacheServer.start({ tokens: { [RW]: 'read-write', [RO]: 'read-only' } });
  });
  afterAll(() => server.stop());

  it('stores with a read-write token (200), refuses to overwrite (409) and serves the same bytes (200) to any valid token', async () => {
    const body = Buffer.from('a tar.gz, as far as the server cares \x00\xff');
    expect((await put('1001', body, RW)).status).toBe(200);
    const again = await put('1001', Buffer.from('other bytes'), RW);
    expect(again.status).toBe(409);
    for (const token of [RW, RO]) {
      const r = await get('1001', token);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(r.headers.get('content-length')).toBe(String(body.length));
      expect(Buffer.from(await r.arrayBuffer())).toEqual(body);
    }
    expect(server.entries()).toContain('1001');
  });

  it('answers 404 for an absent entry, 401 (text/plain) without or with a wrong token, 403 (text/plain) for a read-only upload', async () => {
    expect((await get('1002', RO)).status).toBe(404);
    for (const r of [
      await get('1001'),
      await get('1001', 'wrong'),
      await put('1003', Buffer.from('x')),
      await put('1003', Buffer.from('x'), 'wrong'),
    ]) {
      expect(r.status).toBe(401);
      // Nx 24 shows a 401's text only when the Content-Type is exactly text/plain.
      expect(r.headers.get('content-type')).toBe('text/plain');
      expect(await r.text()).toMatch(/bearer token/);
    }
    const readOnly = await put('1003', Buffer.from('x'), RO);
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers.get('content-type')).toBe('text/plain');
    expect(server.has('1003')).toBe(false);
  });

  it('never stores an incomplete upload, requires Content-Length, and stores one of two concurrent uploads', async () => {
    // Content-Length 100, 10 bytes sent, connection dropped.
    await new Promise<void>((resolve) => {
      const { port } = new URL(server.url);
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `PUT /v1/cache/1004 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`,
        );
        setTimeout(() => socket.destroy(), 200);
      });
      socket.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(server.has('1004')).toBe(false);
    expect((await put('1004', Buffer.from('complete'), RW)).status).toBe(200);

    const chunked = await fetch(`${server.url}/v1/cache/1005`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${RW}` },
      body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('streamed')), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);

    const both = await Promise.all([
      put('1006', Buffer.alloc(1 << 20, 1), RW),
      put('1006', Buffer.alloc(1 << 20, 2), RW),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    // No temporary file is left behind (the dropped upload's included).
    for (let i = 0; i < 50 && fs.readdirSync(`${server.dir}/.incoming`).length; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(fs.readdirSync(`${server.dir}/.incoming`)).toEqual([]);
    expect(server.matching('PUT', 499).map((r) => r.hash)).toEqual(['1004']);
  });

  it('serves nothing but /v1/cache/{hash}, and counts every request', async () => {
    expect((await fetch(`${server.url}/v1/cache`)).status).toBe(404);
    expect(
      (await fetch(`${server.url}/v1/cache/1001`, { method: 'DELETE', headers: { Authorization: `Bearer ${RW}` } }))
        .status,
    ).toBe(405);
    expect((await get('..%2F..%2Fetc', RW)).status).toBe(400);
    expect(server.count('PUT', 200)).toBe(3);
    expect(server.count('GET', 200)).toBe(2);
    expect(server.summary()['PUT 401']).toBe(2);
  });
});

const TEST_M68040 = ['run', 'emulator-tests:test', '-c', 'm68040'];
const BUILD_M68040 = ['run', 'rust-target:build', '-c', 'm68040'];
const ALL_M68040 = [
  'emulator-tests:test:m68040',
  'llvm-m68k:atomics:m68040',
  'llvm-m68k:backend',
  'llvm-m68k:toolchain',
  'rust-target:build:m68040',
  'rust-target:sysroot:m68040',
];

/** Task ids shown with `[remote cache]` in static output. */
function fromRemote(run: NxRun): string[] {
  return [...stripVTControlCharacters(run.all).matchAll(/^> nx run (\S+) +\[remote cache\]$/gm)]
    .map((m) => m[1])
    .sort();
}

/** Context for a failed expectation: the run's tail and the server's counts. */
function explain(run: NxRun, server: RemoteCacheServer): string {
  return `exit ${run.exitCode}; server ${JSON.stringify(server.summary())}\n${run.all.slice(-4000)}`;
}

describe('Nx self-hosted remote cache across clones (real toolchain)', () => {
  let server: RemoteCacheServer;
  const clones: ScratchWorkspace[] = [];
  let a: ScratchWorkspace;
  let b: ScratchWorkspace;
  let producedByA: Record<string, string>;

  /**
   * The environment of a machine using the remote cache. Nx 24 keeps the local
   * cache (and its database) of every checkout of one repository in
   * ~/.nx/<repository id>/, shared by the checkouts: scratch clones made from
   * the same files in the same second even have the same id. Each clone gets
   * its own local cache and database here, as separate machines would.
   */
  const machine = (ws: ScratchWorkspace, token: string): Record<string, string> => ({
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
    NX_CACHE_DIRECTORY: ws.file('.nx/cache'),
    NX_WORKSPACE_DATA_DIRECTORY: ws.file('.nx/workspace-data'),
    NEXTRUST_STATUS_DIR: ws.file('projects/ci-status'),
    NX_SKIP_NX_CACHE: '',
    NX_DISABLE_NX_CACHE: '',
    NX_SKIP_REMOTE_CACHE: '',
    NX_DISABLE_REMOTE_CACHE: '',
  });
  const clone = (name: string) => {
    const ws = ScratchWorkspace.create(`nextrust-remote-${name}-`);
    clones.push(ws);
    return ws;
  };

  beforeAll(async () => {
    server = await RemoteCacheServer.start({ tokens: { [RW]: 'read-write', [RO]: 'read-only' } });
    a = clone('a');
    b = clone('b');
  });
  afterAll(async () => {
    for (const ws of clones) ws.dispose();
    await server.stop();
  });

  it('clone A runs the main job and the m68040 emulator tests cold, and uploads every task', async () => {
    const run = await a.nx(TEST_M68040, machine(a, RW));
    expect(run.exitCode === 0 ? 0 : explain(run, server)).toBe(0);
    expect({ exit: run.exitCode, ran: run.ran.sort(), cached: run.cached }).toEqual({
      exit: 0,
      ran: ALL_M68040,
      cached: [],
    });
    // One lookup (miss) and one upload per task, with the protocol's headers.
    expect(server.summary()).toEqual({ 'GET 404': 6, 'PUT 200': 6 });
    for (const put of server.matching('PUT')) {
      expect(put.access).toBe('read-write');
      expect(put.headers['content-type']).toBe('application/octet-stream');
      expect(Number(put.headers['content-length'])).toBe(put.bytes);
      expect(put.bytes).toBeGreaterThan(0);
    }
    for (const lookup of server.matching('GET')) expect(lookup.headers.accept).toBe('application/octet-stream');
    expect(server.entries()).toEqual(
      server
        .matching('PUT')
        .map((r) => r.hash)
        .sort(),
    );
    // The local cache is the clone's own.
    expect(fs.readdirSync(a.file('.nx/cache'))).toEqual(expect.arrayContaining(server.entries()));
    producedByA = a.digest('dist');
    expect(Object.keys(producedByA).some((f) => f.startsWith('dist/llvm-m68k/m68040/'))).toBe(true);
    expect(Object.keys(producedByA).some((f) => f.startsWith('dist/rust-target/m68040/'))).toBe(true);
  });

  it('clone B, with an empty local cache, restores every task from the remote cache, byte-identical', async () => {
    expect(fs.existsSync(b.file('.nx/cache'))).toBe(false);
    expect(fs.existsSync(b.file('dist'))).toBe(false);
    server.resetCounts();
    const run = await b.nx(TEST_M68040, machine(b, RW));
    expect(run.exitCode === 0 ? 0 : explain(run, server)).toBe(0);
    expect(run.ran).toEqual([]);
    expect(fromRemote(run)).toEqual(ALL_M68040);
    expect(run.all).not.toContain('[local cache]');
    expect(stripVTControlCharacters(run.all)).toMatch(/^> nx run rust-target:build:m68040 +\[remote cache\]$/m);
    expect(stripVTControlCharacters(run.all)).toMatch(/^> nx run llvm-m68k:atomics:m68040 +\[remote cache\]$/m);
    // Downloads only: a hit is not uploaded again.
    expect(server.summary()).toEqual({ 'GET 200': 6 });
    // Every output, the main job's and the atomics' included, has A's sha256.
    const restored = b.digest('dist');
    expect(restored).toEqual(producedByA);
    for (const dir of ['dist/llvm-m68k/m68040/', 'dist/rust-target/m68040/']) {
      const files = Object.keys(restored).filter((f) => f.startsWith(dir));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(`${f} ${restored[f]}`).toBe(`${f} ${producedByA[f]}`);
    }
    expect(Object.keys(restored)).toContain('dist/llvm-m68k/m68040/libnextrust_atomics.a');
    // The status files are not outputs: B's log has B's run only, every task from the remote cache.
    const runs = fs
      .readFileSync(b.file('projects/ci-status/pipeline-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((activity) => activity.type === 'nx_run');
    expect(runs).toHaveLength(1);
    expect(runs[0].details.tasks.map((t: { id: string; cache: string }) => `${t.id} ${t.cache}`).sort()).toEqual(
      ALL_M68040.map((id) => `${id} remote`),
    );
  });

  describe('clone C', () => {
    let c: ScratchWorkspace;
    beforeAll(() => {
      c = clone('c');
    });

    it('downloads with a read-only token; its upload is refused (403) without failing the build, and stays in its local cache', async () => {
      // A change of its own: rust-target:build misses everywhere and runs; its dependencies come from A's uploads.
      c.edit(
        'projects/rust-target/programs/hello/src/main.rs',
        (t) => `${t}// edited in clone C (remote-cache.spec)\n`,
      );
      const stored = server.entries();
      server.resetCounts();
      const run = await c.nx(BUILD_M68040, machine(c, RO));
      expect(run.exitCode === 0 ? 0 : explain(run, server)).toBe(0);
      expect(run.ran).toEqual(['rust-target:build:m68040']);
      expect(fromRemote(run)).toEqual([
        'llvm-m68k:atomics:m68040',
        'llvm-m68k:backend',
        'llvm-m68k:toolchain',
        'rust-target:sysroot:m68040',
      ]);
      expect(server.summary()).toEqual({ 'GET 200': 4, 'GET 404': 1, 'PUT 403': 1 });
      const [refused] = server.matching('PUT');
      expect(refused.access).toBe('read-only');
      expect(refused.hash).toBe(server.matching('GET', 404)[0].hash);
      expect(server.entries()).toEqual(stored);

      // Not shared, but cached on this machine: the next run asks the server nothing.
      server.resetCounts();
      const again = await c.nx(BUILD_M68040, machine(c, RO));
      expect(again.exitCode).toBe(0);
      expect(again.ran).toEqual([]);
      expect(again.cached).toContain('rust-target:build:m68040');
      expect(server.requests).toEqual([]);
    });

    it("stops the run with the server's message when the token is wrong", async () => {
      c.edit('projects/rust-target/programs/hello/src/main.rs', (t) => `${t}// edited again\n`);
      server.resetCounts();
      const run = await c.nx(BUILD_M68040, machine(c, 'not-a-token'));
      expect(run.exitCode).not.toBe(0);
      expect(run.ran).toEqual([]);
      expect(stripVTControlCharacters(run.all)).toContain('Unauthorized: invalid bearer token');
      expect(server.summary()).toEqual({ 'GET 401': 1 });
    });
  });
});
