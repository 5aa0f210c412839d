/**
 * Whether the compiled plugin in dist/ is current: `dist/.build-stamp`
 * (written last by `npm run build`) is at least as new as every source that
 * is compiled into dist/ (non-spec .ts and .json under src/, fixtures aside).
 * Used by bin/nextrust.js (compiled or on-the-fly TypeScript) and by the hook
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
    else if ((e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) || e.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
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
  return { fresh: newestSourceMtime(path.join(pluginDir, 'src')) <= stampMtimeMs, stampMtimeMs };
}

module.exports = { distFreshness, newestSourceMtime };
