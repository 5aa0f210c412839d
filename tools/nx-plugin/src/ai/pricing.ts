/**
 * Model prices, `projects/ci-status/model-pricing.json` (validated), and the
 * cost of a call. Prices are USD per million tokens, as the providers
 * publish them; a key ending in `*` matches model names by prefix (dated
 * snapshots such as `o3-2025-04-16`). A model with no price (a local server)
 * costs null and is reported as unpriced, never guessed.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { readValidatedJson } from '../pipeline/validated-file';

const price = z
  .object({
    input_per_mtok: z.number().min(0),
    output_per_mtok: z.number().min(0),
  })
  .strict();

/** model-pricing.json. */
export const pricingFileSchema = z
  .object({
    $schema: z.string().optional(),
    schema_version: z.literal('1.0'),
    currency: z.literal('USD'),
    /** Where the figures come from, and when they were read. */
    source: z.string().min(1),
    models: z.record(
      z.string().regex(/^[A-Za-z0-9._:/-]+\*?$/, 'expected a model name, optionally ending in *'),
      price,
    ),
  })
  .strict();

/** The validated pricing file. */
export type PricingFile = z.output<typeof pricingFileSchema>;

/** File name in the status directory. */
export const PRICING_FILE = 'model-pricing.json';

/**
 * Loads and validates the pricing file; a missing file means no prices (every
 * call unpriced: costs are reported as unknown, never guessed).
 * @throws ConfigError naming file and field when it exists and is invalid.
 */
export function loadPricing(file: string): PricingFile {
  if (!fs.existsSync(file)) return { schema_version: '1.0', currency: 'USD', source: `(no ${file})`, models: {} };
  return readValidatedJson(file, pricingFileSchema);
}

/**
 * Cost of one call in USD, or null when the model has no price.
 * @param inputTokens prompt tokens; @param outputTokens completion tokens (reasoning included).
 */
export function callCost(
  pricing: PricingFile,
  model: string,
  inputTokens: number,
  outputTokens: number,
): number | null {
  let p = pricing.models[model];
  if (!p) {
    const prefix = Object.keys(pricing.models)
      .filter((k) => k.endsWith('*') && model.startsWith(k.slice(0, -1)))
      .sort((a, b) => b.length - a.length)[0];
    p = prefix ? pricing.models[prefix] : undefined!;
  }
  if (!p) return null;
  return Math.round(((inputTokens * p.input_per_mtok + outputTokens * p.output_per_mtok) / 1e6) * 1e6) / 1e6;
}
