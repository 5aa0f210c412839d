/**
 * Configuration of the AI steps (design escalation, phase review), from
 * `projects/ci-status/ai.json` (validated; defaults below) and the
 * environment. API keys come only from the environment: OPENAI_API_KEY
 * (design) and GEMINI_API_KEY (review). Base URLs: `base_url` in the file,
 * else OPENAI_BASE_URL (read by the openai SDK itself) and
 * NEXTRUST_GEMINI_BASE_URL; an OpenAI-compatible local server (llama.cpp,
 * Ollama: `http://127.0.0.1:11434/v1`) works through the design base URL.
 * Models: `model` in the file, overridden by NEXTRUST_DESIGN_MODEL and
 * NEXTRUST_REVIEW_MODEL.
 *
 * Two roles, with these default models: OpenAI o3 for design decisions,
 * Gemini 2.5 Pro for code review.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { readValidatedJson } from '../pipeline/validated-file';

const service = z
  .object({
    model: z.string().min(1),
    /** Base URL of the API (null: the SDK default, or its environment variable). */
    base_url: z.string().url().nullable().default(null),
    /** Per-request timeout (ms). */
    timeout_ms: z.number().int().min(100).max(600_000).default(60_000),
    /** Retries after the first attempt, for 408/429/5xx and connection errors (the SDKs back off exponentially). */
    max_retries: z.number().int().min(0).max(10).default(2),
    /** Most output tokens asked for. */
    max_output_tokens: z.number().int().min(64).max(100_000).default(4_000),
  })
  .strict();

/** ai.json. */
export const aiConfigSchema = z
  .object({
    $schema: z.string().optional(),
    schema_version: z.literal('1.0'),
    design: service.default({
      model: 'o3',
      base_url: null,
      timeout_ms: 60_000,
      max_retries: 2,
      max_output_tokens: 4_000,
    }),
    review: service
      .extend({
        /** Review guidelines, relative to the workspace root (default: the committed GEMINI.md). */
        guidelines: z.string().min(1).default('GEMINI.md'),
        /** Most bytes of diff sent (the rest is listed by file name only). */
        max_diff_bytes: z.number().int().min(1_000).max(2_000_000).default(200_000),
      })
      .strict()
      .default({
        model: 'gemini-2.5-pro',
        base_url: null,
        timeout_ms: 120_000,
        max_retries: 2,
        max_output_tokens: 8_000,
        guidelines: 'GEMINI.md',
        max_diff_bytes: 200_000,
      }),
    /** Spending limits (USD); a reached budget blocks further AI calls. null: no limit. */
    budgets: z
      .object({
        daily_usd: z.number().min(0).nullable().default(5),
        per_pr_usd: z.number().min(0).nullable().default(2),
        per_session_usd: z.number().min(0).nullable().default(1),
      })
      .strict()
      .default({ daily_usd: 5, per_pr_usd: 2, per_session_usd: 1 }),
    /** The log excerpt sent with a design request. */
    excerpt: z
      .object({
        /** Lines before and after the first error line. */
        context_lines: z.number().int().min(0).max(500).default(20),
        /** Most bytes of excerpt. */
        max_bytes: z.number().int().min(256).max(200_000).default(8_192),
      })
      .strict()
      .default({ context_lines: 20, max_bytes: 8_192 }),
  })
  .strict();

/** The validated AI configuration. */
export type AiConfig = z.output<typeof aiConfigSchema>;

/** File name in the status directory. */
export const AI_CONFIG_FILE = 'ai.json';

/**
 * Loads ai.json from `file` (defaults when it does not exist) and applies the
 * environment's model and base URL overrides.
 * @throws ConfigError naming the file and field when it is invalid.
 */
export function loadAiConfig(file: string, env: NodeJS.ProcessEnv = process.env): AiConfig {
  const config = fs.existsSync(file)
    ? readValidatedJson(file, aiConfigSchema)
    : aiConfigSchema.parse({ schema_version: '1.0' });
  if (env.NEXTRUST_DESIGN_MODEL) config.design.model = env.NEXTRUST_DESIGN_MODEL;
  if (env.NEXTRUST_REVIEW_MODEL) config.review.model = env.NEXTRUST_REVIEW_MODEL;
  if (!config.review.base_url && env.NEXTRUST_GEMINI_BASE_URL) config.review.base_url = env.NEXTRUST_GEMINI_BASE_URL;
  return config;
}
