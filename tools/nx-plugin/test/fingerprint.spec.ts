// The runtime-input fingerprints (tools/nx-plugin/bin/*-fingerprint.sh), run as
// Nx runs them (`sh <script>`), against this machine's real files and
// against temporary files laid out as tools:
//  - toolchain-fingerprint.sh stamps exactly the candidate places of
//    candidates.json that exist here, expanded in TypeScript below (an oracle
//    independent of the script), with each file's real size, mtime and
//    device:inode as Node's fs.statSync sees them;
//  - a tool appearing, being touched or growing, and a symlink switched to an
//    identical-looking file change the output; `~` and `*`, the NEXTRUST_*
//    overrides and the sysroot override are followed;
//  - a candidates.json without a key the script reads fails, naming the key;
//  - backend-fingerprint.sh names llvm-config-22's real version and libLLVM.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import candidates from '../src/toolchain/candidates.json';
import { WORKSPACE_ROOT } from './scratch-workspace';

const BIN = path.join(WORKSPACE_ROOT, 'tools/nx-plugin/bin');
const TOOLCHAIN_SCRIPT = path.join(BIN, 'toolchain-fingerprint.sh');
const BACKEND_SCRIPT = path.join(BIN, 'backend-fingerprint.sh');
const OVERRIDES: readonly string[] = candidates.envOverrides;
/** The keys of candidates.json the toolchain script reads: all but the comment. */
const KEYS = Object.keys(candidates).filter((k) => k !== '$comment');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-fingerprint-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let scratchCount = 0;
/** A new empty directory under the test's temporary folder. */
function scratch(name: string): string {
  const dir = path.join(work, `${++scratchCount}-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** This process's environment without the NEXTRUST_* overrides, plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of OVERRIDES) delete env[name];
  return { ...env, ...extra };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(script: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const r = spawnSync('/bin/sh', [script, ...args], { env, encoding: 'utf8', cwd: WORKSPACE_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function toolchain(env: NodeJS.ProcessEnv, script = TOOLCHAIN_SCRIPT): string {
  const r = run(script, [], env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** mtime as GNU stat's `%.9Y` prints it: seconds.nanoseconds. */
function mtimeText(file: string): string {
  const ns = fs.statSync(file, { bigint: true }).mtimeNs;
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}
/** The line toolchain-fingerprint.sh should print for an existing file, from Node's own stat. */
function toolchainStamp(file: string): string {
  const st = fs.statSync(file, { bigint: true });
  return `${file} ${st.size} ${mtimeText(file)} ${st.dev}:${st.ino}`;
}
/** The line backend-fingerprint.sh should print for an existing file. */
function backendStamp(file: string): string {
  return `${file} -> ${fs.realpathSync(file)} ${fs.statSync(file).size} ${mtimeText(file)}`;
}
const lines = (out: string) => out.split('\n').filter(Boolean);
/** The stamped path of each stamp line (`<path> <size> <mtime> <dev>:<ino>`). */
function stampedPaths(out: string): string[] {
  return lines(out).flatMap((l) => {
    const m = /^(.+) \d+ \d+\.\d{9} \d+:\d+$/.exec(l);
    return m ? [m[1]] : [];
  });
}
/** The line of `file` in the output, failing when there is not exactly one. */
function lineOf(out: string, file: string): string {
  const found = lines(out).filter((l) => l.startsWith(`${file} `));
  expect(found).toHaveLength(1);
  return found[0];
}

/** `~/` is $HOME; a `*` segment is every entry of its directory (sorted, dot entries included). */
function expand(pattern: string, home: string): string[] {
  const parts = pattern.replace(/^~(?=\/)/, home).split('/');
  let found = [''];
  for (const part of parts.slice(1)) {
    found = found.flatMap((base) => {
      if (part !== '*') return [`${base}/${part}`];
      try {
        return fs
          .readdirSync(base || '/')
          .sort()
          .map((e) => `${base}/${e}`);
      } catch {
        return [];
      }
    });
  }
  return found;
}

/**
 * The oracle: every candidate place of candidates.json for this environment
 * (read in TypeScript, not by the script), the ones that exist, each once.
 */
function expectedPaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? os.homedir();
  const pathDirs = (env.PATH ?? '').split(':').filter(Boolean);
  const all: string[] = [];
  for (const dir of [...candidates.llvmBinDirs, ...pathDirs])
    for (const tool of candidates.llvmTools) all.push(path.join(dir, tool));
  for (const pattern of candidates.rustcPaths)
    for (const rustc of expand(pattern, home)) all.push(rustc, path.join(path.dirname(rustc), 'cargo'));
  for (const dir of [...candidates.crossBinDirs, ...pathDirs]) {
    for (const tool of candidates.crossTools) all.push(path.join(dir, candidates.crossPrefix + tool));
    all.push(path.join(dir, 'qemu-m68k'), path.join(dir, 'rustc'));
  }
  all.push(...candidates.qemuPaths);
  const sysroot = env.NEXTRUST_M68K_SYSROOT || candidates.m68kSysroot;
  for (const file of candidates.m68kLinkFiles) all.push(path.join(sysroot, file));
  for (const pattern of candidates.libgccPaths) all.push(...expand(pattern, home));
  for (const name of OVERRIDES) if (env[name]) all.push(env[name] as string);
  return [...new Set(all.filter((f) => fs.existsSync(f)))];
}

/** A file of `size` bytes (its content depends on `seed`), executable. */
function writeTool(file: string, size: number, seed = 'x'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, seed.repeat(size).slice(0, size), { mode: 0o755 });
  return file;
}
const T1 = new Date('2024-01-02T03:04:05.678Z');
const T2 = new Date('2025-06-07T08:09:10.111Z');

describe('toolchain-fingerprint.sh on this machine', () => {
  it('stamps exactly the candidate places that exist, each once, with their real size, mtime and device:inode', () => {
    const env = envWith();
    const out = toolchain(env);
    const expected = expectedPaths(env);
    // the oracle is not trivial here: Debian's LLVM, the m68k cross tools, glibc and libgcc are installed
    expect(expected).toEqual(
      expect.arrayContaining([
        '/usr/lib/llvm-22/bin/clang',
        '/usr/bin/m68k-linux-gnu-gcc',
        '/usr/m68k-linux-gnu/lib/libc.a',
        expect.stringMatching(/^\/usr\/lib\/gcc-cross\/m68k-linux-gnu\/[^/]+\/libgcc\.a$/),
      ]),
    );
    const stamped = stampedPaths(out);
    expect(stamped).toHaveLength(lines(out).length); // nothing but stamps without overrides
    expect(new Set(stamped).size).toBe(stamped.length);
    expect([...stamped].sort()).toEqual([...expected].sort());
    expect([...lines(out)].sort()).toEqual(expected.map(toolchainStamp).sort());
  });

  it('prints the same twice (nothing but files in it)', () => {
    expect(toolchain(envWith())).toBe(toolchain(envWith()));
  });
});

describe('toolchain-fingerprint.sh with tools in temporary places', () => {
  it('a tool appearing on PATH, touched or grown changes the output; other names in that directory do not count', () => {
    const dir = scratch('path');
    const env = envWith({ PATH: `${dir}:${process.env.PATH}` });
    const before = toolchain(env);
    writeTool(path.join(dir, 'unrelated-tool'), 10);
    expect(toolchain(env)).toBe(before);

    for (const name of ['clang', 'llc', 'llvm-ar', 'm68k-linux-gnu-gcc', 'm68k-linux-gnu-ld', 'qemu-m68k', 'rustc']) {
      const tool = writeTool(path.join(dir, name), 100);
      fs.utimesSync(tool, T1, T1);
      const out = toolchain(env);
      expect(lineOf(out, tool)).toBe(toolchainStamp(tool));
      expect(lines(out)).toEqual(expect.arrayContaining(lines(before)));
    }
    const clang = path.join(dir, 'clang');
    const withClang = toolchain(env);

    fs.utimesSync(clang, T2, T2);
    const touched = toolchain(env);
    expect(lineOf(touched, clang)).not.toBe(lineOf(withClang, clang));
    expect(lineOf(touched, clang)).toBe(toolchainStamp(clang));

    fs.appendFileSync(clang, 'more');
    fs.utimesSync(clang, T2, T2);
    const grown = toolchain(env);
    expect(lineOf(grown, clang)).toContain(` 104 ${mtimeText(clang)} `);
    expect(grown).not.toBe(touched);

    fs.rmSync(clang);
    expect(stampedPaths(toolchain(env))).not.toContain(clang);
  });

  it('a symlink switched to another file of the same size and mtime changes the output (device:inode)', () => {
    const dir = scratch('alternatives');
    const a = writeTool(path.join(dir, 'clang-a'), 64, 'a');
    const b = writeTool(path.join(dir, 'clang-b'), 64, 'b');
    for (const f of [a, b]) fs.utimesSync(f, T1, T1);
    expect(fs.statSync(a).size).toBe(fs.statSync(b).size);
    expect(fs.statSync(a).mtimeMs).toBe(fs.statSync(b).mtimeMs);
    const link = path.join(dir, 'bin', 'clang');
    fs.mkdirSync(path.dirname(link));
    fs.symlinkSync(a, link);
    const env = envWith({ PATH: `${path.dirname(link)}:${process.env.PATH}` });

    const first = toolchain(env);
    expect(lineOf(first, link)).toBe(toolchainStamp(link));
    fs.rmSync(link);
    fs.symlinkSync(b, link);
    const second = toolchain(env);
    expect(lineOf(second, link)).toBe(toolchainStamp(link));
    expect(lineOf(second, link)).not.toBe(lineOf(first, link));
    // the same path, size and mtime: only the resolved file's identity tells them apart
    expect(lineOf(second, link).split(' ').slice(0, 3)).toEqual(lineOf(first, link).split(' ').slice(0, 3));

    // a dangling symlink is a missing tool
    fs.rmSync(b);
    expect(stampedPaths(toolchain(env))).not.toContain(link);
  });

  it('expands ~/.rustup/toolchains/*/bin/rustc under HOME: every toolchain, rustc and cargo', () => {
    const home = scratch('home');
    const stamped: string[] = [];
    for (const name of ['nightly-x86_64-unknown-linux-gnu', 'stable-x86_64-unknown-linux-gnu']) {
      for (const tool of ['rustc', 'cargo'])
        stamped.push(writeTool(path.join(home, '.rustup/toolchains', name, 'bin', tool), 20));
    }
    // rustup's ~/.cargo/bin proxies
    stamped.push(
      writeTool(path.join(home, '.cargo/bin/rustc'), 30),
      writeTool(path.join(home, '.cargo/bin/cargo'), 31),
    );
    const env = envWith({ HOME: home });
    const out = toolchain(env);
    for (const file of stamped) expect(lineOf(out, file)).toBe(toolchainStamp(file));
    expect(
      stampedPaths(out)
        .filter((p) => p.startsWith(home))
        .sort(),
    ).toEqual(stamped.sort());
    expect([...stampedPaths(out)].sort()).toEqual(expectedPaths(env).sort());
  });

  it('prints NAME=value for each set override and stamps the value when it exists; unset ones print nothing', () => {
    const llvmBin = scratch('llvm-bin');
    const env = envWith({ NEXTRUST_LLVM_BIN: llvmBin, NEXTRUST_RUSTC: '/nonexistent/rustc' });
    const out = toolchain(env);
    expect(lines(out)).toContain(`NEXTRUST_LLVM_BIN=${llvmBin}`);
    expect(lines(out)).toContain('NEXTRUST_RUSTC=/nonexistent/rustc');
    expect(lines(out).filter((l) => /^NEXTRUST_\w+=/.test(l))).toHaveLength(2);
    expect(lineOf(out, llvmBin)).toBe(toolchainStamp(llvmBin));
    expect(stampedPaths(out)).not.toContain('/nonexistent/rustc');

    const other = toolchain(envWith({ NEXTRUST_LLVM_BIN: llvmBin, NEXTRUST_RUSTC: '/nonexistent/rustc2' }));
    expect(other).not.toBe(out);
    expect(toolchain(envWith({ NEXTRUST_QEMU_M68K: '' }))).toBe(toolchain(envWith()));
  });

  it('NEXTRUST_M68K_SYSROOT moves where the m68k link files are looked for', () => {
    const sysroot = scratch('sysroot');
    const libc = writeTool(path.join(sysroot, 'lib/libc.a'), 50);
    const crt1 = writeTool(path.join(sysroot, 'lib/crt1.o'), 51);
    const debian = candidates.m68kLinkFiles.map((f) => path.join(candidates.m68kSysroot, f));
    for (const file of debian) expect(fs.existsSync(file)).toBe(true);
    expect(stampedPaths(toolchain(envWith()))).toEqual(expect.arrayContaining(debian));

    const out = toolchain(envWith({ NEXTRUST_M68K_SYSROOT: sysroot }));
    expect(lines(out)).toContain(`NEXTRUST_M68K_SYSROOT=${sysroot}`);
    expect(lineOf(out, libc)).toBe(toolchainStamp(libc));
    expect(lineOf(out, crt1)).toBe(toolchainStamp(crt1));
    expect(
      stampedPaths(out)
        .filter((p) => p.startsWith(`${sysroot}/`))
        .sort(),
    ).toEqual([crt1, libc]);
    for (const file of debian) expect(stampedPaths(out)).not.toContain(file);
  });
});

describe('toolchain-fingerprint.sh reads candidates.json beside it', () => {
  /** A copy of the script in <dir>/bin with `json` as <dir>/src/toolchain/candidates.json. */
  function layout(name: string, json: string): string {
    const dir = scratch(name);
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'src/toolchain'), { recursive: true });
    fs.copyFileSync(TOOLCHAIN_SCRIPT, path.join(dir, 'bin/toolchain-fingerprint.sh'));
    fs.writeFileSync(path.join(dir, 'src/toolchain/candidates.json'), json);
    return path.join(dir, 'bin/toolchain-fingerprint.sh');
  }
  const edited = (edit: (c: Record<string, unknown>) => void) => {
    const c = JSON.parse(JSON.stringify(candidates)) as Record<string, unknown>;
    edit(c);
    return JSON.stringify(c, null, 2) + '\n';
  };

  it('an unchanged copy prints what the real script prints; an edited list is what it stamps', () => {
    const env = envWith();
    const copy = layout(
      'copy',
      fs.readFileSync(path.join(WORKSPACE_ROOT, 'tools/nx-plugin/src/toolchain/candidates.json'), 'utf8'),
    );
    expect(toolchain(env, copy)).toBe(toolchain(env));

    const dir = scratch('own-tools');
    const mine = writeTool(path.join(dir, 'my-llc'), 12);
    const script = layout(
      'edited',
      edited((c) => {
        c.llvmBinDirs = [dir];
        c.llvmTools = ['my-llc'];
      }),
    );
    const out = toolchain(env, script);
    expect(lineOf(out, mine)).toBe(toolchainStamp(mine));
    // clang is no longer a candidate tool, anywhere
    expect(stampedPaths(out).filter((p) => path.basename(p) === 'clang')).toEqual([]);
  });

  it.each(KEYS)('fails naming the file and key when "%s" is missing', (key) => {
    const script = layout(
      `no-${key}`,
      edited((c) => delete c[key]),
    );
    const r = run(script, [], envWith());
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('src/toolchain/candidates.json');
    expect(r.stderr).toContain(`missing key "${key}"`);
  });

  it.each([
    ['llvmTools', 'clang', 'expected an array of strings, got a string'],
    ['crossPrefix', ['m68k-linux-gnu-'], 'expected a string, got an array'],
    ['rustcPaths', [1], 'expected an array of strings, got "1"'],
    ['qemuPaths', { a: 'b' }, 'expected a string or an array of strings, got "{"'],
    ['envOverrides', ['NEXTRUST_X; rm -rf /'], 'expected environment variable names'],
  ])('fails naming the key when "%s" has another shape (%j)', (key, value, words) => {
    const script = layout(
      `shape-${key}`,
      edited((c) => {
        c[key] = value;
      }),
    );
    const r = run(script, [], envWith());
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/src\/toolchain\/candidates\.json:\d+: /);
    expect(r.stderr).toContain(`key "${key}": ${words}`);
  });

  it('fails on JSON it does not read (an escape other than \\" \\\\ \\/), and without the file', () => {
    const script = layout(
      'escape',
      JSON.stringify({ ...candidates, llvmTools: ['cl\u00e4ng'] }, null, 2).replace('\u00e4', '\\u00e4'),
    );
    const r = run(script, [], envWith());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('key "llvmTools": escape \\u is not supported');

    fs.rmSync(path.join(path.dirname(script), '../src/toolchain/candidates.json'));
    const gone = run(script, [], envWith());
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('candidates.json: cannot read');
  });
});

describe('backend-fingerprint.sh', () => {
  const llvmConfig = (...args: string[]) =>
    spawnSync('llvm-config-22', args, { encoding: 'utf8' }).stdout.trim().split('\n');
  function backend(args: string[], env: NodeJS.ProcessEnv = envWith()): string {
    const r = run(BACKEND_SCRIPT, args, env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  }
  /** The first g++ on PATH, as the script looks for it. */
  const firstGpp = (env: NodeJS.ProcessEnv) =>
    (env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .map((d) => path.join(d, 'g++'))
      .find((f) => fs.existsSync(f));

  it("names llvm-config-22's version, its libLLVM, llvm-config.h and llvm-tblgen, and g++", () => {
    const [version] = llvmConfig('--version');
    const [libdir] = llvmConfig('--libdir');
    const [includedir] = llvmConfig('--includedir');
    const [bindir] = llvmConfig('--bindir');
    const [major, minor] = version.split('.');
    const libLLVM = path.join(libdir, `libLLVM.so.${major}.${minor}`);
    expect(fs.existsSync(libLLVM)).toBe(true);
    const gpp = firstGpp(process.env);
    expect(gpp).toBeDefined();
    expect(lines(backend(['llvm-config-22']))).toEqual([
      `llvm ${version}`,
      backendStamp(libLLVM),
      backendStamp(path.join(includedir, 'llvm/Config/llvm-config.h')),
      backendStamp(path.join(bindir, 'llvm-tblgen')),
      backendStamp(gpp as string),
    ]);
    // the default llvm-config is llvm-config-22
    expect(backend([])).toBe(backend(['llvm-config-22']));
  });

  it('prints "missing" for an llvm-config that does not run, and for files it names that do not exist', () => {
    const gpp = firstGpp(process.env) as string;
    expect(lines(backend(['/nonexistent/llvm-config-99']))).toEqual([
      '/nonexistent/llvm-config-99 missing',
      backendStamp(gpp),
    ]);
    expect(lines(backend(['false']))).toEqual(['false missing', backendStamp(gpp)]);

    // an llvm-config of LLVM 99.7 whose libLLVM exists and whose llvm-tblgen does not
    const dir = scratch('llvm-99');
    const lib = writeTool(path.join(dir, 'lib/libLLVM.so.99.7'), 40);
    const header = writeTool(path.join(dir, 'include/llvm/Config/llvm-config.h'), 41);
    const config = path.join(dir, 'llvm-config-99');
    fs.writeFileSync(config, `#!/bin/sh\nprintf '99.7.3\\n${dir}/lib\\n${dir}/include\\n${dir}/bin\\n'\n`, {
      mode: 0o755,
    });
    expect(lines(backend([config]))).toEqual([
      'llvm 99.7.3',
      `${dir}/bin/llvm-tblgen missing`,
      backendStamp(lib),
      backendStamp(header),
      backendStamp(gpp),
    ]);
  });

  it('follows g++ on PATH: a fake one first changes the output; none at all prints "g++ missing"', () => {
    const dir = scratch('gpp');
    const fake = writeTool(path.join(dir, 'g++'), 33);
    const before = backend(['llvm-config-22']);
    const after = backend(['llvm-config-22'], envWith({ PATH: `${dir}:${process.env.PATH}` }));
    expect(after).not.toBe(before);
    expect(lines(after).at(-1)).toBe(backendStamp(fake));
    expect(lines(after).slice(0, -1)).toEqual(lines(before).slice(0, -1));

    // a PATH with the coreutils the script runs and no g++
    const bare = scratch('bare-path');
    for (const tool of ['stat', 'realpath']) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bare, tool));
    expect(backend(['/nonexistent/llvm-config'], envWith({ PATH: bare }))).toBe(
      '/nonexistent/llvm-config missing\ng++ missing\n',
    );
  });
});
