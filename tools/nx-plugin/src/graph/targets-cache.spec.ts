// Covers the inferred-targets cache's pieces: hashes of what inference read, of the plugin's code, and the cache
// file (a corrupt or foreign file is an empty cache, never an error). createNodes' use of it: create-nodes.spec.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cacheKey,
  hashFileSets,
  pluginCodeHash,
  readTargetsCache,
  targetsCachePath,
  TARGETS_CACHE_VERSION,
  writeTargetsCache,
  type FileSet,
  type TargetsCacheEntry,
} from './targets-cache';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-targets-cache-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

describe('hashFileSets', () => {
  const sets: FileSet[] = [{ file: 'p/nextrust.json' }, { folder: 'p/programs', each: 'Cargo.toml' }];
  let ws: string;
  beforeEach(() => {
    ws = tempDir();
    write(ws, 'p/nextrust.json', '{"kind":"rust-target"}');
    write(ws, 'p/programs/a/Cargo.toml', '[package]\nname = "a"\n');
    write(ws, 'p/programs/b/Cargo.toml', '[package]\nname = "b"\n');
  });
  const hash = () => hashFileSets(ws, sets);

  it('is stable while nothing changes, and unaffected by files inference does not read', () => {
    const before = hash();
    write(ws, 'p/programs/a/src/main.rs', 'fn main() {}\n');
    write(ws, 'p/README.md', 'docs\n');
    expect(hash()).toBe(before);
  });

  it('changes with the config text, a program Cargo.toml, a new or removed program folder', () => {
    const seen = new Set([hash()]);
    const changed = (edit: () => void) => {
      edit();
      const h = hash();
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    };
    changed(() => write(ws, 'p/nextrust.json', '{"kind":"rust-target","profile":"dev"}'));
    changed(() => write(ws, 'p/programs/a/Cargo.toml', '[package]\nname = "a"\nversion = "0.2.0"\n'));
    changed(() => fs.mkdirSync(path.join(ws, 'p/programs/c'))); // a folder without Cargo.toml: a problem, still a change
    changed(() => write(ws, 'p/programs/c/Cargo.toml', '[package]\nname = "c"\n'));
    changed(() => fs.rmSync(path.join(ws, 'p/programs/b'), { recursive: true }));
    changed(() => fs.rmSync(path.join(ws, 'p/programs'), { recursive: true }));
    changed(() => fs.rmSync(path.join(ws, 'p/nextrust.json')));
  });

  it('tells a missing file from an empty one, and content moved between files apart', () => {
    write(ws, 'p/programs/a/Cargo.toml', '');
    const empty = hash();
    fs.rmSync(path.join(ws, 'p/programs/a/Cargo.toml'));
    expect(hash()).not.toBe(empty);
    write(ws, 'p/programs/a/Cargo.toml', 'x');
    write(ws, 'p/programs/b/Cargo.toml', '');
    const inA = hash();
    write(ws, 'p/programs/a/Cargo.toml', '');
    write(ws, 'p/programs/b/Cargo.toml', 'x');
    expect(hash()).not.toBe(inA);
  });

  it('hashes the text inference parsed when given, instead of reading the file again', () => {
    const parsed = '{"kind":"rust-target"}';
    const h = hashFileSets(ws, sets, new Map([['p/nextrust.json', parsed]]));
    expect(h).toBe(hash());
    write(ws, 'p/nextrust.json', '{"kind":"rust-target","profile":"dev"}');
    expect(hashFileSets(ws, sets, new Map([['p/nextrust.json', parsed]]))).toBe(h);
    expect(hash()).not.toBe(h);
  });
});

describe('pluginCodeHash', () => {
  let src: string;
  beforeEach(() => {
    src = tempDir();
    write(src, 'graph/a.ts', 'export const a = 1;\n');
    write(src, 'graph/a.spec.ts', 'test\n');
    write(src, 'toolchain/candidates.json', '{}');
    write(src, 'executors/build/schema.json', '{}');
    write(src, 'pipeline/fixtures/notes.log', 'log\n');
  });

  it('changes with any non-spec .ts, .js or .json file, its path or a new one', () => {
    const seen = new Set([pluginCodeHash(src)]);
    for (const edit of [
      () => write(src, 'graph/a.ts', 'export const a = 2;\n'),
      () => write(src, 'toolchain/candidates.json', '{"x":1}'),
      () => write(src, 'executors/build/helper.js', 'module.exports = 1;\n'),
      () => fs.renameSync(path.join(src, 'graph/a.ts'), path.join(src, 'graph/b.ts')),
    ]) {
      edit();
      const h = pluginCodeHash(src);
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    }
  });

  it('ignores specs and files that are not code', () => {
    const h = pluginCodeHash(src);
    write(src, 'graph/a.spec.ts', 'another test\n');
    write(src, 'pipeline/fixtures/notes.log', 'other log\n');
    write(src, 'README.md', 'docs\n');
    expect(pluginCodeHash(src)).toBe(h);
  });
});

