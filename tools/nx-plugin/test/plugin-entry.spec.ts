// The entries Nx loads (nx.json `plugins` → tools/nx-plugin/plugin.js; executors.json → executors.js#<name>) and the
// rule that picks compiled dist/ or the TypeScript sources (bin/freshness.js loadPluginModule).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const PLUGIN = path.resolve(__dirname, '..');
const REPO = path.resolve(PLUGIN, '../..');

/** Runs `script` in a child node from the repository root; returns its stdout parsed as JSON. */
function inChild(script: string, env: Record<string, string> = {}): unknown {
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('the Nx entries', () => {
  it('nx.json loads plugin.js, which exports the plugin API of index.ts', () => {
    const nx = JSON.parse(fs.readFileSync(path.join(REPO, 'nx.json'), 'utf8'));
    expect(nx.plugins).toContain('./tools/nx-plugin/plugin.js');
    const exported = inChild(`const p = require('./tools/nx-plugin/plugin.js');
      process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v]))));`);
    expect(exported).toMatchObject({
      createNodes: 'object',
      createNodesV2: 'object',
      preTasksExecution: 'function',
      postTasksExecution: 'function',
    });
  });

  // Executors and generators: each collection names `./<kind>s.js#<name>`, which loads dist/ or the TypeScript source
  // itself (Nx can load a TypeScript generator only through a tsconfig at the workspace root, which this workspace
  // keeps under tools/).
  it.each([
    ['executor', 'implementation'],
    ['generator', 'factory'],
  ] as const)(
    'every %s of its collection is `./<kind>s.js#<name>` and resolves to the default export of src/<kind>s/<name>/<kind>.ts',
    (kind, field) => {
      const collection = JSON.parse(fs.readFileSync(path.join(PLUGIN, `${kind}s.json`), 'utf8'))[`${kind}s`] as Record<
        string,
        Record<string, string>
      >;
      for (const [name, entry] of Object.entries(collection)) {
        expect(entry[field]).toBe(`./${kind}s.js#${name}`);
        expect(fs.existsSync(path.join(PLUGIN, `src/${kind}s`, name, `${kind}.ts`))).toBe(true);
        expect(fs.existsSync(path.join(PLUGIN, entry.schema))).toBe(true);
      }
      const names = inChild(`const e = require('./tools/nx-plugin/${kind}s.js');
      process.stdout.write(JSON.stringify(Object.keys(e).map((k) => [k, typeof e[k], e[k].name])));`) as [
        string,
        string,
        string,
      ][];
      expect(names.map(([n]) => n).sort()).toEqual(Object.keys(collection).sort());
      for (const [name, type, fn] of names) {
        expect(type).toBe('function');
        // The function declared in that file (e.g. `emulatorTestExecutor` for the emulator-test executor).
        expect(fn.toLowerCase()).toBe(`${name.replace(/-/g, '')}${kind}`);
      }
    },
  );
});

describe('what the plugin loads at graph time', () => {
  // Heavy packages graph time must not load: @nx/devkit's index (most of Nx's public API), the config validation
  // (zod), the TOML parser (smol-toml), the executors' process runner (execa).
  const HEAVY = ['@nx/devkit/dist/index.js', 'zod/', 'smol-toml/', 'execa/'];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-plugin-entry-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** In a child: loads plugin.js and, with `once`, runs its createNodes on the committed nextrust.json files. */
  const graphTime = (run: 'none' | 'once') =>
    inChild(
      `const heavy = ${JSON.stringify(HEAVY)};
      const loaded = () => heavy.filter((h) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + h)));
      const plugin = require('./tools/nx-plugin/plugin.js');
      const files = require('node:fs').readdirSync('projects').map((p) => 'projects/' + p + '/nextrust.json')
        .filter((f) => require('node:fs').existsSync(f)).sort();
      (async () => {
        const out = { afterLoad: loaded() };
        if (${JSON.stringify(run)} === 'once') {
          const results = await plugin.createNodes[1](files, {}, { workspaceRoot: process.cwd(), nxJsonConfiguration: {} });
          out.projects = results.map(([f]) => f);
          out.files = files;
          out.afterCreateNodes = loaded();
          // The module that ran (compiled or TypeScript), as loaded: its stats of this call.
          const cn = Object.keys(require.cache).find((f) => /[\\/]graph[\\/]create-nodes\\.(js|ts)$/.test(f));
          out.stats = require.cache[cn].exports.lastCreateNodesStats;
        }
        process.stdout.write(JSON.stringify(out));
      })();`,
      { NX_WORKSPACE_DATA_DIRECTORY: dataDir },
    ) as { afterLoad: string[]; afterCreateNodes?: string[]; projects?: string[]; files?: string[]; stats?: object };

  it('loading plugin.js loads none of them', () => {
    expect(graphTime('none').afterLoad).toEqual([]);
  });

  it('createNodes answered from the cache loads none of them; inference (a cold cache) does', () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    const cold = graphTime('once');
    expect(cold.stats).toMatchObject({ cached: 0 });
    expect(cold.afterCreateNodes).toEqual(expect.arrayContaining(['zod/', 'smol-toml/']));
    const warm = graphTime('once');
    expect(warm.projects).toEqual(warm.files);
    expect(warm.stats).toMatchObject({ cached: warm.files!.length, inferred: 0 });
    expect(warm.afterCreateNodes).toEqual([]);
  });
});

