// Covers resolvePluginOptions (nx.json plugin options: defaults, target names, errors) and hasProductionInput.
import {
  DEFAULT_TARGET_NAMES,
  hasProductionInput,
  PluginOptionsError,
  resolvePluginOptions,
  TARGET_NAME_OPTIONS,
} from './plugin-options';

/** The message resolvePluginOptions throws for these options ('' when it does not throw). */
function errorOf(options: unknown): string {
  try {
    resolvePluginOptions(options);
    return '';
  } catch (e) {
    expect(e).toBeInstanceOf(PluginOptionsError);
    return (e as Error).message;
  }
}

describe('resolvePluginOptions', () => {
  it('gives dist and the roles as names when nx.json has no options', () => {
    for (const options of [undefined, null, {}])
      expect(resolvePluginOptions(options)).toEqual({
        distDir: 'dist',
        targetNames: {
          backend: 'backend',
          toolchain: 'toolchain',
          atomics: 'atomics',
          sysroot: 'sysroot',
          build: 'build',
          test: 'test',
          bundle: 'bundle',
        },
      });
  });

  it('takes each <role>TargetName option for its role only', () => {
    for (const [role, option] of Object.entries(TARGET_NAME_OPTIONS)) {
      const { targetNames } = resolvePluginOptions({ [option]: `my-${role}` });
      expect(targetNames).toEqual({ ...DEFAULT_TARGET_NAMES, [role]: `my-${role}` });
    }
    expect(resolvePluginOptions({ distDir: 'out/x', buildTargetName: 'rust_build.v2' })).toEqual({
      distDir: 'out/x',
      targetNames: { ...DEFAULT_TARGET_NAMES, build: 'rust_build.v2' },
    });
  });

  it('does not share the defaults object between calls', () => {
    const a = resolvePluginOptions({});
    a.targetNames.build = 'changed';
    expect(resolvePluginOptions({}).targetNames.build).toBe('build');
  });

  it.each([
    [
      'a:b',
      "nx.json: option 'buildTargetName' of the nextrust plugin (plugins[].options): expected a target name (letters, digits, '_', '-', '.'; not starting with '-' or '.'), got \"a:b\"",
    ],
    ['a,b', 'got "a,b"'],
    ['^build', 'got "^build"'],
    ['build-*', 'got "build-*"'],
    ['-build', 'got "-build"'],
    ['my build', 'got "my build"'],
    ['', 'got ""'],
    [null, 'got null'],
    [['build'], 'got ["build"]'],
  ])('rejects the target name %j', (value, expected) => {
    expect(errorOf({ buildTargetName: value })).toContain(expected);
  });

  it('rejects options that are not an object, an unknown option and a bad distDir, naming nx.json and the option', () => {
    expect(errorOf('dist')).toBe(
      'nx.json: the options of the nextrust plugin (plugins[].options) must be an object, got "dist"',
    );
    expect(errorOf(['dist'])).toContain('must be an object');
    expect(errorOf({ targetNames: { build: 'x' } })).toBe(
      "nx.json: option 'targetNames' of the nextrust plugin (plugins[].options): unknown option; the options are " +
        'distDir, backendTargetName, toolchainTargetName, atomicsTargetName, sysrootTargetName, buildTargetName, testTargetName, bundleTargetName',
    );
    expect(errorOf({ distDir: '' })).toBe(
      'nx.json: option \'distDir\' of the nextrust plugin (plugins[].options): expected a non-empty workspace-relative folder, got ""',
    );
    expect(errorOf({ distDir: 3 })).toContain('got 3');
  });

  it('rejects two targets of one project with the same name, and allows it across project kinds', () => {
    expect(errorOf({ sysrootTargetName: 'test' })).toBe(
      "nx.json: options 'sysrootTargetName' and 'testTargetName' of the nextrust plugin both name 'test': " +
        'the sysroot, build, test targets belong to one project and need distinct names',
    );
    expect(errorOf({ backendTargetName: 'toolchain' })).toContain("'backendTargetName' and 'toolchainTargetName'");
    expect(errorOf({ buildTargetName: 'x', testTargetName: 'x' })).toContain("both name 'x'");
    // llvm-toolchain and rust-target targets live in different projects: a shared name is no clash.
    expect(errorOf({ toolchainTargetName: 'build' })).toBe('');
    expect(errorOf({ backendTargetName: 'test', atomicsTargetName: 'sysroot' })).toBe('');
  });
});

describe('hasProductionInput', () => {
  it('is true exactly when nx.json namedInputs has `production`', () => {
    expect(hasProductionInput({ namedInputs: { production: ['default'] } })).toBe(true);
    expect(hasProductionInput({ namedInputs: { production: [] } })).toBe(true);
    expect(hasProductionInput({ namedInputs: { default: ['{projectRoot}/**/*'] } })).toBe(false);
    expect(hasProductionInput({ namedInputs: {} })).toBe(false);
    expect(hasProductionInput({})).toBe(false);
    expect(hasProductionInput(undefined)).toBe(false);
    // An inherited property is not a named input of the workspace.
    expect(hasProductionInput({ namedInputs: Object.create({ production: ['default'] }) })).toBe(false);
  });
});
