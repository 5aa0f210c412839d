/**
 * Streaming failure-log matcher: finds the known issue a log shows, without
 * ever holding the whole log in memory.
 *
 * Two engines, the same results: for a file, GNU grep -E streams the log
 * and prints only the hit lines (scanLogFile's default when grep is
 * installed: the patterns are validated to mean the same to grep and to
 * JavaScript), and this module attributes them; otherwise, and for text in
 * memory, the JavaScript scanner below.
 *
 * The JavaScript scanner: the log is read in chunks of 64 KiB (small enough that V8
 * keeps the decoded strings in its young generation: 1 MiB strings go to the
 * large-object space and made decoding 10x slower here); one combined regular
 * expression (every error and context pattern of every issue, as
 * alternatives, `m` flag so `^`/`$` anchor at lines) is run over each chunk's
 * complete lines. Only the few lines it hits are checked against the single
 * patterns, to attribute them and record evidence with its line number.
 * Memory is bounded by the chunk size, the longest line (capped at
 * MAX_LINE_CHARS: a longer line is scanned in pieces that overlap by 4 KiB,
 * so a match longer than that across a cut can be missed) and the evidence
 * kept (MAX_EVIDENCE lines per issue).
 *
 * Scoring (this module's rule; the seed only had a grep): an issue is a
 * candidate when one of its error patterns matches a line. Its confidence is
 * the database's `confidence`, times 0.85 + 0.15 × (fraction of its context
 * patterns found) when it has context patterns, times 0.8 when the caller's
 * phase differs from the issue's, times 0.7 when the caller's CPU variant is
 * not among the issue's `cpu_variants`. The best candidate at or above
 * `minConfidence` (default 0.5) is the match; ties go to the one whose first
 * evidence comes first in the log.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { KnownIssue } from './known-issues';

/** Evidence lines kept per issue and per kind (error, context). */
export const MAX_EVIDENCE = 5;
/** Longest line scanned whole, in UTF-16 code units; longer lines are scanned in pieces. */
export const MAX_LINE_CHARS = 1 << 20;
/** Characters of a giant line's piece rescanned with the next piece (longest match found across a cut). */
const GIANT_LINE_OVERLAP = 4096;
/** Bytes read per chunk (see the module doc for why not more). */
const CHUNK_BYTES = 1 << 16;
/**
 * Address-space limit of the grep process, KiB (`ulimit -v`, POSIX sh). GNU grep holds a whole line in memory, so a log
 * of one 1 GiB line made it allocate over 2 GiB; with the limit it stops with "memory exhausted" and the log is scanned
 * by the JavaScript scanner instead, whose memory is bounded (module doc).
 */
export const GREP_MEMORY_KIB = 512 * 1024;

/** One log line that matched a pattern. */
export interface Evidence {
  /** 1-based line number in the log. */
  line: number;
  /** The line, without its newline (cut to 500 characters). */
  text: string;
  /** The pattern that matched. */
  pattern: string;
  kind: 'error' | 'context';
}

/** What the caller knows about the failing run. */
export interface MatchContext {
  /** Phase id of the failing target, when known. */
  phase?: string;
  /** CPU variant of the failing target, when known. */
  cpu?: string;
}

/** A known issue found in a log. */
export interface KnownIssueMatch {
  id: string;
  title: string;
  /** 0..1, see the module doc. */
  confidence: number;
  /** Error evidence first, then context evidence, each in log order. */
  evidence: Evidence[];
  /** Lines that matched an error pattern (evidence keeps only MAX_EVIDENCE). */
  errorLines: number;
  category: KnownIssue['category'];
  /** The issue's phase and CPU variants. */
  phase: string;
  cpu_variants: string[];
  /** The run's phase and CPU, as given by the caller. */
  context: MatchContext;
  description: string;
  fix: KnownIssue['fix'];
  references: string[];
}

/** Result of scanning one log. */
export interface ScanResult {
  /** The best candidate at or above minConfidence, or null: an unknown failure. */
  match: KnownIssueMatch | null;
  /** Every candidate, best first (including those below minConfidence). */
  candidates: KnownIssueMatch[];
  /** Lines scanned. */
  lines: number;
  /** Bytes scanned (of the file; UTF-16 units × 1 for text input). */
  bytes: number;
}

/** Options of a scan. */
export interface ScanOptions extends MatchContext {
  /** Lowest confidence reported as a match (default 0.5). */
  minConfidence?: number;
}

interface CompiledPattern {
  issue: number;
  kind: 'error' | 'context';
  source: string;
  re: RegExp;
}

interface IssueState {
  error: Evidence[];
  context: Evidence[];
  errorLines: number;
  contextFound: Set<string>;
}

