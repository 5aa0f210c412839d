// Covers run-target: checkConfiguration (unknown CPU configurations), describeError formatting, and runTarget's success/failure results.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext, TargetConfiguration } from '@nx/devkit';
import { ConfigError } from '../config/project-config';
import { ToolchainError } from '../toolchain/locate';
import { ToolError } from '../util/exec';
import { TOOLCHAIN_MANIFEST_INPUT } from '../graph/common';
import { checkConfiguration, checkInputs, describeError, runTarget } from './run-target';

const cpuConfigs = {
  m68000: { cpu: 'm68000' },
  m68030: { cpu: 'm68030' },
  m68040: { cpu: 'm68040' },
  m68060: { cpu: 'm68060' },
};

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
    projectsConfigurations: {
      version: 2,
      projects: { [projectName]: { root: `projects/${projectName}`, name: projectName, targets } },
    },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}

/** The cache-correctness inputs the plugin infers for a target downstream of the toolchain. */
const downstreamInputs = ['{projectRoot}/**/*', TOOLCHAIN_MANIFEST_INPUT, { externalDependencies: ['execa'] }];

const rustTargets: Record<string, TargetConfiguration> = {
  build: {
    executor: '@nextrust/nx-plugin:build',
    configurations: { m68030: {}, m68040: {}, m68060: {} },
    defaultConfiguration: 'm68040',
    inputs: downstreamInputs,
  },
  sysroot: {
    executor: '@nextrust/nx-plugin:sysroot',
    configurations: cpuConfigs,
    defaultConfiguration: 'm68040',
    inputs: downstreamInputs,
  },
  toolchain: {
    executor: '@nextrust/nx-plugin:toolchain',
    inputs: [{ runtime: 'node fingerprint.js' }, { externalDependencies: [] }],
  },
};

describe('checkInputs: the inputs Nx hashes still carry what cache correctness needs', () => {
  it('passes the inferred inputs', () => {
    for (const t of ['build', 'sysroot', 'toolchain'])
      expect(() => checkInputs(executorContext('rust-target', t, undefined, rustTargets))).not.toThrow();
  });

  it('refuses inputs replaced by a targetDefaults without the toolchain manifest or externalDependencies, naming the task and the fix', () => {
    const replaced = { ...rustTargets, build: { ...rustTargets.build, inputs: ['production', '^production'] } };
    expect(() => checkInputs(executorContext('rust-target', 'build', 'm68040', replaced))).toThrow(
      'rust-target:build: its inputs lack {"dependentTasksOutputFiles":"**/toolchain.json","transitive":true} and {"externalDependencies": [...]}, which the nextrust plugin infers: a targetDefaults.build.inputs in nx.json',
    );
    const noExternal = {
      ...rustTargets,
      toolchain: { ...rustTargets.toolchain, inputs: [{ runtime: 'node fingerprint.js' }] },
    };
    expect(() => checkInputs(executorContext('rust-target', 'toolchain', undefined, noExternal))).toThrow(
      'lack {"externalDependencies": [...]}',
    );
  });

  it('runTarget fails such a task before its work starts', async () => {
    const replaced = { ...rustTargets, sysroot: { ...rustTargets.sysroot, inputs: ['default'] } };
    const body = jest.fn(async () => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(runTarget(executorContext('rust-target', 'sysroot', 'm68040', replaced), body)).resolves.toEqual({
        success: false,
      });
    } finally {
      err.mockRestore();
    }
    expect(body).not.toHaveBeenCalled();
  });
});

describe('checkConfiguration', () => {
  it('rejects an unknown configuration, listing the valid ones', () => {
    const ctx = executorContext('rust-target', 'sysroot', 'm68020', rustTargets);
    expect(() => checkConfiguration(ctx)).toThrow(
      new Error(
        "unknown configuration 'm68020' for rust-target:sysroot: valid configurations are m68000, m68030, m68040, m68060",
      ),
    );
  });

  it("lists only the target's own configurations", () => {
    const ctx = executorContext('rust-target', 'build', 'm68000', rustTargets);
    expect(() => checkConfiguration(ctx)).toThrow(
      new Error(
        "unknown configuration 'm68000' for rust-target:build: valid configurations are m68030, m68040, m68060",
      ),
    );
  });

  it('accepts every configuration the target defines', () => {
    for (const cpu of Object.keys(cpuConfigs)) {
      expect(() => checkConfiguration(executorContext('rust-target', 'sysroot', cpu, rustTargets))).not.toThrow();
    }
  });

  it('accepts no configuration, and any configuration of a target without configurations', () => {
    expect(() => checkConfiguration(executorContext('rust-target', 'sysroot', undefined, rustTargets))).not.toThrow();
    expect(() =>
      checkConfiguration(executorContext('rust-target', 'toolchain', 'production', rustTargets)),
    ).not.toThrow();
  });

  it('does not throw when the project or target is unknown to the context', () => {
    const ctx = executorContext('rust-target', 'sysroot', 'm68020', rustTargets);
    expect(() => checkConfiguration({ ...ctx, projectName: 'other' })).not.toThrow();
    expect(() => checkConfiguration({ ...ctx, targetName: 'lint' })).not.toThrow();
  });
});

