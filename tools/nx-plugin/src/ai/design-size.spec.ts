// Covers request-design's excerpt (design.ts extractExcerpt) on logs of any line length: for ordinary logs it gives
// what the line-by-line reading gave (same numbers, error line, window, 400-character lines); a line longer than
// LINE_KEEP is kept bounded, says what was cut, and its error is found wherever it is in the line (also across a
// 64 KiB read); the excerpt is redacted before it is cut, so no secret is split into pieces that no longer look like
// one; and the credentials a security review planted around a failure (key bodies without their BEGIN line, an END
// line alone, AWS_SECRET_KEY=, glpat-, npm_, Stripe, xapp-, Slack webhooks, AccountKey=) are not in the excerpt.
// (No timing here: tools/bench/redaction.ts measures that the time is linear in the line length.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { forEachLine } from '../pipeline/status-store';
import { extractExcerpt, LINE_KEEP, type LogExcerpt } from './design';
import { redactSecrets } from './redact';
import { ALNUM, seeded } from '../../test/helpers/seeded';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-design-size-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function writeLog(text: string): string {
  const file = path.join(dir, `log-${n++}.log`);
  fs.writeFileSync(file, text);
  return file;
}

const B64 = ALNUM + '+/';
let seed = 7;
function rand(alphabet: string, len: number): string {
  const next = seeded(seed++);
  let out = '';
  for (let i = 0; i < len; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}
const redact = (t: string) => redactSecrets(t, {});

/** The error-line rule of design.ts, restated. */
const ERROR_LINE =
  /(^|\s)(error(\[E[0-9]+\])?:|fatal( error)?:|LLVM ERROR|Cannot select|undefined reference|panicked at|Illegal instruction|unhandled CPU exception|Segmentation fault|uncaught target signal|FAIL |assertion failed)/i;

/** The excerpt as the line-by-line reading made it (status-store forEachLine, 400-character lines, no redaction). */
async function lineByLine(file: string, contextLines: number, maxBytes: number): Promise<LogExcerpt> {
  const before: string[] = [];
  const after: string[] = [];
  const window: string[] = [];
  let errorLine: number | null = null;
  let errorText = '';
  await forEachLine(file, (text, line) => {
    const numbered = `${line}: ${text.length > 400 ? text.slice(0, 400) + '…' : text}`;
    if (errorLine === null) {
      if (ERROR_LINE.test(text)) {
        errorLine = line;
        errorText = text.trim();
        window.push(text);
        before.push(numbered);
        return;
      }
      before.push(numbered);
      if (before.length > contextLines) before.shift();
    } else {
      if (window.length < 4) window.push(text);
      if (after.length < contextLines) after.push(numbered);
    }
  });
  if (errorLine === null) errorText = (before.at(-1) ?? '').replace(/^[0-9]+: /, '');
  let text = [...before, ...after].join('\n');
  if (Buffer.byteLength(text) > maxBytes) text = Buffer.from(text).subarray(0, maxBytes).toString('utf8') + '\n…';
  return { errorLine, errorText, errorWindow: window.length ? window.join('\n') : errorText, text };
}

describe('extractExcerpt on ordinary logs (lines up to LINE_KEEP characters)', () => {
  it('property: the same excerpt as the line-by-line reading (numbers, error line, window, blank lines, \\r, UTF-8, 64 KiB reads)', async () => {
    const line = fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 120 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '',
          '   ',
          '\r',
          'error[E0308]: mismatched types\r',
          '   = note: ‘__sync_fetch_and_add_4’ undefined reference',
          'thread panicked at src/main.rs:1:1',
          'warning: unused',
          'FAIL tests/hello',
        ),
      },
      { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 600 }) },
      // Long lines (up to LINE_KEEP), so that the 64 KiB reads fall inside lines.
      {
        weight: 1,
        arbitrary: fc.nat(LINE_KEEP - ' error: late'.length).map((k) => 'x'.repeat(k) + (k % 3 ? ' error: late' : '')),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 60 }),
        fc.nat(6),
        fc.boolean(),
        fc.constantFrom(256, 2048, 1e6),
        async (lines, context, finalNewline, maxBytes) => {
          const file = writeLog(lines.join('\n') + (finalNewline ? '\n' : ''));
          expect(await extractExcerpt(file, context, maxBytes)).toEqual(await lineByLine(file, context, maxBytes));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('extractExcerpt on lines longer than LINE_KEEP', () => {
  it('a 2 MiB error line is kept as the part around its error (found at its end), saying how much was cut', async () => {
    const long = 'progress '.repeat((2 << 20) / 9) + 'error: linking with `m68k-linux-gnu-gcc` failed: exit status: 1';
    const file = writeLog(
      [
        '   Compiling hello v0.1.0 (/work/main/programs/hello)',
        long,
        '   = note: collect2: error: ld returned 1 exit status',
        'done',
      ].join('\n') + '\n',
    );
    const e = await extractExcerpt(file, 3, 8192, redact);
    expect(e.errorLine).toBe(2);
    expect(e.errorText.length).toBeLessThanOrEqual(LINE_KEEP + 64);
    expect(e.errorText).toMatch(
      /^\[… [0-9]+ characters cut\] (progress )+error: linking with `m68k-linux-gnu-gcc` failed: exit status: 1$/,
    );
    const cut = Number(/^\[… ([0-9]+) characters cut\]/.exec(e.errorText)![1]);
    expect(cut + e.errorText.length - `[… ${cut} characters cut] `.length).toBe(long.length);
    expect(e.errorWindow.split('\n')).toEqual([
      e.errorText,
      '   = note: collect2: error: ld returned 1 exit status',
      'done',
    ]);
    // The excerpt: numbered lines, each shown up to 400 characters, all of it within max_bytes.
    const lines = e.text.split('\n');
    expect(lines.map((l) => Number(l.split(':')[0]))).toEqual([1, 2, 3, 4]);
    expect(e.errorText.length).toBeLessThan(400);
    expect(lines[1]).toBe(`2: ${e.errorText}`);
    expect(Buffer.byteLength(e.text)).toBeLessThanOrEqual(8192);
  });

  it('an error word split across a 64 KiB read inside a long line is found', async () => {
    for (const shift of [1, 3, 6, 10]) {
      const prefix = 'a '.repeat(30_000);
      // `error:` starts `shift` characters before the 65536th byte of the file.
      const pad = 'b'.repeat(65_536 - 'line one\n'.length - prefix.length - shift - 1);
      const file = writeLog(`line one\n${prefix}${pad} error: boom ${'c '.repeat(20_000)}\nafter\n`);
      const e = await extractExcerpt(file, 2, 8192);
      expect(e.errorLine).toBe(2);
      expect(e.errorText).toContain(' error: boom c c');
    }
  });

  it('an error line whose start is split across a 64 KiB read is found (`^error:` over the boundary)', async () => {
    for (const shift of [1, 3, 5]) {
      const filler = `${'f'.repeat(1000)}\n`.repeat(65);
      const pad = 'p'.repeat(65_536 - filler.length - 1);
      // The line `error: boom` starts `shift` bytes before the end of the first 64 KiB read.
      const file = writeLog(`${filler}${pad.slice(0, pad.length - shift)}\nerror: boom\nafter\n`);
      const e = await extractExcerpt(file, 1, 8192);
      expect(e.errorLine).toBe(67);
      expect(e.errorText).toBe('error: boom');
    }
  });

  it('a long line without an error keeps its first LINE_KEEP characters, cut after a blank (no token cut in two)', async () => {
    const token = `ghp_${rand(ALNUM, 36)}`;
    const words = 'word '.repeat((LINE_KEEP - 20) / 5);
    const long = `${words}${token} ${'x'.repeat(100_000)}`;
    const file = writeLog(`${long}\nerror: boom\n`);
    const e = await extractExcerpt(file, 2, 1e6);
    const first = e.text.split('\n')[0];
    expect(first.startsWith('1: word word')).toBe(true);
    expect(first).not.toContain(token.slice(0, 12));
    expect(e.errorLine).toBe(2);
  });

  it('the excerpt is redacted before its lines are cut to 400 characters: a token across the cut is not left half', async () => {
    for (const at of [380, 390, 396, 399]) {
      const token = `ghp_${rand(ALNUM, 36)}`;
      const line = `${'n'.repeat(at - 1)} ${token} trailing words`;
      const file = writeLog(`${line}\nerror: boom\n`);
      const e = await extractExcerpt(file, 2, 8192, redact);
      const windows = Array.from({ length: token.length - 7 }, (_, i) => token.slice(i, i + 8));
      expect(windows.filter((w) => e.text.includes(w))).toEqual([]);
    }
  });
});

describe('request-design: what the security review planted around a failure is not in the excerpt', () => {
  const pem = Array.from({ length: 12 }, () => rand(B64, 64));
  const awsSecret = rand(B64, 40);
  const glpat = `glpat-${rand(ALNUM, 20)}`;
  const npm = `npm_${rand(ALNUM, 36)}`;
  const stripe = [`sk_live_${rand(ALNUM, 24)}`, `rk_live_${rand(ALNUM, 24)}`, `sk_test_${rand(ALNUM, 24)}`];
  const xapp = `xapp-1-A${rand(ALNUM, 10)}-${rand('0123456789', 13)}-${rand('0123456789abcdef', 64)}`;
  const webhook = `T${rand(ALNUM, 8)}/B${rand(ALNUM, 10)}/${rand(ALNUM, 24)}`;
  const accountKey = rand(B64, 86);
  const pgp = Array.from({ length: 5 }, () => rand(B64, 64));
  const secrets = [...pem.slice(1), awsSecret, glpat, npm, ...stripe, xapp, webhook, accountKey, ...pgp];

  it('none of them, while the log lines around them stay', async () => {
    const log = [
      '   Compiling nextrust-rt v0.1.0 (/work/main/projects/rust-target/rt)',
      '-----BEGIN OPENSSH PRIVATE KEY-----', // outside the excerpt (context 20)
      ...pem.slice(0, 1),
      ...Array.from({ length: 3 }, (_, i) => `   Compiling dep${i} v0.1.0`),
      ...pem.slice(1, 9), // a key body, its BEGIN line out of reach
      'warning: build script printed its environment:',
      `AWS_SECRET_KEY=${awsSecret}`,
      `GITLAB_PAT ${glpat}`,
      `//registry.npmjs.org/:_authToken=${npm}`,
      `stripe keys ${stripe.join(' ')}`,
      `SLACK_APP_TOKEN=${xapp}`,
      `notify https://hooks.slack.com/services/${webhook}`,
      `AZURE="DefaultEndpointsProtocol=https;AccountName=ci;AccountKey=${accountKey}==;EndpointSuffix=core.windows.net"`,
      'error[E0308]: mismatched types',
      ...pem.slice(9),
      '-----END OPENSSH PRIVATE KEY-----',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----',
      '',
      ...pgp, // cut off by the end of the context
      ...Array.from({ length: 30 }, (_, i) => `later line ${i}`),
    ].join('\n');
    const file = writeLog(log + '\n');
    const e = await extractExcerpt(file, 20, 1e6, redact);
    const request = JSON.stringify({ error: redact(e.errorText), excerpt: e.text });
    for (const s of secrets) expect(request).not.toContain(s);
    expect(e.text).toContain('error[E0308]: mismatched types');
    expect(e.text).toContain('warning: build script printed its environment:');
    expect(e.text).toContain('https://hooks.slack.com/services/[REDACTED:slack-webhook]');
    expect(e.text).toContain(';EndpointSuffix=core.windows.net"');
    // The excerpt is the same lines, numbered, as without redaction.
    const plain = await extractExcerpt(file, 20, 1e6);
    expect(e.text.split('\n').map((l) => l.split(':')[0])).toEqual(plain.text.split('\n').map((l) => l.split(':')[0]));
  });
});