/**
 * Incremental scanner: feed text with push(), then call end().
 * Use scanLogFile or scanLogText unless the text arrives in pieces (a child
 * process's output).
 */
export class LogScanner {
  private readonly patterns: CompiledPattern[];
  private readonly combined: RegExp | null;
  private readonly state: IssueState[];
  private carry = '';
  private lineNo = 0;
  private bytes = 0;
  /** Per issue, the last line counted as an error line (a giant line is scanned in overlapping pieces). */
  private readonly lastErrorLine: number[];

  /** @param issues the database's issues (validated). */
  constructor(
    private readonly issues: readonly KnownIssue[],
    private readonly options: ScanOptions = {},
  ) {
    this.patterns = issues.flatMap((issue, i) => [
      ...issue.error_patterns.map((source) => ({ issue: i, kind: 'error' as const, source, re: new RegExp(source) })),
      ...issue.context_patterns.map((source) => ({ issue: i, kind: 'context' as const, source, re: new RegExp(source) })),
    ]);
    const unique = [...new Set(this.patterns.map((p) => p.source))];
    this.combined = unique.length ? new RegExp(unique.map((s) => `(?:${s})`).join('|'), 'gm') : null;
    this.state = issues.map(() => ({ error: [], context: [], errorLines: 0, contextFound: new Set() }));
    this.lastErrorLine = issues.map(() => 0);
  }

  /** Feeds the next piece of the log (any split, even mid-line). */
  push(text: string): void {
    this.bytes += text.length;
    let data = this.carry + text;
    const lastNl = data.lastIndexOf('\n');
    if (lastNl < 0) {
      this.carry = data;
      if (this.carry.length > MAX_LINE_CHARS) {
        // A giant line: scan what we have as a piece of the current line, and keep an overlap
        // so that a match across the cut is still found (a line counts once per issue).
        this.scanBlock(this.carry, false);
        // A copy, not a slice: a V8 slice would keep the whole piece alive.
        this.carry = Buffer.from(this.carry.slice(-GIANT_LINE_OVERLAP), 'utf16le').toString('utf16le');
      }
      return;
    }
    this.carry = data.slice(lastNl + 1);
    data = data.slice(0, lastNl + 1);
    this.scanBlock(data, true);
  }

  /**
   * Records a line another scanner (grep) found, by its 1-based number, and
   * attributes it to the single patterns; used with finish().
   */
  hit(line: number, text: string): void {
    this.attribute(line, text.replace(/\r$/, ''));
  }

  /** Ends a scan fed by hit(): the log had `lines` lines of `bytes` bytes. */
  finish(lines: number, bytes: number): ScanResult {
    this.lineNo = lines;
    this.bytes = bytes;
    return this.result();
  }

  /** Finishes the scan. */
  end(): ScanResult {
    if (this.carry) {
      this.scanBlock(this.carry + '\n', true);
      this.carry = '';
    }
    return this.result();
  }

  /** Scans complete lines (`block` ends with a newline when `complete`). */
  private scanBlock(block: string, complete: boolean): void {
    const startLine = this.lineNo + 1;
    if (this.combined) {
      const re = this.combined;
      re.lastIndex = 0;
      let line = startLine;
      let counted = 0; // index up to which newlines are counted into `line`
      let m: RegExpExecArray | null;
      while ((m = re.exec(block)) !== null) {
        // A match at the very end (an empty-matching pattern after the last newline) is no line.
        if (m.index >= block.length) break;
        const lineStart = m.index === 0 ? 0 : block.lastIndexOf('\n', m.index - 1) + 1;
        // A match may start on the newline ending a line (empty-line patterns are refused by the schema's min length).
        for (let i = block.indexOf('\n', counted); i !== -1 && i < lineStart; i = block.indexOf('\n', i + 1)) {
          line++;
          counted = i + 1;
        }
        let lineEnd = block.indexOf('\n', lineStart);
        if (lineEnd < 0) lineEnd = block.length;
        const text = block.slice(lineStart, lineEnd).replace(/\r$/, '');
        this.attribute(line, text);
        re.lastIndex = lineEnd + 1;
        if (re.lastIndex > block.length) break;
      }
    }
    if (complete) {
      let n = 0;
      for (let i = block.indexOf('\n'); i !== -1; i = block.indexOf('\n', i + 1)) n++;
      this.lineNo += n;
    }
  }

