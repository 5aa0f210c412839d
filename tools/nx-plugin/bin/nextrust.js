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

// `nextrust hook <event>` (Claude Code, every tool call) goes straight to the
// dispatcher, without loading the rest of the CLI.
const hook = process.argv[2] === 'hook' && process.argv[3] && !process.argv[3].startsWith('-');
const rel = hook ? ['integrations', 'claude', 'hook-main'] : ['cli', 'main'];

let compiled = false;
try {
  const built = fs.statSync(path.join(pkg, 'dist', '.build-stamp')).mtimeMs;
  compiled = newestMtime(path.join(pkg, 'src')) <= built;
} catch {
  // not built
}
if (!compiled) require('@swc-node/register');
const entry = compiled ? path.join(pkg, 'dist', 'src', ...rel) + '.js' : path.join(pkg, 'src', ...rel) + '.ts';
if (hook) {
  require(entry)
    .hookMain(process.argv[3])
    .then((code) => {
      process.exitCode = code;
    });
} else {
  require(entry);
}
