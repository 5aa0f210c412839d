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
 * Scoring (this module's rule): an issue is a candidate when one of its error
 * patterns matches a line and each of its required patterns matches some line.
 * Its confidence is the database's `confidence`, times 0.85 + 0.15 × (fraction
 * of its context patterns found) when it has context patterns, times 0.8 when
 * the caller names a phase (ScanOptions.phase: `nextrust check-known-issue
 * --phase`) that differs from the issue's, times 0.7 when the run's CPU is
 * not among the issue's `cpu_variants`. The CPU is the caller's
 * (ScanOptions.cpu), else the one the log itself names in its run-context line
 * (`nextrust-run: task …, cpu m68040`, written by failure analysis at the top
 * of every log it saves). So the
 * confidence is a function of the log's text and the explicit options only:
 * the same saved log gives the same number inside an Nx run and in
 * `nextrust check-known-issue --log`. Every candidate carries an explanation
 * (which patterns matched at which lines, each factor and why). The best
 * candidate at or above `minConfidence` (default 0.5) is the match; ties go to
 * the one whose first evidence comes first in the log.
 *
 * Besides the database, the scanner reads two kinds of lines for itself (the
 * BUILTIN patterns, given to grep too): run-context lines, and rustc/cargo
 * diagnostics, from which it recognises a user error: a compile error located
 * in the workspace's own sources (` --> programs/hello/src/main.rs:10:21`, a
 * path cargo prints relative to the cargo workspace it ran in, mapped here to
 * the repository root), a `-p` package that is not in the workspace, or a path
 * dependency whose name does not match the crate at that path. A known issue
 * that matches takes precedence over a user error. A location or quoted
 * source line counts only in the few lines after a diagnostic
 * (DIAGNOSTIC_WINDOW), so grep prints those lines as context (-A) rather than
 * every warning's location, and reads cargo's `Compiling` lines in a second
 * pass only when a diagnostic has a relative location to resolve; both
 * engines give the same result.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { KnownIssue } from './known-issues';

/** Evidence lines kept per issue and per kind (error, context, required); also line numbers kept per pattern. */
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
/** Longest line read by the built-in detectors (diagnostics, run context): theirs are short; a giant line is not one. */
const BUILTIN_MAX_LINE = 4096;
/** Diagnostics, locations and cargo package folders kept for user-error detection (the first ones: they come first). */
const MAX_DIAGNOSTICS = 64;

/** Lines after a diagnostic in which its location (and, a few lines on, the quoted source line) may be. */
const DIAGNOSTIC_WINDOW = 4;
/** Built-in patterns that match many lines of a big build log (every warning's location, every package compiled). */
const FREQUENT_BUILTINS = ['location', 'snippet', 'compiling'] as const;

/** Prefix of the run-context lines failure analysis writes at the top of the logs it saves (formatRunContext). */
export const RUN_CONTEXT_PREFIX = 'nextrust-run: ';

/**
 * The lines the scanner reads for itself (module doc). Valid for grep -E and JavaScript alike (known-issues.ts
 * ereProblem): grep is given them beside the database's patterns, so both engines see the same lines.
 */
export const BUILTIN_PATTERNS = {
  /** A rustc or cargo error: `error: expected `;``, `error[E0308]: mismatched types`. */
  diagnostic: '^error: |^error\\[E[0-9]+\\]: ',
  /** rustc's (or cargo's, for a manifest) location of the error above it: ` --> programs/hello/src/main.rs:10:21`. */
  location: '^ *--> [^ ]',
  /** A quoted source line under a location: `10 |     let code: i32 = "zero";`. */
  snippet: '^ *[0-9]+ \\| ',
  /** cargo compiling a path package: `   Compiling hello v0.1.0 (/home/dev/nextrust/projects/rust-target/programs/hello)`. */
  compiling: '^ +Compiling [^ ]+ v[^ ]+ \\(/',
  /** cargo naming the workspace manifest of a member it cannot load: ``referenced via `programs/*` by workspace at `/…/Cargo.toml` ``. */
  workspace: 'by workspace at .[^ ]*Cargo\\.toml.',
  /** cargo's suggestion after an unknown `-p` package. */
  similar: '^help: a package with a similar name exists: ',
  /** cargo's search location of a dependency when it is a path (a path dependency; registries are named otherwise). */
  searched: '^location searched: /',
  /** The package requiring a dependency that cargo could not find. */
  requiredBy: '^required by package .',
  /** A run-context line (RUN_CONTEXT_PREFIX). */
  run: '^nextrust-run: ',
} as const;

