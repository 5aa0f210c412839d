#!/usr/bin/env node
/**
 * The `nextrust` CLI (src/cli). Runs the compiled JavaScript in dist/ when it
 * is newer than every source file (`npm run build` writes it; setup does),
 * else compiles the TypeScript on the fly with @swc-node/register (slower
 * start, same behaviour). Claude Code hooks run this on every tool call, so
 * the fast path matters.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.join(__dirname, '..');

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures') newest = Math.max(newest, newestMtime(p));
    // Specs are not compiled into dist/ (tsconfig.build.json), so they do not make it stale.
    else if ((e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) || e.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

let entry;
try {
  const built = fs.statSync(path.join(pkg, 'dist', '.build-stamp')).mtimeMs;
  if (newestMtime(path.join(pkg, 'src')) <= built) entry = path.join(pkg, 'dist', 'src', 'cli', 'main.js');
} catch {
  // not built
}
if (!entry) {
  require('@swc-node/register');
  entry = path.join(pkg, 'src', 'cli', 'main.ts');
}
require(entry);
