/**
 * The inferred-targets cache: createNodes keeps what it inferred from each
 * nextrust.json in a JSON file in Nx's workspace data directory and reuses it
 * while nothing inference reads has changed, the way Nx's own plugins keep
 * theirs (e.g. @nx/jest's plugin.ts: a `<plugin>-<hash of the options>.hash`
 * file under `workspaceDataDirectory`, entries keyed by a hash of the options
 * and the files they read;
 * https://github.com/nrwl/nx/blob/master/packages/jest/src/plugins/plugin.ts).
 *
 * An entry's key is a sha256 of: this cache's format version, the workspace
 * root, the plugin options, whether nx.json defines the `production` named input, the config file's path, the plugin's own code
 * (every file under its src/ that inference or the executors' import walk can
 * read), and the content of every file inference read for that project, as
 * recorded in the entry (`reads`). Reads are hashed before the targets are
 * built from them, so an edit made during inference leaves a key that no
 * longer matches. A missing, unreadable or malformed cache file is an empty
 * cache (the next write replaces it); writes go to a temporary file renamed
 * over the cache, so concurrent Nx processes never read half a file.
 *
 * Plain Node only (fs, path, crypto): this module loads on every project-graph
 * computation.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CreateNodesResult } from '@nx/devkit';

/** Version of the cache file's format and of the key's recipe; a change invalidates every entry. */
export const TARGETS_CACHE_VERSION = 2;

/**
 * Files inference read for one project, relative to the workspace root (POSIX separators):
 *  - `{ file }`: one file;
 *  - `{ folder, each }`: the file named `each` in every subfolder of `folder` (the subfolders' names count too:
 *    a new program folder without that file is a change).
 */
export type FileSet = { file: string } | { folder: string; each: string };

/** One cached project: its key, what inference read, and the createNodes result inferred from it. */
export interface TargetsCacheEntry {
  /** Hex sha256 (module doc). */
  key: string;
  reads: FileSet[];
  result: CreateNodesResult;
}

/** The cache file's content: `version` and the entries by workspace-relative config file. */
export interface TargetsCacheFile {
  version: number;
  entries: Record<string, TargetsCacheEntry>;
}

/** Marks a file or folder that does not exist (or cannot be read) in a hash: distinct from any content. */
const MISSING = '\0missing\0';

function updateWithFile(hash: Hash, abs: string): void {
  try {
    hash.update(fs.readFileSync(abs));
  } catch {
    hash.update(MISSING);
  }
}

/**
 * sha256 of the files inference read: every set's description, then the content of each file (for a folder set, the
 * sorted names of its subfolders and each one's `each` file).
 * @param workspaceRoot absolute workspace root.
 * @param known contents inference already read, by workspace-relative path: hashed instead of reading the file again
 *   (so that the hash is of exactly the text that was parsed).
 * @returns hex digest. Never throws: a missing file or folder hashes as a marker.
 */
export function hashFileSets(
  workspaceRoot: string,
  sets: readonly FileSet[],
  known: ReadonlyMap<string, string | Buffer> = new Map(),
): string {
  const hash = createHash('sha256');
  for (const set of sets) {
    hash.update(`\n${JSON.stringify(set)}\n`);
    if ('file' in set) {
      const text = known.get(set.file);
      if (text !== undefined) hash.update(text);
      else updateWithFile(hash, path.join(workspaceRoot, set.file));
      continue;
    }
    let subfolders: string[];
    try {
      subfolders = fs
        .readdirSync(path.join(workspaceRoot, set.folder), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch {
      hash.update(MISSING);
      continue;
    }
    for (const name of subfolders) {
      hash.update(`\n${name}\n`);
      updateWithFile(hash, path.join(workspaceRoot, set.folder, name, set.each));
    }
  }
  return hash.digest('hex');
}

/** Whether a file under the plugin's src/ is code inference can run or read: non-spec .ts, .js and .json. */
function isPluginCode(name: string): boolean {
  return (name.endsWith('.ts') && !name.endsWith('.spec.ts')) || name.endsWith('.js') || name.endsWith('.json');
}

/**
 * sha256 of the plugin's code: the path and content of every non-spec .ts, .js and .json file under `srcDir`
 * (graph code and everything the executors' import walk of executor-inputs.ts can reach), in sorted order.
 * @param srcDir the plugin's src/ folder (absolute).
 * @returns hex digest.
 * @throws Error from the file system when `srcDir` cannot be listed.
 */
export function pluginCodeHash(srcDir: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), childRel);
      else if (isPluginCode(e.name)) {
        hash.update(`\n${childRel}\n`);
        hash.update(fs.readFileSync(path.join(dir, e.name)));
      }
    }
  };
  walk(srcDir, '');
  return hash.digest('hex');
}