  /** Attributes one hit line to the single patterns it matches. */
  private attribute(line: number, text: string): void {
    // At most 500 characters, the cut not splitting a surrogate pair.
    const cut = text.length > 500 ? text.slice(0, /[\ud800-\udbff]/.test(text[498]) ? 498 : 499) + '…' : text;
    const shown = cut;
    const counted = new Set<number>();
    for (const p of this.patterns) {
      if (!p.re.test(text)) continue;
      const st = this.state[p.issue];
      if (p.kind === 'error') {
        if (counted.has(p.issue) || this.lastErrorLine[p.issue] === line) continue;
        counted.add(p.issue);
        this.lastErrorLine[p.issue] = line;
        st.errorLines++;
        if (st.error.length < MAX_EVIDENCE) st.error.push({ line, text: shown, pattern: p.source, kind: 'error' });
      } else {
        st.contextFound.add(p.source);
        if (st.context.length < MAX_EVIDENCE && !st.context.some((e) => e.line === line)) {
          st.context.push({ line, text: shown, pattern: p.source, kind: 'context' });
        }
      }
    }
  }

  private result(): ScanResult {
    const ctx: MatchContext = {};
    if (this.options.phase) ctx.phase = this.options.phase;
    if (this.options.cpu) ctx.cpu = this.options.cpu;
    const candidates: KnownIssueMatch[] = [];
    this.issues.forEach((issue, i) => {
      const st = this.state[i];
      if (!st.errorLines) return;
      let confidence = issue.confidence;
      const nContext = new Set(issue.context_patterns).size;
      if (nContext) confidence *= 0.85 + (0.15 * st.contextFound.size) / nContext;
      if (ctx.phase && ctx.phase !== issue.phase) confidence *= 0.8;
      if (ctx.cpu && issue.cpu_variants.length && !issue.cpu_variants.includes(ctx.cpu as never)) confidence *= 0.7;
      candidates.push({
        id: issue.id,
        title: issue.title,
        confidence: Math.round(confidence * 100) / 100,
        evidence: [...st.error, ...st.context],
        errorLines: st.errorLines,
        category: issue.category,
        phase: issue.phase,
        cpu_variants: issue.cpu_variants,
        context: ctx,
        description: issue.description,
        fix: issue.fix,
        references: issue.metadata.references,
      });
    });
    candidates.sort((a, b) => b.confidence - a.confidence || a.evidence[0].line - b.evidence[0].line);
    const min = this.options.minConfidence ?? 0.5;
    const best = candidates[0];
    return { match: best && best.confidence >= min ? best : null, candidates, lines: this.lineNo, bytes: this.bytes };
  }
}

/**
 * Scans a log held in memory (short logs: a tool's captured output).
 */
export function scanLogText(text: string, issues: readonly KnownIssue[], options: ScanOptions = {}): ScanResult {
  const scanner = new LogScanner(issues, options);
  for (let i = 0; i < text.length; i += CHUNK_BYTES) scanner.push(text.slice(i, i + CHUNK_BYTES));
  return scanner.end();
}

/** Whether GNU grep is on PATH (checked once per process). */
let gnuGrep: boolean | undefined;
function hasGnuGrep(): boolean {
  if (gnuGrep === undefined) {
    const r = spawnSync('grep', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    gnuGrep = r.status === 0 && /GNU grep/.test(r.stdout ?? '');
  }
  return gnuGrep;
}

/** Options of scanLogFile. */
export interface FileScanOptions extends ScanOptions {
  /**
   * `grep`: stream the log through GNU grep -E (the patterns are validated to
   * mean the same there: known-issues.ts ereProblem) and attribute only the
   * lines it prints; `js`: the streaming scanner in this module. Default:
   * grep when GNU grep is installed, unless NEXTRUST_MATCHER=js.
   */
  engine?: 'grep' | 'js';
  /** grep's address-space limit, KiB (default GREP_MEMORY_KIB). */
  grepMemoryKiB?: number;
}

/** A file scan's result, and which engine produced it (`js` also when grep gave up on a line too long for it). */
export interface FileScanResult extends ScanResult {
  engine: 'grep' | 'js';
}

/**
 * Scans a log file as a stream (any size; memory bounded as in the module doc).
 * With GNU grep (default when installed) the scan runs at grep's speed: grep
 * streams the file and prints only the hit lines (each read up to
 * MAX_LINE_CHARS), which are attributed here; `wc -l` counts the lines in parallel.
 * @throws Error naming the file when it cannot be read.
 */
export async function scanLogFile(file: string, issues: readonly KnownIssue[], options: FileScanOptions = {}): Promise<FileScanResult> {
  let size: number;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    await fs.promises.access(file, fs.constants.R_OK);
    size = st.size;
  } catch (e) {
    throw new Error(`cannot read log ${file}: ${(e as Error).message}`);
  }
  const engine = options.engine ?? (process.env.NEXTRUST_MATCHER === 'js' || !hasGnuGrep() ? 'js' : 'grep');
  const patterns = [...new Set(issues.flatMap((i) => [...i.error_patterns, ...i.context_patterns]))];
  if (engine === 'grep' && patterns.length) return scanWithGrep(file, size, issues, options, patterns, options.grepMemoryKiB ?? GREP_MEMORY_KIB);
  return scanWithJs(file, issues, options);
}

