#!/usr/bin/env node
/**
 * Prints a cheap fingerprint of what the patched M68k backend is compiled
 * against: `llvm-config --version` of the given llvm-config, and path, size
 * (bytes) and mtime (ms) of libLLVM.so.<major>.<minor>, the LLVM headers'
 * llvm-config.h, llvm-tblgen and g++. Missing tools print "missing" (the
 * backend target then fails with the Debian package to install).
 *
 * Used as the `{runtime: ...}` input of llvm-m68k:backend (Nx hashes this
 * command's stdout: https://nx.dev/reference/inputs#runtime-inputs), so an
 * upgrade of libLLVM, its headers or the compiler misses the cache. Plain
 * JavaScript with no dependencies: it runs on every hash computation.
 *   node tools/nx-plugin/bin/backend-fingerprint.js [llvm-config-22]
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const stampOrNull = require('./toolchain-fingerprint.js').stamp;
const stamp = (file) => stampOrNull(file) || `${file} missing`;

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  return name;
}

const llvmConfig = process.argv[2] || 'llvm-config-22';
const lines = [];
try {
  const [version, libdir, includedir, bindir] = execFileSync(
    llvmConfig,
    ['--version', '--libdir', '--includedir', '--bindir'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .trim()
    .split('\n');
  const [major, minor] = version.split('.');
  lines.push(`llvm ${version}`);
  lines.push(stamp(path.join(libdir, `libLLVM.so.${major}.${minor}`)));
  lines.push(stamp(path.join(includedir, 'llvm/Config/llvm-config.h')));
  lines.push(stamp(path.join(bindir, 'llvm-tblgen')));
} catch {
  lines.push(`${llvmConfig} missing`);
}
lines.push(stamp(which('g++')));
process.stdout.write(lines.join('\n') + '\n');