/** What identifies one project's inference besides its reads. */
export interface CacheKeyParts {
  workspaceRoot: string;
  /** The plugin options (nx.json), as given. */
  options: unknown;
  /** Whether nx.json defines the `production` named input (the build and test targets' inputs depend on it). */
  productionInput: boolean;
  /** Workspace-relative config file. */
  configFile: string;
  /** pluginCodeHash(). */
  codeHash: string;
  /** hashFileSets() of the entry's reads. */
  readsHash: string;
}

/** The key of one project's entry (module doc): hex sha256. */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        TARGETS_CACHE_VERSION,
        parts.workspaceRoot,
        parts.options ?? null,
        parts.productionInput,
        parts.configFile,
        parts.codeHash,
        parts.readsHash,
      ]),
    )
    .digest('hex');
}

/**
 * Path of the cache file for a set of plugin options: `<workspace data directory>/nextrust-targets-<hash>.json`, the
 * hash being the first 16 hex digits of the options' sha256 (one file per distinct `options` in nx.json, as the @nx
 * plugins do).
 * @param workspaceDataDirectory Nx's workspace data directory (absolute; `.nx/workspace-data` by default).
 */
export function targetsCachePath(workspaceDataDirectory: string, options: unknown): string {
  const optionsHash = createHash('sha256')
    .update(JSON.stringify(options ?? null))
    .digest('hex')
    .slice(0, 16);
  return path.join(workspaceDataDirectory, `nextrust-targets-${optionsHash}.json`);
}

function isEntry(v: unknown): v is TargetsCacheEntry {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.key === 'string' &&
    Array.isArray(e.reads) &&
    e.reads.every(
      (r) =>
        r &&
        typeof r === 'object' &&
        (typeof (r as { file?: unknown }).file === 'string' ||
          (typeof (r as { folder?: unknown }).folder === 'string' &&
            typeof (r as { each?: unknown }).each === 'string')),
    ) &&
    !!e.result &&
    typeof e.result === 'object'
  );
}

/**
 * Reads the cache file.
 * @returns its entries by config file; empty when the file is missing, unreadable, not JSON, of another version or
 *   not shaped like a cache (malformed entries are dropped one by one). Never throws.
 */
export function readTargetsCache(file: string): Record<string, TargetsCacheEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const data = parsed as Partial<TargetsCacheFile> | null;
  if (!data || data.version !== TARGETS_CACHE_VERSION || !data.entries || typeof data.entries !== 'object') return {};
  const entries: Record<string, TargetsCacheEntry> = {};
  for (const [configFile, entry] of Object.entries(data.entries)) if (isEntry(entry)) entries[configFile] = entry;
  return entries;
}

/**
 * Writes the cache file (creating its folder): a temporary file in the same folder, renamed over it.
 * @returns null when written, else the error's message (the cache is an optimisation: a read-only or full disk must
 *   not fail the project graph; the caller may report it).
 */
export function writeTargetsCache(file: string, entries: Record<string, TargetsCacheEntry>): string | null {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const content: TargetsCacheFile = { version: TARGETS_CACHE_VERSION, entries };
    fs.writeFileSync(tmp, JSON.stringify(content));
    fs.renameSync(tmp, file);
    return null;
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // its folder could not be made: there is no temporary file
    }
    return (e as Error).message;
  }
}
