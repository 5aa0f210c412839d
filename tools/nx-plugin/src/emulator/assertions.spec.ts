// Covers checkAssertion: every assertion kind passing and failing, stream selection, timeouts, run: false, and file_exists placeholders.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkAssertion, type RunOutcome } from './assertions';
import { assertionSchema, type Assertion } from './test-manifest';

/** An assertion as read from a manifest (schema defaults applied, e.g. stream: stdout). */
const assertion = (raw: Record<string, unknown>): Assertion => assertionSchema.parse(raw);

const run = (o: Partial<RunOutcome> = {}): RunOutcome => ({
  exitCode: 0,
  stdout: 'Hello from Rust on the Motorola 68k!\ncounter=1000\n',
  stderr: 'warning: slow\npanicked at src/main.rs:3:5: boom\n',
  all: 'Hello from Rust on the Motorola 68k!\nwarning: slow\ncounter=1000\npanicked at src/main.rs:3:5: boom\n',
  timedOut: false,
  ...o,
});

const check = (
  raw: Record<string, unknown>,
  outcome: RunOutcome | null = run(),
  ws = '/nonexistent-ws',
  vars: Record<string, string> = {},
) => checkAssertion(assertion(raw), outcome, ws, vars);

describe('exit_code', () => {
  it('passes on the expected code', () => {
    const r = check({ type: 'exit_code', expected: 0 });
    expect(r).toEqual({ assertion: { type: 'exit_code', expected: 0 }, passed: true, message: 'exit code 0' });
  });

  it('fails on another code, naming both', () => {
    const r = check({ type: 'exit_code', expected: 0 }, run({ exitCode: 101 }));
    expect(r.passed).toBe(false);
    expect(r.message).toBe('expected exit code 0, got exit code 101');
  });

  it('passes on a non-zero expected code', () => {
    expect(check({ type: 'exit_code', expected: 101 }, run({ exitCode: 101 })).passed).toBe(true);
  });

  it('fails on a timeout even when the recorded code matches', () => {
    const r = check({ type: 'exit_code', expected: 0 }, run({ exitCode: 0, timedOut: true }));
    expect(r.passed).toBe(false);
    expect(r.message).toBe('expected exit code 0, got a timeout');
    const killed = check({ type: 'exit_code', expected: 137 }, run({ exitCode: 137, timedOut: true }));
    expect(killed.passed).toBe(false);
  });

  it('fails when the program never started (null exit code)', () => {
    const r = check({ type: 'exit_code', expected: 0 }, run({ exitCode: null }));
    expect(r.passed).toBe(false);
    expect(r.message).toBe('expected exit code 0, got exit code null');
  });
});

describe('output_contains', () => {
  it('looks in stdout by default', () => {
    const r = check({ type: 'output_contains', pattern: 'counter=1000' });
    expect(r.assertion).toEqual({ type: 'output_contains', pattern: 'counter=1000', stream: 'stdout' });
    expect(r).toMatchObject({ passed: true, message: 'stdout contains "counter=1000"' });
  });

  it('fails when only another stream has the text', () => {
    const r = check({ type: 'output_contains', pattern: 'warning: slow' });
    expect(r).toMatchObject({ passed: false, message: 'stdout does not contain "warning: slow"' });
  });

  it('reads stderr when asked', () => {
    expect(check({ type: 'output_contains', stream: 'stderr', pattern: 'warning: slow' })).toMatchObject({
      passed: true,
      message: 'stderr contains "warning: slow"',
    });
    expect(check({ type: 'output_contains', stream: 'stderr', pattern: 'counter=' })).toMatchObject({
      passed: false,
      message: 'stderr does not contain "counter="',
    });
  });

  it('reads the interleaved output for all', () => {
    expect(check({ type: 'output_contains', stream: 'all', pattern: 'slow\ncounter' }).passed).toBe(true);
    expect(check({ type: 'output_contains', stream: 'all', pattern: 'nowhere' }).passed).toBe(false);
  });

  it('matches the pattern literally (no regex), and quotes it in the message', () => {
    expect(check({ type: 'output_contains', pattern: 'count.r' }).passed).toBe(false);
    const r = check({ type: 'output_contains', pattern: 'a "b"\n' }, run({ stdout: 'x a "b"\n' }));
    expect(r).toMatchObject({ passed: true, message: 'stdout contains "a \\"b\\"\\n"' });
  });

  it('still judges the output of a timed-out run', () => {
    expect(check({ type: 'output_contains', pattern: 'counter' }, run({ timedOut: true, exitCode: null })).passed).toBe(
      true,
    );
  });
});

