/**
 * What the `program` and `emulator-test` generators write: a program folder
 * per flavour (Cargo.toml with `[package.metadata.nextrust]`, its source) and
 * an emulator test case. Plain functions of their inputs, used by the
 * generators in generators/program and generators/emulator-test.
 */
import type { ProgramConfig } from '../config/project-config';
import type { z } from 'zod';
import type { testCaseSchema } from '../emulator/test-manifest';

/** A test case as written in a manifest file (defaults not filled in). */
export type TestCaseFile = z.input<typeof testCaseSchema>;

/** One generated file: path relative to the folder it belongs in, and its text. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** Cargo package names the generators accept (lowercase, as the build's program names). */
export const PROGRAM_NAME = /^[a-z][a-z0-9_-]*$/;

/** The line a generated program prints, which its generated test expects. */
export function greeting(name: string): string {
  return `Hello from ${name} on the Motorola 68k!`;
}

/** Name of the static library file cargo writes for a staticlib package (`lib<name, - as _>.a`). */
export function staticlibFile(name: string): string {
  return `lib${name.replace(/-/g, '_')}.a`;
}

const RT_FEATURE: Partial<Record<ProgramConfig['flavor'], string>> = { hosted: 'hosted', freestanding: 'freestanding' };

/**
 * The files of a new program of the given flavour, relative to its folder.
 * @param rtPath path of the nextrust-rt crate relative to the program folder (hosted and freestanding use it).
 */
export function programFiles(
  name: string,
  flavor: ProgramConfig['flavor'],
  rtPath = '../../crates/nextrust-rt',
): GeneratedFile[] {
  const meta = ['[package.metadata.nextrust]', `flavor = "${flavor}"`];
  // Freestanding programs carry compiler_builtins' memcpy; CPUs with hosted programs use glibc's: the 68000 has none.
  if (flavor === 'freestanding') meta.push('cpus = ["m68000"]');
  const header = [
    '[package]',
    `name = "${name}"`,
    'version.workspace = true',
    'edition.workspace = true',
    'license.workspace = true',
    '',
    ...meta,
    '',
  ];
  const target =
    flavor === 'nextstep'
      ? ['[lib]', 'crate-type = ["staticlib"]', 'path = "src/lib.rs"', 'test = false', 'bench = false']
      : // std programs keep their #[test] harness (rust-target:test runs it on the 68k); no_std ones have none.
        [
          '[[bin]]',
          `name = "${name}"`,
          'path = "src/main.rs"',
          ...(flavor === 'std' ? [] : ['test = false']),
          'bench = false',
        ];
  const feature = RT_FEATURE[flavor];
  const deps = feature ? ['', '[dependencies]', `nextrust-rt = { path = "${rtPath}", features = ["${feature}"] }`] : [];
  const cargo = [...header, ...target, ...deps, ''].join('\n');
  const hello = greeting(name);
  const sources: Record<ProgramConfig['flavor'], GeneratedFile> = {
    std: {
      path: 'src/main.rs',
      content:
        `//! ${name}: a Rust program with std for m68k Linux.\n\nfn greeting() -> String {\n    "${hello}".to_string()\n}\n\n` +
        'fn main() {\n    println!("{}", greeting());\n}\n\n' +
        '#[cfg(test)]\nmod tests {\n    // Run on the 68k by `npx nx run rust-target:test`.\n    #[test]\n    fn greets_the_68k() {\n        assert!(super::greeting().ends_with("Motorola 68k!"));\n    }\n}\n',
    },
    hosted: {
      path: 'src/main.rs',
      content:
        `//! ${name}: a no_std program linked against glibc (core, alloc; output through nextrust-rt).\n` +
        '#![no_std]\n#![no_main]\n\nuse nextrust_rt::outln;\n\n#[no_mangle]\npub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {\n' +
        `    outln!("${hello}");\n    0\n}\n`,
    },
    freestanding: {
      path: 'src/main.rs',
      content:
        `//! ${name}: a freestanding program (no libc: \`_start\`, Linux system calls through \`trap #0\`).\n` +
        '#![no_std]\n#![no_main]\n\nuse nextrust_rt::{exit, outln};\n\n#[no_mangle]\npub extern "C" fn _start() -> ! {\n' +
        `    outln!("${hello}");\n    exit(0)\n}\n`,
    },
    nextstep: {
      path: 'src/lib.rs',
      content:
        `//! ${name}: a static library for the m68k-next-nextstep target spec, for NeXTSTEP programs to link.\n#![no_std]\n\n` +
        `const GREETING: &[u8] = b"${hello}";\n\n` +
        '/// Copies the greeting into `buf` (at most `len` bytes); returns the number of bytes copied.\n///\n/// # Safety\n/// `buf` must be valid for `len` bytes of writes.\n' +
        `#[no_mangle]\npub unsafe extern "C" fn ${name.replace(/-/g, '_')}_greeting(buf: *mut u8, len: usize) -> usize {\n` +
        '    let n = core::cmp::min(len, GREETING.len());\n    core::ptr::copy_nonoverlapping(GREETING.as_ptr(), buf, n);\n    n\n}\n\n' +
        '#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! {\n    loop {}\n}\n',
    },
  };
  return [{ path: 'Cargo.toml', content: cargo }, sources[flavor]];
}

/**
 * An emulator test case for a program: a runnable program must exit 0 and print `expectOutput` (default: the
 * greeting a generated program prints); a NeXTSTEP staticlib (not runnable here) must exist.
 */
export function emulatorTestCase(
  program: string,
  flavor: ProgramConfig['flavor'],
  expectOutput = greeting(program),
): TestCaseFile {
  if (flavor === 'nextstep') {
    return {
      name: program,
      description: `${program} builds as a static library for the m68k-next-nextstep target spec (not runnable under qemu-m68k).`,
      program,
      run: false,
      expect: [{ type: 'file_exists', path: `{buildDir}/lib/${staticlibFile(program)}` }],
    };
  }
  return {
    name: program,
    description: `${program} runs under qemu-m68k, exits 0 and prints its greeting.`,
    program,
    timeoutMs: 60_000,
    expect: [
      { type: 'exit_code', expected: 0 },
      { type: 'output_contains', stream: 'stdout', pattern: expectOutput },
    ],
  };
}
