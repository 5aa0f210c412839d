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
 * @returns {{ fresh: boolean, stampMtimeMs: number | undefined }} fresh: dist/ may be run;
 *   stampMtimeMs: mtime of dist/.build-stamp (ms), undefined when never built.
 */
function distFreshness(pluginDir) {
  let stampMtimeMs;
  try {
    stampMtimeMs = fs.statSync(path.join(pluginDir, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return { fresh: false, stampMtimeMs: undefined };
  }
  const newest = Math.max(
    newestSourceMtime(path.join(pluginDir, 'src')),
    fs.statSync(path.join(pluginDir, 'index.ts')).mtimeMs,
  );
  return { fresh: newest <= stampMtimeMs, stampMtimeMs };
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
  require('@swc-node/register');
  return require(path.join(pluginDir, ...rel) + '.ts');
}

module.exports = { distFreshness, newestSourceMtime, loadPluginModule };
