// Covers the streaming known-issue matcher (LogScanner, scanLogText, scanLogFile) and the pattern rules of the
// known-issues schema: chunk-split invariance and agreement with a naive line-by-line reference (property-based,
// fast-check), multibyte text across 64 KiB read boundaries, evidence caps, scoring, giant lines (memory bounded,
// checked in a child with a small heap), unreadable files, and that schema-accepted patterns work in JS and grep -E.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import * as ts from 'typescript';
import { knownIssueSchema, knownIssuesFileSchema, linePatternSchema, type KnownIssue } from './known-issues';
import {
  BUILTIN_PATTERNS,
  explainConfidence,
  formatRunContext,
  LogScanner,
  MAX_EVIDENCE,
  MAX_LINE_CHARS,
  scanLogFile,
  scanLogText,
  type Evidence,
  type ScanOptions,
  type ScanResult,
} from './matcher';

/** A valid issue (defaults filled by the schema); override fields to shape it. */
function issue(o: Partial<Record<keyof KnownIssue, unknown>> & { id: string; error_patterns: string[] }): KnownIssue {
  return knownIssueSchema.parse({
    title: `title of ${o.id}`,
    phase: 'rust-target',
    category: 'linker',
    description: `description of ${o.id}`,
    fix: { explanation: `fix of ${o.id}`, command: `fix-${o.id}` },
    confidence: 0.9,
    metadata: { first_seen: '2026-01-01', references: [`docs/${o.id}.md`] },
    ...o,
  });
}

