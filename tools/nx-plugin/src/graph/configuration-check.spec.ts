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
  it('accepts every CPU variant', () => {
    for (const c of ['m68000', 'm68030', 'm68040', 'm68060']) {
      expect(() => checkRequestedConfigurations(argv('run', 'rust-target:build', '-c', c))).not.toThrow();
    }
  });
  it('rejects an unknown configuration and lists the valid ones', () => {
    expect(() => checkRequestedConfigurations(argv('run', 'rust-target:build', '--configuration=m68020'))).toThrow(
      "unknown configuration 'm68020': the nextrust targets have one configuration per CPU variant: m68000, m68030, m68040, m68060",
    );
    expect(() => checkRequestedConfigurations(argv('run', 'emulator-tests:test:production'))).toThrow(/'production'/);
  });
});
