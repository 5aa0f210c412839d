#!/usr/bin/env node
/**
 * Compiles native/hook-client.c (the hook fast path) to dist/hook-client, or to
 * the path given as the first argument. `npm run build` runs it.
 *
 * Compiler: $CC, else clang-19 (installed by scripts/setup.sh), else cc.
 * Without any, it warns and exits 0: bin/nextrust-hook then runs every hook
 * through node (correct, ~100 ms slower per call).
 *
 * Usage: node scripts/build-hook-client.js [OUT]
 * Exit codes: 0 built (or no compiler: warned), 1 the compiler failed.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pluginDir = path.join(__dirname, '..');
const source = path.join(pluginDir, 'native', 'hook-client.c');

const shown = (p) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));

/** First compiler that runs, or undefined. */
function findCompiler() {
  for (const cc of [process.env.CC, 'clang-19', 'cc'].filter(Boolean)) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return undefined;
}

/**
 * Builds the client to `out`.
 * @returns {{ built: boolean, compiler?: string, message: string }}
 * @throws Error with the compiler's output when compilation fails.
 */
function buildHookClient(out = path.join(pluginDir, 'dist', 'hook-client')) {
  const cc = findCompiler();
  if (!cc) return { built: false, message: 'no C compiler (set CC, or install clang-19): hooks will run through node' };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = spawnSync(cc, ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, source], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${cc} failed to compile ${shown(source)} (exit ${r.status}):\n${r.stderr || r.stdout || r.error}`);
  }
  fs.renameSync(tmp, out); // atomic: a hook running now sees the old or the new binary, never half of one
  return { built: true, compiler: cc, message: `built ${shown(out)} with ${cc}` };
}

if (require.main === module) {
  try {
    const r = buildHookClient(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
    console.log(r.built ? `build-hook-client: ${r.message}` : `build-hook-client: warning: ${r.message}`);
  } catch (e) {
    console.error(`build-hook-client: ${e.message}`);
    process.exitCode = 1;
  }
}

module.exports = { buildHookClient };
