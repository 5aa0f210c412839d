// The plugin code each executor runs, found by following imports: checked against what Node really loads (each
// executor module required in a child process, its require.cache read), so a module the walk misses fails here.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  executorCode,
  executorInputs,
  packageOf,
  pluginSourceDir,
  POST_TARGET_MODULES,
  runtimeImports,
} from './executor-inputs';

const SRC = path.resolve(__dirname, '..');
const REPO_ROOT = path.resolve(SRC, '../../..');
const EXECUTORS = JSON.parse(fs.readFileSync(path.join(SRC, '../executors.json'), 'utf8')).executors as Record<
  string,
  { implementation: string }
>;

describe('runtimeImports', () => {
  it('finds value imports, re-exports, side-effect imports, require and import(); skips type-only imports and comments', () => {
    const source = [
      "import * as fs from 'node:fs';",
      "import { a, b } from './values';",
      "import type { T } from './types-only';",
      "import { type U, type V } from './all-named-types';",
      "import { type W, x } from './mixed';",
      "import def from 'some-package/sub/path';",
      "export { y } from './re-export';",
      "export type { Z } from './re-export-type';",
      "import './side-effect';",
      "const c = require('./required');",
      "const d = await import('@scope/pkg/deep');",
      "// import { gone } from './commented-line';",
      "/* import { gone } from './commented-block'; */",
      "const url = 'http://example.com/not-a-comment'; import { after } from './after-url';",
    ].join('\n');
    expect(runtimeImports(source).sort()).toEqual(
      [
        'node:fs',
        './values',
        './mixed',
        'some-package/sub/path',
        './re-export',
        './side-effect',
        './required',
        '@scope/pkg/deep',
        './after-url',
      ].sort(),
    );
  });

  it('packageOf: scoped and plain packages, built-ins excluded', () => {
    expect(packageOf('@nx/devkit/internal')).toBe('@nx/devkit');
    expect(packageOf('execa')).toBe('execa');
    expect(packageOf('write-file-atomic/lib/x')).toBe('write-file-atomic');
    expect(packageOf('node:path')).toBeNull();
    expect(packageOf('fs')).toBeNull();
    expect(packageOf('fs/promises')).toBeNull();
  });
});

describe('executorCode of every executor in executors.json', () => {
  it('pluginSourceDir is this plugin src/', () => {
    expect(pluginSourceDir()).toBe(SRC);
  });

  it.each(Object.keys(EXECUTORS))(
    '%s: the walk is exactly the plugin modules and npm packages Node loads for it, without post-target code',
    (name) => {
      const impl = path.join(SRC, 'executors', name, 'executor.ts');
      const stops = POST_TARGET_MODULES.map((m) => path.join(SRC, m));
      // A child node with the TypeScript hook requires the executor module; the post-target hooks are replaced by an
      // empty module; every bare import made by a plugin module is recorded.
      const script = `
      const Module = require('module');
      const stops = new Set(${JSON.stringify(stops)});
      const src = ${JSON.stringify(SRC + path.sep)};
      const packages = new Set();
      const load = Module._load;
      Module._load = function (request, parent, isMain) {
        const file = Module._resolveFilename(request, parent, isMain);
        if (stops.has(file)) return {};
        if (parent && parent.filename && parent.filename.startsWith(src) && !request.startsWith('.') && file !== request) packages.add(request);
        return load.apply(this, arguments);
      };
      require(${JSON.stringify(impl)});
      process.stdout.write(JSON.stringify({ modules: Object.keys(require.cache), packages: [...packages] }));`;
      const res = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      expect(res.stderr).toBe('');
      const loaded: { modules: string[]; packages: string[] } = JSON.parse(res.stdout);
      const code = executorCode(name);
      const modules = loaded.modules.filter((f) => f.startsWith(SRC + path.sep)).map((f) => path.relative(SRC, f));
      const packages = [
        ...new Set(loaded.packages.map((p) => packageOf(p)).filter((p): p is string => p !== null)),
      ].sort();
      // Every module Node loaded is in the walk; the walk adds only the schema files and modules behind a dynamic import().
      expect(modules.filter((m) => !code.files.includes(m))).toEqual([]);
      const extra = code.files.filter((f) => !modules.includes(f));
      for (const f of extra)
        expect({ f, why: /schema\.(json|d\.ts)$/.test(f) || dynamicallyImported(code.files, f) }).toEqual({
          f,
          why: true,
        });
      expect(packages.filter((p) => !code.packages.includes(p))).toEqual([]);
      for (const p of code.packages.filter((x) => !packages.includes(x)))
        expect({ p, dynamic: dynamicallyImported(code.files, p) }).toEqual({ p, dynamic: true });
      // Post-target code (failure analysis, AI review) is not an input of a build.
      expect(code.files.filter((f) => /^(ai|integrations|cli)\//.test(f) || POST_TARGET_MODULES.includes(f))).toEqual(
        [],
      );
      expect(code.packages.filter((p) => ['openai', '@google/genai', '@octokit/rest', 'jest'].includes(p))).toEqual([]);
      expect(code.files).toContain('executors/run-target.ts');
      expect(code.files).toContain(path.join('executors', name, 'schema.json'));
    },
  );

  it('an import that does not resolve is an error naming the file and the import', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-executor-inputs-'));
    try {
      fs.mkdirSync(path.join(dir, 'executors', 'broken'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'executors', 'broken', 'executor.ts'), "import { x } from '../nowhere';\n");
      expect(() => executorCode('broken', dir)).toThrow(
        `${path.join(dir, 'executors', 'broken', 'executor.ts')}: cannot resolve import '../nowhere'`,
      );
      expect(() => executorCode('missing', dir)).toThrow(
        `executor 'missing': no folder ${path.join(dir, 'executors', 'missing')}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an edited import is seen by the next walk (no stale cache)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-executor-inputs-'));
    try {
      fs.mkdirSync(path.join(dir, 'executors', 'e'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'a.ts'), "import 'execa';\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import { z } from 'zod';\n");
      fs.writeFileSync(path.join(dir, 'executors', 'e', 'executor.ts'), "import { a } from '../../a';\n");
      expect(executorCode('e', dir)).toEqual({ files: ['a.ts', 'executors/e/executor.ts'], packages: ['execa'] });
      fs.writeFileSync(path.join(dir, 'executors', 'e', 'executor.ts'), "import { b } from '../../b';\n");
      expect(executorCode('e', dir)).toEqual({ files: ['b.ts', 'executors/e/executor.ts'], packages: ['zod'] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('executorInputs: workspace file inputs under tools/nx-plugin/src and one externalDependencies input', () => {
    const inputs = executorInputs('build');
    const deps = inputs.filter((i) => typeof i === 'object' && 'externalDependencies' in i);
    expect(deps).toEqual([{ externalDependencies: executorCode('build').packages }]);
    for (const i of inputs.filter((x) => typeof x === 'string')) {
      expect(i).toMatch(/^\{workspaceRoot\}\/tools\/nx-plugin\/src\//);
      expect(fs.existsSync(path.join(REPO_ROOT, (i as string).replace('{workspaceRoot}/', '')))).toBe(true);
    }
  });
});

/** Whether a walked module imports `target` (a module path relative to src/, or a package) only through import(). */
function dynamicallyImported(files: string[], target: string): boolean {
  const stem = target.replace(/\.ts$/, '');
  return files.some(
    (f) =>
      /\.ts$/.test(f) &&
      new RegExp(`import\\(\\s*['"][^'"]*${path.basename(stem).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`).test(
        fs.readFileSync(path.join(SRC, f), 'utf8'),
      ),
  );
}
