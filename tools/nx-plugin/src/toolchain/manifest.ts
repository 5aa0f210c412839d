/**
 * Reading and writing the JSON manifests that targets hand to each other
 * (toolchain.json, atomics.json, sysroot.json, manifest.json): written
 * atomically (write-file-atomic: temp file + rename), read with a clear error
 * naming the file and the target that produces it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { ToolchainManifest } from './locate';

/** Writes `value` as pretty JSON (2-space indent, final newline), creating folders; atomic. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Reads a JSON file written by another target.
 * @param producedBy e.g. `llvm-m68k:toolchain`, named in the error.
 * @throws Error naming the file and the target to run when it is missing or not JSON.
 */
export function readJson<T>(file: string, producedBy: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} not found: run ${producedBy} first (it is a dependency of this target)`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); run ${producedBy} again`);
  }
}

/**
 * Reads the toolchain manifest.
 * @throws Error when it is missing, not JSON, or of another schema version.
 */
export function readToolchainManifest(file: string): ToolchainManifest {
  const m = readJson<ToolchainManifest>(file, 'llvm-m68k:toolchain');
  if (m.schemaVersion !== 1) {
    throw new Error(`${file}: field 'schemaVersion': expected 1, got ${JSON.stringify(m.schemaVersion)}; run llvm-m68k:toolchain again`);
  }
  return m;
}