/**
 * A minimal plugin folder under the repository's tmp/ (so that @swc-node/register resolves from it): bin/freshness.js,
 * an empty index.ts, and empty src/ and dist/src/. Removed after the describe block that calls it.
 */
function miniPlugin(name: string): string {
  const root = path.join(REPO, 'tmp', `${name}-${process.pid}`);
  beforeAll(() => {
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(PLUGIN, 'bin/freshness.js'), path.join(root, 'bin/freshness.js'));
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.mkdirSync(path.join(root, 'dist/src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.ts'), 'export {};\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

describe('loadPluginModule: dist/ when fresh, else the TypeScript source', () => {
  const root = miniPlugin('plugin-entry');
  beforeAll(() => {
    fs.writeFileSync(path.join(root, 'src/answer.ts'), "export const from: string = 'source';\n");
    fs.writeFileSync(path.join(root, 'dist/src/answer.js'), "exports.from = 'dist';\n");
  });

  const load = () =>
    inChild(
      `process.stdout.write(JSON.stringify(require(${JSON.stringify(path.join(root, 'bin/freshness.js'))}).loadPluginModule(['src', 'answer']).from));`,
    );

  it('compiling the sources leaves the environment as it was (the Nx daemon recomputes the graph for any change)', () => {
    const out = inChild(
      `const before = JSON.stringify(process.env);
      const from = require(${JSON.stringify(path.join(root, 'bin/freshness.js'))}).loadPluginModule(['src', 'answer']).from;
      process.stdout.write(JSON.stringify({ from, same: JSON.stringify(process.env) === before }));`,
      { SWC_NODE_PROJECT: '', TS_NODE_PROJECT: '' },
    );
    expect(out).toEqual({ from: 'source', same: true });
  });
  const touch = (rel: string, t: number) => fs.utimesSync(path.join(root, rel), t, t);

  it('never built: the source', () => {
    expect(load()).toBe('source');
  });

  it('a build stamp newer than every source (index.ts included): dist', () => {
    const now = Date.now() / 1000;
    fs.writeFileSync(path.join(root, 'dist/.build-stamp'), '');
    touch('dist/.build-stamp', now);
    touch('src/answer.ts', now - 60);
    touch('index.ts', now - 60);
    expect(load()).toBe('dist');
  });

  it('a source edited after the build, or index.ts: the source again', () => {
    const now = Date.now() / 1000;
    touch('dist/.build-stamp', now - 30);
    touch('src/answer.ts', now);
    expect(load()).toBe('source');
    touch('src/answer.ts', now - 60);
    touch('index.ts', now);
    expect(load()).toBe('source');
  });
});

describe('a long-lived process (the Nx daemon with plugin isolation off) sees an edit to the plugin', () => {
  const root = miniPlugin('plugin-reload');

  it('codeVersion changes with each edit or build, and after forgetPluginModules the next load reads the new code', () => {
    // One child plays the daemon: load, edit, check, reload, as plugin.js does before every call.
    const steps = inChild(`
      const fs = require('node:fs'), path = require('node:path');
      const root = ${JSON.stringify(root)};
      const f = require(path.join(root, 'bin/freshness.js'));
      const at = (rel, t) => fs.utimesSync(path.join(root, rel), t, t);
      const write = (rel, text, t) => { fs.writeFileSync(path.join(root, rel), text); at(rel, t); };
      const t0 = Math.floor(Date.now() / 1000) - 600;
      const out = [];
      const step = (label) => {
        const version = f.codeVersion(root);
        const changed = version !== out.at(-1)?.version;
        const removed = changed ? f.forgetPluginModules(root) : 0;
        out.push({ label, version, changed, removed, from: f.loadPluginModule(['src', 'answer']).from });
      };
      write('src/answer.ts', "export const from: string = 'source 1';\\n", t0);
      write('index.ts', 'export {};\\n', t0);
      step('never built');
      write('dist/src/answer.js', "exports.from = 'dist 1';\\n", t0 + 10);
      write('dist/.build-stamp', '', t0 + 10);
      step('built');
      step('nothing changed');
      write('src/answer.ts', "export const from: string = 'source 2';\\n", t0 + 20);
      step('source edited');
      write('dist/src/answer.js', "exports.from = 'dist 2';\\n", t0 + 30);
      write('dist/.build-stamp', '', t0 + 30);
      step('built again');
      process.stdout.write(JSON.stringify(out));`) as {
      label: string;
      changed: boolean;
      removed: number;
      from: string;
    }[];
    expect(steps.map(({ label, changed, from }) => ({ label, changed, from }))).toEqual([
      { label: 'never built', changed: true, from: 'source 1' },
      { label: 'built', changed: true, from: 'dist 1' },
      { label: 'nothing changed', changed: false, from: 'dist 1' },
      { label: 'source edited', changed: true, from: 'source 2' },
      { label: 'built again', changed: true, from: 'dist 2' },
    ]);
    // Each reload forgot the one module loaded before it (bin/freshness.js itself stays).
    expect(steps.filter((s) => s.changed).map((s) => s.removed)).toEqual([0, 1, 1, 1]);
  });
});