describe('cacheKey and targetsCachePath', () => {
  const parts = {
    workspaceRoot: '/w',
    options: { distDir: 'dist' },
    productionInput: false,
    configFile: 'p/nextrust.json',
    codeHash: 'c',
    readsHash: 'r',
  };
  it('changes with every part', () => {
    const keys = new Set([cacheKey(parts)]);
    for (const change of [
      { workspaceRoot: '/v' },
      { options: { distDir: 'out' } },
      { productionInput: true },
      { configFile: 'q/nextrust.json' },
      { codeHash: 'd' },
      { readsHash: 's' },
    ]) {
      keys.add(cacheKey({ ...parts, ...change }));
    }
    expect(keys.size).toBe(7);
  });
  it('keeps one file per set of plugin options in the workspace data directory', () => {
    const a = targetsCachePath('/w/.nx/workspace-data', {});
    expect(path.dirname(a)).toBe('/w/.nx/workspace-data');
    expect(path.basename(a)).toMatch(/^nextrust-targets-[0-9a-f]{16}\.json$/);
    expect(targetsCachePath('/w/.nx/workspace-data', {})).toBe(a);
    expect(targetsCachePath('/w/.nx/workspace-data', { distDir: 'out' })).not.toBe(a);
  });
});

describe('readTargetsCache / writeTargetsCache', () => {
  const entry: TargetsCacheEntry = {
    key: 'k',
    reads: [{ file: 'p/nextrust.json' }, { folder: 'p/programs', each: 'Cargo.toml' }],
    result: { projects: { p: { root: 'p', name: 'p', targets: {} } } },
  };

  it('reads back what it wrote, creating the folder', () => {
    const file = path.join(tempDir(), 'deep/data/cache.json');
    expect(writeTargetsCache(file, { 'p/nextrust.json': entry })).toBeNull();
    expect(readTargetsCache(file)).toEqual({ 'p/nextrust.json': entry });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cache.json']); // no temporary file left
  });

  it('reads a missing, corrupt, truncated or foreign file as an empty cache', () => {
    const dir = tempDir();
    const file = path.join(dir, 'cache.json');
    expect(readTargetsCache(file)).toEqual({});
    for (const text of [
      '',
      '{"version": 1, "entries": {"p/nextrust.json": {"key": "k", "re',
      'null',
      '[]',
      JSON.stringify({ version: TARGETS_CACHE_VERSION + 1, entries: { 'p/nextrust.json': entry } }),
      JSON.stringify({ version: TARGETS_CACHE_VERSION, entries: 'none' }),
    ]) {
      fs.writeFileSync(file, text);
      expect(readTargetsCache(file)).toEqual({});
    }
    fs.mkdirSync(path.join(dir, 'a-folder'));
    expect(readTargetsCache(path.join(dir, 'a-folder'))).toEqual({});
  });

  it('drops malformed entries and keeps the good ones', () => {
    const file = path.join(tempDir(), 'cache.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: TARGETS_CACHE_VERSION,
        entries: {
          'good/nextrust.json': entry,
          'no-key/nextrust.json': { ...entry, key: 3 },
          'bad-read/nextrust.json': { ...entry, reads: [{ folder: 'x' }] },
          'no-result/nextrust.json': { key: 'k', reads: [] },
          'null/nextrust.json': null,
        },
      }),
    );
    expect(Object.keys(readTargetsCache(file))).toEqual(['good/nextrust.json']);
  });

  it('reports a write it cannot make instead of throwing, and leaves no temporary file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const message = writeTargetsCache(path.join(dir, 'a-file', 'cache.json'), { 'p/nextrust.json': entry });
    expect(message).toMatch(/EEXIST|ENOTDIR/);
    fs.mkdirSync(path.join(dir, 'target-is-a-folder'));
    expect(writeTargetsCache(path.join(dir, 'target-is-a-folder'), {})).toMatch(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(fs.readdirSync(dir).sort()).toEqual(['a-file', 'target-is-a-folder']);
  });
});
