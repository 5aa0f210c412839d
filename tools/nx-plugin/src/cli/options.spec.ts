// The shared option parsers of the CLI (options.ts), called directly and through commander.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CPU_NAMES } from '../toolchain/cpu';
import { confidence, cpuOption, nonNegativeInt, phaseStatusOption, positiveInt } from './options';

describe('positiveInt', () => {
  const parse = positiveInt('--days');

  it.each([
    ['1', 1],
    ['7', 7],
    ['0007', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('%j -> %d', (v, n) => expect(parse(v)).toBe(n));

  it.each(['0', '00', '-1', '-7', '1.5', '1.0', '1e3', '0x10', ' 7', '7 ', '', 'seven', '+3', '9007199254740993'])(
    '%j: refused, naming the option',
    (v) => {
      expect(() => parse(v)).toThrow(InvalidArgumentError);
      expect(() => parse(v)).toThrow('--days must be a whole number >= 1');
    },
  );
});

describe('nonNegativeInt', () => {
  const parse = nonNegativeInt('--max-bytes');

  it.each([
    ['0', 0],
    ['1', 1],
    ['4194304', 4194304],
  ])('%j -> %d', (v, n) => expect(parse(v)).toBe(n));

  it.each(['-1', '-0', '0.5', '1e3', '', 'x'])('%j: refused, naming the option', (v) => {
    expect(() => parse(v)).toThrow('--max-bytes must be a whole number >= 0');
  });
});

describe('confidence', () => {
  it.each([
    ['0', 0],
    ['0.5', 0.5],
    ['1', 1],
  ])('%j -> %d', (v, n) => expect(confidence(v)).toBe(n));

  it.each(['-0.1', '1.01', '2', '', ' ', 'NaN', 'high'])('%j: refused', (v) => {
    expect(() => confidence(v)).toThrow('expected a number from 0 to 1');
  });
});

/** Parses `argv` with `option` on a fresh command; the parsed options, or the commander error message. */
function parseWith(option: ReturnType<typeof cpuOption>, argv: string[]): Record<string, unknown> | string {
  let err = '';
  const cmd = new Command('t')
    .exitOverride()
    .configureOutput({ writeErr: (t) => (err += t), writeOut: () => undefined })
    .addOption(option);
  try {
    cmd.parse(argv, { from: 'user' });
    return cmd.opts();
  } catch (e) {
    if (e instanceof CommanderError) return err;
    throw e;
  }
}

describe('cpuOption and phaseStatusOption', () => {
  it('--cpu takes each CPU variant of toolchain/cpu.ts and nothing else', () => {
    for (const c of CPU_NAMES) expect(parseWith(cpuOption('cpu'), ['--cpu', c])).toEqual({ cpu: c });
    expect(parseWith(cpuOption('cpu'), ['--cpu', 'm68020'])).toBe(
      `error: option '--cpu <variant>' argument 'm68020' is invalid. Allowed choices are ${CPU_NAMES.join(', ')}.\n`,
    );
  });

  it('--status takes the phase statuses', () => {
    for (const s of ['in_progress', 'completed', 'failed', 'blocked'])
      expect(parseWith(phaseStatusOption('s'), ['--status', s])).toEqual({ status: s });
    expect(parseWith(phaseStatusOption('s'), ['--status', 'done'])).toMatch(/argument 'done' is invalid/);
  });
});
