// The exit codes and error mapping of the CLI (errors.ts): exitOf for each kind of error, asCliError, the help
// section, and the table in docs/pipeline.md (generated from errors.ts: it must be current).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommanderError } from 'commander';
import { ConfigError } from '../config/project-config';
import { LockTimeoutError, StatusFileError } from '../pipeline/status-store';
import {
  asCliError,
  CliError,
  EXIT,
  EXIT_CODE_MEANINGS,
  EXIT_CODES_DOC_BEGIN,
  EXIT_CODES_DOC_END,
  exitCodesHelp,
  exitCodesMarkdown,
  exitOf,
  NegativeAnswerError,
  UsageError,
} from './errors';

const repoRoot = path.resolve(__dirname, '../../../..');

describe('exitOf', () => {
  it.each([
    ['a UsageError', new UsageError('--x: expected y'), 2, 'nextrust: --x: expected y\n'],
    ['a NegativeAnswerError', new NegativeAnswerError('no current phase'), 1, 'nextrust: no current phase\n'],
    ['a CliError with its own code', new CliError('locked', EXIT.lockTimeout), 3, 'nextrust: locked\n'],
    [
      'a LockTimeoutError',
      new LockTimeoutError('/s', 300),
      3,
      `nextrust: ${new LockTimeoutError('/s', 300).message}\n`,
    ],
    [
      'a ConfigError',
      new ConfigError('/p/nextrust.json', '/p/nextrust.json: bad'),
      2,
      'nextrust: /p/nextrust.json: bad\n',
    ],
    [
      'a StatusFileError',
      new StatusFileError('/s/x', 'a directory'),
      2,
      'nextrust: status file /s/x: a directory; nothing was changed\n',
    ],
    ['any other Error', new TypeError('boom'), 2, 'nextrust: boom\n'],
    ['a thrown string', 'odd', 2, 'nextrust: odd\n'],
  ])('%s: exit %d and one line', (_what, error, exitCode, stderr) => {
    expect(exitOf(error)).toEqual({ exitCode, stderr });
  });

  it('a CommanderError was printed by commander: --help and --version exit 0, usage errors 2, nothing more printed', () => {
    expect(exitOf(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({
      exitCode: 0,
      stderr: '',
    });
    expect(exitOf(new CommanderError(1, 'commander.unknownCommand', "error: unknown command 'x'"))).toEqual({
      exitCode: 2,
      stderr: '',
    });
  });

  it('the stack trace only in debug mode, before the message', () => {
    const e = new UsageError('bad');
    expect(exitOf(e).stderr).not.toContain(' at ');
    const debug = exitOf(e, true).stderr;
    expect(debug.startsWith(`${e.stack}\n`)).toBe(true);
    expect(debug.endsWith('\nnextrust: bad\n')).toBe(true);
  });
});

describe('asCliError', () => {
  it('prefixes the message, keeps the cause and takes the exit code of the class', () => {
    const cause = new Error('no decision cached');
    const e = asCliError(cause, 'promote-design', UsageError);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('promote-design: no decision cached');
    expect(e.cause).toBe(cause);
    expect(exitOf(e).exitCode).toBe(2);
    expect(exitOf(asCliError(cause, 'confirm', NegativeAnswerError)).exitCode).toBe(1);
  });

  it('a lock timeout stays itself (exit 3)', () => {
    const lock = new LockTimeoutError('/s', 10);
    expect(asCliError(lock, 'confirm', NegativeAnswerError)).toBe(lock);
  });
});

describe('the exit-code table', () => {
  it('codes 0 to 3, each with a meaning', () => {
    expect(Object.values(EXIT)).toEqual([0, 1, 2, 3]);
    for (const c of Object.values(EXIT)) expect(EXIT_CODE_MEANINGS[c].length).toBeGreaterThan(10);
  });

  it('the help section lists every code once, in lines of at most 80 columns', () => {
    const help = exitCodesHelp();
    expect(help.startsWith('\nExit codes:\n')).toBe(true);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(help.match(/^ {2}\d/gm)).toEqual(['  0', '  1', '  2', '  3']);
    // Wrapped lines re-joined give the meanings back.
    const joined = help.replace(/\n {6}/g, ' ');
    for (const c of Object.values(EXIT)) expect(joined).toContain(`\n  ${c}   ${EXIT_CODE_MEANINGS[c]}\n`);
  });

  it('docs/pipeline.md has the current table (regenerate it from exitCodesMarkdown() when this fails)', () => {
    const doc = fs.readFileSync(path.join(repoRoot, 'docs/pipeline.md'), 'utf8');
    const begin = doc.indexOf(EXIT_CODES_DOC_BEGIN);
    const end = doc.indexOf(EXIT_CODES_DOC_END);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    expect(doc.slice(begin, end + EXIT_CODES_DOC_END.length)).toBe(exitCodesMarkdown());
    // The only exit-code table of the document.
    expect(doc.indexOf(EXIT_CODES_DOC_BEGIN, begin + 1)).toBe(-1);
    expect(doc).not.toMatch(/exit codes?: 0 /i);
  });
});
