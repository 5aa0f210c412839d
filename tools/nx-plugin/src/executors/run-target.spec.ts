// Covers run-target: checkConfiguration (unknown CPU configurations), describeError formatting, and runTarget's success/failure results.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext, TargetConfiguration } from '@nx/devkit';
import { ConfigError } from '../config/project-config';
import { ToolchainError } from '../toolchain/locate';
import { ToolError } from '../util/exec';
import { checkConfiguration, describeError, runTarget } from './run-target';

const cpuConfigs = { m68000: { cpu: 'm68000' }, m68030: { cpu: 'm68030' }, m68040: { cpu: 'm68040' }, m68060: { cpu: 'm68060' } };

/** A minimal ExecutorContext for `project:target[:configuration]` whose targets are given. */
function executorContext(
  projectName: string,
  targetName: string,
  configurationName: string | undefined,
  targets: Record<string, TargetConfiguration>,
): ExecutorContext {
  return {
    root: '/ws',
    cwd: '/ws',
    isVerbose: false,
    projectName,
    targetName,
    configurationName,
    target: targets[targetName],
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: `projects/${projectName}`, name: projectName, targets } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}

const rustTargets: Record<string, TargetConfiguration> = {
  build: { executor: '@nextrust/nx-plugin:build', configurations: { m68030: {}, m68040: {}, m68060: {} }, defaultConfiguration: 'm68040' },
  sysroot: { executor: '@nextrust/nx-plugin:sysroot', configurations: cpuConfigs, defaultConfiguration: 'm68040' },
  toolchain: { executor: '@nextrust/nx-plugin:toolchain' },
};

describe('checkConfiguration', () => {
  it('rejects an unknown configuration, listing the valid ones', () => {
    const ctx = executorContext('rust-target', 'sysroot', 'm68020', rustTargets);
    expect(() => checkConfiguration(ctx)).toThrow(
      new Error("unknown configuration 'm68020' for rust-target:sysroot: valid configurations are m68000, m68030, m68040, m68060"),
    );
  });

  it("lists only the target's own configurations", () => {
    const ctx = executorContext('rust-target', 'build', 'm68000', rustTargets);
    expect(() => checkConfiguration(ctx)).toThrow(
      new Error("unknown configuration 'm68000' for rust-target:build: valid configurations are m68030, m68040, m68060"),
    );
  });

  it('accepts every configuration the target defines', () => {
    for (const cpu of Object.keys(cpuConfigs)) {
      expect(() => checkConfiguration(executorContext('rust-target', 'sysroot', cpu, rustTargets))).not.toThrow();
    }
  });

  it('accepts no configuration, and any configuration of a target without configurations', () => {
    expect(() => checkConfiguration(executorContext('rust-target', 'sysroot', undefined, rustTargets))).not.toThrow();
    expect(() => checkConfiguration(executorContext('rust-target', 'toolchain', 'production', rustTargets))).not.toThrow();
  });

  it('does not throw when the project or target is unknown to the context', () => {
    const ctx = executorContext('rust-target', 'sysroot', 'm68020', rustTargets);
    expect(() => checkConfiguration({ ...ctx, projectName: 'other' })).not.toThrow();
    expect(() => checkConfiguration({ ...ctx, targetName: 'lint' })).not.toThrow();
  });
});

