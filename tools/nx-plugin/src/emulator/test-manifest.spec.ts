// Covers readTestCases: sorted valid manifests with defaults, and ConfigErrors naming file and field (bad regex, duplicates, bad JSON, bad fields).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/project-config';
import { readTestCases } from './test-manifest';

const REPO_TESTS_DIR = path.resolve(__dirname, '../../../../projects/emulator-tests/tests');

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary folder holding the given files (objects JSON-encoded, strings written as is). */
function folder(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-manifests-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const valid = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  program: name,
  expect: [{ type: 'exit_code', expected: 0 }],
  ...extra,
});

/** The ConfigError readTestCases throws for a folder. */
function errorFor(dir: string): ConfigError {
  let thrown: unknown;
  try {
    readTestCases(dir);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('readTestCases on valid manifests', () => {
  it('reads every *.json, sorted by file name, ignoring other files', () => {
    const dir = folder({
      'c.json': valid('gamma'),
      'a.json': valid('alpha'),
      'b.json': valid('beta'),
      'notes.txt': 'not a manifest',
      'd.json.bak': '{',
    });
    const cases = readTestCases(dir);
    expect(cases.map((c) => path.basename(c.file))).toEqual(['a.json', 'b.json', 'c.json']);
    expect(cases.map((c) => c.testCase.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(cases[0].file).toBe(path.join(dir, 'a.json'));
  });

  it('applies the defaults (run, args, stream) and keeps the optional fields', () => {
    const dir = folder({
      'one.json': valid('one', {
        $schema: '../schema.json',
        description: 'd',
        cpus: ['m68030'],
        stdin: 'in',
        timeoutMs: 5000,
        expect: [
          { type: 'exit_code', expected: 3 },
          { type: 'output_contains', pattern: 'x' },
          { type: 'output_matches', pattern: '^y$', stream: 'stderr' },
          { type: 'file_exists', path: '{buildDir}/one' },
        ],
      }),
    });
    const [{ testCase }] = readTestCases(dir);
    expect(testCase).toEqual({
      $schema: '../schema.json',
      name: 'one',
      description: 'd',
      program: 'one',
      run: true,
      cpus: ['m68030'],
      args: [],
      stdin: 'in',
      timeoutMs: 5000,
      expect: [
        { type: 'exit_code', expected: 3 },
        { type: 'output_contains', pattern: 'x', stream: 'stdout' },
        { type: 'output_matches', pattern: '^y$', stream: 'stderr' },
        { type: 'file_exists', path: '{buildDir}/one' },
      ],
    });
  });

  it('returns nothing for an empty folder', () => {
    expect(readTestCases(folder({}))).toEqual([]);
  });

  it('reads the committed emulator test manifests', () => {
    const cases = readTestCases(REPO_TESTS_DIR);
    expect(cases.length).toBeGreaterThanOrEqual(5);
    for (const { file, testCase } of cases) expect(testCase.name).toBe(path.basename(file, '.json'));
    const staticlib = cases.find((c) => c.testCase.name === 'nextstep-staticlib')?.testCase;
    expect(staticlib).toMatchObject({
      run: false,
      program: 'nextstep-hello',
      expect: [{ type: 'file_exists', path: '{buildDir}/lib/libnextstep_hello.a' }],
    });
  });
});

describe('readTestCases on invalid manifests', () => {
  it('rejects an invalid regular expression, naming file and field', () => {
    const dir = folder({
      'bad-regex.json': valid('bad-regex', {
        expect: [
          { type: 'exit_code', expected: 0 },
          { type: 'output_matches', pattern: 'a(b' },
        ],
      }),
    });
    const file = path.join(dir, 'bad-regex.json');
    const e = errorFor(dir);
    expect(e.file).toBe(file);
    expect(e.message).toBe(`${file}: field 'expect[1].pattern': expected a valid JavaScript regular expression`);
  });

  it('rejects a name used twice, naming both files', () => {
    const dir = folder({ 'a.json': valid('same'), 'b.json': valid('same') });
    const e = errorFor(dir);
    expect(e.file).toBe(path.join(dir, 'b.json'));
    expect(e.message).toBe(
      `${path.join(dir, 'b.json')}: field 'name': 'same' is already used by ${path.join(dir, 'a.json')}`,
    );
  });

  it('rejects text that is not JSON, naming the file', () => {
    const dir = folder({ 'a.json': valid('fine'), 'broken.json': '{ "name": "broken", ' });
    const file = path.join(dir, 'broken.json');
    const e = errorFor(dir);
    expect(e.file).toBe(file);
    expect(e.message.startsWith(`${file}: not valid JSON: `)).toBe(true);
  });

  it.each([
    ['an exit code out of range', { expect: [{ type: 'exit_code', expected: 256 }] }, 'expect[0].expected', /<=255/],
    ['an unknown assertion type', { expect: [{ type: 'stdout_equals', pattern: 'x' }] }, 'expect[0].type', /exit_code/],
    [
      'an unknown stream',
      { expect: [{ type: 'output_contains', pattern: 'x', stream: 'stdlog' }] },
      'expect[0].stream',
      /"stdout"\|"stderr"\|"all"/,
    ],
    ['an unknown CPU', { cpus: ['m68020'] }, 'cpus[0]', /"m68040"/],
    ['no assertions', { expect: [] }, 'expect', />=1/],
    ['an unknown field', { expects: [] }, '(root)', /"expects"/],
    ['an uppercase name', { name: 'Hello' }, 'name', /^expected a lowercase name/],
  ])('rejects %s, naming file and field', (_what, extra, field, detail) => {
    const dir = folder({ 'case.json': valid('case', extra) });
    const file = path.join(dir, 'case.json');
    const e = errorFor(dir);
    expect(e.file).toBe(file);
    const prefix = `${file}: field '${field}': `;
    expect(e.message.startsWith(prefix)).toBe(true);
    expect(e.message.slice(prefix.length)).toMatch(detail);
  });

  it('reports a missing folder', () => {
    const dir = path.join(folder({}), 'missing');
    const e = errorFor(dir);
    expect(e.file).toBe(dir);
    expect(e.message).toMatch(
      new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the test manifests folder: ENOENT`),
    );
  });
});