describe('output_matches', () => {
  it('matches a regular expression, multi-line (^ and $ per line)', () => {
    const r = check({ type: 'output_matches', pattern: '^counter=\\d+$' });
    expect(r).toMatchObject({ passed: true, message: 'stdout matches /^counter=\\d+$/' });
  });

  it('fails when no line matches', () => {
    const r = check({ type: 'output_matches', pattern: '^counter=\\d{5}$' });
    expect(r).toMatchObject({ passed: false, message: 'stdout does not match /^counter=\\d{5}$/' });
  });

  it('selects the stream', () => {
    const pattern = '^panicked at src/main\\.rs:\\d+:\\d+: boom$';
    expect(check({ type: 'output_matches', stream: 'stderr', pattern }).passed).toBe(true);
    expect(check({ type: 'output_matches', stream: 'stdout', pattern }).passed).toBe(false);
    expect(check({ type: 'output_matches', stream: 'all', pattern }).passed).toBe(true);
  });

  it('is case-sensitive and gives the same answer when checked twice', () => {
    expect(check({ type: 'output_matches', pattern: 'hello' }).passed).toBe(false);
    const a = assertion({ type: 'output_matches', pattern: 'Hello' });
    const outcome = run();
    expect(checkAssertion(a, outcome, '/', {}).passed).toBe(true);
    expect(checkAssertion(a, outcome, '/', {}).passed).toBe(true);
  });
});

describe('a case that does not run its program', () => {
  it.each([
    [{ type: 'exit_code', expected: 0 }],
    [{ type: 'output_contains', pattern: 'x' }],
    [{ type: 'output_matches', pattern: 'x' }],
  ])('fails %j, saying it needs a run', (raw) => {
    const r = check(raw, null);
    expect(r.passed).toBe(false);
    expect(r.message).toBe(`${raw.type} needs a run, but the case has run: false`);
  });
});

describe('file_exists', () => {
  let ws: string;
  beforeAll(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-assertions-'));
    fs.mkdirSync(path.join(ws, 'dist/rust-target/m68040/lib'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'dist/rust-target/m68040/lib/libnextstep_hello.a'), '!<arch>\n');
  });
  afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

  const vars = { buildDir: 'dist/rust-target/m68040' };

  it('substitutes {buildDir} and finds the file relative to the workspace root', () => {
    const r = check({ type: 'file_exists', path: '{buildDir}/lib/libnextstep_hello.a' }, null, ws, vars);
    expect(r).toMatchObject({ passed: true, message: 'dist/rust-target/m68040/lib/libnextstep_hello.a exists' });
  });

  it('fails for a missing file, naming the substituted path', () => {
    const r = check({ type: 'file_exists', path: '{buildDir}/lib/libmissing.a' }, null, ws, vars);
    expect(r).toMatchObject({ passed: false, message: 'dist/rust-target/m68040/lib/libmissing.a does not exist' });
  });

  it('uses the CPU folder it is given', () => {
    expect(
      check({ type: 'file_exists', path: '{buildDir}/lib/libnextstep_hello.a' }, null, ws, {
        buildDir: 'dist/rust-target/m68030',
      }).passed,
    ).toBe(false);
  });

  it('does not need a run, and ignores the run outcome', () => {
    expect(
      check(
        { type: 'file_exists', path: '{buildDir}/lib/libnextstep_hello.a' },
        run({ exitCode: 1, timedOut: true }),
        ws,
        vars,
      ).passed,
    ).toBe(true);
  });

  it('leaves unknown placeholders as written', () => {
    const r = check({ type: 'file_exists', path: '{outDir}/lib/libnextstep_hello.a' }, null, ws, vars);
    expect(r).toMatchObject({ passed: false, message: '{outDir}/lib/libnextstep_hello.a does not exist' });
  });

  it('accepts an absolute buildDir', () => {
    const r = check({ type: 'file_exists', path: '{buildDir}/lib/libnextstep_hello.a' }, null, '/nonexistent-ws', {
      buildDir: path.join(ws, 'dist/rust-target/m68040'),
    });
    expect(r.passed).toBe(true);
  });
});