/** A valid known-issues file with one issue, as raw JSON (before defaults). */
function rawFile(issueOverrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: '2.0',
    known_issues: [
      {
        id: 'some-issue',
        title: 'Some issue',
        phase: 'rust-target',
        category: 'linker',
        error_patterns: ['undefined reference to'],
        context_patterns: [],
        description: 'd',
        fix: { explanation: 'f' },
        confidence: 0.9,
        metadata: { first_seen: '2026-01-01' },
        ...issueOverrides,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Issues, log lines and the naive reference used by the property tests.

/**
 * Issues whose patterns never match an empty string (see the KNOWN BUG tests for those that do). Anchors,
 * `$` before a `\r`, a pattern that the combined regex can match across lines (`could not[^!]*compile`: `[^!]`
 * matches `\n`), multibyte literals and an astral character are all included on purpose.
 */
const ISSUES: KnownIssue[] = [
  issue({
    id: 'atomic-spinlock',
    error_patterns: ['undefined references? to .__sync_[a-z_]+[0-9]*'],
    context_patterns: ['ld returned [0-9]+ exit status', ': in function .'],
  }),
  issue({
    id: 'rust-compile',
    category: 'toolchain',
    error_patterns: ['^error: could not compile', '^error\\[E[0-9]+\\]: ', 'could not[^!]*compile'],
    context_patterns: ['^warning: unused', '^ *= note: '],
  }),
  issue({
    id: 'qemu-sigill',
    phase: 'emulation-testing',
    category: 'emulator',
    error_patterns: ['qemu: uncaught target signal [0-9]+', 'Illegal instruction$'],
    context_patterns: ['-cpu m680[0-9]0'],
  }),
  issue({
    id: 'multibyte',
    category: 'codegen',
    error_patterns: ['Übersetzungsfehler: «[a-zé]+»', '😀 boom', '€ cost [0-9]+ failed', 'é-fehler [0-9]+'],
    context_patterns: ['café$', '^é-'],
  }),
];

/** Lines that the ISSUES' patterns match (some only without a prefix). */
const PLANTED = [
  "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
  "m68k-linux-gnu-ld: atom.o:atom.c:(.text+0x6c): more undefined references to `__sync_fetch_and_add_4' follow",
  'collect2: error: ld returned 1 exit status',
  "m68k-linux-gnu-ld: atom.o: in function `_start':",
  'error: could not compile `core` (lib) due to 3 previous errors',
  'error[E0554]: `#![feature]` may not be used on the stable release channel',
  'error: could not',
  'compile',
  'warning: unused variable: `x`',
  '   = note: see issue #123',
  'qemu: uncaught target signal 4 (Illegal instruction) - core dumped',
  'Illegal instruction',
  'qemu-m68k -cpu m68060 ./hello',
  'Übersetzungsfehler: «café»',
  '😀 boom',
  '€ cost 12 failed',
  'au café',
  'é-note',
  'é-fehler 42',
];

const noiseChar = fc.constantFrom(
  'a',
  'b',
  'z',
  'E',
  'r',
  'o',
  ' ',
  ' ',
  '-',
  ':',
  '_',
  '`',
  "'",
  '0',
  '7',
  '(',
  ')',
  '[',
  ']',
  '=',
  '#',
  'é',
  '€',
  '«',
  '»',
  'Ü',
  '😀',
  '\t',
  '\u2028',
  '\r',
);
const noiseLine = fc.string({ unit: noiseChar, maxLength: 40 });
const plantedLine = fc
  .tuple(
    fc.constantFrom('', '', '', '  ', 'x ', '12:00 ', '\u2028'),
    fc.constantFrom(...PLANTED),
    fc.constantFrom('', '', '', ' ', ' …', '\r', ' 😀'),
  )
  .map(([a, b, c]) => a + b + c);
const logLine = fc.record({
  content: fc.oneof(
    { arbitrary: noiseLine, weight: 3 },
    { arbitrary: plantedLine, weight: 3 },
    { arbitrary: fc.constant(''), weight: 1 },
  ),
  eol: fc.constantFrom('\n', '\n', '\r\n'),
});
/** A log: lines with \n or \r\n endings, empty lines, and a last line with or without its newline. */
const logText = fc.tuple(fc.array(logLine, { maxLength: 60 }), fc.boolean()).map(([lines, lastNewline]) => {
  const text = lines.map((l) => l.content + l.eol).join('');
  return lastNewline || !lines.length ? text : text.slice(0, text.length - lines[lines.length - 1].eol.length);
});

interface RefIssue {
  id: string;
  errorLines: number;
  evidence: Evidence[];
}

/** The module doc's rule, done the slow obvious way: split on '\n', strip one '\r', test every pattern per line. */
function naiveScan(text: string, issues: readonly KnownIssue[]): { lines: number; candidates: RefIssue[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cut = (t: string) => (t.length > 500 ? t.slice(0, 500) + '…' : t);
  const candidates: RefIssue[] = [];
  for (const iss of issues) {
    const error: Evidence[] = [];
    const context: Evidence[] = [];
    let errorLines = 0;
    lines.forEach((raw, i) => {
      const t = raw.replace(/\r$/, '');
      const e = iss.error_patterns.find((p) => new RegExp(p).test(t));
      if (e !== undefined) {
        errorLines++;
        if (error.length < MAX_EVIDENCE) error.push({ line: i + 1, text: cut(t), pattern: e, kind: 'error' });
      }
      const c = iss.context_patterns.find((p) => new RegExp(p).test(t));
      if (c !== undefined && context.length < MAX_EVIDENCE)
        context.push({ line: i + 1, text: cut(t), pattern: c, kind: 'context' });
    });
    if (errorLines) candidates.push({ id: iss.id, errorLines, evidence: [...error, ...context] });
  }
  return { lines: lines.length, candidates };
}

/** The parts of a scan the reference computes, candidates in database order. */
function observed(r: ScanResult, issues: readonly KnownIssue[]): { lines: number; candidates: RefIssue[] } {
  const order = issues.map((i) => i.id);
  const candidates = r.candidates
    .map((c) => ({ id: c.id, errorLines: c.errorLines, evidence: c.evidence }))
    .sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return { lines: r.lines, candidates };
}

function pieces(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(text.slice(prev, c));
    prev = c;
  }
  out.push(text.slice(prev));
  return out;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-matcher-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------

describe('chunk-split invariance', () => {
  it('feeding LogScanner.push any split of a log gives exactly the scanLogText result of the whole', () => {
    let withMatch = 0;
    fc.assert(
      fc.property(logText, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (text, cuts, cutAtCr) => {
        // Also cut between every \r and its \n, and inside surrogate pairs when the random cuts hit them.
        const extra = cutAtCr ? [...text.matchAll(/\r/g)].map((m) => m.index! + 1) : [];
        const scanner = new LogScanner(ISSUES);
        const parts = pieces(text, [...cuts, ...extra]);
        for (const p of parts) scanner.push(p);
        const split = scanner.end();
        const whole = scanLogText(text, ISSUES);
        expect(split).toEqual(whole);
        expect(parts.join('')).toBe(text);
        if (whole.match) withMatch++;
      }),
      { numRuns: 400 },
    );
    // The property is only meaningful if many generated logs contain known issues.
    expect(withMatch).toBeGreaterThan(100);
  });

  it('holds with phase/cpu options and a pushed character at a time', () => {
    fc.assert(
      fc.property(
        logText,
        fc.constantFrom<ScanOptions>({}, { phase: 'emulation-testing', cpu: 'm68000' }, { minConfidence: 0.8 }),
        (text, opts) => {
          const scanner = new LogScanner(ISSUES, opts);
          for (let i = 0; i < text.length; i++) scanner.push(text[i]); // splits surrogate pairs too
          expect(scanner.end()).toEqual(scanLogText(text, ISSUES, opts));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('evidence against a naive line-by-line reference', () => {
  it('scanLogText: line numbers, texts, patterns and errorLines equal the reference', () => {
    fc.assert(
      fc.property(logText, (text) => {
        expect(observed(scanLogText(text, ISSUES), ISSUES)).toEqual(naiveScan(text, ISSUES));
      }),
      { numRuns: 500 },
    );
  });

  it('scanLogText: also when the log straddles the 64 Ki-unit chunk boundary (padding before it)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65536 - 400, max: 65536 + 20 }), logText, (pad, text) => {
        // Padding of 99-char lines, then a partial line so that `text` starts anywhere near the boundary.
        const full = `${'p'.repeat(99)}\n`.repeat(Math.floor(pad / 100)) + 'q'.repeat(pad % 100) + text;
        expect(observed(scanLogText(full, ISSUES), ISSUES)).toEqual(naiveScan(full, ISSUES));
      }),
      { numRuns: 150 },
    );
  });

  it('scanLogFile on a temp file: same evidence as the reference, bytes = file size', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 65536 + 20 }), logText, async (pad, text) => {
        // Half of the runs put the random log across the first 64 KiB read boundary (in bytes here).
        const prefix = pad > 65000 ? `${'p'.repeat(99)}\n`.repeat(Math.floor(pad / 100)) + 'q'.repeat(pad % 100) : '';
        const full = prefix + text;
        const file = path.join(tmp, `prop-${n++}.log`);
        fs.writeFileSync(file, full);
        const r = await scanLogFile(file, ISSUES);
        expect(observed(r, ISSUES)).toEqual(naiveScan(full, ISSUES));
        expect(r.bytes).toBe(Buffer.byteLength(full));
        fs.rmSync(file);
      }),
      { numRuns: 120 },
    );
  });

  it('a multibyte character (2, 3, 4 bytes) or a \\r\\n split by a 64 KiB read boundary is decoded whole', async () => {
    const cases: Array<{ planted: string; id: string }> = [
      { planted: 'é-fehler 42', id: 'multibyte' }, // é: 2 bytes
      { planted: '€ cost 7 failed', id: 'multibyte' }, // €: 3 bytes
      { planted: '😀 boom', id: 'multibyte' }, // 😀: 4 bytes (a surrogate pair in JS)
    ];
    for (const boundary of [65536, 131072]) {
      for (const { planted } of cases) {
        const charBytes = Buffer.byteLength([...planted][0]);
        for (let k = 1; k < charBytes; k++) {
          // The character starts k bytes before the boundary: its bytes are split between two reads.
          const before = boundary - k;
          const fillerLines = Math.floor((before - 50) / 100);
          const linePrefix = 'y'.repeat(before - fillerLines * 100);
          const text =
            `${'x'.repeat(99)}\n`.repeat(fillerLines) + `${linePrefix}${planted}\r\nqemu-m68k -cpu m68040 é\n😀 boom\n`;
          expect(Buffer.byteLength(text.slice(0, text.indexOf(planted)))).toBe(before);
          const file = path.join(tmp, `straddle-${boundary}-${k}.log`);
          fs.writeFileSync(file, text);
          const r = await scanLogFile(file, ISSUES);
          expect(observed(r, ISSUES)).toEqual(naiveScan(text, ISSUES));
          const m = r.candidates.find((c) => c.id === 'multibyte')!;
          expect(m.evidence[0]).toEqual({
            line: fillerLines + 1,
            text: linePrefix + planted,
            pattern: expect.any(String),
            kind: 'error',
          });
          expect(m.evidence.find((e) => e.text === '😀 boom')!.line).toBe(fillerLines + 3);
          expect(r.lines).toBe(fillerLines + 3);
          expect(r.bytes).toBe(Buffer.byteLength(text));
        }
      }
      // A \r\n whose \r ends one read and whose \n starts the next: the \r is still stripped.
      const fillerLines = Math.floor((boundary - 1 - 50) / 100);
      const line = 'z'.repeat(boundary - 1 - fillerLines * 100 - 'Illegal instruction'.length) + 'Illegal instruction';
      const text = `${'x'.repeat(99)}\n`.repeat(fillerLines) + line + '\r\n' + 'Illegal instruction\r\n';
      expect(Buffer.byteLength(text.slice(0, text.indexOf('\r')))).toBe(boundary - 1);
      const file = path.join(tmp, `crlf-${boundary}.log`);
      fs.writeFileSync(file, text);
      const r = await scanLogFile(file, ISSUES);
      expect(r.match?.id).toBe('qemu-sigill');
      expect(r.match!.evidence.map((e) => [e.line, e.text])).toEqual([
        [fillerLines + 1, line],
        [fillerLines + 2, 'Illegal instruction'],
      ]);
    }
  });

  it('fixed cases: \\r\\n, empty lines, no final newline, a last line that is only "\\r", long lines cut to 500', () => {
    const long = 'undefined reference to `__sync_lock_test_and_set_4` ' + 'w'.repeat(800);
    const text = [
      '',
      'collect2: error: ld returned 1 exit status\r',
      '',
      long,
      "undefined reference to `__sync_synchronize'",
    ].join('\n');
    const r = scanLogText(text, ISSUES);
    expect(r.lines).toBe(5);
    expect(r.match!.id).toBe('atomic-spinlock');
    expect(r.match!.evidence.map((e) => [e.line, e.kind, e.text])).toEqual([
      [4, 'error', long.slice(0, 499) + '…'], // 500 characters with the ellipsis
      [5, 'error', "undefined reference to `__sync_synchronize'"],
      [2, 'context', 'collect2: error: ld returned 1 exit status'],
    ]);
    expect(scanLogText('a\nb\r\n\r', ISSUES).lines).toBe(3);
    expect(scanLogText('', ISSUES)).toEqual({
      match: null,
      candidates: [],
      userError: null,
      diagnosis: 'unknown',
      runContext: { overrides: [] },
      lines: 0,
      bytes: 0,
    });
  });

  it('a match of the combined expression across lines attributes nothing and does not hide later lines', () => {
    const only = [issue({ id: 'x', error_patterns: ['could not[^!]*compile'] })];
    const r = scanLogText('error: could not\ncompile\nerror: could not compile core\n', only);
    expect(r.match!.evidence.map((e) => e.line)).toEqual([3]);
    expect(r.match!.errorLines).toBe(1);
  });
});

describe('evidence caps', () => {
  it(`keeps the first ${MAX_EVIDENCE} error and context lines, counts every error line once`, () => {
    const iss = [
      issue({
        id: 'capped',
        error_patterns: ['undefined reference to', '__sync_fetch_and_add_4'],
        context_patterns: ['ld returned [0-9]+ exit status', 'collect2'],
      }),
    ];
    const lines: string[] = [];
    const errorAt: number[] = [];
    const contextAt: number[] = [];
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) {
        // Matches both error patterns: one error line, not two.
        lines.push(`atom.c:(.text+0x${i}): undefined reference to \`__sync_fetch_and_add_4'`);
        errorAt.push(i + 1);
      } else if (i % 5 === 1) {
        // Matches both context patterns: one evidence line.
        lines.push(`collect2: error: ld returned ${i} exit status`);
        contextAt.push(i + 1);
      } else lines.push(`   Compiling crate${i} v0.1.${i}`);
    }
    const r = scanLogText(lines.join('\n') + '\n', iss);
    const m = r.match!;
    expect(errorAt.length).toBeGreaterThan(MAX_EVIDENCE);
    expect(contextAt.length).toBeGreaterThan(MAX_EVIDENCE);
    expect(m.errorLines).toBe(errorAt.length);
    expect(m.evidence.filter((e) => e.kind === 'error').map((e) => e.line)).toEqual(errorAt.slice(0, MAX_EVIDENCE));
    expect(m.evidence.filter((e) => e.kind === 'context').map((e) => e.line)).toEqual(contextAt.slice(0, MAX_EVIDENCE));
    expect(m.evidence.map((e) => e.kind)).toEqual([
      ...Array(MAX_EVIDENCE).fill('error'),
      ...Array(MAX_EVIDENCE).fill('context'),
    ]);
    // Both context patterns were found, so full confidence.
    expect(m.confidence).toBe(0.9);
  });
});

