/**
 * Test helper: the records of a JSON Lines file as written (pipeline-log.jsonl,
 * metrics/ai-usage.jsonl), without the store's validation, so that tests see
 * exactly what is on disk. [] when the file does not exist.
 * @throws SyntaxError for a line that is not JSON (a test should fail then).
 */
import * as fs from 'node:fs';

export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}