describe('describeError', () => {
  it('points at the streamed output instead of repeating it', () => {
    const e = new ToolError(
      'cargo exited with code 101',
      'cargo build --release',
      101,
      'error[E0433]: failed to resolve\n',
      true,
    );
    expect(describeError(e)).toBe('cargo exited with code 101 (its output is above)\n  command: cargo build --release');
  });

  it('shows the command and the captured output when it was not streamed', () => {
    const e = new ToolError(
      'clang exited with code 1',
      "clang -c 'a b.c'",
      1,
      'a b.c:1:1: error: unknown type\n1 error generated.\n\n',
    );
    expect(describeError(e)).toBe(
      "clang exited with code 1\n  command: clang -c 'a b.c'\na b.c:1:1: error: unknown type\n1 error generated.",
    );
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
    expect(
      describeError(new ConfigError('projects/x/nextrust.json', "projects/x/nextrust.json: field 'kind': bad")),
    ).toBe("projects/x/nextrust.json: field 'kind': bad");
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
    for (const f of ['known-issues.json', 'phases.json'])
      fs.copyFileSync(path.join(__dirname, '../../../../projects/ci-status', f), path.join(statusDir, f));
    process.env.NEXTRUST_STATUS_DIR = statusDir;
  });
  afterEach(() => {
    errorSpy.mockRestore();
    delete process.env.NEXTRUST_STATUS_DIR;
    fs.rmSync(statusDir, { recursive: true, force: true });
  });

  it('runs the body and reports success', async () => {
    const body = jest.fn(async () => 'ignored');
    await expect(runTarget(executorContext('rust-target', 'sysroot', 'm68040', rustTargets), body)).resolves.toEqual({
      success: true,
    });
    expect(body).toHaveBeenCalledTimes(1);
    expect(errorSpy).not.toHaveBeenCalled();
  });

  it('does not run the body for an unknown configuration, and names the task', async () => {
    const body = jest.fn(async () => undefined);
    await expect(runTarget(executorContext('rust-target', 'sysroot', 'm68020', rustTargets), body)).resolves.toEqual({
      success: false,
    });
    expect(body).not.toHaveBeenCalled();
    expect(errorSpy.mock.calls[0][0]).toBe(
      "\nnextrust: rust-target:sysroot:m68020 failed: unknown configuration 'm68020' for rust-target:sysroot: valid configurations are m68000, m68030, m68040, m68060",
    );
  });

  it('turns a thrown ToolError into success: false with the described error', async () => {
    const e = new ToolError('qemu-m68k exited with code 1', 'qemu-m68k -cpu m68040 hello', 1, 'Illegal instruction\n');
    await expect(
      runTarget(executorContext('llvm-m68k', 'toolchain', undefined, rustTargets), async () => Promise.reject(e)),
    ).resolves.toEqual({ success: false });
    expect(errorSpy.mock.calls[0][0]).toBe(`\nnextrust: llvm-m68k:toolchain failed: ${describeError(e)}`);
  });
});