/** One log line that matched a pattern. */
export interface Evidence {
  /** 1-based line number in the log. */
  line: number;
  /** The line, without its newline (cut to 500 characters). */
  text: string;
  /** The pattern that matched. */
  pattern: string;
  kind: 'error' | 'context' | 'required';
}

/** What the caller knows about the failing run. */
export interface MatchContext {
  /** Phase id of the failing target, when known. */
  phase?: string;
  /** CPU variant of the failing target, when known. */
  cpu?: string;
}

/** One pattern of a candidate issue and where it matched. */
export interface PatternHits {
  kind: 'error' | 'context' | 'required';
  pattern: string;
  /** 1-based log lines it matched, the first MAX_EVIDENCE; empty: not found. */
  lines: number[];
  /** Lines it matched in all. */
  count: number;
}

/** One factor of a confidence, and why it applies. */
export interface ConfidenceFactor {
  name: 'context' | 'phase' | 'cpu';
  value: number;
  /** One line: `2 of 3 context patterns found: 0.85 + 0.15 × 2/3`. */
  reason: string;
}

/** How a candidate's confidence came about: base × each factor = raw, rounded to 2 decimals. */
export interface ConfidenceExplanation {
  /** The database's `confidence`. */
  base: number;
  factors: ConfidenceFactor[];
  /** base × factors, before rounding. */
  raw: number;
  /** Every error, required and context pattern of the issue, in database order, with its lines. */
  patterns: PatternHits[];
}

/** A known issue found in a log. */
export interface KnownIssueMatch {
  id: string;
  title: string;
  /** 0..1, see the module doc. */
  confidence: number;
  /** Error evidence first, then required, then context evidence, each in log order. */
  evidence: Evidence[];
  /** Lines that matched an error pattern (evidence keeps only MAX_EVIDENCE). */
  errorLines: number;
  category: KnownIssue['category'];
  /** The issue's phase and CPU variants. */
  phase: string;
  cpu_variants: string[];
  /** The phase (caller's only) and CPU (caller's, else the log's) the confidence was computed with. */
  context: MatchContext;
  description: string;
  fix: KnownIssue['fix'];
  references: string[];
  /** How the confidence was computed (explainConfidence renders it). */
  explanation: ConfidenceExplanation;
}

/** Where a user error is. */
export interface UserErrorLocation {
  /** The path as the tool printed it. */
  printed: string;
  /** Relative to the workspace root when inside it, else absolute; the printed path when it could not be resolved. */
  file: string;
  line?: number;
  column?: number;
}

/**
 * A mistake in the user's own workspace rather than in the toolchain (module doc): a compile error located
 * in the workspace's sources or manifests, a `-p` package that does not exist, or a path dependency whose
 * name does not match the crate at that path.
 */
export interface UserError {
  kind: 'compile' | 'package' | 'dependency';
  /** The tool's message, verbatim: `error[E0308]: mismatched types`. */
  message: string;
  /** 1-based log line of the message. */
  line: number;
  location?: UserErrorLocation;
  /** The source line the compiler quoted at the location. */
  source?: string;
  /** The tool's hint, when it gave one (cargo's "a package with a similar name exists"). */
  hint?: string;
  /** Error messages of this kind in the log (the first is `message`). */
  count: number;
}

/** What the log says about its run (run-context lines, qemu's command line). */
export interface RunContext {
  /** `project:target[:configuration]` of the failing step. */
  task?: string;
  phase?: string;
  cpu?: string;
  /** Line the CPU was read from. */
  cpuLine?: number;
  /** Toolchain provider of the run (`source`, `system`). */
  provider?: string;
  /** NEXTRUST_* overrides set for the run, `NAME=value`. */
  overrides: string[];
}

/** The outcome of a scan: a known issue, the user's own mistake, or unknown. */
export type Diagnosis = 'known-issue' | 'user-error' | 'unknown';

/** Result of scanning one log. */
export interface ScanResult {
  /** The best candidate at or above minConfidence, or null: no known issue. */
  match: KnownIssueMatch | null;
  /** Every candidate, best first (including those below minConfidence). */
  candidates: KnownIssueMatch[];
  /** A user error the log shows (reported as the diagnosis only when no known issue matches). */
  userError: UserError | null;
  /** known-issue when `match`, else user-error when `userError`, else unknown. */
  diagnosis: Diagnosis;
  /** What the log says about the run. */
  runContext: RunContext;
  /** Lines scanned. */
  lines: number;
  /** Bytes scanned (of the file; UTF-16 units × 1 for text input). */
  bytes: number;
}