describe('scoring', () => {
  const log = [
    '   Compiling app v0.1.0',
    "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
    "m68k-linux-gnu-ld: atom.o: in function `_start':",
    'collect2: error: ld returned 1 exit status',
  ].join('\n');
  const base = { id: 'atomic', error_patterns: ['undefined reference to .__sync_'], confidence: 0.8 };
  const conf = (iss: KnownIssue, opts: ScanOptions = {}) => scanLogText(log, [iss], opts).candidates[0].confidence;

  it('context patterns raise confidence: 0.85 + 0.15 × fraction found', () => {
    expect(conf(issue(base))).toBe(0.8);
    expect(conf(issue({ ...base, context_patterns: ['never seen one', 'never seen two'] }))).toBeCloseTo(0.68, 10);
    expect(conf(issue({ ...base, context_patterns: ['ld returned [0-9]+ exit status', 'never seen'] }))).toBeCloseTo(
      0.74,
      10,
    );
    expect(conf(issue({ ...base, context_patterns: ['ld returned [0-9]+ exit status', ': in function .'] }))).toBe(0.8);
    // Found on the same line as the error: still counts.
    expect(conf(issue({ ...base, context_patterns: ['__sync_fetch', 'never seen'] }))).toBeCloseTo(0.74, 10);
  });

  it('phase mismatch ×0.8, CPU mismatch ×0.7, both ×0.56; empty cpu_variants means all', () => {
    const iss = issue({ ...base, phase: 'rust-target', cpu_variants: ['m68000'] });
    expect(conf(iss, { phase: 'rust-target', cpu: 'm68000' })).toBe(0.8);
    expect(conf(iss, { phase: 'llvm-backend' })).toBeCloseTo(0.64, 10);
    expect(conf(iss, { cpu: 'm68040' })).toBeCloseTo(0.56, 10);
    expect(conf(iss, { phase: 'llvm-backend', cpu: 'm68040' })).toBeCloseTo(0.45, 10); // 0.448 rounded
    expect(conf(issue({ ...base, cpu_variants: [] }), { cpu: 'm68060' })).toBe(0.8);
    const m = scanLogText(log, [iss], { phase: 'llvm-backend', cpu: 'm68040' }).candidates[0];
    expect(m.context).toEqual({ phase: 'llvm-backend', cpu: 'm68040' });
    expect(m.phase).toBe('rust-target');
    expect(m.cpu_variants).toEqual(['m68000']);
  });

  it('below minConfidence: match null but the candidate is kept; the threshold is inclusive', () => {
    const iss = issue({ ...base, confidence: 0.6 });
    const low = scanLogText(log, [iss], { phase: 'llvm-backend' }); // 0.48
    expect(low.match).toBeNull();
    expect(low.candidates.map((c) => [c.id, c.confidence])).toEqual([['atomic', 0.48]]);
    expect(scanLogText(log, [iss], { phase: 'llvm-backend', minConfidence: 0.45 }).match?.id).toBe('atomic');
    expect(scanLogText(log, [iss], { phase: 'llvm-backend', minConfidence: 0.49 }).match).toBeNull();
    expect(scanLogText(log, [issue({ ...base, confidence: 0.5 })]).match?.confidence).toBe(0.5);
    expect(scanLogText(log, [issue({ ...base, confidence: 0.8 })], { minConfidence: 0.81 }).match).toBeNull();
  });

  it('highest confidence wins; ties go to the earliest first evidence, whatever the database order', () => {
    const text = ['noise', 'beta failure here', 'noise', 'noise', 'alpha failure here', 'gamma failure here'].join(
      '\n',
    );
    const alpha = issue({ id: 'alpha', error_patterns: ['alpha failure'], confidence: 0.7 });
    const beta = issue({ id: 'beta', error_patterns: ['beta failure'], confidence: 0.7 });
    const gamma = issue({ id: 'gamma', error_patterns: ['gamma failure'], confidence: 0.75 });
    const tie = scanLogText(text, [alpha, beta]);
    expect(tie.match!.id).toBe('beta');
    expect(tie.candidates.map((c) => c.id)).toEqual(['beta', 'alpha']);
    expect(scanLogText(text, [beta, alpha]).match!.id).toBe('beta');
    const best = scanLogText(text, [alpha, beta, gamma]);
    expect(best.candidates.map((c) => c.id)).toEqual(['gamma', 'beta', 'alpha']);
  });

  it('a match carries the issue data the CLI prints', () => {
    const m = scanLogText(log, [issue(base)]).match!;
    expect(m).toMatchObject({
      id: 'atomic',
      title: 'title of atomic',
      category: 'linker',
      description: 'description of atomic',
      fix: { explanation: 'fix of atomic', command: 'fix-atomic' },
      references: ['docs/atomic.md'],
      context: {},
    });
  });
});

