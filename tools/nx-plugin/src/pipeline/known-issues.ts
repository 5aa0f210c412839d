/**
 * The known-issues database, `projects/ci-status/known-issues.json`: the
 * failures of this pipeline that have a known diagnosis and fix.
 *
 * Format: one entry per issue with lists of error, required and context
 * patterns, a fix with an optional command, and metadata (how they are scored:
 * matcher.ts). Validated with zod; the same schema is exported as JSON Schema
 * (`known-issues.schema.json`, referenced by `$schema`) so that editors
 * validate the file too. References are repository paths (relative to the
 * repository root, no `..`) or https URLs, so that every one can be opened
 * from a checkout.
 *
 * Patterns are regular expressions matched against one log line at a time.
 * They must mean the same thing to JavaScript's RegExp and to POSIX ERE
 * (`grep -E`), so that a person can check them with grep and the benchmark
 * can compare like with like: no `\d`, `\b`, lookaround or lazy quantifiers.
 */
import { z } from 'zod';
import { CPU_NAMES, CpuVariant } from '../toolchain/cpu';

/** Escapable characters that mean themselves in both JavaScript and POSIX ERE. */
const LITERAL_ESCAPES = new Set('.[]{}()*+?^$|\\/-'.split(''));
/** Largest `{n,m}` bound accepted (small: big repeats are slow in both engines). */
const MAX_REPEAT = 255;

/**
 * Checks that a pattern means the same to JavaScript's RegExp and to POSIX ERE
 * (`grep -E`), and cannot backtrack catastrophically on a long line.
 * Allowed: ASCII literals, `.`, bracket expressions without backslashes or
 * `[:class:]` names (and not `[]`, `[^]`), groups, `|`, `^`, `$`, the
 * quantifiers `* + ? {n} {n,} {n,m}` (n, m <= 255), and `\` before one of
 * `. [ ] { } ( ) * + ? ^ $ | \ / -`. Refused: other escapes (`\d`, `\b`, `\t`,
 * `\<`, back-references), `(?` (lookaround, non-capturing groups), lazy
 * quantifiers, control characters, characters outside the BMP in brackets or
 * before a quantifier, and a quantified group that itself contains a
 * quantifier (`(a+)*`: exponential backtracking in JavaScript).
 * @returns why it is refused, or null.
 */
export function ereProblem(p: string): string | null {
  /** Open groups, and whether each contains a quantifier so far. */
  const groups: boolean[] = [];
  let prevQuantifier = false;
  /** Set right after a `)`: whether that group contained a quantifier. */
  let closedGroupHadQuantifier: boolean | null = null;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0')} at ${i}`;
    if (code >= 0xd800 && code <= 0xdbff) {
      // A character outside the BMP is two units in JavaScript: fine as a literal, not quantified.
      if ('*+?{'.includes(p[i + 2] ?? ''))
        return `a quantified character outside the BMP at ${i}: JavaScript would repeat half of it`;
      i++;
      prevQuantifier = false;
      closedGroupHadQuantifier = null;
      continue;
    }
    let isQuantifier = false;
    let closed: boolean | null = null;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) return 'a trailing backslash';
      if (!LITERAL_ESCAPES.has(n))
        return `'\\${n}' is not POSIX ERE (grep -E) or means something else there; write [0-9], explicit classes, no \\b`;
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']')
        return `'${p.slice(i, j + 1)}' at ${i}: an empty or negated-empty bracket expression reads differently in JavaScript and grep`;
      for (; j < p.length && p[j] !== ']'; j++) {
        if (p[j] === '\\')
          return `a backslash inside [...] at ${j}: it escapes in JavaScript but is literal in grep -E`;
        if (p.charCodeAt(j) >= 0xd800 && p.charCodeAt(j) <= 0xdfff)
          return `a character outside the BMP inside [...] at ${j}: JavaScript sees two units`;
        if (p[j] === '[' && (p[j + 1] === ':' || p[j + 1] === '=' || p[j + 1] === '.'))
          return `'[${p[j + 1]}' at ${j}: POSIX classes do not exist in JavaScript`;
      }
      if (j >= p.length) return `an unterminated [ at ${i}`;
      i = j;
    } else if (c === '(') {
      if (p[i + 1] === '?') return `'(?' at ${i}: lookaround and special groups are not POSIX ERE`;
      groups.push(false);
    } else if (c === ')') {
      if (!groups.length) return `an unmatched ) at ${i}`;
      closed = groups.pop()!;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (prevQuantifier)
        return `'${p.slice(i - 1, i + 1)}' at ${i - 1}: lazy or stacked quantifiers are not POSIX ERE`;
      if (c === '{') {
        const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(p.slice(i));
        if (!m) return `'{' at ${i}: expected {n}, {n,} or {n,m} (escape a literal brace)`;
        const lo = Number(m[1]);
        const hi = m[3] ? Number(m[3]) : lo;
        if (lo > MAX_REPEAT || hi > MAX_REPEAT) return `'${m[0]}' at ${i}: repeat counts above ${MAX_REPEAT}`;
        if (hi < lo) return `'${m[0]}' at ${i}: the upper bound is below the lower`;
        i += m[0].length - 1;
      }
      if (closedGroupHadQuantifier)
        return `a quantified group that contains a quantifier, before ${i}: it can backtrack exponentially`;
      isQuantifier = true;
      groups.fill(true);
    }
    closedGroupHadQuantifier = closed;
    prevQuantifier = isQuantifier;
  }
  if (groups.length) return 'an unclosed (';
  return null;
}