/** Options of a scan. */
export interface ScanOptions extends MatchContext {
  /** Lowest confidence reported as a match (default 0.5). */
  minConfidence?: number;
  /**
   * Repository root, to show user-error locations relative to it and to tell the workspace's own files from
   * others (default: the nearest folder holding nx.json above the current directory, if any).
   */
  workspaceRoot?: string;
}

interface CompiledPattern {
  issue: number;
  kind: 'error' | 'context' | 'required';
  source: string;
  re: RegExp;
}

interface IssueState {
  error: Evidence[];
  context: Evidence[];
  required: Evidence[];
  errorLines: number;
  /** Per `kind:pattern`: lines (first MAX_EVIDENCE), count, last line counted. */
  hits: Map<string, { lines: number[]; count: number; last: number }>;
}

interface Diag {
  line: number;
  text: string;
}
interface Loc {
  line: number;
  printed: string;
  ln?: number;
  col?: number;
  source?: string;
}

/** Summary lines of cargo and rustc that repeat an error rather than state one. */
const SUMMARY = /^error: (could not compile|aborting due to|failed to load manifest for workspace member)/;
const RE_LOCATION = /^ *--> (.+?)(?::([0-9]+)(?::([0-9]+))?)?$/;
const RE_SNIPPET = /^ *([0-9]+) \| (.*)$/;
const RE_COMPILING = /^ +Compiling [^ ]+ v[^ ]+ \((\/[^)]*)\)/;
const RE_WORKSPACE = /by workspace at `([^`]*)\/Cargo\.toml`/;
const RE_REQUIRED_BY = /^required by package `[^ ]+ v[^ ]+ \((\/[^)]*)\)`/;
const RE_RUN_TASK = /^nextrust-run: task (\S+?)(?:, phase (\S+?))?(?:, cpu (\S+?))?$/;
const RE_RUN_PROVIDER = /^nextrust-run: toolchain provider (\S+)/;
const RE_RUN_ENV = /^nextrust-run: environment ([A-Z0-9_]+=.*)$/;
/** Folders of the repository whose files are outputs or scratch, not the user's sources. */
const NOT_OWN_DIRS = new Set(['dist', 'node_modules', 'tmp', '.nx', 'target', '.git']);
/** Places outside any workspace where sources belong to the toolchain or to packages. */
const SYSTEM_PATH = /^\/(usr|rustc|opt|lib)\/|\/\.cargo\/|\/\.rustup\//;

/** What failure analysis writes as a log's run context (formatRunContext). */
export interface RunContextInput {
  task: string;
  phase?: string;
  cpu?: string;
  /** Toolchain provider and what it means for the M68k backend, e.g. `system` and `M68k backend: the system one inside libLLVM, unpatched`. */
  provider?: { name: string; detail: string };
  /** NEXTRUST_* overrides set for the run, `NAME=value`. */
  overrides?: string[];
}

/**
 * The run-context lines written at the top of a saved failure log (RUN_CONTEXT_PREFIX), which the scanner reads
 * back: `nextrust-run: task rust-target:build:m68040, phase rust-target, cpu m68040`, then the toolchain provider
 * and each override on a line of its own.
 */
export function formatRunContext(c: RunContextInput): string[] {
  const lines = [
    `${RUN_CONTEXT_PREFIX}task ${c.task}${c.phase ? `, phase ${c.phase}` : ''}${c.cpu ? `, cpu ${c.cpu}` : ''}`,
  ];
  if (c.provider) lines.push(`${RUN_CONTEXT_PREFIX}toolchain provider ${c.provider.name} (${c.provider.detail})`);
  for (const o of c.overrides ?? []) lines.push(`${RUN_CONTEXT_PREFIX}environment ${o}`);
  return lines;
}

/** The nearest folder at or above `start` holding nx.json, or undefined. */
function nxRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Whether `file` (absolute) is inside `dir`. */
function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Line `n` (1-based) of a small text file, or undefined. */
function lineOf(file: string, n: number): string | undefined {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > 1 << 20) return undefined;
    return fs.readFileSync(file, 'utf8').split('\n')[n - 1]?.replace(/\r$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Incremental scanner: feed text with push(), then call end().
 * Use scanLogFile or scanLogText unless the text arrives in pieces (a child
 * process's output).
 */
export class LogScanner {
  private readonly patterns: CompiledPattern[];
  private readonly combined: RegExp | null;
  private readonly builtins: { name: keyof typeof BUILTIN_PATTERNS; re: RegExp }[];
  /** Any database pattern / any built-in pattern: a hit line is tested one by one only against the side it matches. */
  private readonly anyIssue: RegExp | null;
  private readonly anyBuiltin: RegExp;
  private readonly state: IssueState[];
  private carry = '';
  private lineNo = 0;
  private bytes = 0;
  /** Per issue, the last line counted as an error line (a giant line is scanned in overlapping pieces). */
  private readonly lastErrorLine: number[];
  // Built-in detectors (module doc).
  private readonly diags: Diag[] = [];
  private readonly locations: Loc[] = [];
  private readonly packageDirs: string[] = [];
  private readonly workspaceDirs: string[] = [];
  private readonly searched: Diag[] = [];
  private readonly requiredBy: Diag[] = [];
  private similar: Diag | undefined;
  /** Line of the last diagnostic seen (locations and quoted lines count only right after one). */
  private lastDiagnostic = 0;
  private readonly run: RunContext = { overrides: [] };

  /** @param issues the database's issues (validated). */
  constructor(
    private readonly issues: readonly KnownIssue[],
    private readonly options: ScanOptions = {},
  ) {
    this.patterns = issues.flatMap((issue, i) => [
      ...issue.error_patterns.map((source) => ({ issue: i, kind: 'error' as const, source, re: new RegExp(source) })),
      ...(issue.required_patterns ?? []).map((source) => ({
        issue: i,
        kind: 'required' as const,
        source,
        re: new RegExp(source),
      })),
      ...issue.context_patterns.map((source) => ({
        issue: i,
        kind: 'context' as const,
        source,
        re: new RegExp(source),
      })),
    ]);
    this.builtins = (Object.keys(BUILTIN_PATTERNS) as (keyof typeof BUILTIN_PATTERNS)[]).map((name) => ({
      name,
      re: new RegExp(BUILTIN_PATTERNS[name]),
    }));
    const unique = [...new Set([...this.patterns.map((p) => p.source), ...Object.values(BUILTIN_PATTERNS)])];
    this.combined = new RegExp(unique.map((s) => `(?:${s})`).join('|'), 'gm');
    const issueSources = [...new Set(this.patterns.map((p) => p.source))];
    this.anyIssue = issueSources.length ? new RegExp(issueSources.map((s) => `(?:${s})`).join('|')) : null;
    this.anyBuiltin = new RegExp(
      Object.values(BUILTIN_PATTERNS)
        .map((s) => `(?:${s})`)
        .join('|'),
    );
    this.state = issues.map(() => ({ error: [], context: [], required: [], errorLines: 0, hits: new Map() }));
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

  /**
   * Records a line another scanner printed only as context (grep -A) or for the built-in detectors alone (grep's
   * second pass): it matched no database pattern, so it goes to the built-in detectors only.
   */
  hitContext(line: number, text: string): void {
    const t = text.replace(/\r$/, '');
    if (t.length <= BUILTIN_MAX_LINE && this.anyBuiltin.test(t)) this.detect(line, t);
  }

  /** Whether a diagnostic has a relative location, which cargo's `Compiling` lines resolve (grep's second pass). */
  wantsPackageFolders(): boolean {
    return this.locations.some((l) => !path.isAbsolute(l.printed));
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

  /** Attributes one hit line to the single patterns it matches, and to the built-in detectors. */
  private attribute(line: number, text: string): void {
    // At most 500 characters, the cut not splitting a surrogate pair.
    const shown = text.length > 500 ? text.slice(0, /[\ud800-\udbff]/.test(text[498]) ? 498 : 499) + '…' : text;
    if (text.length <= BUILTIN_MAX_LINE && this.anyBuiltin.test(text)) this.detect(line, text);
    if (!this.anyIssue?.test(text)) return;
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
        const list = p.kind === 'context' ? st.context : st.required;
        if (list.length < MAX_EVIDENCE && !list.some((e) => e.line === line))
          list.push({ line, text: shown, pattern: p.source, kind: p.kind });
      }
      const key = `${p.kind}:${p.source}`;
      const h = st.hits.get(key) ?? { lines: [], count: 0, last: 0 };
      if (h.last !== line) {
        h.count++;
        h.last = line;
        if (h.lines.length < MAX_EVIDENCE) h.lines.push(line);
      }
      st.hits.set(key, h);
    }
  }

  /** The built-in detectors: diagnostics and their locations, cargo's package folders, run context. */
  private detect(line: number, text: string): void {
    for (const { name, re } of this.builtins) {
      if (!re.test(text)) continue;
      switch (name) {
        case 'diagnostic':
          this.lastDiagnostic = line;
          if (this.diags.length < MAX_DIAGNOSTICS) this.diags.push({ line, text });
          break;
        case 'location': {
          // Only a diagnostic's own location (the lines grep prints after it): not every warning's.
          const m = RE_LOCATION.exec(text);
          if (m && this.lastDiagnostic && line - this.lastDiagnostic <= 2 && this.locations.length < MAX_DIAGNOSTICS) {
            this.locations.push({
              line,
              printed: m[1],
              ...(m[2] ? { ln: Number(m[2]) } : {}),
              ...(m[3] ? { col: Number(m[3]) } : {}),
            });
          }
          break;
        }
        case 'snippet': {
          const m = RE_SNIPPET.exec(text);
          const loc = this.locations[this.locations.length - 1];
          const near = this.lastDiagnostic && line - this.lastDiagnostic <= DIAGNOSTIC_WINDOW;
          if (m && near && loc && loc.source === undefined && loc.ln === Number(m[1]) && line > loc.line)
            loc.source = m[2];
          break;
        }
        case 'compiling': {
          const m = RE_COMPILING.exec(text);
          // The most recent ones: the package whose error follows was compiled shortly before it.
          if (m && !this.packageDirs.includes(m[1])) {
            if (this.packageDirs.length >= MAX_DIAGNOSTICS) this.packageDirs.shift();
            this.packageDirs.push(m[1]);
          }
          break;
        }
        case 'workspace': {
          const m = RE_WORKSPACE.exec(text);
          if (m && this.workspaceDirs.length < MAX_DIAGNOSTICS) this.workspaceDirs.push(m[1]);
          break;
        }
        case 'similar':
          this.similar ??= { line, text };
          break;
        case 'searched':
          if (this.searched.length < MAX_DIAGNOSTICS)
            this.searched.push({ line, text: text.slice('location searched: '.length) });
          break;
        case 'requiredBy': {
          const m = RE_REQUIRED_BY.exec(text);
          if (m && this.requiredBy.length < MAX_DIAGNOSTICS) this.requiredBy.push({ line, text: m[1] });
          break;
        }
        case 'run': {
          const task = RE_RUN_TASK.exec(text);
          if (task && this.run.task === undefined) {
            this.run.task = task[1];
            if (task[2]) this.run.phase = task[2];
            if (task[3]) {
              this.run.cpu = task[3];
              this.run.cpuLine = line;
            }
          }
          const provider = RE_RUN_PROVIDER.exec(text);
          if (provider) this.run.provider ??= provider[1];
          const env = RE_RUN_ENV.exec(text);
          if (env && this.run.overrides.length < MAX_DIAGNOSTICS) this.run.overrides.push(env[1]);
          break;
        }
      }
    }
  }

  /**
   * Where a printed path is, and whether it is the user's: an absolute path inside the repository (but not in
   * its output and scratch folders); a relative one (cargo prints a workspace member's files relative to the
   * workspace it ran in) resolved against a folder cargo named (a `Compiling` package, the workspace manifest),
   * else against the repository or one of its projects, where the file's line must be the one the compiler quoted.
   */
  private resolve(
    loc: Pick<Loc, 'printed' | 'ln' | 'source'>,
    root: string | undefined,
  ): { file: string; own: boolean } {
    const shown = (abs: string) => (root && inside(root, abs) ? path.relative(root, abs) : abs);
    const ownAbs = (abs: string) => {
      if (root && inside(root, abs)) return !NOT_OWN_DIRS.has(path.relative(root, abs).split(path.sep)[0]);
      return !SYSTEM_PATH.test(abs) && !abs.split('/').some((c) => c === 'target' || c === 'node_modules');
    };
    const printed = loc.printed;
    if (path.isAbsolute(printed))
      return { file: shown(printed), own: !!root && inside(root, printed) && ownAbs(printed) };
    if (printed.startsWith('<') || printed.split('/').includes('..')) return { file: printed, own: false };
    const comps = printed.split('/');
    let base: string | undefined;
    // A package folder cargo compiled whose end is the path's start: programs/hello/src/main.rs in …/programs/hello.
    for (const dir of [...this.packageDirs].reverse()) {
      for (let k = comps.length - 1; k >= 1 && !base; k--) {
        const prefix = comps.slice(0, k).join('/');
        if (dir.endsWith(`/${prefix}`)) base = dir.slice(0, dir.length - prefix.length - 1);
      }
      if (base) break;
    }
    base ??= this.workspaceDirs[0];
    if (!base && root && loc.ln !== undefined && loc.source !== undefined) {
      const projects = path.join(root, 'projects');
      const dirs = [
        root,
        ...(fs.existsSync(projects) ? fs.readdirSync(projects).map((d) => path.join(projects, d)) : []),
      ];
      base = dirs.find((d) => lineOf(path.join(d, printed), loc.ln!)?.trimEnd() === loc.source!.trimEnd());
    }
    if (!base) return { file: printed, own: false };
    const abs = path.join(base, printed);
    return { file: shown(abs), own: ownAbs(abs) };
  }

  /** The user error the log shows, if any (module doc). */
  private userError(root: string | undefined): UserError | null {
    const found: UserError[] = [];
    for (const d of this.diags) {
      if (SUMMARY.test(d.text)) continue;
      const pkg = /^error: package ID specification `[^`]+` did not match any packages/.exec(d.text);
      if (pkg) {
        const hint =
          this.similar && this.similar.line > d.line && this.similar.line - d.line <= 3 ? this.similar.text : undefined;
        found.push({ kind: 'package', message: d.text, line: d.line, ...(hint ? { hint } : {}), count: 1 });
        continue;
      }
      if (/^error: no matching package named `[^`]+` found/.test(d.text)) {
        const at = this.searched.find((s) => s.line === d.line + 1);
        const by = this.requiredBy.find((r) => r.line > d.line && r.line - d.line <= 3);
        if (at && by) {
          const manifest = this.resolve({ printed: `${by.text}/Cargo.toml` }, root);
          const ownPackage = root && inside(root, by.text) ? manifest.own : !SYSTEM_PATH.test(by.text);
          if (ownPackage) {
            found.push({
              kind: 'dependency',
              message: d.text,
              line: d.line,
              location: { printed: by.text, file: manifest.file },
              hint: `location searched: ${at.text}`,
              count: 1,
            });
          }
        }
        continue;
      }
      const loc = this.locations.find((l) => l.line > d.line && l.line - d.line <= 2);
      if (!loc) continue;
      const where = this.resolve(loc, root);
      if (!where.own) continue;
      found.push({
        kind: 'compile',
        message: d.text,
        line: d.line,
        location: {
          printed: loc.printed,
          file: where.file,
          ...(loc.ln !== undefined ? { line: loc.ln } : {}),
          ...(loc.col !== undefined ? { column: loc.col } : {}),
        },
        ...(loc.source !== undefined ? { source: loc.source } : {}),
        count: 1,
      });
    }
    if (!found.length) return null;
    const first = found[0];
    return { ...first, count: found.filter((f) => f.kind === first.kind).length };
  }

  private result(): ScanResult {
    const ctx: MatchContext = {};
    if (this.options.phase) ctx.phase = this.options.phase;
    const cpu = this.options.cpu ?? this.run.cpu;
    if (cpu) ctx.cpu = cpu;
    const candidates: KnownIssueMatch[] = [];
    this.issues.forEach((issue, i) => {
      const st = this.state[i];
      if (!st.errorLines) return;
      const required = [...new Set(issue.required_patterns ?? [])];
      if (required.some((p) => !st.hits.has(`required:${p}`))) return;
      const factors: ConfidenceFactor[] = [];
      const contexts = [...new Set(issue.context_patterns)];
      if (contexts.length) {
        const found = contexts.filter((p) => st.hits.has(`context:${p}`)).length;
        factors.push({
          name: 'context',
          value: 0.85 + (0.15 * found) / contexts.length,
          reason: `${found} of ${contexts.length} context patterns found: 0.85 + 0.15 × ${found}/${contexts.length}`,
        });
      }
      if (ctx.phase && ctx.phase !== issue.phase) {
        factors.push({
          name: 'phase',
          value: 0.8,
          reason: `phase ${ctx.phase} (given by the caller) is not the issue's phase ${issue.phase}`,
        });
      }
      if (ctx.cpu && issue.cpu_variants.length && !issue.cpu_variants.includes(ctx.cpu as never)) {
        const from = this.options.cpu ? 'given by the caller' : `log line ${this.run.cpuLine}`;
        factors.push({
          name: 'cpu',
          value: 0.7,
          reason: `cpu ${ctx.cpu} (${from}) is not among the issue's ${issue.cpu_variants.join(', ')}`,
        });
      }
      const raw = factors.reduce((c, f) => c * f.value, issue.confidence);
      const hits = (kind: PatternHits['kind'], pattern: string): PatternHits => {
        const h = st.hits.get(`${kind}:${pattern}`);
        return { kind, pattern, lines: h ? [...h.lines] : [], count: h?.count ?? 0 };
      };
      candidates.push({
        id: issue.id,
        title: issue.title,
        confidence: Math.round(raw * 100) / 100,
        evidence: [...st.error, ...st.required, ...st.context],
        errorLines: st.errorLines,
        category: issue.category,
        phase: issue.phase,
        cpu_variants: issue.cpu_variants,
        context: { ...ctx },
        description: issue.description,
        fix: issue.fix,
        references: issue.metadata.references,
        explanation: {
          base: issue.confidence,
          factors,
          raw,
          patterns: [
            ...[...new Set(issue.error_patterns)].map((p) => hits('error', p)),
            ...required.map((p) => hits('required', p)),
            ...contexts.map((p) => hits('context', p)),
          ],
        },
      });
    });
    candidates.sort((a, b) => b.confidence - a.confidence || a.evidence[0].line - b.evidence[0].line);
    const min = this.options.minConfidence ?? 0.5;
    const best = candidates[0];
    const match = best && best.confidence >= min ? best : null;
    const root = this.options.workspaceRoot ?? nxRoot(process.cwd());
    const userError = this.userError(root);
    return {
      match,
      candidates,
      userError,
      diagnosis: match ? 'known-issue' : userError ? 'user-error' : 'unknown',
      runContext: { ...this.run, overrides: [...this.run.overrides] },
      lines: this.lineNo,
      bytes: this.bytes,
    };
  }
}

