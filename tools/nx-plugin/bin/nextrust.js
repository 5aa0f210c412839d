#!/usr/bin/env node
/**
 * The `nextrust` CLI (src/cli). Runs the compiled JavaScript in dist/ when it
 * is newer than every source file (`npm run build` writes it; setup does),
 * else compiles the TypeScript on the fly with @swc-node/register (slower
 * start, same behaviour; bin/freshness.js decides). Claude Code's hook
 * command (bin/nextrust-hook) comes here only when the hook server cannot
 * serve a call (docs/integrations.md).
 */
'use strict';
const path = require('node:path');
const { distFreshness, registerTypeScript } = require('./freshness');

const pkg = path.join(__dirname, '..');

// `nextrust hook <event>` (Claude Code, every tool call) goes straight to the
// dispatcher, without loading the rest of the CLI.
const hook = process.argv[2] === 'hook' && process.argv[3] && !process.argv[3].startsWith('-');
const rel = hook ? ['integrations', 'claude', 'hook-main'] : ['cli', 'main'];

const compiled = distFreshness(pkg).fresh;
if (!compiled) registerTypeScript(pkg);
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