describe('describeError', () => {
  it('points at the streamed output instead of repeating it', () => {
    const e = new ToolError('cargo exited with code 101', 'cargo build --release', 101, 'error[E0433]: failed to resolve\n', true);
    expect(describeError(e)).toBe('cargo exited with code 101 (its output is above)\n  command: cargo build --release');
  });

  it('shows the command and the captured output when it was not streamed', () => {
    const e = new ToolError('clang exited with code 1', "clang -c 'a b.c'", 1, 'a b.c:1:1: error: unknown type\n1 error generated.\n\n');
    expect(describeError(e)).toBe("clang exited with code 1\n  command: clang -c 'a b.c'\na b.c:1:1: error: unknown type\n1 error generated.");
  });

  it('keeps all of an output of exactly 60 lines', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`);
    const text = describeError(new ToolError('llc exited with code 1', 'llc x.ll', 1, lines.join('\n')));
    expect(text.split('\n')).toEqual(['llc exited with code 1', '  command: llc x.ll', ...lines]);
  });

  it('keeps only the last 60 lines of a longer output, marking the cut', () => {
    const lines = Array.from({ length: 150 }, (_, i) => `line ${i + 1}`);
    const text = describeError(new ToolError('llc exited with code 1', 'llc x.ll', 1, lines.join('\n') + '\n'));
    const shown = text.split('\n');
    expect(shown).toEqual(['llc exited with code 1', '  command: llc x.ll', '…', ...lines.slice(90)]);
    expect(shown).toHaveLength(63);
    expect(text).not.toContain('line 90\n');
    expect(shown[shown.length - 1]).toBe('line 150');
  });

  it('shows a ConfigError, a ToolchainError or any Error by its message alone', () => {
    expect(describeError(new ConfigError('projects/x/nextrust.json', "projects/x/nextrust.json: field 'kind': bad"))).toBe(
      "projects/x/nextrust.json: field 'kind': bad",
    );
    expect(describeError(new ToolchainError('no LLVM >= 19.1.5 with the M68k backend (install llvm-19)'))).toBe(
      'no LLVM >= 19.1.5 with the M68k backend (install llvm-19)',
    );
    const plain = new Error('plain failure');
    expect(describeError(plain)).toBe('plain failure');
    expect(describeError(plain)).not.toContain('at ');
  });

  it('shows non-Error values as strings', () => {
    expect(describeError('just a string')).toBe('just a string');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});

describe('runTarget', () => {
  let errorSpy: jest.SpyInstance;
  let statusDir: string;
  beforeEach(() => {
    errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // The post-target hooks write status: give them a scratch status dir with the real database.
    statusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-target-status-'));
    for (const f of ['known-issues.json', 'phases.json']) fs.copyFileSync(path.join(__dirname, '../../../../projects/ci-status', f), path.join(statusDir, f));
    process.env.NEXTRUST_STATUS_DIR = statusDir;
  });
  afterEach(() => {
    errorSpy.mockRestore();
    delete process.env.NEXTRUST_STATUS_DIR;
    fs.rmSync(statusDir, { recursive: true, force: true });
  });

  it('runs the body and reports success', async () => {
    const body = jest.fn(async () => 'ignored');
    await expect(runTarget(executorContext('rust-target', 'sysroot', 'm68040', rustTargets), body)).resolves.toEqual({ success: true });
    expect(body).toHaveBeenCalledTimes(1);
    expect(errorSpy).not.toHaveBeenCalled();
  });

  it('does not run the body for an unknown configuration, and names the task', async () => {
    const body = jest.fn(async () => undefined);
    await expect(runTarget(executorContext('rust-target', 'sysroot', 'm68020', rustTargets), body)).resolves.toEqual({ success: false });
    expect(body).not.toHaveBeenCalled();
    expect(errorSpy.mock.calls[0][0]).toBe(
      "\nnextrust: rust-target:sysroot:m68020 failed: unknown configuration 'm68020' for rust-target:sysroot: valid configurations are m68000, m68030, m68040, m68060",
    );
  });

  it('turns a thrown ToolError into success: false with the described error', async () => {
    const e = new ToolError('qemu-m68k exited with code 1', 'qemu-m68k -cpu m68040 hello', 1, 'Illegal instruction\n');
    await expect(runTarget(executorContext('llvm-m68k', 'toolchain', undefined, rustTargets), async () => Promise.reject(e))).resolves.toEqual({ success: false });
    expect(errorSpy.mock.calls[0][0]).toBe(`\nnextrust: llvm-m68k:toolchain failed: ${describeError(e)}`);
  });
});
