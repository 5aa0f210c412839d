import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  callTimeoutMs,
  decodeRequest,
  decodeResponse,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeRequest,
  encodeResponse,
  envLimit,
  FALLBACK_STATUS,
  fnv1a64,
  HOOK_MAGIC,
  HookProtocolError,
  HookRequestReader,
  hookSocketDir,
  hookSocketPath,
  MAX_ENV_BYTES,
  maxPayloadBytes,
} from './hook-protocol';

describe('hook protocol', () => {
  // Environment names and values as environ holds them: no NUL, no '=' in the name.
  const envArb = fc.dictionary(
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
    fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => !v.includes('\0')),
  );
  const bytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a));

  it('a request survives encoding (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 200 }),
        envArb,
        bytes,
        (event, cwd, env, stdin) => {
          const back = decodeRequest(encodeRequest({ event, cwd, env, stdin }));
          expect(back).toEqual({ event, cwd, env: { ...env }, stdin });
        },
      ),
    );
  });

  it('a response survives encoding, FALLBACK_STATUS included (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(FALLBACK_STATUS)),
        bytes,
        bytes,
        (status, stdout, stderr) => {
          expect(decodeResponse(encodeResponse({ status, stdout, stderr }))).toEqual({ status, stdout, stderr });
        },
      ),
    );
  });

  it('the layout is the documented one (what the C client parses)', () => {
    const r = encodeResponse({ status: 2, stdout: Buffer.from('o'), stderr: Buffer.from('err') });
    expect(r).toEqual(
      Buffer.concat([
        Buffer.from('NXHOOK1\n'),
        Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]),
        Buffer.from('o'),
        Buffer.from([0, 0, 0, 3]),
        Buffer.from('err'),
      ]),
    );
    const q = encodeRequest({ event: 'pre', cwd: '/w', env: { A: '1', B: 'x=y' }, stdin: Buffer.from('{}') });
    expect(q.toString('latin1')).toBe('NXHOOK1\n\0\0\0\x03pre\0\0\0\x02/w\0\0\0\x0aA=1\0B=x=y\0\0\0\0\x02{}');
  });

  it.each([
    ['empty', Buffer.alloc(0), /does not start with "NXHOOK1\\n"/],
    ['another magic', Buffer.from('HTTP/1.1 200 OK\r\n'), /does not start with/],
    ['cut in a length', Buffer.concat([HOOK_MAGIC, Buffer.from([0, 0])]), /request ends before its event length/],
    [
      'cut in a field',
      Buffer.concat([HOOK_MAGIC, Buffer.from([0, 0, 0, 9]), Buffer.from('pre')]),
      /request ends inside its event \(9 bytes declared, 3 left\)/,
    ],
    [
      'trailing bytes',
      Buffer.concat([encodeRequest({ event: 'pre', cwd: '/', env: {}, stdin: Buffer.alloc(0) }), Buffer.from('x')]),
      /request has 1 bytes after its last field/,
    ],
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
    expect(() =>
      hookSocketPath(path.resolve(__dirname, '../../..'), { NEXTRUST_HOOK_SOCKET_DIR: '/' + 'd'.repeat(100) }),
    ).toThrow(/longer than 107 bytes: set NEXTRUST_HOOK_SOCKET_DIR to a shorter directory/);
  });

  describe('HookRequestReader (what the server reads requests with)', () => {
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    /** A request's bytes up to and including the stdin length, with no stdin bytes. */
    const headerOnly = (stdinBytes: number, env: Record<string, string> = {}) => {
      const full = encodeRequest({ event: 'pre', cwd: '/w', env, stdin: Buffer.alloc(0) });
      return Buffer.concat([full.subarray(0, full.length - 4), u32(stdinBytes)]);
    };

    it('a request cut into any chunks reads as decodeRequest reads it whole (property)', () => {
      fc.assert(
        fc.property(
          fc.string({ maxLength: 30 }),
          fc.string({ maxLength: 200 }),
          envArb,
          bytes,
          fc.array(fc.nat(), { maxLength: 8 }),
          (event, cwd, env, stdin, cuts) => {
            const buf = encodeRequest({ event, cwd, env, stdin });
            const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
            const r = new HookRequestReader(() => Infinity);
            let from = 0;
            for (const to of [...at, buf.length]) {
              expect(r.push(buf.subarray(from, to))).toEqual({ state: 'reading' });
              from = to;
            }
            expect(r.end()).toEqual(decodeRequest(buf));
          },
        ),
      );
    });

    it("a stdin over the limit is refused from the header alone, before any of its bytes, with the limit of the call's environment", () => {
      const limits: Record<string, string>[] = [];
      const r = new HookRequestReader((env) => {
        limits.push(env);
        return maxPayloadBytes(env);
      });
      const hdr = headerOnly(50_000_000, { NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: '1000', A: 'b' });
      // Byte by byte: nothing is decided until the stdin length is complete.
      for (const b of hdr.subarray(0, hdr.length - 1)) expect(r.push(Buffer.from([b]))).toEqual({ state: 'reading' });
      expect(r.push(hdr.subarray(hdr.length - 1))).toEqual({
        state: 'too-large',
        head: {
          event: 'pre',
          cwd: '/w',
          env: { NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: '1000', A: 'b' },
          stdinBytes: 50_000_000,
        },
        limit: 1000,
      });
      expect(limits).toEqual([{ NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: '1000', A: 'b' }]);
      // It takes nothing more.
      expect(() => r.push(Buffer.from('x'))).toThrow(/refused already/);
      expect(() => r.end()).toThrow(/refused already/);
    });

    it('a stdin of exactly the limit is read; one byte more is refused', () => {
      const at = new HookRequestReader(() => 5);
      at.push(encodeRequest({ event: 'post', cwd: '/', env: {}, stdin: Buffer.from('12345') }));
      expect(at.end().stdin).toEqual(Buffer.from('12345'));
      const over = new HookRequestReader(() => 5);
      expect(over.push(encodeRequest({ event: 'post', cwd: '/', env: {}, stdin: Buffer.from('123456') })).state).toBe(
        'too-large',
      );
    });

    it('a header field over its maximum is refused as soon as its length is read', () => {
      const r = new HookRequestReader(() => Infinity);
      const hdr = Buffer.concat([
        HOOK_MAGIC,
        u32(3),
        Buffer.from('pre'),
        u32(1),
        Buffer.from('/'),
        u32(MAX_ENV_BYTES + 1),
      ]);
      expect(() => r.push(hdr)).toThrow(
        new HookProtocolError(
          `request's environment is ${MAX_ENV_BYTES + 1} bytes, over its maximum of ${MAX_ENV_BYTES}`,
        ),
      );
      expect(() => new HookRequestReader(() => Infinity).push(Buffer.concat([HOOK_MAGIC, u32(257)]))).toThrow(
        /request's event is 257 bytes, over its maximum of 256/,
      );
    });

    it('another protocol is refused from its first bytes; a request ending inside its stdin is named', () => {
      expect(() => new HookRequestReader(() => Infinity).push(Buffer.from('GET '))).toThrow(
        /does not start with "NXHOOK1\\n"/,
      );
      const r = new HookRequestReader(() => Infinity);
      r.push(Buffer.concat([headerOnly(10), Buffer.from('abc')]));
      expect(() => r.end()).toThrow(new HookProtocolError('request ends inside its stdin (10 bytes declared, 3 left)'));
    });
  });

  it.each([
    [undefined, DEFAULT_MAX_PAYLOAD_BYTES],
    ['', DEFAULT_MAX_PAYLOAD_BYTES],
    ['0', DEFAULT_MAX_PAYLOAD_BYTES],
    ['1', 1],
    ['00100', 100],
    ['1e6', DEFAULT_MAX_PAYLOAD_BYTES],
    [' 100', DEFAULT_MAX_PAYLOAD_BYTES],
    ['-5', DEFAULT_MAX_PAYLOAD_BYTES],
    ['0x10', DEFAULT_MAX_PAYLOAD_BYTES],
    ['4294967294', 4294967294],
    ['4294967295', DEFAULT_MAX_PAYLOAD_BYTES],
    ['99999999999', DEFAULT_MAX_PAYLOAD_BYTES],
  ])(
    'NEXTRUST_HOOK_MAX_PAYLOAD_BYTES=%j: a limit of %d bytes (digits only, 1 to 2^32-2, else the default)',
    (v, want) => {
      expect(maxPayloadBytes(v === undefined ? {} : { NEXTRUST_HOOK_MAX_PAYLOAD_BYTES: v })).toBe(want);
    },
  );

  it('NEXTRUST_HOOK_CALL_TIMEOUT_MS: 1 ms to one hour, else 10 s', () => {
    expect(callTimeoutMs({})).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(DEFAULT_CALL_TIMEOUT_MS).toBe(10_000);
    expect(callTimeoutMs({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1500' })).toBe(1500);
    expect(callTimeoutMs({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '3600000' })).toBe(3_600_000);
    expect(callTimeoutMs({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '3600001' })).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(callTimeoutMs({ NEXTRUST_HOOK_CALL_TIMEOUT_MS: '1.5' })).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(envLimit({ X: '7' }, 'X', 3, 6)).toBe(3);
  });
});
