/**
 * The known-issues database, `projects/ci-status/known-issues.json`: the
 * failures of this pipeline that have a known diagnosis and fix.
 *
 * Format: the seed's "Structured Known-Issues Schema" (001, v2 roadmap §4),
 * extended with lists of error and context patterns, a fix with an optional
 * command, and metadata. Validated with zod; the same schema is exported as
 * JSON Schema (`known-issues.schema.json`, referenced by `$schema`) so that
 * editors validate the file too.
 *
 * Patterns are regular expressions matched against one log line at a time.
 * They must mean the same thing to JavaScript's RegExp and to POSIX ERE
 * (`grep -E`), so that a person can check them with grep and the benchmark
 * can compare like with like: no `\d`, `\b`, lookaround or lazy quantifiers.
 */
import { z } from 'zod';
import { CPU_NAMES, CpuVariant } from '../toolchain/cpu';

/** Constructs that JavaScript and POSIX ERE read differently (or ERE lacks). */
const NON_ERE = /\\[dDbBpPkucx0-9]|\(\?|[*+?}]\?/;

/** A regular expression valid in JS and ERE, matched per log line. */
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
    const bad = NON_ERE.exec(p);
    if (bad) ctx.addIssue({ code: 'custom', message: `'${bad[0]}' is not POSIX ERE (grep -E); write [0-9], explicit classes, no lookaround or lazy quantifiers` });
  });

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

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
        /** URLs or repository paths with background. */
        references: z.array(z.string().min(1)).default([]),
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
        if (seen.has(issue.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate id '${issue.id}'` });
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
  const schema = z.toJSONSchema(knownIssuesFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://nextrust.invalid/schemas/known-issues.schema.json',
    title: 'nextrust known issues',
    description: 'Known failures of the nextrust pipeline and their fixes. Generated from tools/nx-plugin/src/pipeline/known-issues.ts by `nextrust known-issues-schema`; do not edit.',
  };
}
