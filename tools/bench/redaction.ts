/**
 * Benchmark of secret redaction and of request-design's log excerpt on very
 * long lines: both must take time linear in the text's length.
 *
 *   node -r @swc-node/register tools/bench/redaction.ts [--sizes 1,10,30] [--realistic-mb 20] [--old-reader]
 *
 * (a) redactSecrets on one line (no line break) of 1, 10 and 30 MB (--sizes,
 *     in MiB) of each shape below, env {}: milliseconds per size and the ratio
 *     of the largest to the smallest time against the ratio of the sizes
 *     (linear: about equal, e.g. 30x for 1 → 30 MB; quadratic: its square,
 *     900x). The shapes are realistic (log words, paths, `key=value` pairs and
 *     JSON without line breaks; one long run of base64; of hex) and
 *     adversarial, each built to make one kind of pattern retry at every
 *     position of a long run: word boundaries every 2 characters (`a-a-a-`),
 *     JWT-like and token-like prefixes (`eyJ-eyJ-`, `sk-sk-`), URL schemes
 *     (`a.a.a://`), assignments (`password=…`, `SECRET_KEY_BASE=aaa:…`,
 *     `k="`), BEGIN lines without END, `-u ====`.
 * (b) extractExcerpt (request-design's excerpt, context 20 lines, 8 KiB, with
 *     redaction) on a log file whose error line is one line of each size (log
 *     words, the error word near its end): milliseconds and ratio. With
 *     --old-reader, also status-store's forEachLine on the same files up to
 *     10 MB (the reader request-design used before: it re-splits the whole
 *     pending line at every 64 KiB read).
 * (c) MB/s of redactSecrets and of extractExcerpt on a realistic multi-line
 *     log: the real failure logs of tools/nx-plugin/src/pipeline/fixtures/
 *     failure-logs repeated to --realistic-mb MiB (default 20), best of 3.
 * Writes its files to a temp dir and removes it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractExcerpt } from '../nx-plugin/src/ai/design';
import { redactSecrets } from '../nx-plugin/src/ai/redact';
import { forEachLine } from '../nx-plugin/src/pipeline/status-store';
import { prng } from './prng';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'tools/nx-plugin/src/pipeline/fixtures/failure-logs');
const MIB = 1024 * 1024;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
const SIZES = (arg('--sizes') ?? '1,10,30').split(',').map(Number);
const REALISTIC_MB = Number(arg('--realistic-mb') ?? 20);
const OLD_READER = process.argv.includes('--old-reader');
if (SIZES.some((n) => !(n > 0)) || !(REALISTIC_MB > 0))
  throw new Error('--sizes: positive numbers (MiB), --realistic-mb: a positive number');

/** `n` characters made by repeating `piece()` (called until long enough). */
function fill(n: number, piece: () => string): string {
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const p = piece();
    parts.push(p);
    len += p.length;
  }
  return parts.join('').slice(0, n);
}

