// locateToolchain on this machine's real toolchain: the m68k libraries programs link against are recorded with their
// sha256, and NEXTRUST_* overrides that name a wrong place are reported as such (not as a missing Debian package).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { locateToolchain, ToolchainError } from './locate';

const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const OPTS = { minLlvmVersion: '19.1.5' };

describe('locateToolchain: the m68k libraries in the manifest', () => {
  it('records glibc (libc.a, libm.a, libc.so.6, crt1.o) and the libgcc.a gcc links, each with its sha256', async () => {
    const m = await locateToolchain(OPTS);
    const libgcc = execFileSync(m.cross.gcc.path, ['-print-libgcc-file-name'], { encoding: 'utf8' }).trim();
    expect(Object.keys(m.cross.libraries).sort()).toEqual(['crt1.o', 'libc.a', 'libc.so.6', 'libgcc.a', 'libm.a']);
    expect(m.cross.libraries['libgcc.a']).toEqual({ path: libgcc, sha256: sha256(libgcc) });
    for (const name of ['libc.a', 'libm.a', 'libc.so.6', 'crt1.o']) {
      const file = path.join(m.cross.m68kSysroot, 'lib', name);
      expect(m.cross.libraries[name]).toEqual({ path: file, sha256: sha256(fs.realpathSync(file)) });
    }
  });

  it('another m68k sysroot (a copy with a different libc.a) changes the manifest', async () => {
    const base = await locateToolchain(OPTS);
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-m68k-sysroot-'));
    try {
      fs.mkdirSync(path.join(copy, 'lib'));
      for (const f of ['ld.so.1', 'libc.so.6', 'libm.a', 'crt1.o'])
        fs.copyFileSync(path.join(base.cross.m68kSysroot, 'lib', f), path.join(copy, 'lib', f));
      fs.writeFileSync(
        path.join(copy, 'lib', 'libc.a'),
        Buffer.concat([fs.readFileSync(path.join(base.cross.m68kSysroot, 'lib', 'libc.a')), Buffer.from('\n')]),
      );
      const other = await locateToolchain({ ...OPTS, env: { ...process.env, NEXTRUST_M68K_SYSROOT: copy } });
      expect(other.cross.libraries['libc.a'].sha256).not.toBe(base.cross.libraries['libc.a'].sha256);
      expect(other.cross.libraries['libc.so.6'].sha256).toBe(base.cross.libraries['libc.so.6'].sha256);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('locateToolchain: an override naming a wrong place says so', () => {
  const fail = (env: NodeJS.ProcessEnv) =>
    locateToolchain({ ...OPTS, env: { ...process.env, ...env } }).then(
      () => null,
      (e: unknown) => e as Error,
    );

  it('NEXTRUST_QEMU_M68K: a missing file, and a file that is not executable', async () => {
    const missing = await fail({ NEXTRUST_QEMU_M68K: '/nonexistent/qemu-m68k' });
    expect(missing).toBeInstanceOf(ToolchainError);
    expect(missing!.message).toBe(
      "NEXTRUST_QEMU_M68K=/nonexistent/qemu-m68k: no such file: point it at qemu-m68k (Debian's is /usr/bin/qemu-m68k) or unset it",
    );
    const plain = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-qemu-')), 'qemu-m68k');
    fs.writeFileSync(plain, 'not a program');
    const notExec = await fail({ NEXTRUST_QEMU_M68K: plain });
    expect(notExec!.message).toBe(
      `NEXTRUST_QEMU_M68K=${plain}: not an executable file: point it at qemu-m68k (Debian's is /usr/bin/qemu-m68k) or unset it`,
    );
    fs.rmSync(path.dirname(plain), { recursive: true });
  });

  it('NEXTRUST_LLVM_BIN: a missing folder, and a folder with an llc too old or without m68k', async () => {
    const missing = await fail({ NEXTRUST_LLVM_BIN: '/nonexistent/llvm/bin' });
    expect(missing).toBeInstanceOf(ToolchainError);
    expect(missing!.message).toBe(
      "NEXTRUST_LLVM_BIN=/nonexistent/llvm/bin: no such folder: point it at an LLVM >= 19.1.5 bin folder with clang, llc, llvm-ar and the M68k backend (Debian's is /usr/lib/llvm-22/bin), or unset it",
    );
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-llvm-'));
    expect((await fail({ NEXTRUST_LLVM_BIN: empty }))!.message).toContain(
      `NEXTRUST_LLVM_BIN=${empty}: no llc in ${empty}: point it at`,
    );
    fs.rmSync(empty, { recursive: true });
  });

  it('NEXTRUST_RUSTC naming a missing file, and NEXTRUST_CARGO naming one', async () => {
    expect((await fail({ NEXTRUST_RUSTC: '/nonexistent/rustc' }))!.message).toBe(
      "NEXTRUST_RUSTC=/nonexistent/rustc: /nonexistent/rustc does not exist: point them at a rustc with rust-src and its cargo (Debian's are /usr/bin/rustc and /usr/bin/cargo), or unset them",
    );
    const cargo = await fail({ NEXTRUST_CARGO: '/nonexistent/cargo' });
    expect(cargo!.message).toMatch(
      /^NEXTRUST_CARGO=\/nonexistent\/cargo: .*no cargo beside it \(\/nonexistent\/cargo\).*: point them at/,
    );
  });

  it('NEXTRUST_M68K_SYSROOT naming a folder without glibc', async () => {
    const e = await fail({ NEXTRUST_M68K_SYSROOT: os.tmpdir() });
    expect(e).toBeInstanceOf(ToolchainError);
    expect(e!.message).toBe(
      `NEXTRUST_M68K_SYSROOT=${os.tmpdir()}: not an m68k glibc sysroot (no lib/ld.so.1, lib/libc.so.6): point it at one (Debian's is /usr/m68k-linux-gnu) or unset it`,
    );
  });
});
