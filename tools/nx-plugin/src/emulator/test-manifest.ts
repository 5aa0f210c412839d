/**
 * Test manifests of the emulator tests (projects/emulator-tests/tests/*.json):
 * one case per file, the program to run and what it must do. Four assertion
 * kinds: exit_code, output_contains, output_matches (a regular expression)
 * and file_exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { CPU_NAMES, type CpuVariant } from '../toolchain/cpu';
import { ConfigError, formatConfigError } from '../config/project-config';

const stream = z.enum(['stdout', 'stderr', 'all']).default('stdout');

/** One expectation on a run. */
export const assertionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit_code'), expected: z.number().int().min(0).max(255) }).strict(),
  z.object({ type: z.literal('output_contains'), pattern: z.string().min(1), stream }).strict(),
  z
    .object({
      type: z.literal('output_matches'),
      pattern: z
        .string()
        .min(1)
        .refine(
          (p) => {
            try {
              new RegExp(p, 'm');
              return true;
            } catch {
              return false;
            }
          },
          { message: 'expected a valid JavaScript regular expression' },
        ),
      stream,
    })
    .strict(),
  z
    .object({
      type: z.literal('output_equals_file'),
      /**
       * File holding the exact expected output; workspace-relative, `{testsDir}` is the
       * test manifests' folder. For the conformance corpus it is the program's output on
       * the build host (a test re-checks that it still is).
       */
      path: z.string().min(1),
      stream,
    })
    .strict(),
  z
    .object({
      type: z.literal('file_exists'),
      /** Workspace-relative path; `{buildDir}` is the build's output folder for the CPU. */
      path: z.string().min(1),
    })
    .strict(),
]);

/** One test case. */
export const testCaseSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lowercase name (letters, digits, - or _)'),
    description: z.string().optional(),
    /** Artifact name in the build manifest. */
    program: z.string().min(1),
    /** Run the program (false for a staticlib: only file_exists assertions make sense). */
    run: z.boolean().default(true),
    /** CPU variants to run on (default: every CPU whose build has the program). */
    cpus: z.array(z.enum(CPU_NAMES as [CpuVariant, ...CpuVariant[]])).optional(),
    args: z.array(z.string()).default([]),
    stdin: z.string().optional(),
    /** Timeout in ms (default: the project's timeoutMs). */
    timeoutMs: z.number().int().positive().optional(),
    expect: z.array(assertionSchema).min(1),
  })
  .strict();

export type Assertion = z.infer<typeof assertionSchema>;
export type TestCase = z.infer<typeof testCaseSchema>;

/**
 * Reads every `*.json` test manifest in a folder, sorted by file name.
 * @throws ConfigError naming the file and field of the first invalid manifest.
 */
export function readTestCases(dir: string): { file: string; testCase: TestCase }[] {
  let files: string[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (e) {
    throw new ConfigError(dir, `${dir}: cannot read the test manifests folder: ${(e as Error).message}`);
  }
  const seen = new Map<string, string>();
  return files.map((f) => {
    const file = path.join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(file, `${file}: not valid JSON: ${(e as Error).message}`);
    }
    const r = testCaseSchema.safeParse(raw);
    if (!r.success) throw new ConfigError(file, formatConfigError(file, r.error));
    const prior = seen.get(r.data.name);
    if (prior) throw new ConfigError(file, `${file}: field 'name': '${r.data.name}' is already used by ${prior}`);
    seen.set(r.data.name, file);
    return { file, testCase: r.data };
  });
}