function logWords(seed: number): () => string {
  const r = prng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const words = [
    'Compiling',
    'warning:',
    'note:',
    'error[E0308]:',
    'mismatched',
    'types',
    '-->',
    'src/lib.rs:10:5',
    '|',
    'expected',
    'found',
    'Finished',
    'release',
    'target(s)',
    'in',
    '0.42s',
    'Running',
    '`rustc',
    '--crate-name',
    'core',
    '--edition=2021',
    '-C',
    'opt-level=2',
    '--target',
    'm68k-unknown-linux-gnu',
    'session_token_ttl=3600s',
    'prompt_tokens:',
    '1234',
    '{"reason":"compiler-artifact","fresh":false}',
    'KEYBOARD=us',
    'cache_key=Linux-cargo-3f2a9c',
    'token_type:',
    'bearer',
    '0x7f9f04645969',
    '/usr/lib/rustlib/src/rust/library/core/src/fmt/mod.rs',
    '_ZN4llvm16SelectionDAGISel17CodeGenAndEmitDAGEv+0x649',
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ];
  return () => pick(words) + ' ';
}
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function chars(alphabet: string, seed: number): () => string {
  const r = prng(seed);
  return () => {
    let s = '';
    for (let i = 0; i < 4096; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    return s;
  };
}

/** Line shapes: a name, and the line of `n` characters. */
const SHAPES: [string, (n: number) => string][] = [
  ['log words (realistic)', (n) => fill(n, logWords(1))],
  ['base64, one run', (n) => fill(n, chars(B64, 2))],
  ['hex, one run', (n) => fill(n, chars('0123456789abcdef', 3))],
  ['a-a-a- (word boundaries)', (n) => 'a-'.repeat(n / 2)],
  ['a.a.a (URL scheme chars)', (n) => 'a.'.repeat(n / 2)],
  ['eyJ-eyJ- (JWT prefix)', (n) => 'eyJ-'.repeat(n / 4)],
  ['sk-sk-/ghp_ (token prefixes)', (n) => fill(n, () => 'sk-ghp_AIza-xoxb-glpat-')],
  ['password=x password=x', (n) => 'password=x '.repeat(n / 11)],
  ['SECRET_KEY_BASE=aaa: (weak names)', (n) => 'SECRET_KEY_BASE=aaa:'.repeat(n / 20)],
  ['k=" (unclosed quotes)', (n) => 'api_key=" '.repeat(n / 10)],
  ['https://u:p (no @)', (n) => 'https://u:p '.repeat(n / 12)],
  ['BEGIN without END', (n) => '-----BEGIN RSA PRIVATE KEY----- '.repeat(n / 32)],
  ['-u ==== (cli flags)', (n) => ' -u ' + '='.repeat(n - 4)],
  ['Authorization: Bearer (no value)', (n) => 'Authorization: Bearer  '.repeat(n / 23)],
];

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const pad = (s: string, n: number) => s.padEnd(n);

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bench-redaction-'));
  try {
    const sizeRatio = Math.max(...SIZES) / Math.min(...SIZES);
    console.log(
      `node ${process.version}, ${os.cpus().length} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `\n(a) redactSecrets on one line (sizes ${SIZES.join(', ')} MiB; linear: time ratio ≈ ${sizeRatio}, quadratic ≈ ${sizeRatio ** 2})`,
    );
    console.log(
      `${pad('shape', 36)}${SIZES.map((s) => pad(`${s} MiB`, 12)).join('')}ratio   MB/s at ${Math.max(...SIZES)} MiB`,
    );
    let worst = 0;
    for (const [name, make] of SHAPES) {
      const times: number[] = [];
      for (const mb of SIZES) {
        const line = make(mb * MIB);
        redactSecrets(line.slice(0, 65536), {}); // warm-up
        times.push(time(() => redactSecrets(line, {})));
      }
      const ratio = times[times.length - 1] / times[0];
      worst = Math.max(worst, ratio);
      console.log(
        `${pad(name, 36)}${times.map((t) => pad(fmt(t), 12)).join('')}${pad(ratio.toFixed(1), 8)}${((Math.max(...SIZES) * MIB) / 1e6 / (times[times.length - 1] / 1000)).toFixed(1)}`,
      );
    }
    console.log(`worst ratio ${worst.toFixed(1)} (sizes ratio ${sizeRatio})`);

    console.log('\n(b) extractExcerpt with redaction (context 20, 8 KiB) on a log whose error line is one long line');
    const words = logWords(7);
    const files: [number, string][] = [];
    for (const mb of SIZES) {
      const file = path.join(tmp, `long-${mb}.log`);
      const head = Array.from(
        { length: 30 },
        (_, i) => `   Compiling crate${i} v0.1.${i} (/work/main/crates/crate${i})`,
      ).join('\n');
      const long =
        fill(mb * MIB - 200, words).replace(/error\[E0308\]:/g, 'E0308') +
        ' error: linking with `m68k-linux-gnu-gcc` failed: exit status: 1';
      fs.writeFileSync(file, `${head}\n${long}\n   = note: collect2: error: ld returned 1 exit status\n`);
      files.push([mb, file]);
    }
    const ex: number[] = [];
    for (const [mb, file] of files) {
      let excerptBytes = 0;
      const ms = await timeAsync(async () => {
        const e = await extractExcerpt(file, 20, 8192, (t) => redactSecrets(t, {}));
        excerptBytes = Buffer.byteLength(e.text) + Buffer.byteLength(e.errorText);
      });
      ex.push(ms);
      console.log(
        `${pad(`${mb} MiB line`, 14)}${pad(fmt(ms), 12)}${((mb * MIB) / 1e6 / (ms / 1000)).toFixed(1)} MB/s  (excerpt + error text: ${excerptBytes} bytes)`,
      );
    }
    console.log(`ratio ${(ex[ex.length - 1] / ex[0]).toFixed(1)} (sizes ratio ${sizeRatio})`);
    if (OLD_READER) {
      console.log('    the previous reader (status-store forEachLine) on the same files, up to 10 MiB:');
      for (const [mb, file] of files.filter(([mb]) => mb <= 10)) {
        const ms = await timeAsync(() => forEachLine(file, () => undefined));
        console.log(`    ${pad(`${mb} MiB line`, 14)}${fmt(ms)}`);
      }
    }

    console.log(`\n(c) a realistic log: the fixture failure logs repeated to ${REALISTIC_MB} MiB (best of 3)`);
    const logs = fs
      .readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.log'))
      .map((f) => fs.readFileSync(path.join(FIXTURES, f), 'utf8'))
      .join('\n');
    const big = fill(REALISTIC_MB * MIB, () => logs + '\n');
    const bigFile = path.join(tmp, 'realistic.log');
    fs.writeFileSync(bigFile, big);
    let best = Infinity;
    let changed = 0;
    for (let i = 0; i < 3; i++) {
      let out = '';
      best = Math.min(
        best,
        time(() => (out = redactSecrets(big, {}))),
      );
      changed = out === big ? 0 : 1;
    }
    console.log(
      `redactSecrets   ${fmt(best)}  ${((REALISTIC_MB * MIB) / 1e6 / (best / 1000)).toFixed(1)} MB/s  (${big.split('\n').length} lines; output ${changed ? 'CHANGED' : 'unchanged'})`,
    );
    best = Infinity;
    for (let i = 0; i < 3; i++)
      best = Math.min(best, await timeAsync(() => extractExcerpt(bigFile, 20, 8192, (t) => redactSecrets(t, {}))));
    console.log(`extractExcerpt  ${fmt(best)}  ${((REALISTIC_MB * MIB) / 1e6 / (best / 1000)).toFixed(1)} MB/s`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
