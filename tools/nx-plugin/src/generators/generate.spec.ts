import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { discoverPrograms } from '../config/programs';
import { testCaseSchema } from '../emulator/test-manifest';
import { generateEmulatorTest, generateProgram, GeneratorError } from './generate';
import { greeting } from './templates';

/** A tree with a rust-target and an emulator-tests project, as this repository has them. */
function workspaceTree(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.write('projects/rust-target/nextrust.json', JSON.stringify({ kind: 'rust-target', targetSpecs: {} }));
  tree.write(
    'projects/rust-target/programs/existing/Cargo.toml',
    '[package]\nname = "existing"\nversion = "0.1.0"\n\n[package.metadata.nextrust]\nflavor = "hosted"\n',
  );
  tree.write('projects/emulator-tests/nextrust.json', JSON.stringify({ kind: 'emulator-tests' }));
  tree.write(
    'projects/llvm-m68k/nextrust.json',
    JSON.stringify({ kind: 'llvm-toolchain', atomics: { sources: ['a.c'] } }),
  );
  return tree;
}

/** The GeneratorError message of a call. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GeneratorError);
    return (e as Error).message;
  }
  throw new Error('expected a GeneratorError');
}

describe('program generator', () => {
  it.each([
    ['std', 'src/main.rs', undefined],
    ['hosted', 'src/main.rs', 'hosted'],
    ['freestanding', 'src/main.rs', 'freestanding'],
    ['nextstep', 'src/lib.rs', undefined],
  ] as const)('writes a %s program the build discovers, and its test case', (flavor, source, rtFeature) => {
    const tree = workspaceTree();
    const written = generateProgram(tree, { name: 'my-prog', flavor });
    expect(written).toEqual([
      `projects/rust-target/programs/my-prog/Cargo.toml`,
      `projects/rust-target/programs/my-prog/${source}`,
      'projects/emulator-tests/tests/my-prog.json',
    ]);
    const cargo = tree.read('projects/rust-target/programs/my-prog/Cargo.toml', 'utf-8')!;
    if (rtFeature)
      expect(cargo).toContain(`nextrust-rt = { path = "../../crates/nextrust-rt", features = ["${rtFeature}"] }`);
    else expect(cargo).not.toContain('nextrust-rt');

    // The build's discovery (real files) reads it as this flavour.
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-gen-'));
    try {
      for (const f of written) {
        fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
        fs.writeFileSync(path.join(ws, f), tree.read(f)!);
      }
      const d = discoverPrograms(ws, 'projects/rust-target', 'programs');
      expect(d.problems).toEqual([]);
      expect(d.programs).toEqual([expect.objectContaining({ name: 'my-prog', flavor, path: 'programs/my-prog' })]);
      if (flavor === 'freestanding') expect(d.programs[0].cpus).toEqual(['m68000']);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }

    const testCase = testCaseSchema.parse(
      JSON.parse(tree.read('projects/emulator-tests/tests/my-prog.json', 'utf-8')!),
    );
    expect(testCase.program).toBe('my-prog');
    if (flavor === 'nextstep') {
      expect(testCase).toMatchObject({
        run: false,
        expect: [{ type: 'file_exists', path: '{buildDir}/lib/libmy_prog.a' }],
      });
    } else {
      expect(testCase.expect).toEqual([
        { type: 'exit_code', expected: 0 },
        { type: 'output_contains', stream: 'stdout', pattern: greeting('my-prog') },
      ]);
      expect(tree.read(`projects/rust-target/programs/my-prog/${source}`, 'utf-8')).toContain(greeting('my-prog'));
    }
  });

  it('defaults to std and can skip the test case', () => {
    const tree = workspaceTree();
    expect(generateProgram(tree, { name: 'plain', skipTest: true })).toEqual([
      'projects/rust-target/programs/plain/Cargo.toml',
      'projects/rust-target/programs/plain/src/main.rs',
    ]);
    expect(tree.read('projects/rust-target/programs/plain/Cargo.toml', 'utf-8')).toContain('flavor = "std"');
  });

  it('refuses bad input with one line naming the field and the fix, writing nothing', () => {
    const tree = workspaceTree();
    const before = tree.listChanges().length;
    expect(refusal(() => generateProgram(tree, { name: 'Bad Name' }))).toBe(
      "name 'Bad Name': expected a Cargo package name (lowercase letters, digits, - or _, starting with a letter)",
    );
    expect(refusal(() => generateProgram(tree, { name: 'x', flavor: 'windows' as never }))).toBe(
      "--flavor 'windows': expected one of std, hosted, freestanding, nextstep",
    );
    expect(refusal(() => generateProgram(tree, { name: 'existing' }))).toBe(
      'projects/rust-target/programs/existing already exists: choose another name or remove the folder',
    );
    tree.write('projects/rust-target/programs/other-folder/Cargo.toml', '[package]\nname = "taken"\n');
    expect(refusal(() => generateProgram(tree, { name: 'taken' }))).toBe(
      "name 'taken': projects/rust-target/programs/other-folder/Cargo.toml already has that package name",
    );
    expect(refusal(() => generateProgram(tree, { name: 'x', project: 'nowhere' }))).toBe(
      "--project 'nowhere': no nextrust.json in projects/nowhere or nowhere; name a rust-target project",
    );
    expect(refusal(() => generateProgram(tree, { name: 'x', project: 'llvm-m68k' }))).toBe(
      "--project 'llvm-m68k': projects/llvm-m68k/nextrust.json is a 'llvm-toolchain' project; expected 'rust-target'",
    );
    expect(tree.listChanges().length).toBe(before + 1);
  });
});

describe('emulator-test generator', () => {
  it("writes a case for an existing program, by the program's flavour", () => {
    const tree = workspaceTree();
    expect(generateEmulatorTest(tree, { program: 'existing', name: 'existing-says-hi', expectOutput: 'hi' })).toEqual([
      'projects/emulator-tests/tests/existing-says-hi.json',
    ]);
    const testCase = testCaseSchema.parse(
      JSON.parse(tree.read('projects/emulator-tests/tests/existing-says-hi.json', 'utf-8')!),
    );
    expect(testCase).toMatchObject({
      program: 'existing',
      run: true,
      expect: [
        { type: 'exit_code', expected: 0 },
        { type: 'output_contains', pattern: 'hi' },
      ],
    });
  });

  it('refuses a program that does not exist (listing the programs) and a case that exists', () => {
    const tree = workspaceTree();
    expect(refusal(() => generateEmulatorTest(tree, { program: 'ghost' }))).toBe(
      "program 'ghost': no such program in projects/rust-target/programs (its programs: existing); create it with `npx nx g ./tools/nx-plugin:program ghost`",
    );
    generateEmulatorTest(tree, { program: 'existing' });
    expect(refusal(() => generateEmulatorTest(tree, { program: 'existing' }))).toBe(
      'projects/emulator-tests/tests/existing.json already exists: give the test another --name',
    );
  });
});