describe('runTarget post-target hooks (failure analysis, status)', () => {
  let errorSpy: jest.SpyInstance;
  let statusDir: string;
  const savedKey = process.env.OPENAI_API_KEY;
  beforeAll(() => {
    delete process.env.OPENAI_API_KEY; // escalation without a key: skipped, left pending
  });
  afterAll(() => {
    if (savedKey !== undefined) process.env.OPENAI_API_KEY = savedKey;
  });
  const fixture = (name: string) =>
    fs.readFileSync(path.join(__dirname, '../pipeline/fixtures/failure-logs', name), 'utf8');
  const activities = () =>
    fs
      .readFileSync(path.join(statusDir, 'pipeline-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  beforeEach(() => {
    errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    statusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-target-hooks-'));
    for (const f of ['known-issues.json', 'phases.json'])
      fs.copyFileSync(path.join(__dirname, '../../../../projects/ci-status', f), path.join(statusDir, f));
    process.env.NEXTRUST_STATUS_DIR = statusDir;
  });
  afterEach(() => {
    errorSpy.mockRestore();
    delete process.env.NEXTRUST_STATUS_DIR;
    fs.rmSync(statusDir, { recursive: true, force: true });
  });

  it('prints the known issue and its fix right under a failing tool error, and records it', async () => {
    const e = new ToolError(
      'cargo exited with code 101',
      'cargo rustc --release',
      101,
      fixture('crates-io-unreachable.vendored.log'),
      true,
    );
    const result = await runTarget(executorContext('rust-target', 'build', 'm68040', rustTargets), async () =>
      Promise.reject(e),
    );
    expect(result).toEqual({ success: false });
    const printed = errorSpy.mock.calls.map((c) => String(c[0]));
    expect(printed[0]).toBe(`\nnextrust: rust-target:build:m68040 failed: ${describeError(e)}`);
    expect(printed[1]).toMatch(
      /^nextrust: known issue crate-not-available-offline \(confidence 0\.\d\d\): A dependency is not in the offline crate source \(Debian's packaged crates\)\n {2}evidence:\n {4}\S+\.log:\d+: /,
    );
    expect(printed[1]).toContain('which is replacing registry `crates-io`');
    expect(printed[1]).toContain("  fix: Install the crate's Debian package");
    expect(printed[1]).toContain('  context: phase rust-target, cpu m68040');
    const failed = activities().find((a) => a.type === 'target_failed');
    expect(failed.details).toMatchObject({
      task: 'rust-target:build:m68040',
      cpu: 'm68040',
      known_issue: 'crate-not-available-offline',
      target_phase: 'rust-target',
    });
    // The log it analysed is kept for escalation and people.
    expect(fs.readFileSync(path.join(statusDir, failed.details.log), 'utf8')).toContain(
      'no matching package named `heapless` found',
    );
  });

  it('in CI, hands an unknown failure to escalation and counts it for backoff', async () => {
    const e = new ToolError(
      'cargo exited with code 101',
      'cargo rustc',
      101,
      fixture('novel-cargo-duplicate-source.log'),
    );
    const ci = process.env.CI;
    process.env.CI = 'true';
    try {
      await runTarget(executorContext('rust-target', 'build', 'm68040', rustTargets), async () => Promise.reject(e));
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
    const printed = errorSpy.mock.calls.map((c) => String(c[0]));
    expect(printed[1]).toMatch(
      /^nextrust: no known issue matches this failure \(\d+ lines scanned, the whole log: [\d.]+ (B|KiB|MiB)\)\.\n {2}design escalation skipped: OPENAI_API_KEY is not set \(the failure stays pending for `nextrust request-design`\)/,
    );
    const types = activities().map((a) => a.type);
    expect(types).toEqual(['target_failed', 'escalation_pending']);
    const backoffFiles = fs.readdirSync(path.join(statusDir, 'backoff'));
    expect(backoffFiles).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(statusDir, 'backoff', backoffFiles[0]), 'utf8')).failures).toBe(1);
  });

  it('analyses a body that returns a TargetFailure (emulator tests that ran and failed)', async () => {
    const result = await runTarget(executorContext('emulator-tests', 'test', 'm68000', {}), async () => ({
      success: false as const,
      log: `FAIL hello (m68000)\n${fixture('emulator-cpu-mismatch.log')}`,
    }));
    expect(result).toEqual({ success: false });
    expect(String(errorSpy.mock.calls[0][0])).toMatch(/^nextrust: known issue emulator-cpu-mismatch/);
  });

  it('records success, and flags a target run ahead of the current phase', async () => {
    fs.writeFileSync(
      path.join(statusDir, 'pipeline-state.json'),
      JSON.stringify({
        schema_version: 1,
        current_phase: {
          id: 'llvm-backend',
          name: 'LLVM Backend Modifications',
          status: 'in_progress',
          started_at: '2026-11-25T00:00:00.000Z',
          updated_at: '2026-11-25T00:00:00.000Z',
        },
        phase_history: [],
      }),
    );
    await expect(
      runTarget(executorContext('rust-target', 'build', 'm68040', rustTargets), async () => undefined),
    ).resolves.toEqual({ success: true });
    expect(String(errorSpy.mock.calls[0][0])).toBe(
      'nextrust: phase alignment: rust-target:build belongs to phase 3 (Rust Target Specification) but the pipeline is in phase 2 (LLVM Backend Modifications); finish the current phase or run `nextrust set-phase rust-target`',
    );
    // A target of an earlier phase (a dependency) is aligned.
    await runTarget(executorContext('llvm-m68k', 'toolchain', undefined, rustTargets), async () => undefined);
    expect(errorSpy).toHaveBeenCalledTimes(1);
    expect(activities().map((a) => a.type)).toEqual(['phase_misaligned', 'target_succeeded', 'target_succeeded']);
  });

  it('never changes the result when the status dir is unusable', async () => {
    process.env.NEXTRUST_STATUS_DIR = path.join(statusDir, 'known-issues.json', 'not-a-dir');
    await expect(
      runTarget(executorContext('rust-target', 'build', 'm68040', rustTargets), async () => undefined),
    ).resolves.toEqual({ success: true });
    expect(String(errorSpy.mock.calls.at(-1)![0])).toMatch(/^nextrust: warning: status not recorded: /);
  });
});