describe('giant lines', () => {
  it(`a line longer than MAX_LINE_CHARS (${MAX_LINE_CHARS}) is scanned in pieces: the pattern is found, numbering stays right`, () => {
    const needle = "undefined reference to `__sync_val_compare_and_swap_4'";
    // Pieces are whole 64 Ki-unit chunks: keep the needle inside one (offset 30000 within a chunk).
    const at = 40 * 65536 + 30000;
    const giantLen = 3 * MAX_LINE_CHARS + 12345;
    const head = 'first line\n';
    const body = 'g'.repeat(at - head.length) + needle;
    const text =
      head + body + 'g'.repeat(giantLen - body.length) + '\nafter: ld returned 1 exit status\n' + needle + '\n';
    const r = scanLogText(text, ISSUES);
    expect(r.lines).toBe(4);
    expect(r.match!.id).toBe('atomic-spinlock');
    expect(r.match!.evidence.map((e) => [e.line, e.kind])).toEqual([
      [2, 'error'],
      [4, 'error'],
      [3, 'context'],
    ]);
    expect(r.match!.errorLines).toBe(2);
    expect(r.match!.evidence[0].text.length).toBeLessThanOrEqual(501);
  });

  it('scanLogFile of a 128 MiB single line (no newline) runs in a 32 MiB heap with bounded RSS and finds the pattern', () => {
    // The matcher compiled to plain JS, run in a child node with a small heap: holding the line would need > 128 MB.
    const src = fs.readFileSync(path.join(__dirname, 'matcher.ts'), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    fs.writeFileSync(path.join(tmp, 'matcher.js'), js);
    const file = path.join(tmp, 'giant.log');
    const size = 128 * 1024 * 1024;
    const needleAt = 100 * 1024 * 1024 + 30000;
    const needle = Buffer.from("undefined reference to `__sync_fetch_and_add_4'");
    const block = Buffer.alloc(1 << 20, 'g');
    const fd = fs.openSync(file, 'w');
    for (let off = 0; off < size; off += block.length) {
      const b = Buffer.from(block);
      if (needleAt >= off && needleAt < off + b.length) needle.copy(b, needleAt - off);
      fs.writeSync(fd, b);
    }
    fs.closeSync(fd);
    const child = `
      const { scanLogFile } = require(${JSON.stringify(path.join(tmp, 'matcher.js'))});
      const issues = ${JSON.stringify(ISSUES)};
      scanLogFile(process.argv[1], issues).then((r) => {
        const m = r.match;
        process.stdout.write(JSON.stringify({ id: m && m.id, errorLines: m && m.errorLines, line: m && m.evidence[0].line, lines: r.lines, bytes: r.bytes, maxRssKiB: process.resourceUsage().maxRSS }));
      });`;
    const res = spawnSync(process.execPath, ['--max-old-space-size=32', '-e', child, file], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    fs.rmSync(file);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ id: 'atomic-spinlock', errorLines: 1, line: 1, lines: 1, bytes: size });
    // The 32 MiB heap is the hard guard (the line held whole would not fit); RSS (node itself,
    // the heap, I/O buffers; it varies with machine load) stays below the file's size.
    expect(out.maxRssKiB * 1024).toBeLessThan(size);
  });
});

describe('scanLogFile with grep: a line longer than grep can hold', () => {
  it('grep stops at its memory limit ("memory exhausted") and the JavaScript scanner gives the same result', async () => {
    // A 96 MiB line without a hit between hit lines: grep must hold the whole line; under a 64 MiB limit it cannot.
    const file = path.join(tmp, 'long-line.log');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, "ok\nld: undefined reference to `__sync_fetch_and_add_4'\n");
    const block = Buffer.alloc(1 << 20, 'g');
    for (let i = 0; i < 96; i++) fs.writeSync(fd, block);
    fs.writeSync(
      fd,
      "\ncollect2: error: ld returned 1 exit status\nundefined reference to `__sync_lock_test_and_set_1'\n",
    );
    fs.closeSync(fd);
    try {
      const limited = await scanLogFile(file, ISSUES, { engine: 'grep', grepMemoryKiB: 64 * 1024 });
      const js = await scanLogFile(file, ISSUES, { engine: 'js' });
      const roomy = await scanLogFile(file, ISSUES, { engine: 'grep', grepMemoryKiB: 1024 * 1024 });
      expect(limited.engine).toBe('js');
      expect(roomy.engine).toBe('grep');
      expect(limited).toEqual(js);
      expect({ ...roomy, engine: 'js' }).toEqual(js);
      expect(js.match!.id).toBe('atomic-spinlock');
      expect(js.match!.evidence.filter((e) => e.kind === 'error').map((e) => e.line)).toEqual([2, 5]);
      expect(js.lines).toBe(5);
    } finally {
      fs.rmSync(file);
    }
  });
});

