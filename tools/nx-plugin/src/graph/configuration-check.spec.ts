// Covers the preTasksExecution check that rejects unknown CPU configurations.
import { checkRequestedConfigurations, requestedConfigurations } from './configuration-check';

const argv = (...words: string[]) => ['node', 'nx', ...words];

describe('requestedConfigurations', () => {
  it('finds -c, --configuration, --configuration= and project:target:config', () => {
    expect(requestedConfigurations(argv('run', 'rust-target:build', '-c', 'm68030'))).toEqual(['m68030']);
    expect(requestedConfigurations(argv('run', 'rust-target:build', '--configuration=m68060'))).toEqual(['m68060']);
    expect(requestedConfigurations(argv('run', 'rust-target:build:m68000'))).toEqual(['m68000']);
    expect(requestedConfigurations(argv('run-many', '-t', 'build', '--configuration', 'm68040'))).toEqual(['m68040']);
  });
  it('finds none when none is given', () => {
    expect(requestedConfigurations(argv('run', 'rust-target:build'))).toEqual([]);
    expect(requestedConfigurations(argv('affected', '-t', 'build', 'test'))).toEqual([]);
  });
});

describe('checkRequestedConfigurations', () => {
  const OURS = new Set(['llvm-m68k', 'rust-target', 'emulator-tests']);
  const check = (...words: string[]) => checkRequestedConfigurations(argv(...words), OURS);

  it('accepts every CPU variant, for nextrust projects and whole runs', () => {
    for (const c of ['m68000', 'm68030', 'm68040', 'm68060']) {
      expect(check('run', 'rust-target:build', '-c', c)).toEqual([]);
      expect(check('run-many', '-t', 'build', '-c', c)).toEqual([]);
      expect(check('run', `rust-target:build:${c}`)).toEqual([]);
    }
  });

  it('rejects an unknown configuration of a nextrust project, naming it and listing the CPU variants', () => {
    expect(() => check('run', 'rust-target:build', '--configuration=production')).toThrow(
      "unknown configuration 'production' for rust-target: the nextrust targets have one configuration per CPU variant: m68000, m68030, m68040, m68060",
    );
    expect(() => check('run', 'emulator-tests:test:production')).toThrow(
      "unknown configuration 'production' for emulator-tests",
    );
    expect(() => check('run-many', '-t', 'build', '-p', 'web,rust-target', '-c', 'production')).toThrow(
      "'production' for rust-target",
    );
    expect(() => check('affected', '-t', 'build', '--projects', 'llvm-m68k', '-c', 'debug')).toThrow(
      "'debug' for llvm-m68k",
    );
  });

  it('rejects a 680x0 name that is not a supported variant anywhere (m68020, mc68040, 68030)', () => {
    for (const c of ['m68020', 'mc68040', '68030', 'M68010']) {
      expect(() => check('run-many', '-t', 'build', '-c', c)).toThrow(
        `unknown configuration '${c}': the nextrust targets have one configuration per CPU variant`,
      );
      expect(() => check('run', `web:build:${c}`)).toThrow(`'${c}'`);
    }
  });

  it("passes other projects' configurations untouched: nx run web:build:production, -p web", () => {
    expect(check('run', 'web:build:production')).toEqual([]);
    expect(check('run', 'web:build', '-c', 'production')).toEqual([]);
    expect(check('run-many', '-t', 'build', '-p', 'web', 'docs', '-c', 'production')).toEqual([]);
  });

  it('a whole run-many/affected with another configuration goes on with a warning that nextrust targets use m68040', () => {
    const warnings = check('run-many', '-t', 'build', '-c', 'production');
    expect(warnings).toEqual([
      "configuration 'production' is not a CPU variant: nextrust targets in this run use their default configuration (m68040); name one of m68000, m68030, m68040, m68060 to choose the CPU",
    ]);
    expect(check('affected', '-t', 'test', '--configuration=ci')).toHaveLength(1);
    // A workspace without nextrust projects: no warning.
    expect(checkRequestedConfigurations(argv('run-many', '-t', 'build', '-c', 'production'), new Set())).toEqual([]);
  });

  it('without a cached project graph every named project counts as nextrust', () => {
    expect(() => checkRequestedConfigurations(argv('run', 'web:build:production'), null)).toThrow(
      "'production' for web",
    );
  });

  it('reads the project graph only for a configuration that is not a CPU variant, and once', () => {
    let reads = 0;
    const find = () => {
      reads++;
      return new Set(['rust-target']);
    };
    expect(checkRequestedConfigurations(argv('run', 'rust-target:build', '-c', 'm68040'), find)).toEqual([]);
    expect(checkRequestedConfigurations(argv('run', 'rust-target:build'), find)).toEqual([]);
    expect(reads).toBe(0);
    expect(checkRequestedConfigurations(argv('run', 'web:build:production', '-c', 'staging'), find)).toHaveLength(0);
    expect(reads).toBe(1);
    expect(() => checkRequestedConfigurations(argv('run', 'rust-target:build:production'), find)).toThrow(
      "'production' for rust-target",
    );
    expect(reads).toBe(2);
  });
});
