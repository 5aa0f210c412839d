// The known-issues database against failures reproduced live with this machine's real
// toolchain (clang-19 and clang-22, llc-22, m68k binutils and gcc, qemu-m68k, Debian's rustc
// and cargo): the patterns must keep matching what the installed tools print today, not only
// the committed fixtures; and where a fix is a command or flag, applying it makes the failure go.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import emulatorTestExecutor from '../src/executors/emulator-test/executor';
import { knownIssuesFileSchema } from '../src/pipeline/known-issues';
import { scanLogText } from '../src/pipeline/matcher';
import { afterTarget } from '../src/pipeline/target-hooks';
import { readValidatedJson } from '../src/pipeline/validated-file';
import { TOOLCHAIN_PROVIDERS } from '../src/toolchain/provider';
import { ToolchainError } from '../src/toolchain/locate';
import { runProcess } from '../src/util/exec';
import { WORKSPACE_ROOT } from './scratch-workspace';

const issues = readValidatedJson(
  path.join(WORKSPACE_ROOT, 'projects/ci-status/known-issues.json'),
  knownIssuesFileSchema,
).known_issues;
const CLANG = '/usr/lib/llvm-19/bin/clang';

describe('known issues reproduced live with the real toolchain', () => {
  let dir: string;
  let hello: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-live-'));
    fs.writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    fs.writeFileSync(
      path.join(dir, 'atom.c'),
      'int counter;\nvoid _start(void) { __sync_fetch_and_add(&counter, 1); __sync_val_compare_and_swap(&counter, 1, 2); for (;;) ; }\n',
    );
    hello = path.join(dir, 'hello');
    const built = await runProcess('m68k-linux-gnu-gcc', ['-O2', path.join(dir, 'hello.c'), '-o', hello]);
    expect(built.exitCode).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs a failing command and scans what it printed. */
  async function failing(file: string, args: string[], env: Record<string, string | undefined> = {}) {
    const r = await runProcess(file, args, { cwd: dir, env });
    expect(r.exitCode).not.toBe(0);
    return { output: r.all, scan: scanLogText(r.all, issues) };
  }

  it('atomic-spinlock-m68k: 68000 atomics linked without the spinlock library', async () => {
    const obj = path.join(dir, 'atom.o');
    const cc = await runProcess(
      CLANG,
      ['--target=m68k-linux-gnu', '-mcpu=68000', '-O2', '-ffreestanding', '-fno-pic', '-c', 'atom.c', '-o', obj],
      { cwd: dir },
    );
    expect(cc.exitCode).toBe(0);
    const { output, scan } = await failing('m68k-linux-gnu-ld', [
      '-static',
      '-nostdlib',
      obj,
      '-o',
      path.join(dir, 'atom'),
    ]);
    expect(output).toContain('__sync_fetch_and_add_4');
    expect(scan.match?.id).toBe('atomic-spinlock-m68k');
  });

  it('llvm-triple-unrecognized: clang given an unknown arch', async () => {
    const { scan } = await failing(CLANG, ['--target=m86k-next-nextstep', '-c', 'hello.c', '-o', 'x.o']);
    expect(scan.match?.id).toBe('llvm-triple-unrecognized');
  });

  it('llvm-triple-unrecognized: rustc given the spec name instead of its path', async () => {
    const { scan } = await failing('/usr/bin/rustc', ['--target', 'm68k-next-nextstep', '--print', 'cfg'], {
      RUSTC_BOOTSTRAP: '1',
    });
    expect(scan.match?.id).toBe('llvm-triple-unrecognized');
  });

  it('nightly-required: a -Z flag on the stable rustc', async () => {
    const { scan } = await failing('/usr/bin/rustc', ['-Zunstable-options', '--print', 'sysroot'], {
      RUSTC_BOOTSTRAP: undefined,
    });
    expect(scan.match?.id).toBe('nightly-required');
  });

  it('linker-not-found: a linker that is not installed', async () => {
    const { scan } = await failing(CLANG, [
      '--target=m68k-linux-gnu',
      '-fuse-ld=nextrust-no-such-ld',
      'hello.c',
      '-o',
      'x',
    ]);
    expect(scan.match?.id).toBe('linker-not-found');
  });

  it('qemu-sysroot-missing: qemu-m68k without the m68k sysroot', async () => {
    const { output, scan } = await failing('qemu-m68k', ['-cpu', 'm68040', hello], { QEMU_LD_PREFIX: undefined });
    expect(output).toContain('ld.so.1');
    expect(scan.match?.id).toBe('qemu-sysroot-missing');
  });

  it('emulator-cpu-mismatch: a glibc program on the 68000', async () => {
    const { scan } = await failing('qemu-m68k', ['-L', '/usr/m68k-linux-gnu', '-cpu', 'm68000', hello]);
    expect(scan.match?.id).toBe('emulator-cpu-mismatch');
    // On the CPU it was built for, the same program runs.
    const ok = await runProcess('qemu-m68k', ['-L', '/usr/m68k-linux-gnu', '-cpu', 'm68040', hello]);
    expect(ok.exitCode).toBe(0);
    expect(scanLogText(ok.all, issues).match).toBeNull();
  });

  /** docs/toolchain-bugs.md bug 6 (two f64-to-f32 libcalls around a store): Debian's backend crashes on it. */
  const F32_IR = [
    'define float @f(ptr %p, ptr %q) {',
    '  %x = load double, ptr %p, align 8',
    '  %y = fptrunc double %x to float',
    '  store float %y, ptr %q, align 4',
    '  %x.1 = load double, ptr %p, align 8',
    '  %y.1 = fptrunc double %x.1 to float',
    '  ret float %y.1',
    '}',
  ].join('\n');

  it("llvm-codegen-crash: llc-22 and clang-22 crash on the f32 reproducer; llc's fast scheduler (the system provider's workaround) avoids it", async () => {
    fs.writeFileSync(path.join(dir, 'f32.ll'), `${F32_IR}\n`);
    const llc = await failing('llc-22', ['-mtriple=m68k-linux-gnu', 'f32.ll', '-o', 'f32.s']);
    expect(llc.scan.match?.id).toBe('llvm-codegen-crash');
    fs.writeFileSync(
      path.join(dir, 'f32.c'),
      'float f(volatile double *p, float *q) {\n  float y = (float)*p;\n  *q = y;\n  return (float)*p;\n}\n',
    );
    const clang = await failing('clang-22', [
      '--target=m68k-linux-gnu',
      '-mcpu=68040',
      '-O2',
      '-c',
      'f32.c',
      '-o',
      'f32.o',
    ]);
    expect(clang.output).toContain('frontend command failed with exit code 139');
    expect(clang.scan.match?.id).toBe('llvm-codegen-crash');
    for (const f of clang.output.match(/\/tmp\/f32-[0-9a-f]+\.(c|sh)/g) ?? []) fs.rmSync(f, { force: true }); // clang's crash reproducer
    const fast = await runProcess(
      'llc-22',
      ['-mtriple=m68k-linux-gnu', '-pre-RA-sched=fast', 'f32.ll', '-o', 'f32.s'],
      { cwd: dir },
    );
    expect(fast.exitCode).toBe(0);
    // An LLVM abort in the same pass is another issue (llvm-atomic-isel covers LLVM 14's), never this one.
    fs.writeFileSync(
      path.join(dir, 'asm.c'),
      'void clear_slot(unsigned char *t, int i) { __asm__ volatile("clr.b %0" : "+m"(t[i])); }\n',
    );
    const asm = await runProcess(CLANG, ['--target=m68k-linux-gnu', '-mcpu=68040', '-c', 'asm.c', '-o', 'asm.o'], {
      cwd: dir,
    });
    for (const f of asm.all.match(/\/tmp\/asm-[0-9a-f]+\.(c|sh)/g) ?? []) fs.rmSync(f, { force: true });
    expect(scanLogText(asm.all, issues).candidates.map((c) => c.id)).not.toContain('llvm-codegen-crash');
  });

  /** A cargo package in `dir`/name with the given manifest additions and main.rs. */
  function cargoPackage(name: string, deps: string, main: string): string {
    const pkg = path.join(dir, name);
    fs.mkdirSync(path.join(pkg, 'src'), { recursive: true });
    fs.writeFileSync(
      path.join(pkg, 'Cargo.toml'),
      `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}`,
    );
    fs.writeFileSync(path.join(pkg, 'src/main.rs'), main);
    return pkg;
  }
  const CARGO_ENV = { RUSTC: '/usr/bin/rustc', RUSTC_BOOTSTRAP: '1', CARGO_TERM_COLOR: 'never', RUSTFLAGS: undefined };
  const SPEC = path.join(WORKSPACE_ROOT, 'projects/rust-target/target-specs/m68k-next-nextstep.json');

  it('json-target-spec-flag: cargo refuses a .json --target without -Zjson-target-spec; with it, that error is gone', async () => {
    const pkg = cargoPackage('spec-flag', '', '#![no_std]\n#![no_main]\n');
    const without = await runProcess('/usr/bin/cargo', ['--offline', 'build', '--target', SPEC], {
      cwd: pkg,
      env: { ...CARGO_ENV, CARGO_TARGET_DIR: path.join(dir, 't1') },
    });
    expect(without.exitCode).not.toBe(0);
    expect(scanLogText(without.all, issues).match?.id).toBe('json-target-spec-flag');
    const withFlag = await runProcess(
      '/usr/bin/cargo',
      ['--offline', 'build', '-Zjson-target-spec', '--target', SPEC],
      { cwd: pkg, env: { ...CARGO_ENV, CARGO_TARGET_DIR: path.join(dir, 't1') } },
    );
    expect(withFlag.all).not.toContain('-Zjson-target-spec');
    expect(scanLogText(withFlag.all, issues).candidates.map((c) => c.id)).not.toContain('json-target-spec-flag');
  });

  it("target-spec-invalid: a broken copy of the project's spec; rustc names the field; the fix's command prints a valid m68k spec", async () => {
    const spec = path.join(dir, 'broken.json');
    fs.writeFileSync(spec, fs.readFileSync(SPEC, 'utf8').replace('"target-pointer-width"', '"target-pointer-widht"'));
    const { scan } = await failing('/usr/bin/rustc', ['-Zunstable-options', '--target', spec, '--print', 'cfg'], {
      RUSTC_BOOTSTRAP: '1',
    });
    expect(scan.match?.id).toBe('target-spec-invalid');
    expect(scan.match!.evidence[0].text).toContain('target-pointer-widht: unknown field');
    const valid = await runProcess(
      '/usr/bin/rustc',
      ['-Zunstable-options', '--print', 'target-spec-json', '--target', 'm68k-unknown-linux-gnu'],
      { cwd: dir, env: { RUSTC_BOOTSTRAP: '1' } },
    );
    expect(valid.exitCode).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ arch: 'm68k', 'target-pointer-width': 32 });
  });

  it('std-not-in-sysroot: a std program against a sysroot with core only; an empty sysroot is not that issue', async () => {
    fs.writeFileSync(path.join(dir, 'std.rs'), 'fn main() { println!("hi"); }\n');
    const noStd = path.join(dir, 'core-only-sysroot');
    const empty = path.join(dir, 'empty-sysroot');
    fs.mkdirSync(empty, { recursive: true });
    const none = await failing('/usr/bin/rustc', ['--target', 'm68k-unknown-linux-gnu', '--sysroot', empty, 'std.rs'], {
      RUSTC_BOOTSTRAP: '1',
    });
    expect(none.output).toContain("can't find crate for `std`");
    expect(none.output).toContain('target may not be installed');
    expect(none.scan.match).toBeNull();
    // A core (an empty #![no_core] crate is enough for rustc to find one) and no std, as in the 68000's sysroot.
    const lib = path.join(noStd, 'lib/rustlib/m68k-unknown-linux-gnu/lib');
    fs.mkdirSync(lib, { recursive: true });
    fs.writeFileSync(path.join(dir, 'core.rs'), '#![feature(no_core)]\n#![no_core]\n');
    const core = await runProcess(
      '/usr/bin/rustc',
      [
        '--crate-name',
        'core',
        '--crate-type',
        'rlib',
        '--target',
        'm68k-unknown-linux-gnu',
        'core.rs',
        '-o',
        path.join(lib, 'libcore.rlib'),
      ],
      { cwd: dir, env: { RUSTC_BOOTSTRAP: '1' } },
    );
    expect(core.exitCode).toBe(0);
    const { scan } = await failing(
      '/usr/bin/rustc',
      ['--target', 'm68k-unknown-linux-gnu', '--sysroot', noStd, 'std.rs'],
      { RUSTC_BOOTSTRAP: '1' },
    );
    expect(scan.match?.id).toBe('std-not-in-sysroot');
  });

  it("crate-not-available-offline: a dependency Debian does not package, through the pipeline's source replacement", async () => {
    const pkg = cargoPackage('needs-crate', 'nextrust-no-such-crate = "1"\n', 'fn main() {}\n');
    const r = await runProcess(
      '/usr/bin/cargo',
      [
        '--offline',
        '--config',
        "source.crates-io.replace-with='debian-packages'",
        '--config',
        'source.debian-packages.directory="/usr/share/cargo/registry"',
        'build',
      ],
      { cwd: pkg, env: { ...CARGO_ENV, CARGO_TARGET_DIR: path.join(dir, 't2') } },
    );
    expect(r.exitCode).not.toBe(0);
    expect(scanLogText(r.all, issues).match?.id).toBe('crate-not-available-offline');
  });

  it('a user error: a type error in a workspace member is reported at its file relative to the workspace, with no known issue', async () => {
    fs.mkdirSync(path.join(dir, 'ws/programs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ws/Cargo.toml'), '[workspace]\nresolver = "2"\nmembers = ["programs/*"]\n');
    fs.renameSync(
      cargoPackage('typo', '', 'fn main() {\n    let code: i32 = "zero";\n    std::process::exit(code);\n}\n'),
      path.join(dir, 'ws/programs/typo'),
    );
    const r = await runProcess('/usr/bin/cargo', ['--offline', 'build', '-p', 'typo'], {
      cwd: path.join(dir, 'ws'),
      env: { ...CARGO_ENV, CARGO_TARGET_DIR: path.join(dir, 't3') },
    });
    expect(r.exitCode).not.toBe(0);
    const scan = scanLogText(r.all, issues, { workspaceRoot: dir });
    expect(scan.candidates).toEqual([]);
    expect(scan.diagnosis).toBe('user-error');
    expect(scan.userError).toMatchObject({
      message: 'error[E0308]: mismatched types',
      location: { file: 'ws/programs/typo/src/main.rs', line: 2 },
      source: '    let code: i32 = "zero";',
    });
  });

  it('toolchain-override-invalid: the system provider with NEXTRUST_QEMU_M68K naming no file, analysed as an Nx run does', async () => {
    const env = { ...process.env, NEXTRUST_QEMU_M68K: path.join(dir, 'no-such-qemu-m68k') };
    let error: unknown;
    await TOOLCHAIN_PROVIDERS.system({
      minLlvmVersion: '19.1.5',
      outputFile: path.join(dir, 'toolchain.json'),
      env,
    }).catch((e) => (error = e));
    expect(error).toBeInstanceOf(ToolchainError);
    const root = statusRoot('override');
    const printed: string[] = [];
    const a = await afterTarget(
      { workspaceRoot: root, project: 'llvm-m68k', target: 'toolchain' },
      { success: false, durationMs: 1, log: (error as Error).message },
      (l) => printed.push(l),
      {
        env: { NEXTRUST_QEMU_M68K: env.NEXTRUST_QEMU_M68K },
      },
    );
    expect(a?.match?.id).toBe('toolchain-override-invalid');
    expect(printed[0]).toContain(`nextrust-run: environment NEXTRUST_QEMU_M68K=${env.NEXTRUST_QEMU_M68K}`);
  });

  /** A scratch workspace root with the committed status inputs. */
  function statusRoot(name: string): string {
    const root = path.join(dir, `root-${name}`);
    fs.mkdirSync(path.join(root, 'projects/ci-status'), { recursive: true });
    for (const f of ['known-issues.json', 'phases.json'])
      fs.copyFileSync(path.join(WORKSPACE_ROOT, 'projects/ci-status', f), path.join(root, 'projects/ci-status', f));
    return root;
  }

  it("system-backend-miscompile: a regression program built by Debian's backend fails its emulator test; blamed only when the run used the system provider", async () => {
    const run = async (provider: 'system' | 'source') => {
      const root = statusRoot(provider);
      // The toolchain manifest the system provider writes, as llvm-m68k:toolchain would; for `source` the same with the provider changed.
      const manifest = await TOOLCHAIN_PROVIDERS.system({
        minLlvmVersion: '19.1.5',
        outputFile: path.join(root, 'dist/llvm-m68k/toolchain/toolchain.json'),
      });
      fs.mkdirSync(path.join(root, 'dist/llvm-m68k/toolchain'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'dist/llvm-m68k/toolchain/toolchain.json'),
        JSON.stringify({ ...manifest, provider }),
      );
      const bin = path.join(root, 'dist/rust-target/m68040/bin');
      fs.mkdirSync(bin, { recursive: true });
      const src = path.join(WORKSPACE_ROOT, 'projects/llvm-m68k/regressions/divide-keeps-d0.c');
      expect(
        (
          await runProcess('clang-22', [
            '--target=m68k-linux-gnu',
            '-mcpu=68040',
            '-O2',
            '-fno-pic',
            '-c',
            src,
            '-o',
            path.join(dir, 'd.o'),
          ])
        ).exitCode,
      ).toBe(0);
      expect(
        (await runProcess('m68k-linux-gnu-gcc', ['-no-pie', path.join(dir, 'd.o'), '-o', path.join(bin, 'divide')]))
          .exitCode,
      ).toBe(0);
      expect((await runProcess('gcc', ['-O2', src, '-o', path.join(dir, 'd.host')])).exitCode).toBe(0);
      const tests = path.join(root, 'tests');
      fs.mkdirSync(path.join(tests, 'expected'), { recursive: true });
      fs.writeFileSync(
        path.join(tests, 'expected/divide.stdout'),
        (await runProcess(path.join(dir, 'd.host'), [])).stdout,
      );
      fs.writeFileSync(
        path.join(tests, 'divide.json'),
        JSON.stringify({
          name: 'divide',
          description: 'divide-keeps-d0.c',
          program: 'divide',
          expect: [{ type: 'output_equals_file', stream: 'stdout', path: '{testsDir}/expected/divide.stdout' }],
        }),
      );
      fs.writeFileSync(
        path.join(root, 'dist/rust-target/m68040/manifest.json'),
        JSON.stringify({
          schemaVersion: 1,
          project: 'rust-target',
          cpu: 'm68040',
          toolchainManifest: 'dist/llvm-m68k/toolchain/toolchain.json',
          m68kSysroot: '/usr/m68k-linux-gnu',
          backend: null,
          programs: ['divide'],
          artifacts: [
            {
              name: 'divide',
              path: 'dist/rust-target/m68040/bin/divide',
              kind: 'executable',
              target: 'm68k-unknown-linux-gnu',
              cpu: 'm68040',
              sha256: '-',
              flavor: 'hosted',
              size: 0,
            },
          ],
        }),
      );
      const context = {
        root,
        cwd: root,
        isVerbose: false,
        projectName: 'emulator-tests',
        targetName: 'test',
        configurationName: 'm68040',
        projectsConfigurations: {
          version: 2,
          projects: {
            'emulator-tests': {
              root: 'projects/emulator-tests',
              targets: {
                test: { executor: 'x', inputs: [{ externalDependencies: [] }], configurations: { m68040: {} } },
              },
            },
          },
        },
        nxJsonConfiguration: {},
        projectGraph: { nodes: {}, dependencies: {} },
      } as unknown as ExecutorContext;
      const errors: string[] = [];
      const spy = jest
        .spyOn(console, 'error')
        .mockImplementation((...l: unknown[]) => void errors.push(l.map(String).join(' ')));
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const result = await emulatorTestExecutor(
          {
            cpu: 'm68040',
            emulator: 'qemu',
            testsDir: 'tests',
            timeoutMs: 30000,
            buildManifest: 'dist/rust-target/m68040/manifest.json',
            outputDir: 'dist/emulator-tests/m68040',
          },
          context,
        );
        expect(result).toEqual({ success: false });
      } finally {
        spy.mockRestore();
        log.mockRestore();
        warn.mockRestore();
      }
      return errors.join('\n');
    };
    expect(await run('system')).toMatch(/^nextrust: known issue system-backend-miscompile /m);
    const source = await run('source');
    expect(source).toContain('nextrust: no known issue matches this failure');
  });
});
