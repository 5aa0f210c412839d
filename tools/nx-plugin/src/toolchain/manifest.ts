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
 * @param parse checks the text and returns the value (e.g. config/project-config.ts parseValidatedJson with a zod
 *   schema, whose errors name the field); without it the text is only parsed as JSON.
 * @throws Error naming the file and the target to run when it is missing, not JSON, or refused by `parse`.
 */
export function readJson<T>(file: string, producedBy: string, parse?: (file: string, text: string) => T): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} not found: run ${producedBy} first (it is a dependency of this target)`);
  }
  if (parse) {
    try {
      return parse(file, text);
    } catch (e) {
      throw new Error(`${(e as Error).message} (written by ${producedBy}; run it again)`, { cause: e });
    }
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); run ${producedBy} again`, { cause: e });
  }
}

/**
 * Reads the toolchain manifest. Tool paths in it are absolute, or relative to
 * the manifest's folder (the `source` provider's wrappers in `bin/`, so that a
 * cache restore into another checkout stays valid); they are returned absolute.
 * @throws Error when it is missing, not JSON, or of another schema version.
 */
export function readToolchainManifest(file: string): ToolchainManifest {
  const m = readJson<ToolchainManifest>(file, 'llvm-m68k:toolchain');
  if (m.schemaVersion !== 1) {
    throw new Error(
      `${file}: field 'schemaVersion': expected 1, got ${JSON.stringify(m.schemaVersion)}; run llvm-m68k:toolchain again`,
    );
  }
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(dir, p));
  for (const t of Object.values(m.llvm.tools)) t.path = abs(t.path);
  m.rust.rustc.path = abs(m.rust.rustc.path);
  m.rust.cargo.path = abs(m.rust.cargo.path);
  return m;
}
