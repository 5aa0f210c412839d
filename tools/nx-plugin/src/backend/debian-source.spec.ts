// Finding the backend's LLVM source through apt: parsing apt's output, the pool layout, the cache folder.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  downloadVerified,
  nextrustCacheDir,
  parseIndexTargets,
  parseShowSrc,
  poolDirectory,
  SourceError,
} from './debian-source';

describe('parseIndexTargets', () => {
  it('keeps the distinct deb repositories in order, with a trailing slash', () => {
    const text = [
      'http://mirror.example/debian-security/\tbookworm-security\tmain\tdeb',
      'http://mirror.example/debian\tbookworm\tmain\tdeb',
      'http://mirror.example/debian\tbookworm\tmain\tdeb',
      'http://mirror.example/debian/\tbookworm\tmain\tdeb-src',
      '',
    ].join('\n');
    expect(parseIndexTargets(text)).toEqual([
      { uri: 'http://mirror.example/debian-security/', codename: 'bookworm-security', component: 'main' },
      { uri: 'http://mirror.example/debian/', codename: 'bookworm', component: 'main' },
    ]);
  });
});

describe('parseShowSrc', () => {
  it('reads package, version, directory and Checksums-Sha256 of each record', () => {
    const text = [
      'Package: llvm-toolchain-22',
      'Binary: clang-22, llvm-22',
      'Version: 1:22.1.8-1~deb12u1',
      'Checksums-Sha256:',
      ` ${'a'.repeat(64)} 13628 llvm-toolchain-22_22.1.8-1~deb12u1.dsc`,
      ` ${'b'.repeat(64)} 196630560 llvm-toolchain-22_22.1.8.orig.tar.xz`,
      'Directory: pool/updates/main/l/llvm-toolchain-22',
      '',
      'Package: llvm-toolchain-22',
      'Version: 1:22.1.7-1',
      'Directory: pool/main/l/llvm-toolchain-22',
      '',
    ].join('\n');
    const records = parseShowSrc(text);
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      package: 'llvm-toolchain-22',
      version: '1:22.1.8-1~deb12u1',
      directory: 'pool/updates/main/l/llvm-toolchain-22',
      files: {
        'llvm-toolchain-22_22.1.8-1~deb12u1.dsc': { sha256: 'a'.repeat(64), size: 13628 },
        'llvm-toolchain-22_22.1.8.orig.tar.xz': { sha256: 'b'.repeat(64), size: 196630560 },
      },
    });
    expect(records[1].files).toEqual({});
  });
});

describe('poolDirectory', () => {
  it('uses the first letter, or four letters for lib* packages (Debian archive layout)', () => {
    expect(poolDirectory('llvm-toolchain-22')).toBe('pool/main/l/llvm-toolchain-22');
    expect(poolDirectory('libffi', 'main')).toBe('pool/main/libf/libffi');
  });
});

describe('nextrustCacheDir', () => {
  it('prefers NEXTRUST_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(nextrustCacheDir({ NEXTRUST_CACHE_DIR: '/c/n', XDG_CACHE_HOME: '/x' })).toBe('/c/n');
    expect(nextrustCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/nextrust');
    expect(nextrustCacheDir({})).toMatch(/\/\.cache\/nextrust$/);
  });
});

describe('downloadVerified against a loopback HTTP server', () => {
  const body = crypto.randomBytes(300_000);
  const expected = { sha256: crypto.createHash('sha256').update(body).digest('hex'), size: body.length };
  let server: http.Server;
  let base = '';
  let tmp = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') return res.end(body);
      if (req.url === '/missing') return res.writeHead(404).end();
      if (req.url === '/error') return res.writeHead(503).end();
      if (req.url === '/silent') return; // accepts, never answers
      if (req.url === '/stalls') {
        res.writeHead(200, { 'content-length': String(body.length) });
        res.write(body.subarray(0, 100_000)); // then nothing more
        return;
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-download-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a complete download with the expected sha256 lands at dest, and no part file is left', async () => {
    const dest = path.join(tmp, 'src.tar.xz');
    expect(await downloadVerified(`${base}/ok`, dest, expected, () => undefined, 2000)).toBe('ok');
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual(['src.tar.xz']);
  });

  it('another sha256 is refused (SourceError) and nothing is kept', async () => {
    const dest = path.join(tmp, 'src.tar.xz');
    await expect(
      downloadVerified(`${base}/ok`, dest, { ...expected, sha256: '0'.repeat(64) }, () => undefined, 2000),
    ).rejects.toThrow(SourceError);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('404 is "missing"; another HTTP status is an error naming it', async () => {
    expect(await downloadVerified(`${base}/missing`, path.join(tmp, 'a'), expected, () => undefined, 2000)).toBe(
      'missing',
    );
    await expect(
      downloadVerified(`${base}/error`, path.join(tmp, 'a'), expected, () => undefined, 2000),
    ).rejects.toThrow('HTTP 503');
  });

  it.each([
    ['never answers', '/silent'],
    ['stops sending mid-body', '/stalls'],
  ])('a server that %s is abandoned after the stall limit, leaving no part file', async (_label, route) => {
    const dest = path.join(tmp, 'src.tar.xz');
    const e = await downloadVerified(`${base}${route}`, dest, expected, () => undefined, 300).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(e).not.toBeInstanceOf(SourceError); // the caller tries the next archive
    expect(e?.message).toBe('no data for 0.3 s: abandoned');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