/** A number with at most 2 decimals, as the diagnosis prints it. */
function n2(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * How a candidate's confidence came about, for people: the product of its factors, then each pattern with the
 * lines it matched (or "not found").
 * @param logName when given, lines are written `name:1, 3`; otherwise `line 1` / `lines 1, 3`.
 * @returns lines without indentation, e.g. `confidence 0.81 = 0.95 (database) × 0.85 (0 of 3 context patterns found: …)`.
 */
export function explainConfidence(m: KnownIssueMatch, logName?: string): string[] {
  const e = m.explanation;
  const product = [`${n2(e.base)} (database)`, ...e.factors.map((f) => `${n2(f.value)} (${f.reason})`)].join(' × ');
  const out = [`confidence ${m.confidence.toFixed(2)} = ${product}${e.factors.length ? ` = ${e.raw.toFixed(3)}` : ''}`];
  for (const p of e.patterns) {
    const list = p.lines.join(', ');
    const at = logName ? `${logName}:${list}` : `line${p.lines.length > 1 ? 's' : ''} ${list}`;
    const where = p.lines.length ? `${at}${p.count > p.lines.length ? ` (${p.count} lines in all)` : ''}` : 'not found';
    out.push(`${p.kind} pattern /${p.pattern}/: ${where}`);
  }
  return out;
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
export async function scanLogFile(
  file: string,
  issues: readonly KnownIssue[],
  options: FileScanOptions = {},
): Promise<FileScanResult> {
  let size: number;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    await fs.promises.access(file, fs.constants.R_OK);
    size = st.size;
  } catch (e) {
    throw new Error(`cannot read log ${file}: ${(e as Error).message}`, { cause: e });
  }
  const engine = options.engine ?? (process.env.NEXTRUST_MATCHER === 'js' || !hasGnuGrep() ? 'js' : 'grep');
  // The database's patterns and the built-in detectors' (module doc): grep prints every line either reads.
  const patterns = [
    ...new Set([
      ...issues.flatMap((i) => [...i.error_patterns, ...(i.required_patterns ?? []), ...i.context_patterns]),
      ...Object.values(BUILTIN_PATTERNS),
    ]),
  ];
  if (engine === 'grep')
    return scanWithGrep(file, size, issues, options, patterns, options.grepMemoryKiB ?? GREP_MEMORY_KIB);
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

/**
 * One line grep printed: a line that matched (`N:text`) or a line after one (`N-text`, with -A); `cut` when it
 * was longer than MAX_LINE_CHARS and `text` is its start.
 */
type GrepLine = (line: number, text: string, matched: boolean, cut: boolean) => void;

/**
 * Runs `grep -a -n -E <args> -- file` under the address-space limit and hands each printed line (each kept up to
 * MAX_LINE_CHARS bytes) to `onLine`.
 * @returns grep's exit code and stderr.
 */
async function grepLines(
  file: string,
  args: string[],
  memoryKiB: number,
  env: NodeJS.ProcessEnv,
  onLine: GrepLine,
): Promise<{ code: number; stderr: string }> {
  const limit = Math.max(1024, Math.floor(memoryKiB));
  const grep = spawn(
    'sh',
    ['-c', `ulimit -v ${limit} && exec grep "$@"`, 'grep', '-a', '-n', '-E', ...args, '--', file],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  grep.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let parts: Buffer[] = [];
  let kept = 0;
  const flush = (cut: boolean) => {
    const line = Buffer.concat(parts).toString('utf8');
    parts = [];
    kept = 0;
    const m = /^([0-9]+)([:-])/.exec(line);
    if (m) onLine(Number(m[1]), line.slice(m[0].length), m[2] === ':', cut);
  };
  for await (const chunk of grep.stdout as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (kept < MAX_LINE_CHARS) parts.push(chunk.subarray(start, Math.min(nl, start + MAX_LINE_CHARS - kept)));
      flush(kept + nl - start > MAX_LINE_CHARS);
      start = nl + 1;
    }
    if (start < chunk.length && kept < MAX_LINE_CHARS) {
      const piece = chunk.subarray(start, Math.min(chunk.length, start + MAX_LINE_CHARS - kept));
      parts.push(Buffer.from(piece));
      kept += piece.length;
    }
  }
  if (parts.length) flush(kept >= MAX_LINE_CHARS);
  const code: number = await new Promise((resolve) =>
    grep.exitCode !== null ? resolve(grep.exitCode) : grep.on('close', (c) => resolve(c ?? 2)),
  );
  return { code, stderr };
}

/**
 * The grep engine. Pass 1: the database's patterns and the rare built-in ones (diagnostics, cargo's workspace and
 * dependency lines, run context), with DIAGNOSTIC_WINDOW lines after each hit, which holds a diagnostic's location
 * and quoted line. Pass 2, only when a diagnostic has a relative location to resolve: cargo's `Compiling` lines.
 * Frequent lines (every warning's location, every package compiled) would otherwise make grep print a large part of
 * a big build log.
 */
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
      code === 0
        ? resolve(Number(out.trim().split(/\s+/)[0]))
        : reject(new Error(`cannot read log ${file}: wc: ${err.trim() || `exit ${code}`}`)),
    );
  });
  // Awaited after grep; when grep fails first, this rejection must not go unhandled (a crash with a stack trace).
  lineCount.catch(() => undefined);
  const frequent = new Set<string>(FREQUENT_BUILTINS.map((k) => BUILTIN_PATTERNS[k]));
  const first = patterns.filter((p) => !frequent.has(p));
  const failed = (r: { code: number; stderr: string }) => {
    // A line too long for grep's memory limit: the JavaScript scanner reads it in pieces.
    if (r.code > 1 && /memory exhausted/.test(r.stderr)) return 'js';
    if (r.code > 1) throw new Error(`cannot read log ${file}: grep: ${r.stderr.trim() || `exit ${r.code}`}`);
    return null;
  };
  // A hit line longer than MAX_LINE_CHARS cannot be attributed from its kept part: the JS scanner reads it in pieces.
  // (Lines printed only as context, and pass 2's, are read by the built-in detectors alone, which skip long lines.)
  let cutHit = false;
  const pass1 = await grepLines(
    file,
    ['-A', String(DIAGNOSTIC_WINDOW), '--no-group-separator', ...first.flatMap((p) => ['-e', crlfTolerant(p)])],
    memoryKiB,
    env,
    (line, text, matched, cut) => {
      if (matched && cut) cutHit = true;
      if (matched) scanner.hit(line, text);
      else scanner.hitContext(line, text);
    },
  );
  if (failed(pass1) || cutHit) return scanWithJs(file, issues, options);
  if (scanner.wantsPackageFolders()) {
    const pass2 = await grepLines(
      file,
      ['-e', crlfTolerant(BUILTIN_PATTERNS.compiling)],
      memoryKiB,
      env,
      (line, text) => scanner.hitContext(line, text),
    );
    if (failed(pass2)) return scanWithJs(file, issues, options);
  }
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
    throw new Error(`cannot read log ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle?.close();
  }
  const tail = decoder.end();
  if (tail) scanner.push(tail);
  return { ...scanner.end(), bytes, engine: 'js' };
}
