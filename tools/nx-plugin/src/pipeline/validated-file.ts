/**
 * Reading the pipeline's hand-edited JSON files (known-issues.json,
 * phases.json) with validation, and keeping their last good state.
 *
 * Rule: an invalid file gives an error naming the file and the field; the
 * previous good state is kept. Every successful read
 * stores a copy under `<statusDir>/.last-good/`; when the file later fails
 * validation, callers that must go on (failure analysis after a failed
 * target) use that copy and print the error as a warning.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';
import { ConfigError, parseValidatedJson } from '../config/project-config';

/** Parses JSON text and validates it (re-exported from config/project-config). */
export { parseValidatedJson };

/**
 * Reads and validates a JSON file.
 * @throws ConfigError when it cannot be read, is not JSON or fails the schema.
 */
export function readValidatedJson<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `${file}: cannot read: ${(e as Error).message}`);
  }
  return parseValidatedJson(file, text, schema);
}

/** A validated file's content, and whether it came from the last good copy. */
export interface LoadedFile<T> {
  value: T;
  /** Set when the file itself was invalid and its last good copy was used: the error, for a warning. */
  fallbackError?: string;
}

/**
 * Reads and validates `file`; on success refreshes its last good copy in
 * `lastGoodDir` (unless `refresh: false`: files that other processes write
 * refresh their copy only under their lock); on failure falls back to that copy.
 * @throws ConfigError when the file is invalid and there is no valid last good copy.
 */
export function readWithLastGood<S extends z.ZodType>(
  file: string,
  schema: S,
  lastGoodDir: string,
  options: { refresh?: boolean } = {},
): LoadedFile<z.output<S>> {
  const copy = path.join(lastGoodDir, path.basename(file));
  try {
    const text = fs.readFileSync(file, 'utf8');
    const value = parseValidatedJson(file, text, schema);
    if (options.refresh === false) return { value };
    try {
      if (!fs.existsSync(copy) || fs.readFileSync(copy, 'utf8') !== text) {
        fs.mkdirSync(lastGoodDir, { recursive: true });
        writeFileAtomic.sync(copy, text);
      }
    } catch {
      // The copy is a convenience: a read-only status dir must not fail the read.
    }
    return { value };
  } catch (e) {
    const message = e instanceof ConfigError ? e.message : `${file}: cannot read: ${(e as Error).message}`;
    if (!fs.existsSync(copy)) throw e instanceof ConfigError ? e : new ConfigError(file, message);
    try {
      return { value: parseValidatedJson(copy, fs.readFileSync(copy, 'utf8'), schema), fallbackError: message };
    } catch {
      throw e instanceof ConfigError ? e : new ConfigError(file, message);
    }
  }
}