/** A regular expression valid in JS and ERE with the same meaning (ereProblem), matched per log line. */
export const linePatternSchema = z
  .string()
  .min(3, 'expected a pattern of at least 3 characters')
  .superRefine((p, ctx) => {
    try {
      new RegExp(p);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
      return;
    }
    const problem = ereProblem(p);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `not a pattern that means the same to JavaScript and grep -E: ${problem}`,
      });
    else if (new RegExp(p).test(''))
      ctx.addIssue({ code: 'custom', message: 'the pattern matches an empty line: it would match every log' });
  });

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

/**
 * Why a reference is refused, or null: a reference must open from a checkout, so it may not leave the
 * repository: no path with a `..` segment, no absolute or home path, no URL other than https. A parenthesised
 * note may follow (`docs/toolchain-bugs.md (A crash in instruction selection)`). That a path exists is checked
 * for the shipped file by known-issues.spec.ts.
 */
export function referenceProblem(ref: string): string | null {
  if (/^https:\/\/[^\s/]+\.[^\s/]+/.test(ref)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return `'${ref}': expected an https URL or a repository path`;
  const file = ref.replace(/ \(.*\)$/, '');
  if (file.startsWith('/') || file.startsWith('~'))
    return `'${ref}': expected a path relative to the repository root, not an absolute one`;
  if (file.split(/[\\/]/).includes('..'))
    return `'${ref}': a path outside the repository ('..'); use a repository path or an https URL`;
  return null;
}

/** A reference: an https URL or a repository path (referenceProblem). */
export const referenceSchema = z
  .string()
  .min(1)
  .superRefine((ref, ctx) => {
    const problem = referenceProblem(ref);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** One known issue. */
export const knownIssueSchema = z
  .object({
    /** Stable kebab-case id, e.g. `atomic-spinlock-m68k`. */
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'expected a kebab-case id'),
    /** One-line title shown in diagnoses. */
    title: z.string().min(1),
    /** Phase id (phases.json) in which the failure shows up. */
    phase: z.string().min(1),
    /** Kind of failure. */
    category: z.enum(['linker', 'toolchain', 'build-std', 'network', 'target-spec', 'codegen', 'emulator']),
    /** CPU variants it affects; empty means all. */
    cpu_variants: z.array(z.enum(CPU_NAMES as [CpuVariant, ...CpuVariant[]])).default([]),
    /** Patterns of the failure's characteristic lines; any one matching makes the issue a candidate. */
    error_patterns: z.array(linePatternSchema).min(1, 'expected at least one error pattern'),
    /**
     * Patterns that must each match some line for the issue to be a candidate at all: the log must show the
     * condition the issue is about (e.g. that the unpatched system backend was in use).
     */
    required_patterns: z.array(linePatternSchema).default([]),
    /** Patterns of lines that usually accompany it; each one found raises the confidence. */
    context_patterns: z.array(linePatternSchema).default([]),
    /** What goes wrong and why. */
    description: z.string().min(1),
    fix: z
      .object({
        /** How to fix it, for a person. */
        explanation: z.string().min(1),
        /** A command that applies or checks the fix, when there is one. */
        command: z.string().min(1).optional(),
      })
      .strict(),
    /** Confidence (0..1) that a line matching an error pattern means this issue. */
    confidence: z.number().min(0).max(1),
    metadata: z
      .object({
        first_seen: isoDate,
        /** Times it was seen (updated by failure analysis). */
        occurrences: z.number().int().min(0).default(0),
        /** Date the fix last worked, or null. */
        last_fix_success: isoDate.nullable().default(null),
        /** https URLs or repository paths (relative to the repository root) with background: referenceProblem. */
        references: z.array(referenceSchema).default([]),
      })
      .strict(),
  })
  .strict();

/** The whole file. */
export const knownIssuesFileSchema = z
  .object({
    $schema: z.string().optional(),
    schema_version: z.literal('2.0'),
    known_issues: z.array(knownIssueSchema).superRefine((issues, ctx) => {
      const seen = new Set<string>();
      issues.forEach((issue, i) => {
        if (seen.has(issue.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate id '${issue.id}'` });
        seen.add(issue.id);
      });
    }),
  })
  .strict();

/** One known issue, as validated (defaults filled). */
export type KnownIssue = z.output<typeof knownIssueSchema>;
/** The validated known-issues file. */
export type KnownIssuesFile = z.output<typeof knownIssuesFileSchema>;

/** File name of the database in the status directory. */
export const KNOWN_ISSUES_FILE = 'known-issues.json';
/** File name of its JSON Schema, next to it. */
export const KNOWN_ISSUES_SCHEMA_FILE = 'known-issues.schema.json';

/** The JSON Schema (draft 2020-12) of known-issues.json, generated from the zod schema. */
export function knownIssuesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(knownIssuesFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://nextrust.invalid/schemas/known-issues.schema.json',
    title: 'nextrust known issues',
    description:
      'Known failures of the nextrust pipeline and their fixes. Generated from tools/nx-plugin/src/pipeline/known-issues.ts by `nextrust known-issues-schema`; do not edit.',
  };
}