/**
 * The pattern for grep over a CRLF log: grep keeps the `\r` before `\n` in the
 * line, where the JS scanner (and JavaScript's `$`) treat it as the line end;
 * each unescaped `$` outside brackets becomes `[CR]?$`.
 */
function crlfTolerant(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      out += c + (p[i + 1] ?? '');
      i++;
    } else if (c === '[') {
      const end = p.indexOf(']', i + (p[i + 1] === '^' ? 3 : 2));
      out += p.slice(i, end + 1);
      i = end;
    } else if (c === '$') {
      out += '[\r]?$';
    } else out += c;
  }
  return out;
}

async function scanWithGrep(
  file: string,
  size: number,
  issues: readonly KnownIssue[],
  options: ScanOptions,
  patterns: string[],
  memoryKiB: number,
): Promise<FileScanResult> {
  const scanner = new LogScanner(issues, options);
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  const lineCount = new Promise<number>((resolve, reject) => {
    const wc = spawn('wc', ['-l', '--', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    wc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    wc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    wc.on('error', reject);
    wc.on('close', (code) =>
      code === 0 ? resolve(Number(out.trim().split(/\s+/)[0])) : reject(new Error(`cannot read log ${file}: wc: ${err.trim() || `exit ${code}`}`)),
    );
  });
  // Awaited after grep; when grep fails first, this rejection must not go unhandled (a crash with a stack trace).
  lineCount.catch(() => undefined);
  const grepArgs = ['-a', '-n', '-E', ...patterns.flatMap((p) => ['-e', crlfTolerant(p)]), '--', file];
  const limit = Math.max(1024, Math.floor(memoryKiB));
  const grep = spawn('sh', ['-c', `ulimit -v ${limit} && exec grep "$@"`, 'grep', ...grepArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let truncated = false;
  let stderr = '';
  grep.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Output lines, each kept up to MAX_LINE_CHARS bytes.
  let parts: Buffer[] = [];
  let kept = 0;
  const flush = () => {
    const line = Buffer.concat(parts).toString('utf8');
    parts = [];
    kept = 0;
    const colon = line.indexOf(':');
    if (colon > 0) scanner.hit(Number(line.slice(0, colon)), line.slice(colon + 1));
  };
  for await (const chunk of grep.stdout as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (kept < MAX_LINE_CHARS) parts.push(chunk.subarray(start, Math.min(nl, start + MAX_LINE_CHARS - kept)));
      if (kept + nl - start > MAX_LINE_CHARS) truncated = true;
      flush();
      start = nl + 1;
    }
    if (start < chunk.length && kept < MAX_LINE_CHARS) {
      const piece = chunk.subarray(start, Math.min(chunk.length, start + MAX_LINE_CHARS - kept));
      parts.push(Buffer.from(piece));
      kept += piece.length;
    }
  }
  if (parts.length) flush();
  const code: number = await new Promise((resolve) => (grep.exitCode !== null ? resolve(grep.exitCode) : grep.on('close', (c) => resolve(c ?? 2))));
  // A line too long for grep's memory limit: the JavaScript scanner reads it in pieces.
  if (code > 1 && /memory exhausted/.test(stderr)) return scanWithJs(file, issues, options);
  if (code > 1) throw new Error(`cannot read log ${file}: grep: ${stderr.trim() || `exit ${code}`}`);
  // A hit line longer than MAX_LINE_CHARS could not be attributed from its kept part: the JS scanner reads it in pieces.
  if (truncated) return scanWithJs(file, issues, options);
  let lines = await lineCount;
  if (size > 0) {
    // wc counts newlines; a last line without one is a line too (as the JS scanner counts).
    const fd = await fs.promises.open(file, 'r');
    const last = Buffer.alloc(1);
    await fd.read(last, 0, 1, size - 1);
    await fd.close();
    if (last[0] !== 10) lines++;
  }
  return { ...scanner.finish(lines, size), engine: 'grep' };
}

async function scanWithJs(file: string, issues: readonly KnownIssue[], options: ScanOptions): Promise<FileScanResult> {
  const scanner = new LogScanner(issues, options);
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let bytes = 0;
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      scanner.push(decoder.write(buffer.subarray(0, bytesRead)));
    }
  } catch (e) {
    throw new Error(`cannot read log ${file}: ${(e as Error).message}`);
  } finally {
    await handle?.close();
  }
  const tail = decoder.end();
  if (tail) scanner.push(tail);
  return { ...scanner.end(), bytes, engine: 'js' };
}
