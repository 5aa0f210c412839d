import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, FALLBACK_STATUS, fnv1a64, HOOK_MAGIC, HookProtocolError, hookSocketDir, hookSocketPath } from './hook-protocol';

describe('hook protocol', () => {
  // Environment names and values as environ holds them: no NUL, no '=' in the name.
  const envArb = fc.dictionary(
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
    fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => !v.includes('\0')),
  );
  const bytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a));

  it('a request survives encoding (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 200 }), envArb, bytes, (event, cwd, env, stdin) => {
        const back = decodeRequest(encodeRequest({ event, cwd, env, stdin }));
        expect(back).toEqual({ event, cwd, env: { ...env }, stdin });
      }),
    );
  });

  it('a response survives encoding, FALLBACK_STATUS included (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(FALLBACK_STATUS)), bytes, bytes, (status, stdout, stderr) => {
        expect(decodeResponse(encodeResponse({ status, stdout, stderr }))).toEqual({ status, stdout, stderr });
      }),
    );
  });

  it('the layout is the documented one (what the C client parses)', () => {
    const r = encodeResponse({ status: 2, stdout: Buffer.from('o'), stderr: Buffer.from('err') });
    expect(r).toEqual(Buffer.concat([Buffer.from('NXHOOK1\n'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]), Buffer.from('o'), Buffer.from([0, 0, 0, 3]), Buffer.from('err')]));
    const q = encodeRequest({ event: 'pre', cwd: '/w', env: { A: '1', B: 'x=y' }, stdin: Buffer.from('{}') });
    expect(q.toString('latin1')).toBe('NXHOOK1\n\0\0\0\x03pre\0\0\0\x02/w\0\0\0\x0aA=1\0B=x=y\0\0\0\0\x02{}');
  });

  it.each([
    ['empty', Buffer.alloc(0), /does not start with "NXHOOK1\\n"/],
    ['another magic', Buffer.from('HTTP/1.1 200 OK\r\n'), /does not start with/],
    ['cut in a length', Buffer.concat([HOOK_MAGIC, Buffer.from([0, 0])]), /request ends before its event length/],
    ['cut in a field', Buffer.concat([HOOK_MAGIC, Buffer.from([0, 0, 0, 9]), Buffer.from('pre')]), /request ends inside its event \(9 bytes declared, 3 left\)/],
    ['trailing bytes', Buffer.concat([encodeRequest({ event: 'pre', cwd: '/', env: {}, stdin: Buffer.alloc(0) }), Buffer.from('x')]), /request has 1 bytes after its last field/],
  ])('a malformed request (%s) is a HookProtocolError naming the problem', (_what, buf, msg) => {
    expect(() => decodeRequest(buf)).toThrow(HookProtocolError);
    expect(() => decodeRequest(buf)).toThrow(msg);
  });

  it('fnv1a64 is the reference FNV-1a (test vectors)', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it('socket: NEXTRUST_HOOK_SOCKET_DIR, else $TMPDIR/nextrust-hooks-<uid>; named by the real path of the plugin', () => {
    const uid = os.userInfo().uid;
    expect(hookSocketDir({ TMPDIR: '/var/tmp//' })).toBe(`/var/tmp/nextrust-hooks-${uid}`);
    expect(hookSocketDir({})).toBe(`/tmp/nextrust-hooks-${uid}`);
    expect(hookSocketDir({ NEXTRUST_HOOK_SOCKET_DIR: '/run/x', TMPDIR: '/var/tmp' })).toBe('/run/x');
    const real = fs.realpathSync(path.resolve(__dirname, '../../..'));
    const link = fs.mkdtempSync(path.join(os.tmpdir(), 'nxh-link-'));
    fs.symlinkSync(real, path.join(link, 'plugin'));
    try {
      const viaLink = hookSocketPath(path.join(link, 'plugin'), { NEXTRUST_HOOK_SOCKET_DIR: '/s' });
      expect(viaLink).toBe(`/s/${fnv1a64(real)}.sock`);
      expect(hookSocketPath(real, { NEXTRUST_HOOK_SOCKET_DIR: '/s' })).toBe(viaLink);
    } finally {
      fs.rmSync(link, { recursive: true, force: true });
    }
  });

  it('a socket path too long for sun_path is an error that says what to do', () => {
    expect(() => hookSocketPath(path.resolve(__dirname, '../../..'), { NEXTRUST_HOOK_SOCKET_DIR: '/' + 'd'.repeat(100) })).toThrow(/longer than 107 bytes: set NEXTRUST_HOOK_SOCKET_DIR to a shorter directory/);
  });
});