describe('scanLogFile errors', () => {
  it('a missing file throws an error naming the file', async () => {
    const missing = path.join(tmp, 'no-such-dir', 'build.log');
    await expect(scanLogFile(missing, ISSUES)).rejects.toThrow(`cannot read log ${missing}`);
    await expect(scanLogFile(missing, ISSUES)).rejects.toThrow(/ENOENT/);
  });

  it('a directory throws an error naming it', async () => {
    await expect(scanLogFile(tmp, ISSUES)).rejects.toThrow(tmp);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bugs found by these tests and fixed: each asserts the documented behaviour.

describe('fixed bugs in matcher.ts', () => {
  // The schema refuses empty-matching patterns; the scanner must still be right with one (built past the schema).
  const blank = [{ ...issue({ id: 'blank', error_patterns: ['^ +$'] }), error_patterns: ['^ *$'] }];

  it('fixed: a pattern matching an empty line reports a phantom line after the end of each scanned block', () => {
    // scanBlock: after the last line, lastIndex === block.length and `^ *$` matches the empty string there.
    const r = scanLogText('a\n\nb\n', blank);
    expect(r.lines).toBe(3);
    expect(r.match!.evidence.map((e) => e.line)).toEqual([2]); // actual: [2, 4]
  });

  it('fixed: an empty first line of a block is not attributed (lastIndexOf with fromIndex -1)', () => {
    // m.index === 0 and block[0] === '\n': block.lastIndexOf('\n', -1) finds index 0, so line 2 is tested instead.
    expect(observed(scanLogText('\na\n', blank), blank)).toEqual(naiveScan('\na\n', blank)); // actual: line 3 (phantom) instead of line 1
  });

  it('fixed: a giant line matching in two of its pieces is counted as two error lines', () => {
    const needle = 'NEEDLE-FOUND';
    const text = 'x'.repeat(100000) + needle + 'x'.repeat(2 * MAX_LINE_CHARS) + needle + '\nnext\n';
    const m = scanLogText(text, [issue({ id: 'needle', error_patterns: [needle] })]).match!;
    expect(m.errorLines).toBe(1); // actual: 2
    expect(m.evidence.map((e) => e.line)).toEqual([1]); // actual: [1, 1]
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Exit code of `grep -E -e PATTERN /dev/null` in the machine's locale: 1 = valid, no match; 2 = invalid. */
function grepE(pattern: string): { status: number | null; stderr: string } {
  const r = spawnSync('grep', ['-E', '-e', pattern, '/dev/null'], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/**
 * Oracle for the JavaScript-only constructs the schema must refuse: a `\\d \\D \\b \\B \\<digit>` escape, or a
 * `(?` group opener. Read token by token: an escape pair is one token, and a bracket expression is skipped
 * whole, so `\\(?` (an optional literal paren) and `[(?]` are not group openers. Null when there is none.
 */
function jsOnlyConstruct(p: string): string | null {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      if (/[dDbB0-9]/.test(p[i + 1] ?? '')) return p.slice(i, i + 2);
      i++;
    } else if (p[i] === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) return null;
      i = close;
    } else if (p[i] === '(' && p[i + 1] === '?') return '(?';
  }
  return null;
}

describe('known-issues schema: patterns', () => {
  const patternString = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({
      unit: fc.constantFrom(
        '\\',
        '(',
        ')',
        '[',
        ']',
        '{',
        '}',
        '?',
        '*',
        '+',
        '|',
        '^',
        '$',
        '.',
        'd',
        'b',
        '<',
        '=',
        '!',
        ':',
        '0',
        'a',
      ),
      maxLength: 20,
    }),
  );

  it('random patterns never crash safeParse: success, or issues whose path names the pattern', () => {
    let accepted = 0;
    fc.assert(
      fc.property(patternString, patternString, (e, c) => {
        const r = knownIssuesFileSchema.safeParse(rawFile({ error_patterns: [e], context_patterns: [c] }));
        if (r.success) {
          accepted++;
          for (const p of [e, c]) {
            expect(p.length).toBeGreaterThanOrEqual(3);
            expect(() => new RegExp(p)).not.toThrow();
            expect(jsOnlyConstruct(p)).toBeNull();
          }
          return;
        }
        expect(r.error.issues.length).toBeGreaterThan(0);
        for (const i of r.error.issues) {
          expect([
            ['known_issues', 0, 'error_patterns', 0],
            ['known_issues', 0, 'context_patterns', 0],
          ]).toContainEqual(i.path);
          expect(typeof i.message).toBe('string');
        }
        // A pattern that is fine on its own gives no issue.
        const bad = new Set(r.error.issues.map((i) => i.path[2]));
        if (linePatternSchema.safeParse(e).success) expect(bad.has('error_patterns')).toBe(false);
        if (linePatternSchema.safeParse(c).success) expect(bad.has('context_patterns')).toBe(false);
      }),
      // An escaped paren before a quantifier, `\\(?`, is ERE too (a counterexample to an earlier oracle).
      { numRuns: 2000, examples: [['   ', '\\(?\\\\']] },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it('any JSON value never crashes safeParse; a wrong field value is reported at its path', () => {
    const fields = [
      'id',
      'title',
      'phase',
      'category',
      'cpu_variants',
      'error_patterns',
      'description',
      'fix',
      'confidence',
      'metadata',
    ];
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...fields), (value, field) => {
        expect(() => knownIssuesFileSchema.safeParse(value)).not.toThrow();
        const r = knownIssuesFileSchema.safeParse(rawFile({ [field]: value }));
        if (!r.success) {
          for (const i of r.error.issues) expect(i.path.slice(0, 3)).toEqual(['known_issues', 0, field]);
        }
      }),
      { numRuns: 500 },
    );
    const r = knownIssuesFileSchema.safeParse(rawFile({ confidence: 1.5 }));
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['known_issues', 0, 'confidence']);
  });

  it('refuses JS-only constructs (\\d, \\b, lookaround, lazy quantifiers, backreferences) and too-short patterns', () => {
    for (const p of ['error \\d+', '\\bfoo', 'foo(?=bar)', '(?<!x)foo', 'a.*?b', 'a+?b', 'a{2}?b', '(a)\\1x', 'ab']) {
      expect(linePatternSchema.safeParse(p).success).toBe(false);
    }
    for (const p of ['error [0-9]+', 'undefined references? to .__sync_[a-z_]+[0-9]*', '^error\\[E[0-9]+\\]: ']) {
      expect(linePatternSchema.safeParse(p).success).toBe(true);
    }
  });

  /** ERE-like patterns from a grammar both dialects share: literals, escaped metacharacters, ., brackets, groups, |, quantifiers. */
  /**
   * @param quantifiedGroups whether a group may carry a quantifier: `((a*)*)*`-like nesting makes JS backtrack
   *   exponentially when matching, so the test that matches lines with RegExp leaves it out.
   */
  const ereGrammar = (quantifiedGroups: boolean) =>
    fc.letrec<{ alt: string; seq: string; piece: string; atom: string }>((tie) => ({
      alt: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((a) => a.join('|')),
      seq: fc.array(tie('piece'), { minLength: 1, maxLength: 5 }).map((a) => a.join('')),
      piece: fc
        .tuple(
          tie('atom'),
          fc.oneof(
            { arbitrary: fc.constant(''), weight: 4 },
            { arbitrary: fc.constantFrom('*', '+', '?'), weight: 2 },
            {
              arbitrary: fc
                .tuple(fc.nat(9), fc.nat(9), fc.constantFrom(0, 1, 2))
                .map(([a, b, k]) =>
                  k === 0 ? `{${a}}` : k === 1 ? `{${a},}` : `{${Math.min(a, b)},${Math.max(a, b)}}`,
                ),
              weight: 1,
            },
          ),
        )
        // `\(?`, `\*?` (an optional literal) are valid in both, but the schema refuses them: see the KNOWN BUG tests below.
        .map(
          ([a, q]) => a + ((q === '?' && /^\\[(*+?}]$/.test(a)) || (!quantifiedGroups && a.startsWith('(')) ? '' : q),
        ),
      atom: fc.oneof(
        // BMP only: JS without the u flag sees an astral character as two units (`😀?` differs from ERE).
        {
          arbitrary: fc.constantFrom(
            'a',
            'z',
            'E',
            '0',
            '9',
            ' ',
            ':',
            '-',
            '_',
            '/',
            '`',
            "'",
            '"',
            '=',
            '#',
            '@',
            'é',
            '€',
            '«',
          ),
          weight: 6,
        },
        {
          arbitrary: fc.constantFrom(
            '\\.',
            '\\(',
            '\\)',
            '\\[',
            '\\]',
            '\\*',
            '\\+',
            '\\?',
            '\\{',
            '\\}',
            '\\|',
            '\\^',
            '\\$',
          ),
          weight: 2,
        },
        // An escaped backslash, followed by / (the schema refuses `\\9`: see the KNOWN BUG test below).
        { arbitrary: fc.constant('\\\\/'), weight: 1 },
        { arbitrary: fc.constant('.'), weight: 1 },
        {
          arbitrary: fc
            .tuple(
              fc.boolean(),
              fc.array(fc.constantFrom('a-z', '0-9', 'A-F', 'x', '_', ' ', '.', '*', '(', '$', '|', '{', 'é', '-'), {
                minLength: 1,
                maxLength: 4,
              }),
            )
            .map(([neg, items]) => {
              // '-' is literal only last; keep it there.
              const body = items.filter((i) => i !== '-').join('') + (items.includes('-') ? '-' : '');
              return `[${neg ? '^' : ''}${body || 'a'}]`;
            }),
          weight: 2,
        },
        { arbitrary: tie('alt').map((a) => `(${a})`), weight: 1 },
      ),
    }));
  const anchoredEre = (quantifiedGroups: boolean) =>
    fc
      .tuple(fc.boolean(), ereGrammar(quantifiedGroups).alt, fc.boolean())
      .map(([a, body, b]) => (a ? `^(${body})` : body) + (b ? '$' : ''));
  // The schema refuses quantified groups that contain quantifiers (exponential backtracking), and patterns that match an empty line.
  const anchored = anchoredEre(false);

  it('grammar patterns are accepted by the schema, compile in JS and are accepted by grep -E (exit 1, not 2)', () => {
    let checked = 0;
    fc.assert(
      fc.property(anchored, (p) => {
        if (p.length < 3 || new RegExp(p).test('')) return;
        const r = linePatternSchema.safeParse(p);
        expect(r.success).toBe(true);
        expect(() => new RegExp(p)).not.toThrow();
        const g = grepE(p);
        expect({ pattern: p, ...g }).toEqual({ pattern: p, status: 1, stderr: '' });
        checked++;
      }),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(40);
  });

  it('the ERE-like grammar also means the same in both: lines grep -E selects are the lines RegExp matches', () => {
    // Short lines (JS backtracks; a 100-character line and `.*` five times is already slow), BMP only (JS without
    // the u flag counts an astral character as two units: `.{7}` matches '😀 boom', grep does not).
    const sample = [
      'a',
      'zz',
      'E0',
      '9:9',
      '-_/',
      'é€«',
      '.*+?',
      '{}[]()',
      '|^$\\',
      'a\\/b',
      'aaaaaaaa',
      'error: E09',
      "`az' «é»",
      'x=1 #2 @3',
      'A-F_ x.*(',
      '"a" z|{',
    ];
    const file = path.join(tmp, 'sample.txt');
    fs.writeFileSync(file, sample.join('\n') + '\n');
    fc.assert(
      fc.property(anchoredEre(false), (p) => {
        if (p.length < 3) return;
        const g = spawnSync('grep', ['-E', '-n', '-e', p, file], { encoding: 'utf8' });
        const grepLines = g.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => Number(l.slice(0, l.indexOf(':'))));
        const re = new RegExp(p);
        const jsLines = sample.map((l, i) => (re.test(l) ? i + 1 : 0)).filter(Boolean);
        expect({ pattern: p, lines: grepLines }).toEqual({ pattern: p, lines: jsLines });
      }),
      { numRuns: 100 },
    );
  });

  it('grep -E rejects these patterns (facts the schema tests below rely on)', () => {
    for (const p of ['error[^]abc', 'error[]', 'x[\\-9]y', 'a{32768}']) expect(grepE(p).status).toBe(2);
    for (const p of ['error[^]abc', 'error[]', 'x[\\-9]y', 'a{32768}']) expect(() => new RegExp(p)).not.toThrow();
  });

  // Valid JS that grep -E refuses or reads differently: the schema refuses them (ereProblem).
  it('schema refuses "[^]" (JS: any character; ERE: unterminated bracket)', () => {
    expect(linePatternSchema.safeParse('error[^]abc').success).toBe(false);
  });
  it('schema refuses "[]" (JS: empty class; ERE: "]" starts a bracket)', () => {
    expect(linePatternSchema.safeParse('error[]').success).toBe(false);
  });
  it('schema refuses a backslash inside brackets (JS: escape; ERE: literal \\)', () => {
    expect(linePatternSchema.safeParse('x[\\-9]y').success).toBe(false);
  });
  it('schema refuses repeat counts above RE_DUP_MAX (32767)', () => {
    expect(linePatternSchema.safeParse('a{32768}').success).toBe(false);
  });
  it('"\\+?" (an optional literal +) means the same in JS and grep -E', () => {
    expect(grepE('g\\+\\+?').status).toBe(1);
    const r = spawnSync('grep', ['-E', '-c', '-e', 'g\\+\\+?'], { input: 'g+\ng++\ng\n', encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('2');
    expect(['g+', 'g++', 'g'].map((l) => /g\+\+?/.test(l))).toEqual([true, true, false]);
  });
  it('schema accepts "\\+?", a quantified literal', () => {
    expect(linePatternSchema.safeParse('g\\+\\+?').success).toBe(true);
  });
  it('schema accepts an escaped backslash before a digit ("\\\\9")', () => {
    expect(grepE('dir\\\\9').status).toBe(1);
    expect(linePatternSchema.safeParse('dir\\\\9').success).toBe(true);
  });
  it('schema accepts "\\(?", an optional literal parenthesis (not lookaround)', () => {
    expect(grepE('f\\(?x').status).toBe(1);
    expect(linePatternSchema.safeParse('f\\(?x').success).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('required patterns', () => {
  const sys = issue({
    id: 'system-backend',
    error_patterns: ['^FAIL [^ ]+ \\(m68[0-9]+\\)$'],
    required_patterns: ['M68k backend: the system one'],
    context_patterns: ['^command: .*qemu-m68k '],
  });
  const fail = [
    'FAIL hello (m68040)',
    'stdout differs from expected/hello.stdout: line 1',
    'command: /usr/bin/qemu-m68k -cpu m68040 hello',
  ];

  it('an issue is no candidate until every required pattern has matched some line, before or after the error', () => {
    expect(scanLogText(fail.join('\n'), [sys]).candidates).toEqual([]);
    for (const text of [
      ['M68k backend: the system one inside libLLVM (unpatched)', ...fail],
      [...fail, 'M68k backend: the system one inside libLLVM'],
    ]) {
      const r = scanLogText(text.join('\n'), [sys]);
      expect(r.match?.id).toBe('system-backend');
      expect(r.match!.evidence.map((e) => e.kind)).toEqual(['error', 'required', 'context']);
    }
    // Two required patterns: both are needed.
    const two = issue({ ...sys, required_patterns: ['M68k backend: the system one', 'provider system'] } as never);
    expect(scanLogText(['M68k backend: the system one', ...fail].join('\n'), [two]).candidates).toEqual([]);
    expect(scanLogText(['M68k backend: the system one', 'provider system', ...fail].join('\n'), [two]).match?.id).toBe(
      'system-backend',
    );
  });

  it('a required line alone, without an error pattern, is no candidate either', () => {
    expect(scanLogText('M68k backend: the system one\nall tests passed', [sys]).candidates).toEqual([]);
  });
});

describe('confidence explanation', () => {
  const iss = issue({
    id: 'atomic',
    error_patterns: ['undefined reference to .__sync_', 'never printed'],
    context_patterns: ['ld returned [0-9]+ exit status', 'not in this log'],
    cpu_variants: ['m68000'],
    confidence: 0.9,
  });
  const log = [
    "atom.c:(.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
    'noise',
    "atom.c:(.text+0x2c): undefined reference to `__sync_synchronize'",
    'collect2: error: ld returned 1 exit status',
  ];

  it('names each factor with its reason, and every pattern with the lines it matched', () => {
    const m = scanLogText(log.join('\n'), [iss], { cpu: 'm68040' }).match!;
    expect(m.explanation).toEqual({
      base: 0.9,
      factors: [
        {
          name: 'context',
          value: expect.closeTo(0.925, 12),
          reason: '1 of 2 context patterns found: 0.85 + 0.15 × 1/2',
        },
        { name: 'cpu', value: 0.7, reason: "cpu m68040 (given by the caller) is not among the issue's m68000" },
      ],
      raw: expect.closeTo(0.58275, 12),
      patterns: [
        { kind: 'error', pattern: 'undefined reference to .__sync_', lines: [1, 3], count: 2 },
        { kind: 'error', pattern: 'never printed', lines: [], count: 0 },
        { kind: 'context', pattern: 'ld returned [0-9]+ exit status', lines: [4], count: 1 },
        { kind: 'context', pattern: 'not in this log', lines: [], count: 0 },
      ],
    });
    expect(m.confidence).toBe(0.58);
    expect(explainConfidence(m, 'build.log')).toEqual([
      "confidence 0.58 = 0.9 (database) × 0.93 (1 of 2 context patterns found: 0.85 + 0.15 × 1/2) × 0.7 (cpu m68040 (given by the caller) is not among the issue's m68000) = 0.583",
      'error pattern /undefined reference to .__sync_/: build.log:1, 3',
      'error pattern /never printed/: not found',
      'context pattern /ld returned [0-9]+ exit status/: build.log:4',
      'context pattern /not in this log/: not found',
    ]);
  });

  it('counts lines beyond the ones it lists', () => {
    const many = Array.from({ length: 8 }, () => log[0]).join('\n');
    const p = scanLogText(many, [iss]).match!.explanation.patterns[0];
    expect(p).toEqual({ kind: 'error', pattern: 'undefined reference to .__sync_', lines: [1, 2, 3, 4, 5], count: 8 });
    expect(explainConfidence(scanLogText(many, [iss]).match!)[1]).toBe(
      'error pattern /undefined reference to .__sync_/: lines 1, 2, 3, 4, 5 (8 lines in all)',
    );
    expect(explainConfidence(scanLogText(log[0], [iss]).match!)[1]).toBe(
      'error pattern /undefined reference to .__sync_/: line 1',
    );
  });

  it('without factors: the database confidence alone', () => {
    const plain = issue({ id: 'plain', error_patterns: ['undefined reference to .__sync_'], confidence: 0.8 });
    const m = scanLogText(log.join('\n'), [plain]).match!;
    expect(m.explanation.factors).toEqual([]);
    expect(explainConfidence(m)[0]).toBe('confidence 0.80 = 0.8 (database)');
  });
});

describe('run context read from the log', () => {
  const mismatch = issue({
    id: 'cpu-mismatch',
    phase: 'emulation-testing',
    error_patterns: ['uncaught target signal 4'],
    cpu_variants: ['m68000'],
    confidence: 0.85,
  });
  const sigill = 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped';

  it('formatRunContext lines round-trip through a scan', () => {
    const lines = formatRunContext({
      task: 'emulator-tests:test:m68040',
      phase: 'emulation-testing',
      cpu: 'm68040',
      provider: { name: 'system', detail: 'M68k backend: the system one inside libLLVM, unpatched' },
      overrides: ['NEXTRUST_QEMU_M68K=/opt/qemu/bin/qemu-m68k', 'NEXTRUST_LLVM_BIN=/usr/lib/llvm-22/bin'],
    });
    expect(lines).toEqual([
      'nextrust-run: task emulator-tests:test:m68040, phase emulation-testing, cpu m68040',
      'nextrust-run: toolchain provider system (M68k backend: the system one inside libLLVM, unpatched)',
      'nextrust-run: environment NEXTRUST_QEMU_M68K=/opt/qemu/bin/qemu-m68k',
      'nextrust-run: environment NEXTRUST_LLVM_BIN=/usr/lib/llvm-22/bin',
    ]);
    expect(scanLogText([...lines, sigill].join('\n'), []).runContext).toEqual({
      task: 'emulator-tests:test:m68040',
      phase: 'emulation-testing',
      cpu: 'm68040',
      cpuLine: 1,
      provider: 'system',
      overrides: ['NEXTRUST_QEMU_M68K=/opt/qemu/bin/qemu-m68k', 'NEXTRUST_LLVM_BIN=/usr/lib/llvm-22/bin'],
    });
    expect(formatRunContext({ task: 'manual' })).toEqual(['nextrust-run: task manual']);
  });

  it("the log's CPU (its run-context line) applies the CPU factor; the caller's CPU wins over it; a qemu command line is no run context", () => {
    const header = 'nextrust-run: task emulator-tests:test:m68040, phase emulation-testing, cpu m68040';
    const fromHeader = scanLogText(`${header}\n${sigill}`, [mismatch]).match!;
    expect(fromHeader.confidence).toBe(0.6); // 0.85 × 0.7
    expect(fromHeader.context).toEqual({ cpu: 'm68040' });
    expect(fromHeader.explanation.factors).toEqual([
      { name: 'cpu', value: 0.7, reason: "cpu m68040 (log line 1) is not among the issue's m68000" },
    ]);
    const fromQemu = scanLogText(`${sigill}\ncommand: /usr/bin/qemu-m68k -L /usr/m68k-linux-gnu -cpu m68040 ./hello`, [
      mismatch,
    ]).match!;
    expect(fromQemu.explanation.factors).toEqual([]);
    expect(scanLogText(`${header}\n${sigill}`, [mismatch], { cpu: 'm68000' }).match!.confidence).toBe(0.85);
    expect(scanLogText(sigill, [mismatch]).match!.confidence).toBe(0.85);
  });

  it("the log's phase is not a factor: only a phase the caller gives is", () => {
    const header = 'nextrust-run: task rust-target:build:m68040, phase rust-target, cpu m68040';
    const m = scanLogText(`${header}\n${sigill}`, [issue({ ...mismatch, cpu_variants: [] } as never)]).match!;
    expect(m.confidence).toBe(0.85);
    expect(m.context).toEqual({ cpu: 'm68040' });
    expect(
      scanLogText(`${header}\n${sigill}`, [issue({ ...mismatch, cpu_variants: [] } as never)], { phase: 'rust-target' })
        .match!.confidence,
    ).toBe(0.68);
  });
});

describe('user errors', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(tmp, 'ws-'));
    fs.mkdirSync(path.join(root, 'projects/rust-target/programs/hello/src'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'projects/rust-target/programs/hello/src/main.rs'),
      'fn main() {\n    let code: i32 = "zero";\n}\n',
    );
    fs.mkdirSync(path.join(root, 'dist/gen'), { recursive: true });
  });
  const TYPE_ERROR = (dir: string, file = 'programs/hello/src/main.rs') => [
    `   Compiling hello v0.1.0 (${dir}/programs/hello)`,
    'error[E0308]: mismatched types',
    `  --> ${file}:2:21`,
    '   |',
    '2 |     let code: i32 = "zero";',
    '   |               ---   ^^^^^^ expected `i32`, found `&str`',
    '',
    'error: could not compile `hello` (bin "hello") due to 1 previous error',
  ];

  it('a compile error located in a workspace member: the message, the file relative to the repository root, the quoted line', () => {
    const r = scanLogText(TYPE_ERROR(`${root}/projects/rust-target`).join('\n'), [], { workspaceRoot: root });
    expect(r.diagnosis).toBe('user-error');
    expect(r.userError).toEqual({
      kind: 'compile',
      message: 'error[E0308]: mismatched types',
      line: 2,
      location: {
        printed: 'programs/hello/src/main.rs',
        file: 'projects/rust-target/programs/hello/src/main.rs',
        line: 2,
        column: 21,
      },
      source: '    let code: i32 = "zero";',
      count: 1,
    });
  });

  it("a member of a cargo workspace outside the repository is shown by its absolute path, and still the user's", () => {
    const r = scanLogText(TYPE_ERROR('/home/me/copy').join('\n'), [], { workspaceRoot: root });
    expect(r.userError?.location?.file).toBe('/home/me/copy/programs/hello/src/main.rs');
  });

  it('the workspace manifest cargo names resolves a manifest error when no package was compiled', () => {
    const text = [
      'error: unexpected key or value, expected newline, `#`',
      ' --> programs/std-hello/Cargo.toml:3:22',
      '  |',
      '3 | description = "says "hello" with std"',
      '  |                      ^',
      `error: failed to load manifest for workspace member \`${root}/projects/rust-target/programs/std-hello\``,
      `referenced via \`programs/*\` by workspace at \`${root}/projects/rust-target/Cargo.toml\``,
    ].join('\n');
    const u = scanLogText(text, [], { workspaceRoot: root }).userError!;
    expect(u.location).toEqual({
      printed: 'programs/std-hello/Cargo.toml',
      file: 'projects/rust-target/programs/std-hello/Cargo.toml',
      line: 3,
      column: 22,
    });
    expect(u.source).toBe('description = "says "hello" with std"');
  });

  it('without cargo lines, a relative path is found in the repository only where the file has the quoted line', () => {
    const text = (quoted: string) =>
      ['error[E0308]: mismatched types', '  --> programs/hello/src/main.rs:2:21', '   |', `2 | ${quoted}`].join('\n');
    expect(
      scanLogText(text('    let code: i32 = "zero";'), [], { workspaceRoot: root }).userError?.location?.file,
    ).toBe('projects/rust-target/programs/hello/src/main.rs');
    // Another text at that line (a copy elsewhere, e.g. a crate copy of rust-target:test): not the user's file.
    expect(scanLogText(text('[profile.release]'), [], { workspaceRoot: root }).userError).toBeNull();
    // No quoted line: nothing to check it against.
    expect(
      scanLogText('error[E0308]: mismatched types\n  --> programs/hello/src/main.rs:2:21\n', [], {
        workspaceRoot: root,
      }).userError,
    ).toBeNull();
  });

  it("absolute locations: the repository's sources are the user's; its dist/ and tmp/, the toolchain's and registries' are not", () => {
    const at = (p: string) =>
      scanLogText(`error[E0599]: no method named \`foo\`\n --> ${p}:4:9\n`, [], { workspaceRoot: root }).userError;
    expect(at(`${root}/projects/rust-target/programs/hello/src/main.rs`)?.location?.file).toBe(
      'projects/rust-target/programs/hello/src/main.rs',
    );
    expect(at(`${root}/dist/gen/lib.rs`)).toBeNull();
    expect(at(`${root}/tmp/crates/memchr-2.5.0/src/lib.rs`)).toBeNull();
    expect(at('/usr/lib/rustlib/src/rust/library/core/src/fmt/mod.rs')).toBeNull();
    expect(at('/usr/share/cargo/registry/itoa-1.0.1/src/lib.rs')).toBeNull();
  });

  it('needs the location right under the message; summary lines are not errors', () => {
    const far = [
      'error: linking with `cc` failed: exit status: 1',
      'note: some',
      'note: more',
      'note: even more',
      ' --> programs/hello/src/main.rs:2:21',
    ];
    expect(
      scanLogText([`   Compiling hello v0.1.0 (${root}/projects/rust-target/programs/hello)`, ...far].join('\n'), [], {
        workspaceRoot: root,
      }).userError,
    ).toBeNull();
    expect(
      scanLogText('error: could not compile `hello` (bin "hello") due to 1 previous error\n', [], {
        workspaceRoot: root,
      }).userError,
    ).toBeNull();
  });

  it('counts the errors of the same kind; the first is reported', () => {
    const two = [
      ...TYPE_ERROR(`${root}/projects/rust-target`).slice(0, 6),
      'error[E0425]: cannot find value `greeting` in this scope',
      ' --> programs/hello/src/main.rs:1:4',
    ];
    const u = scanLogText(two.join('\n'), [], { workspaceRoot: root }).userError!;
    expect([u.message, u.count]).toEqual(['error[E0308]: mismatched types', 2]);
  });

  it("a -p package that is not in the workspace, with cargo's suggestion", () => {
    const u = scanLogText(
      'error: package ID specification `helo` did not match any packages\n\nhelp: a package with a similar name exists: `hello`\n',
      [],
      { workspaceRoot: root },
    ).userError;
    expect(u).toEqual({
      kind: 'package',
      message: 'error: package ID specification `helo` did not match any packages',
      line: 1,
      hint: 'help: a package with a similar name exists: `hello`',
      count: 1,
    });
  });

  it("a path dependency under another name is the user's; a crate missing from a registry or directory source is not", () => {
    const pathDep = [
      'error: no matching package named `nextrust-runtime` found',
      `location searched: ${root}/projects/rust-target/crates/nextrust-rt`,
      `required by package \`hello v0.1.0 (${root}/projects/rust-target/programs/hello)\``,
    ];
    expect(scanLogText(pathDep.join('\n'), [], { workspaceRoot: root }).userError).toMatchObject({
      kind: 'dependency',
      location: { file: 'projects/rust-target/programs/hello/Cargo.toml' },
      hint: `location searched: ${root}/projects/rust-target/crates/nextrust-rt`,
    });
    const registry = [
      'error: no matching package named `heapless` found',
      'location searched: directory source `/usr/share/cargo/registry` (which is replacing registry `crates-io`)',
      pathDep[2],
    ];
    expect(scanLogText(registry.join('\n'), [], { workspaceRoot: root }).userError).toBeNull();
  });

  it('a known issue that matches is the diagnosis, the user error is still reported beside it', () => {
    const feature = [
      `   Compiling nextrust-rt v0.1.0 (${root}/projects/rust-target/crates/nextrust-rt)`,
      'error[E0554]: `#![feature]` may not be used on the stable release channel',
      ' --> crates/nextrust-rt/src/lib.rs:1:1',
    ];
    const nightly = issue({ id: 'nightly', error_patterns: ['may not be used on the (stable|beta) release channel'] });
    const r = scanLogText(feature.join('\n'), [nightly], { workspaceRoot: root });
    expect(r.diagnosis).toBe('known-issue');
    expect(r.match?.id).toBe('nightly');
    expect(r.userError?.location?.file).toBe('projects/rust-target/crates/nextrust-rt/src/lib.rs');
  });

  it('in a long build log: warnings with locations are not errors; the Compiling line far above resolves the error (both engines)', async () => {
    const warning = (i: number) => [
      `warning: unused variable: \`x${i}\``,
      ` --> programs/hello/src/lib${i}.rs:${i + 1}:9`,
      '  |',
      `${i + 1} |     let x${i} = 1;`,
      '',
    ];
    const text = [
      `   Compiling hello v0.1.0 (${root}/projects/rust-target/programs/hello)`,
      ...Array.from({ length: 300 }, (_, i) => warning(i)).flat(),
      `   Compiling other v0.1.0 (${root}/projects/rust-target/programs/other)`,
      ...TYPE_ERROR(`${root}/projects/rust-target`).slice(1),
    ].join('\n');
    const file = path.join(tmp, 'long-build.log');
    fs.writeFileSync(file, text);
    const [grep, js] = await Promise.all([
      scanLogFile(file, ISSUES, { workspaceRoot: root, engine: 'grep' }),
      scanLogFile(file, ISSUES, { workspaceRoot: root, engine: 'js' }),
    ]);
    expect({ ...grep, engine: 'js' }).toEqual(js);
    expect(js.userError).toMatchObject({
      message: 'error[E0308]: mismatched types',
      line: 1503,
      location: { file: 'projects/rust-target/programs/hello/src/main.rs', line: 2 },
      count: 1,
    });
  });

  it('gives the same result whatever the split of the text and the engine', async () => {
    const text = TYPE_ERROR(`${root}/projects/rust-target`).join('\r\n') + '\r\n';
    const whole = scanLogText(text, ISSUES, { workspaceRoot: root });
    const scanner = new LogScanner(ISSUES, { workspaceRoot: root });
    for (const ch of text) scanner.push(ch);
    expect(scanner.end()).toEqual(whole);
    const file = path.join(tmp, 'user-error.log');
    fs.writeFileSync(file, text);
    expect(whole.userError?.location?.file).toBe('projects/rust-target/programs/hello/src/main.rs');
    for (const engine of ['grep', 'js'] as const) {
      const { engine: _e, ...r } = await scanLogFile(file, ISSUES, { workspaceRoot: root, engine });
      expect(r).toEqual(whole);
    }
  });
});

describe('built-in patterns', () => {
  it('mean the same to grep -E and JavaScript (the schema accepts each), on the lines they exist for', () => {
    const lines = [
      'error[E0308]: mismatched types',
      'error: expected `;`, found `outln`',
      'warning: unused variable',
      '  --> programs/hello/src/main.rs:11:21',
      ' --> f.rs:1:1',
      '10 |     let code: i32 = "zero";',
      '   |',
      '   Compiling hello v0.1.0 (/home/dev/nextrust/projects/rust-target/programs/hello)',
      '   Compiling core v0.0.0 (/usr/lib/rustlib/src/rust/library/core)',
      'referenced via `programs/*` by workspace at `/home/dev/nextrust/projects/rust-target/Cargo.toml`',
      'help: a package with a similar name exists: `hello`',
      'location searched: /tmp/ws/crates/nextrust-rt',
      'location searched: crates.io index',
      'required by package `hello v0.1.0 (/tmp/ws/programs/hello)`',
      'nextrust-run: task rust-target:build:m68040',
    ];
    const file = path.join(tmp, 'builtin.log');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    for (const [name, p] of Object.entries(BUILTIN_PATTERNS)) {
      expect({ name, parsed: linePatternSchema.safeParse(p).success }).toEqual({ name, parsed: true });
      const re = new RegExp(p);
      const js = lines.flatMap((l, i) => (re.test(l) ? [i + 1] : []));
      const g = spawnSync('grep', ['-n', '-E', '-e', p, file], { encoding: 'utf8' });
      const grep = g.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => Number(l.slice(0, l.indexOf(':'))));
      expect({ name, lines: grep }).toEqual({ name, lines: js });
      expect({ name, some: js.length > 0 }).toEqual({ name, some: true });
    }
  });
});
