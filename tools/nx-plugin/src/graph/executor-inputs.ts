/**
 * The plugin code an executor runs, as Nx inputs, found by following its
 * imports instead of a hand-kept list (a list drifts: an edit to a module it
 * forgot did not invalidate the targets that run it).
 *
 * From `src/executors/<name>/` the walk follows every static value import
 * (`import … from`, `export … from`, `import '…'`, `require('…')`) of a
 * relative module; `import type` and imports whose names are all `type` are
 * erased by TypeScript and not followed; dynamic `import()` is followed too
 * (it runs as part of the task). It stops at the post-target hooks
 * (POST_TARGET_MODULES): they run after a target's outputs are complete and
 * write only the status directory, so failure analysis or AI review code is
 * not an input of a build. Bare specifiers become the target's
 * `externalDependencies` (npm package names; `node:` built-ins excluded), so
 * Nx hashes only the versions of the packages the executor really loads
 * instead of every package in the lockfile
 * (https://nx.dev/reference/inputs#external-dependencies).
 */
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import type { InputDefinition } from './common';

/** Where the plugin's sources are, relative to the workspace root (the `plugins` entry of nx.json). */
export const PLUGIN_SOURCE_ROOT = 'tools/nx-plugin/src';

/**
 * The plugin's own `src/` folder (TypeScript sources), found from this module's location whether it runs as TypeScript
 * (`src/graph/`) or compiled (`dist/src/graph/`): the nearest folder above with a package.json, plus `src`.
 */
export function pluginSourceDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return path.join(dir, 'src');
}

/** Modules (relative to the plugin's src/) where the walk stops: code that runs after the outputs are written. */
export const POST_TARGET_MODULES: readonly string[] = ['pipeline/target-hooks.ts'];

/** What an executor runs: plugin source files (relative to the plugin's src/, sorted) and npm packages (sorted). */
export interface ExecutorCode {
  files: string[];
  packages: string[];
}

const BUILTINS = new Set(builtinModules);

/**
 * The module specifiers a TypeScript source loads at run time.
 * @param source TypeScript text. @returns specifiers in order of appearance (duplicates kept).
 */
export function runtimeImports(source: string): string[] {
  // Comments out, strings kept: a specifier is always a string literal.
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const statement = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (let m = statement.exec(text); m; m = statement.exec(text)) {
    const [, , typeOnly, clause, spec] = m;
    if (typeOnly) continue;
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    if (named) {
      const names = named[1]
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      if (names.length && names.every((n) => n.startsWith('type '))) continue;
    }
    found.push(spec);
  }
  for (const re of [
    /(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]) {
    for (let m = re.exec(text); m; m = re.exec(text)) found.push(m[1]);
  }
  return found;
}

/** The npm package of a bare specifier (`@scope/name/sub` → `@scope/name`), or null for a built-in. */
export function packageOf(spec: string): string | null {
  if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0])) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function resolveRelative(fromFile: string, spec: string): string | null {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.js`,
    `${base}.json`,
    path.join(base, 'index.ts'),
    path.join(base, 'index.js'),
  ]) {
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // next candidate
    }
  }
  return null;
}

/**
 * Walks the imports of an executor (module doc).
 * @param executorName folder under `src/executors/`; @param srcRoot the plugin's src/ (default pluginSourceDir()).
 * @returns the files (relative to srcRoot, including the executor folder's schema files) and packages it loads.
 * @throws Error when the executor folder does not exist, or a relative import does not resolve (naming both files).
 */
export function executorCode(executorName: string, srcRoot: string = pluginSourceDir()): ExecutorCode {
  const folder = path.join(srcRoot, 'executors', executorName);
  if (!fs.existsSync(folder)) throw new Error(`executor '${executorName}': no folder ${folder}`);
  const stops = new Set(POST_TARGET_MODULES.map((m) => path.join(srcRoot, m)));
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = fs
    .readdirSync(folder)
    .filter((f) => !/\.spec\.ts$/.test(f))
    .map((f) => path.join(folder, f));
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    if (stops.has(file) || !/\.[jt]s$/.test(file)) continue;
    for (const spec of runtimeImports(fs.readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (!target) throw new Error(`${file}: cannot resolve import '${spec}'`);
        queue.push(target);
      } else {
        const pkg = packageOf(spec);
        if (pkg) packages.add(pkg);
      }
    }
  }
  return {
    files: [...files]
      .filter((f) => !stops.has(f))
      .map((f) => path.relative(srcRoot, f))
      .sort(),
    packages: [...packages].sort(),
  };
}

/**
 * Nx inputs for the code an executor runs: one `{workspaceRoot}/tools/nx-plugin/src/…` file input per source file and
 * one `externalDependencies` input with its npm packages (always present, so that Nx never falls back to hashing every
 * package of the lockfile). A walk reads about 15 files (a few ms); it is redone whenever the inferred-targets cache
 * misses, and any edit to the plugin's sources makes it miss (targets-cache.ts pluginCodeHash), so an edited import is
 * seen at once.
 * @throws as executorCode.
 */
export function executorInputs(executorName: string): InputDefinition[] {
  const code = executorCode(executorName);
  return [
    ...code.files.map((f) => `{workspaceRoot}/${PLUGIN_SOURCE_ROOT}/${f}`),
    { externalDependencies: code.packages },
  ] as InputDefinition[];
}
