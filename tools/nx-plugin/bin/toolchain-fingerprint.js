#!/usr/bin/env node
/**
 * Prints a cheap fingerprint of every place the system toolchain provider
 * looks for a tool (src/toolchain/candidates.json), and of the m68k glibc and
 * libgcc files programs link against: path, size (bytes) and mtime (ms) of
 * each candidate that exists, and the NEXTRUST_* overrides.
 *
 * Used as the `{runtime: ...}` input of llvm-m68k:toolchain (Nx hashes this
 * command's stdout), so installing, upgrading or removing a tool, or pointing
 * an override elsewhere, misses the cache. Plain JavaScript with no
 * dependencies: it runs on every hash computation, so it must start fast.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const candidates = require('../src/toolchain/candidates.json');

function expand(pattern) {
  const p = pattern.replace(/^~(?=\/)/, os.homedir());
  const parts = p.split('/');
  let found = [''];
  for (const part of parts.slice(1)) {
    const next = [];
    for (const base of found) {
      if (part === '*') {
        let entries = [];
        try {
          entries = fs.readdirSync(base || '/');
        } catch {
          /* absent */
        }
        for (const e of entries.sort()) next.push(`${base}/${e}`);
      } else {
        next.push(`${base}/${part}`);
      }
    }
    found = next;
  }
  return found;
}

/** `path -> realpath size mtime-ms` of a file, or null when it does not exist. */
function stamp(file) {
  try {
    const real = fs.realpathSync(file);
    const st = fs.statSync(real);
    return `${file} -> ${real} ${st.size} ${Math.round(st.mtimeMs)}`;
  } catch {
    return null;
  }
}

module.exports = { stamp };
if (require.main !== module) return;

const lines = [];
const add = (file) => {
  const s = stamp(file);
  if (s) lines.push(s);
};
const pathDirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);

for (const dir of [...candidates.llvmBinDirs, ...pathDirs]) {
  for (const tool of candidates.llvmTools) add(path.join(dir, tool));
}
for (const pattern of candidates.rustcPaths) {
  for (const rustc of expand(pattern)) {
    add(rustc);
    add(path.join(path.dirname(rustc), 'cargo'));
  }
}
for (const dir of [...candidates.crossBinDirs, ...pathDirs]) {
  for (const tool of candidates.crossTools) add(path.join(dir, candidates.crossPrefix + tool));
  add(path.join(dir, 'qemu-m68k'));
  add(path.join(dir, 'rustc'));
}
for (const q of candidates.qemuPaths) add(q);
const m68kSysroot = process.env.NEXTRUST_M68K_SYSROOT || candidates.m68kSysroot;
for (const file of candidates.m68kLinkFiles) add(path.join(m68kSysroot, file));
for (const pattern of candidates.libgccPaths) for (const libgcc of expand(pattern)) add(libgcc);
for (const name of candidates.envOverrides) {
  const value = process.env[name];
  if (value) {
    lines.push(`${name}=${value}`);
    add(value);
  }
}
process.stdout.write([...new Set(lines)].join('\n') + '\n');
