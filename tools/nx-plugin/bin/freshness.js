/**
 * Whether the compiled plugin in dist/ is current: `dist/.build-stamp`
 * (written last by `npm run build`) is at least as new as every source that
 * is compiled into dist/ (non-spec .ts and .json under src/, fixtures aside).
 * Used by bin/nextrust.js (compiled or on-the-fly TypeScript), by the Nx
 * entries plugin.js and executors.js (loadPluginModule), and by the hook
 * server (a server whose code is no longer current hands calls back to the
 * bin and exits). Plain JavaScript: it runs before anything is compiled.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Newest mtime (ms since the epoch) of the compiled sources under `dir`, 0 when none. */
function newestSourceMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures') newest = Math.max(newest, newestSourceMtime(p));
    // Specs are not compiled into dist/ (tsconfig.build.json), so they do not make it stale.
    else if ((e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) || e.name.endsWith('.json'))
      newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * @param {string} pluginDir tools/nx-plugin
 * @returns {{ fresh: boolean, stampMtimeMs: number | undefined, newestMtimeMs: number }} fresh: dist/ may be run;
 *   stampMtimeMs: mtime of dist/.build-stamp (ms), undefined when never built; newestMtimeMs: newest mtime (ms) of
 *   index.ts and the compiled sources under src/.
 */
function distFreshness(pluginDir) {
  let stampMtimeMs;
  try {
    stampMtimeMs = fs.statSync(path.join(pluginDir, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    stampMtimeMs = undefined;
  }
  const newest = Math.max(
    newestSourceMtime(path.join(pluginDir, 'src')),
    fs.statSync(path.join(pluginDir, 'index.ts')).mtimeMs,
  );
  return { fresh: stampMtimeMs !== undefined && newest <= stampMtimeMs, stampMtimeMs, newestMtimeMs: newest };
}

/**
 * Loads a module of the plugin: its compiled JavaScript in dist/ when dist/ is fresh, else the TypeScript source
 * through @swc-node/register (the same code, compiled on the fly: seconds slower).
 * @param {string[]} rel path segments under the plugin folder, without extension, e.g. ['src', 'cli', 'main'].
 * @returns the module's exports.
 */
function loadPluginModule(rel) {
  const pluginDir = path.join(__dirname, '..');
  if (distFreshness(pluginDir).fresh) return require(path.join(pluginDir, 'dist', ...rel) + '.js');
  registerTypeScript(pluginDir);
  return require(path.join(pluginDir, ...rel) + '.ts');
}

/**
 * Compiles TypeScript on require from now on (@swc-node/register), with the workspace's compiler options:
 * tools/tsconfig.json, or SWC_NODE_PROJECT / TS_NODE_PROJECT when set. @swc-node/register would otherwise look for a
 * tsconfig.json in the working directory, which the workspace root does not have
 * (https://github.com/swc-project/swc-node/tree/master/packages/register). The environment is left as it is: in Nx's
 * daemon a variable set here would differ from every client's environment, and the daemon recomputes the project
 * graph for each such difference. Does nothing when @swc-node/register is already registered (`node -r`) or this ran.
 * @param {string} pluginDir tools/nx-plugin
 */
function registerTypeScript(pluginDir) {
  if (typeScriptRegistered || require.cache[require.resolve('@swc-node/register')]) return;
  typeScriptRegistered = true;
  const { register } = require('@swc-node/register/register');
  const { readDefaultTsConfig } = require('@swc-node/register/read-default-tsconfig');
  const tsconfig =
    process.env.SWC_NODE_PROJECT || process.env.TS_NODE_PROJECT || path.join(pluginDir, '..', 'tsconfig.json');
  register(readDefaultTsConfig(tsconfig));
}
let typeScriptRegistered = false;

/**
 * A string that changes whenever the code loadPluginModule would load changes: whether dist/ is fresh, the build
 * stamp's mtime and the newest source mtime (ms). Cheap (one stat per source file), so a long-lived process can call
 * it before every use of the plugin.
 * @param {string} pluginDir tools/nx-plugin
 * @returns {string}
 */
function codeVersion(pluginDir) {
  const { fresh, stampMtimeMs, newestMtimeMs } = distFreshness(pluginDir);
  return `${fresh}:${stampMtimeMs}:${newestMtimeMs}`;
}

/**
 * Removes the plugin's own modules (index, src/ and dist/, not bin/ nor anything under node_modules) from Node's
 * require cache, so that the next loadPluginModule reads them from disk again.
 * @param {string} pluginDir tools/nx-plugin
 * @returns {number} how many modules were removed.
 */
function forgetPluginModules(pluginDir) {
  const own = ['index.ts', 'src', 'dist'].map((p) => path.join(pluginDir, p));
  let removed = 0;
  for (const file of Object.keys(require.cache)) {
    if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    if (own.some((p) => file === p || file.startsWith(p + path.sep))) {
      delete require.cache[file];
      removed++;
    }
  }
  return removed;
}

module.exports = {
  codeVersion,
  distFreshness,
  forgetPluginModules,
  newestSourceMtime,
  loadPluginModule,
  registerTypeScript,
};
