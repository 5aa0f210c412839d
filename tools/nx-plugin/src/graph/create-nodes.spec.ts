// Covers createNodes / createNodesForConfigFile: inferred projects, targets, wiring, inputs/outputs and config errors, on temporary workspaces.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AggregateCreateNodesError,
  type CreateNodesContextV2,
  type CreateNodesResult,
  type ProjectConfiguration,
  type TargetConfiguration,
} from '@nx/devkit';
import { ConfigError, DEFAULT_BACKEND_SOURCE } from '../config/project-config';
import { HOSTED_TRIPLE } from '../build/rust-targets';
import { PROJECT_CONFIG_FILE } from '../config/project-config';
import { createNodes, createNodesCached, CONFIG_GLOB, lastCreateNodesStats } from './create-nodes';
import { createNodesForConfigFile } from './infer';
import { targetsCachePath } from './targets-cache';
import { TOOLCHAIN_MANIFEST_INPUT } from './common';
import { PluginOptionsError } from './plugin-options';
import type { NextrustPluginOptions } from './types';

/** The real workspace (for the committed nextrust.json files and plugin sources). */
const REPO_ROOT = path.resolve(__dirname, '../../../..');
const ALL_CPUS = ['m68000', 'm68030', 'm68040', 'm68060'];
const NEXTSTEP_TRIPLE = 'm68k-next-nextstep';

const tempDirs: string[] = [];

/** Creates an empty temporary workspace, removed after all tests. */
function makeWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-create-nodes-'));
  tempDirs.push(dir);
  return dir;
}

/** A program folder a test writes: its package name and `[package.metadata.nextrust]`. */
interface TestProgram {
  name: string;
  flavor?: string;
  cpus?: string[];
  linkAtomics?: boolean;
}

/** Writes `projects/<project>/programs/<name>/Cargo.toml` with the program's metadata. */
function writeProgram(ws: string, project: string, p: TestProgram): void {
  const dir = path.join(ws, 'projects', project, 'programs', p.name);
  fs.mkdirSync(dir, { recursive: true });
  const meta = [
    p.flavor ? `flavor = ${JSON.stringify(p.flavor)}` : '',
    p.cpus ? `cpus = ${JSON.stringify(p.cpus)}` : '',
    p.linkAtomics !== undefined ? `link-atomics = ${p.linkAtomics}` : '',
  ].filter(Boolean);
  fs.writeFileSync(
    path.join(dir, 'Cargo.toml'),
    `[package]\nname = "${p.name}"\nversion = "0.1.0"\n\n[package.metadata.nextrust]\n${meta.join('\n')}\n`,
  );
}

/**
 * Writes `projects/<name>/nextrust.json` (an object is JSON-encoded, a string written as is) and, for a
 * rustTargetConfig, its program folders; returns the config's workspace-relative path.
 */
function writeConfig(ws: string, name: string, content: unknown): string {
  const rel = `projects/${name}/nextrust.json`;
  fs.mkdirSync(path.join(ws, 'projects', name), { recursive: true });
  let config = content;
  if (content && typeof content === 'object' && TEST_PROGRAMS in content) {
    const { [TEST_PROGRAMS]: programs, ...rest } = content as Record<string | symbol, unknown>;
    for (const p of programs as TestProgram[]) writeProgram(ws, name, p);
    config = rest;
  }
  fs.writeFileSync(path.join(ws, rel), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return rel;
}

/** Copies the committed projects/*\/nextrust.json files into a temporary workspace. */
function workspaceWithRealConfigs(): { ws: string; files: string[] } {
  const ws = makeWorkspace();
  const names = fs
    .readdirSync(path.join(REPO_ROOT, 'projects'))
    .filter((n) => fs.existsSync(path.join(REPO_ROOT, 'projects', n, 'nextrust.json')))
    .sort();
  const files = names.map((n) =>
    writeConfig(ws, n, fs.readFileSync(path.join(REPO_ROOT, 'projects', n, 'nextrust.json'), 'utf8')),
  );
  // The rust-target project's programs are its folders: copy their Cargo.toml.
  const programsDir = path.join(REPO_ROOT, 'projects', 'rust-target', 'programs');
  for (const p of fs.readdirSync(programsDir)) {
    fs.mkdirSync(path.join(ws, 'projects', 'rust-target', 'programs', p), { recursive: true });
    fs.copyFileSync(
      path.join(programsDir, p, 'Cargo.toml'),
      path.join(ws, 'projects', 'rust-target', 'programs', p, 'Cargo.toml'),
    );
  }
  return { ws, files };
}

function context(ws: string, nxJson: CreateNodesContextV2['nxJsonConfiguration'] = {}): CreateNodesContextV2 {
  return { workspaceRoot: ws, nxJsonConfiguration: nxJson };
}

/** nx.json's namedInputs with the workspace's `production` input (as the repository's nx.json defines it). */
const WITH_PRODUCTION = {
  namedInputs: {
    default: ['{projectRoot}/**/*'],
    production: ['default', '!{projectRoot}/*.md', '!{projectRoot}/docs/**/*'],
  },
};

/** The single project of a createNodes result. */
function onlyProject(result: CreateNodesResult): ProjectConfiguration {
  const projects = Object.values(result.projects ?? {});
  expect(projects).toHaveLength(1);
  return projects[0] as ProjectConfiguration;
}

function inferOne(ws: string, file: string, options = {}): ProjectConfiguration {
  return onlyProject(createNodesForConfigFile(file, options, context(ws)));
}

function target(project: ProjectConfiguration, name: string): TargetConfiguration {
  const t = project.targets?.[name];
  if (!t)
    throw new Error(
      `project ${project.name} has no target ${name}; it has ${Object.keys(project.targets ?? {}).join(', ')}`,
    );
  return t;
}

/** Options of one configuration of a target, merged over its options (as Nx does). */
function resolvedOptions(t: TargetConfiguration, configuration: string): Record<string, unknown> {
  return { ...t.options, ...t.configurations?.[configuration] };
}

/** Key of the program folders writeConfig writes beside a rustTargetConfig (not part of the JSON). */
const TEST_PROGRAMS = Symbol('programs');

/** A minimal valid rust-target config; writeConfig also writes the given program folders. */
function rustTargetConfig(
  programs: TestProgram[],
  extra: Record<string, unknown> = {},
): Record<string | symbol, unknown> {
  return {
    kind: 'rust-target',
    targetSpecs: { 'm68k-next-nextstep': 'target-specs/m68k-next-nextstep.json' },
    ...extra,
    [TEST_PROGRAMS]: programs,
  };
}

const hosted = (name: string): TestProgram => ({ name, flavor: 'hosted' });
const nextstep = (name: string): TestProgram => ({ name, flavor: 'nextstep' });

// createNodes keeps its cache in Nx's workspace data directory: <workspace>/.nx/workspace-data unless this variable
// names another (CI sets it to the checkout's); keep every temporary workspace's cache inside it.
const savedDataDir = process.env.NX_WORKSPACE_DATA_DIRECTORY;
beforeAll(() => delete process.env.NX_WORKSPACE_DATA_DIRECTORY);

afterAll(() => {
  if (savedDataDir !== undefined) process.env.NX_WORKSPACE_DATA_DIRECTORY = savedDataDir;
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('createNodes on the committed project configs', () => {
  let ws: string;
  let files: string[];
  let projects: Record<string, ProjectConfiguration>;

  beforeAll(() => {
    ({ ws, files } = workspaceWithRealConfigs());
    projects = {};
    for (const f of files) {
      const p = inferOne(ws, f);
      projects[p.name as string] = p;
    }
  });

  it('infers one project per config, named after its folder, rooted at the folder', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'projects/llvm-m68k/nextrust.json',
        'projects/rust-target/nextrust.json',
        'projects/emulator-tests/nextrust.json',
        'projects/ci-status/nextrust.json',
      ]),
    );
    for (const f of files) {
      const result = createNodesForConfigFile(f, {}, context(ws));
      const root = path.dirname(f);
      expect(Object.keys(result.projects ?? {})).toEqual([root]);
      expect(result.projects?.[root]).toMatchObject({ root, name: path.basename(root) });
    }
    expect(projects['rust-target'].projectType).toBe('application');
    expect(projects['llvm-m68k'].projectType).toBe('library');
  });

  it('gives each project its kind targets and tags', () => {
    expect(Object.keys(projects['llvm-m68k'].targets ?? {}).sort()).toEqual(['atomics', 'backend', 'toolchain']);
    expect(Object.keys(projects['rust-target'].targets ?? {}).sort()).toEqual(['build', 'sysroot', 'test']);
    expect(Object.keys(projects['emulator-tests'].targets ?? {})).toEqual(['test']);
    expect(Object.keys(projects['ci-status'].targets ?? {})).toEqual(['bundle']);
    expect(projects['ci-status'].tags).toEqual(['type:status']);
    expect(projects['llvm-m68k'].tags).toEqual(['type:toolchain']);
    expect(projects['rust-target'].tags).toEqual(['type:rust']);
    expect(projects['emulator-tests'].tags).toEqual(['type:test']);
  });

  const allTargets: [string, string][] = [
    ['llvm-m68k', 'backend'],
    ['llvm-m68k', 'toolchain'],
    ['llvm-m68k', 'atomics'],
    ['rust-target', 'sysroot'],
    ['rust-target', 'build'],
    ['emulator-tests', 'test'],
    ['ci-status', 'bundle'],
  ];
  const perCpuTargets = allTargets.filter(([, t]) => t !== 'toolchain' && t !== 'backend');

  it.each(allTargets)('%s:%s is cached, described and runs a nextrust executor', (project, name) => {
    const t = target(projects[project], name);
    expect(t.cache).toBe(true);
    expect(typeof t.metadata?.description).toBe('string');
    expect((t.metadata?.description as string).length).toBeGreaterThan(20);
    expect(t.executor).toMatch(/^@nextrust\/nx-plugin:[a-z-]+$/);
    expect(t.outputs?.length).toBeGreaterThan(0);
  });

  it.each(perCpuTargets)('%s:%s has one configuration per CPU, m68040 by default', (project, name) => {
    const t = target(projects[project], name);
    expect(Object.keys(t.configurations ?? {})).toEqual(ALL_CPUS);
    expect(t.defaultConfiguration).toBe('m68040');
    for (const cpu of ALL_CPUS) expect(t.configurations?.[cpu]).toMatchObject({ cpu });
  });

  it('llvm-m68k:toolchain has no CPU configurations and writes the toolchain manifest', () => {
    const t = target(projects['llvm-m68k'], 'toolchain');
    expect(t.configurations).toBeUndefined();
    expect(t.options).toEqual({
      provider: 'source',
      minLlvmVersion: '19.1.5',
      outputFile: 'dist/llvm-m68k/toolchain/toolchain.json',
      backendManifest: 'dist/llvm-m68k/backend/backend.json',
    });
    expect(t.outputs).toEqual(['{workspaceRoot}/dist/llvm-m68k/toolchain']);
    // the manifest it writes lies inside its outputs (else a cache hit would not restore it)
    expect(`{workspaceRoot}/${t.options.outputFile}`.startsWith(`${t.outputs?.[0]}/`)).toBe(true);
  });

  it.each(perCpuTargets)(
    '%s:%s outputs are per CPU, under the workspace root, and match each configuration outputDir',
    (project, name) => {
      const t = target(projects[project], name);
      for (const out of t.outputs ?? []) {
        expect(out).toContain('{options.cpu}');
        expect(out.startsWith('{workspaceRoot}/')).toBe(true);
        expect(out.startsWith('{workspaceRoot}/{')).toBe(false);
        for (const cpu of ALL_CPUS) {
          const dir = out.replace('{options.cpu}', cpu).replace('{workspaceRoot}/', '');
          expect(resolvedOptions(t, cpu).outputDir).toBe(dir);
        }
      }
    },
  );

  it('llvm-m68k:backend builds the pinned Debian source with the patch series into dist/llvm-m68k/backend', () => {
    const t = target(projects['llvm-m68k'], 'backend');
    expect(t.configurations).toBeUndefined();
    expect(t.options).toMatchObject({
      source: { package: 'llvm-toolchain-22', tarball: 'llvm-toolchain-22_22.1.8.orig.tar.xz' },
      patchesDir: 'projects/llvm-m68k/patches',
      makefile: 'projects/llvm-m68k/backend/Makefile',
      llvmConfig: 'llvm-config-22',
      outputDir: 'dist/llvm-m68k/backend',
    });
    expect(t.outputs).toEqual(['{workspaceRoot}/dist/llvm-m68k/backend']);
    expect(t.inputs).toContainEqual('{projectRoot}/patches/*.patch');
    expect(t.inputs).toContainEqual('{projectRoot}/backend/Makefile');
    expect(t.inputs).toContainEqual({ runtime: 'sh tools/nx-plugin/bin/backend-fingerprint.sh llvm-config-22' });
    // the toolchain hashes what the backend wrote
    expect(target(projects['llvm-m68k'], 'toolchain').inputs).toContainEqual({
      dependentTasksOutputFiles: '**/backend.json',
    });
  });

  it('has no backend target for the system provider', () => {
    const ws = makeWorkspace();
    const p = inferOne(
      ws,
      writeConfig(ws, 'llvm', { kind: 'llvm-toolchain', provider: 'system', atomics: { sources: ['a.c'] } }),
    );
    expect(Object.keys(p.targets ?? {}).sort()).toEqual(['atomics', 'toolchain']);
    expect(target(p, 'toolchain').dependsOn).toBeUndefined();
    expect(target(p, 'toolchain').options.backendManifest).toBeUndefined();
  });

  it('wires dependsOn: toolchain -> backend, atomics -> toolchain, sysroot -> llvm-m68k:toolchain, build -> sysroot + llvm-m68k:atomics, test -> rust-target:build', () => {
    expect(target(projects['llvm-m68k'], 'toolchain').dependsOn).toEqual(['backend']);
    expect(target(projects['llvm-m68k'], 'atomics').dependsOn).toEqual(['toolchain']);
    expect(target(projects['rust-target'], 'sysroot').dependsOn).toEqual([
      { projects: ['llvm-m68k'], target: 'toolchain' },
    ]);
    expect(target(projects['rust-target'], 'build').dependsOn).toEqual([
      'sysroot',
      { projects: ['llvm-m68k'], target: 'atomics' },
    ]);
    expect(target(projects['emulator-tests'], 'test').dependsOn).toEqual([
      { projects: ['rust-target'], target: 'build' },
    ]);
  });

  it('sets implicitDependencies to the upstream projects', () => {
    expect(projects['rust-target'].implicitDependencies).toEqual(['llvm-m68k']);
    expect(projects['emulator-tests'].implicitDependencies).toEqual(['rust-target']);
    expect(projects['llvm-m68k'].implicitDependencies).toBeUndefined();
    expect(projects['ci-status'].implicitDependencies).toEqual(['emulator-tests']);
  });

  it('takes the toolchain manifest as input downstream, and the runtime fingerprint for the toolchain itself', () => {
    const toolchain = target(projects['llvm-m68k'], 'toolchain');
    expect(toolchain.inputs).toContainEqual({ runtime: 'sh tools/nx-plugin/bin/toolchain-fingerprint.sh' });
    expect(toolchain.inputs).toContainEqual({ env: 'NEXTRUST_LLVM_BIN' });
    expect(toolchain.inputs).toContainEqual('{workspaceRoot}/tools/nx-plugin/src/toolchain/candidates.json');
    // the fingerprint script each runtime input runs exists (Nx runs it from the workspace root)
    // and is itself a file input, so an edit to the script misses the cache
    for (const name of ['toolchain', 'backend']) {
      const inputs = target(projects['llvm-m68k'], name).inputs ?? [];
      const scripts = inputs.flatMap((input) =>
        typeof input === 'object' && 'runtime' in input ? [input.runtime.split(' ')[1]] : [],
      );
      expect(scripts).toHaveLength(1);
      expect(fs.existsSync(path.join(REPO_ROOT, scripts[0]))).toBe(true);
      expect(inputs).toContainEqual(`{workspaceRoot}/${scripts[0]}`);
    }

    for (const [project, name] of perCpuTargets) {
      expect(target(projects[project], name).inputs).toContainEqual({
        dependentTasksOutputFiles: '**/toolchain.json',
        transitive: true,
      });
      expect(target(projects[project], name).inputs).toContainEqual(TOOLCHAIN_MANIFEST_INPUT);
    }
    const build = target(projects['rust-target'], 'build');
    expect(build.inputs).toContainEqual({ dependentTasksOutputFiles: '**/sysroot.json' });
    expect(build.inputs).toContainEqual({ dependentTasksOutputFiles: '**/atomics.json' });
    expect(build.inputs).toContainEqual('{projectRoot}/**/*');
    expect(build.inputs).toContainEqual('!{projectRoot}/nextrust.json');
    expect(target(projects['emulator-tests'], 'test').inputs).toContainEqual({
      dependentTasksOutputFiles: '**/manifest.json',
    });
    expect(target(projects['emulator-tests'], 'test').inputs).toContainEqual('{projectRoot}/tests/**/*');
  });

  it("every cached target has a help command that prints its own executor's help, and an externalDependencies input", async () => {
    const { runCli } = await import('../cli/program');
    for (const project of Object.values(projects)) {
      for (const [name, t] of Object.entries(project.targets ?? {})) {
        if (!t.cache) continue;
        const executorName = t.executor!.split(':')[1];
        const help = (t.metadata as { help?: { command: string } }).help;
        expect({ target: `${project.name}:${name}`, command: help?.command }).toEqual({
          target: `${project.name}:${name}`,
          command: `npx nextrust target-help ${executorName} ${project.name}:${name}`,
        });
        let out = '';
        const code = await runCli(['target-help', executorName, `${project.name}:${name}`], {
          out: (x) => (out += x),
          err: (x) => (out += x),
          cwd: REPO_ROOT,
          env: process.env,
        });
        expect(code).toBe(0);
        expect(out.split('\n')[0]).toMatch(new RegExp(`^${project.name}:${name}: .+`));
        const schemaFile = path.join(REPO_ROOT, 'tools/nx-plugin/src/executors', executorName, 'schema.json');
        for (const option of Object.keys(JSON.parse(fs.readFileSync(schemaFile, 'utf8')).properties))
          expect(out).toContain(`--${option} `);
        expect((t.inputs ?? []).filter((i) => typeof i === 'object' && 'externalDependencies' in i)).toHaveLength(1);
      }
    }
  });

  it('target-help of an unknown executor: exit 2 naming the executors', async () => {
    const { runCli } = await import('../cli/program');
    let err = '';
    const code = await runCli(['target-help', 'frobnicate'], {
      out: () => undefined,
      err: (x) => (err += x),
      cwd: REPO_ROOT,
      env: process.env,
    });
    expect(code).toBe(2);
    expect(err).toBe(
      "nextrust: target-help: no executor 'frobnicate': the nextrust executors are backend, toolchain, atomics, sysroot, build, emulator-test, cargo-test, bundle\n",
    );
  });

  it('names only plugin source files that exist in the real workspace as file inputs', () => {
    for (const project of Object.values(projects)) {
      for (const [name, t] of Object.entries(project.targets ?? {})) {
        for (const input of t.inputs ?? []) {
          if (typeof input !== 'string' || !input.startsWith('{workspaceRoot}/')) continue;
          const rel = input.slice('{workspaceRoot}/'.length);
          // for a glob, the folder before the first wildcard must exist
          const literal = rel
            .split('/')
            .filter((_, i, parts) => !parts.slice(0, i + 1).some((p) => p.includes('*')))
            .join('/');
          expect({
            input,
            target: `${project.name}:${name}`,
            exists: fs.existsSync(path.join(REPO_ROOT, literal)),
          }).toEqual({
            input,
            target: `${project.name}:${name}`,
            exists: true,
          });
        }
      }
    }
  });

  it('wires paths across projects: manifests, atomics and build folders agree with the targets that write them', () => {
    const toolchain = target(projects['llvm-m68k'], 'toolchain');
    const atomics = target(projects['llvm-m68k'], 'atomics');
    const sysroot = target(projects['rust-target'], 'sysroot');
    const build = target(projects['rust-target'], 'build');
    const test = target(projects['emulator-tests'], 'test');
    const manifest = toolchain.options.outputFile;
    expect(atomics.options.toolchainManifest).toBe(manifest);
    expect(sysroot.options.toolchainManifest).toBe(manifest);
    expect(build.options.toolchainManifest).toBe(manifest);
    for (const cpu of ALL_CPUS) {
      expect(resolvedOptions(build, cpu).atomicsDir).toBe(resolvedOptions(atomics, cpu).outputDir);
      expect(resolvedOptions(build, cpu).sysrootDir).toBe(resolvedOptions(sysroot, cpu).outputDir);
      expect(resolvedOptions(test, cpu).buildManifest).toBe(`${resolvedOptions(build, cpu).outputDir}/manifest.json`);
    }
  });

  it('ci-status:bundle packs, per CPU, what the build, atomics, toolchain and emulator tests of that CPU wrote, after those tests', () => {
    const bundle = target(projects['ci-status'], 'bundle');
    expect(bundle.executor).toBe('@nextrust/nx-plugin:bundle');
    expect(bundle.dependsOn).toEqual([{ projects: ['emulator-tests'], target: 'test' }]);
    expect(bundle.options).toEqual({
      toolchainManifest: target(projects['llvm-m68k'], 'toolchain').options.outputFile,
      targetSpecsDir: 'projects/rust-target/target-specs',
    });
    for (const cpu of ALL_CPUS) {
      const o = resolvedOptions(bundle, cpu);
      expect(o).toEqual({
        cpu,
        toolchainManifest: 'dist/llvm-m68k/toolchain/toolchain.json',
        targetSpecsDir: 'projects/rust-target/target-specs',
        buildManifest: `${resolvedOptions(target(projects['rust-target'], 'build'), cpu).outputDir}/manifest.json`,
        atomicsManifest: `${resolvedOptions(target(projects['llvm-m68k'], 'atomics'), cpu).outputDir}/atomics.json`,
        testResultsDir: resolvedOptions(target(projects['emulator-tests'], 'test'), cpu).outputDir,
        outputDir: `dist/release/${cpu}`,
      });
    }
    // the target specs it packs are where rust-target's config keeps them
    const specs = target(projects['rust-target'], 'build').options.targetSpecs as Record<string, string>;
    for (const spec of Object.values(specs)) expect(path.posix.dirname(spec)).toBe(bundle.options.targetSpecsDir);
    expect(bundle.outputs).toEqual(['{workspaceRoot}/dist/release/{options.cpu}']);
    const inputs = bundle.inputs ?? [];
    for (const input of [
      TOOLCHAIN_MANIFEST_INPUT,
      { dependentTasksOutputFiles: '**/manifest.json', transitive: true },
      { dependentTasksOutputFiles: '**/atomics.json', transitive: true },
      { dependentTasksOutputFiles: '**/results.json', transitive: true },
      { dependentTasksOutputFiles: '**/junit.xml', transitive: true },
      '{workspaceRoot}/projects/rust-target/target-specs/*.json',
      '{workspaceRoot}/package.json',
      { runtime: 'git rev-parse HEAD' },
      { runtime: 'git status --porcelain --untracked-files=no' },
      '{workspaceRoot}/tools/nx-plugin/src/release/bundle.ts',
      '{workspaceRoot}/tools/nx-plugin/src/executors/bundle/executor.ts',
      '{workspaceRoot}/tools/nx-plugin/src/executors/bundle/schema.json',
    ])
      expect(inputs).toContainEqual(input);
    // the npm packages its code loads, and no others
    expect(inputs.filter((i) => typeof i === 'object' && 'externalDependencies' in i)).toEqual([
      { externalDependencies: expect.arrayContaining(['zod', 'execa']) },
    ]);
    expect(bundle.metadata?.help?.command).toBe('npx nextrust target-help bundle ci-status:bundle');
  });

  it('ci-status takes the projects it bundles and the target specs folder from its nextrust.json', () => {
    const ws = makeWorkspace();
    const p = inferOne(
      ws,
      writeConfig(ws, 'status', {
        kind: 'ci-status',
        buildProject: 'rust',
        toolchainProject: 'llvm',
        testsProject: 'qemu-tests',
        targetSpecsDir: 'projects/rust/specs',
      }),
      { distDir: 'out' },
    );
    const bundle = target(p, 'bundle');
    expect(p.implicitDependencies).toEqual(['qemu-tests']);
    expect(bundle.dependsOn).toEqual([{ projects: ['qemu-tests'], target: 'test' }]);
    expect(resolvedOptions(bundle, 'm68030')).toEqual({
      cpu: 'm68030',
      toolchainManifest: 'out/llvm/toolchain/toolchain.json',
      targetSpecsDir: 'projects/rust/specs',
      buildManifest: 'out/rust/m68030/manifest.json',
      atomicsManifest: 'out/llvm/m68030/atomics.json',
      testResultsDir: 'out/qemu-tests/m68030',
      outputDir: 'out/release/m68030',
    });
    expect(bundle.outputs).toEqual(['{workspaceRoot}/out/release/{options.cpu}']);
    expect(bundle.inputs).toContainEqual('{workspaceRoot}/projects/rust/specs/*.json');
    const bad = writeConfig(ws, 'status-dotdot', { kind: 'ci-status', targetSpecsDir: '../specs' });
    expect(() => inferOne(ws, bad)).toThrow(
      new ConfigError(
        bad,
        `${bad}: field 'targetSpecsDir': expected a path relative to the workspace root, without ".."`,
      ),
    );
  });

  it('resolves project-relative paths in options against the project root', () => {
    const atomics = target(projects['llvm-m68k'], 'atomics');
    expect(atomics.options).toMatchObject({
      sources: ['projects/llvm-m68k/atomics/spinlock_atomics.c'],
      includeDirs: ['projects/llvm-m68k/atomics'],
      cflags: ['-O2'],
      archive: 'libnextrust_atomics.a',
    });
    const build = target(projects['rust-target'], 'build');
    expect(build.options.targetSpecs).toEqual({
      'm68k-next-nextstep': 'projects/rust-target/target-specs/m68k-next-nextstep.json',
    });
    expect(build.options.projectRoot).toBe('projects/rust-target');
    // The programs are discovered from their folders by the executor; the options carry only the overrides.
    expect(build.options).toMatchObject({ programsDir: 'programs', programOverrides: {} });
    expect(build.options.programs).toBeUndefined();
    expect(target(projects['emulator-tests'], 'test').options).toEqual({
      emulator: 'qemu',
      testsDir: 'projects/emulator-tests/tests',
      timeoutMs: 60000,
    });
  });

  it('gives each sysroot configuration the targets its CPU programs need', () => {
    const sysroot = target(projects['rust-target'], 'sysroot');
    // m68000: the freestanding program (linux triple) and the nextstep staticlib
    expect(resolvedOptions(sysroot, 'm68000').targets).toEqual([NEXTSTEP_TRIPLE, HOSTED_TRIPLE]);
    for (const cpu of ['m68030', 'm68040'])
      expect(resolvedOptions(sysroot, cpu).targets).toEqual([NEXTSTEP_TRIPLE, HOSTED_TRIPLE]);
    // m68060: glibc does not run there, so only the nextstep staticlib
    expect(resolvedOptions(sysroot, 'm68060').targets).toEqual([NEXTSTEP_TRIPLE]);
  });

  it("runs the std programs' #[test] harnesses and the Debian crates' suites on the CPUs with std", () => {
    const t = target(projects['rust-target'], 'test');
    expect(t.executor).toBe('@nextrust/nx-plugin:cargo-test');
    expect(Object.keys(t.configurations ?? {})).toEqual(['m68030', 'm68040']);
    expect(t.options).toMatchObject({ debianCrates: ['itoa', 'memchr'], programsDir: 'programs' });
    expect(resolvedOptions(t, 'm68030')).toMatchObject({
      sysrootDir: 'dist/rust-target/sysroot/m68030',
      outputDir: 'dist/rust-target/test/m68030',
    });
    expect(t.dependsOn).toEqual(['sysroot', { projects: ['llvm-m68k'], target: 'atomics' }]);
    // The Debian crates are outside the workspace: their versions are an input, as for the build.
    expect(t.inputs).toContainEqual({ runtime: 'ls /usr/share/cargo/registry 2>/dev/null || true' });
    expect(target(projects['rust-target'], 'build').inputs).toContainEqual({
      runtime: 'ls /usr/share/cargo/registry 2>/dev/null || true',
    });
  });

  it('honours the distDir plugin option everywhere', () => {
    const llvm = inferOne(ws, 'projects/llvm-m68k/nextrust.json', { distDir: 'out/build' });
    const rust = inferOne(ws, 'projects/rust-target/nextrust.json', { distDir: 'out/build' });
    expect(target(llvm, 'toolchain').options.outputFile).toBe('out/build/llvm-m68k/toolchain/toolchain.json');
    expect(target(llvm, 'atomics').outputs).toEqual(['{workspaceRoot}/out/build/llvm-m68k/{options.cpu}']);
    expect(target(rust, 'sysroot').outputs).toEqual(['{workspaceRoot}/out/build/rust-target/sysroot/{options.cpu}']);
    expect(target(rust, 'build').outputs).toEqual(['{workspaceRoot}/out/build/rust-target/{options.cpu}']);
    expect(resolvedOptions(target(rust, 'build'), 'm68030').atomicsDir).toBe('out/build/llvm-m68k/m68030');
  });
});

describe('createNodes on synthetic configs', () => {
  it('offers only the CPUs some program is built for: hosted-only has no m68000', () => {
    const ws = makeWorkspace();
    const file = writeConfig(ws, 'hosted-only', rustTargetConfig([hosted('a'), hosted('b')]));
    const project = inferOne(ws, file);
    for (const name of ['sysroot', 'build']) {
      const t = target(project, name);
      expect(Object.keys(t.configurations ?? {})).toEqual(['m68030', 'm68040']);
      expect(t.configurations?.['m68000']).toBeUndefined();
      expect(t.defaultConfiguration).toBe('m68040');
    }
    expect(resolvedOptions(target(project, 'sysroot'), 'm68040').targets).toEqual([HOSTED_TRIPLE]);
  });

  it("restricts configurations to a program's cpus, defaulting to the first when m68040 is absent", () => {
    const ws = makeWorkspace();
    const file = writeConfig(
      ws,
      'only-68000',
      rustTargetConfig([{ name: 'bare', flavor: 'freestanding', cpus: ['m68000'] }]),
    );
    const project = inferOne(ws, file);
    for (const name of ['sysroot', 'build']) {
      const t = target(project, name);
      expect(Object.keys(t.configurations ?? {})).toEqual(['m68000']);
      expect(t.defaultConfiguration).toBe('m68000');
    }
  });

  it('unions the CPUs of all programs, and per CPU only the targets of programs built for it', () => {
    const ws = makeWorkspace();
    const file = writeConfig(
      ws,
      'mixed',
      rustTargetConfig([
        { name: 'old', flavor: 'freestanding', cpus: ['m68000'] },
        { name: 'next', flavor: 'nextstep', cpus: ['m68040'] },
      ]),
    );
    const sysroot = target(inferOne(ws, file), 'sysroot');
    expect(Object.keys(sysroot.configurations ?? {})).toEqual(['m68000', 'm68040']);
    expect(resolvedOptions(sysroot, 'm68000').targets).toEqual([HOSTED_TRIPLE]);
    expect(resolvedOptions(sysroot, 'm68040').targets).toEqual([NEXTSTEP_TRIPLE]);
    // no hosted program: both targets carry compiler_builtins' memcpy and friends
    expect(resolvedOptions(sysroot, 'm68000').memTargets).toEqual([HOSTED_TRIPLE]);
    expect(resolvedOptions(sysroot, 'm68040').memTargets).toEqual([NEXTSTEP_TRIPLE]);
  });

  it("gives the hosted triple glibc's memcpy (no compiler_builtins copies) on CPUs with hosted programs", () => {
    const ws = makeWorkspace();
    const file = writeConfig(ws, 'hosted-and-next', rustTargetConfig([hosted('a'), nextstep('n')]));
    const sysroot = target(inferOne(ws, file), 'sysroot');
    expect(resolvedOptions(sysroot, 'm68040').targets).toEqual([NEXTSTEP_TRIPLE, HOSTED_TRIPLE]);
    expect(resolvedOptions(sysroot, 'm68040').memTargets).toEqual([NEXTSTEP_TRIPLE]);
  });

  it('changes the sysroot options when rustflags change', () => {
    const ws = makeWorkspace();
    const a = target(inferOne(ws, writeConfig(ws, 'flags-a', rustTargetConfig([hosted('a')]))), 'sysroot');
    const b = target(
      inferOne(ws, writeConfig(ws, 'flags-a2', rustTargetConfig([hosted('a')], { rustflags: ['-Copt-level=s'] }))),
      'sysroot',
    );
    expect(a.options.rustflags).toEqual([]);
    expect(b.options.rustflags).toEqual(['-Copt-level=s']);
    expect(b.options).not.toEqual(a.options);
  });

  it('leaves the sysroot options alone when the program list changes, except the per-CPU targets', () => {
    // one workspace per variant, same folder name: the project name (and so outputDir) stays equal
    const infer = (programs: TestProgram[]) => {
      const sub = makeWorkspace();
      return inferOne(sub, writeConfig(sub, 'rust', rustTargetConfig(programs)));
    };
    const base = infer([hosted('a')]);
    const morePrograms = infer([hosted('a'), hosted('b'), { ...hosted('c'), linkAtomics: false }]);
    const withNextstep = infer([hosted('a'), nextstep('n')]);

    // another hosted program: sysroot identical; the build sees it through its inputs (the project's files)
    expect(target(morePrograms, 'sysroot')).toEqual(target(base, 'sysroot'));
    expect(target(morePrograms, 'build').inputs).toContain('{projectRoot}/**/*');

    // a nextstep program: same options; configurations differ only in `targets` (and the new m68000 CPU)
    const s0 = target(base, 'sysroot');
    const s1 = target(withNextstep, 'sysroot');
    expect(s1.options).toEqual(s0.options);
    for (const cpu of Object.keys(s0.configurations ?? {})) {
      // the per-CPU targets, and so which of them carry compiler_builtins' memcpy (no libc: NeXTSTEP)
      const { targets: t0, memTargets: m0, ...rest0 } = s0.configurations?.[cpu] as Record<string, unknown>;
      const { targets: t1, memTargets: m1, ...rest1 } = s1.configurations?.[cpu] as Record<string, unknown>;
      expect(rest1).toEqual(rest0);
      expect(m0).toEqual([]);
      expect(m1).toEqual([NEXTSTEP_TRIPLE]);
      expect(t0).toEqual([HOSTED_TRIPLE]);
      expect(t1).toEqual([NEXTSTEP_TRIPLE, HOSTED_TRIPLE]);
    }
    expect(s1.configurations?.['m68000']).toMatchObject({ targets: [NEXTSTEP_TRIPLE] });
  });

  it('applies schema defaults and custom project links', () => {
    const ws = makeWorkspace();
    const tests = inferOne(ws, writeConfig(ws, 'my-tests', { kind: 'emulator-tests', buildProject: 'my-rust' }));
    const test = target(tests, 'test');
    expect(test.options).toEqual({ emulator: 'qemu', testsDir: 'projects/my-tests/tests', timeoutMs: 30000 });
    expect(test.dependsOn).toEqual([{ projects: ['my-rust'], target: 'build' }]);
    expect(tests.implicitDependencies).toEqual(['my-rust']);
    expect(resolvedOptions(test, 'm68060')).toMatchObject({
      buildManifest: 'dist/my-rust/m68060/manifest.json',
      outputDir: 'dist/my-tests/m68060',
    });

    const rust = inferOne(
      ws,
      writeConfig(ws, 'my-rust', rustTargetConfig([hosted('a')], { toolchainProject: 'my-llvm' })),
    );
    expect(rust.implicitDependencies).toEqual(['my-llvm']);
    expect(target(rust, 'sysroot').dependsOn).toEqual([{ projects: ['my-llvm'], target: 'toolchain' }]);
    expect(target(rust, 'build').dependsOn).toEqual(['sysroot', { projects: ['my-llvm'], target: 'atomics' }]);
    expect(target(rust, 'build').options.toolchainManifest).toBe('dist/my-llvm/toolchain/toolchain.json');
    expect(target(rust, 'build').options.profile).toBe('release');

    const llvm = inferOne(ws, writeConfig(ws, 'my-llvm', { kind: 'llvm-toolchain', atomics: { sources: ['a.c'] } }));
    expect(target(llvm, 'toolchain').options).toEqual({
      provider: 'source',
      minLlvmVersion: '19.1.5',
      outputFile: 'dist/my-llvm/toolchain/toolchain.json',
      backendManifest: 'dist/my-llvm/backend/backend.json',
    });
    // the default backend source is the LLVM Debian's rustc-web links
    expect(target(llvm, 'backend').options).toMatchObject({
      source: DEFAULT_BACKEND_SOURCE,
      patchesDir: 'projects/my-llvm/patches',
    });
    expect(target(llvm, 'atomics').options).toMatchObject({
      sources: ['projects/my-llvm/a.c'],
      includeDirs: [],
      cflags: ['-O2'],
      archive: 'libnextrust_atomics.a',
    });
    expect(target(llvm, 'atomics').inputs).toContainEqual('{projectRoot}/a.c');
  });
});

describe('createNodesForConfigFile with an invalid config', () => {
  let ws: string;
  beforeAll(() => {
    ws = makeWorkspace();
  });

  /** Runs createNodesForConfigFile and returns the ConfigError it throws. */
  function configError(name: string, content: unknown): { file: string; error: ConfigError } {
    const file = writeConfig(ws, name, content);
    let thrown: unknown;
    try {
      createNodesForConfigFile(file, {}, context(ws));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.file).toBe(file);
    return { file, error };
  }

  it('reports a bad flavor in a program override with file, field and the expected values', () => {
    const { file, error } = configError(
      'bad-flavor',
      rustTargetConfig([hosted('a')], { programs: { a: { flavor: 'bare-metal' } } }),
    );
    expect(file).toBe('projects/bad-flavor/nextrust.json');
    expect(error.message).toBe(
      `${file}: field 'programs.a.flavor': Invalid option: expected one of "std"|"hosted"|"freestanding"|"nextstep"`,
    );
  });

  it('reports an unknown kind, listing the kinds', () => {
    const { file, error } = configError('bad-kind', { kind: 'cmake' });
    expect(error.message).toMatch(new RegExp(`^${file.replace(/\./g, '\\.')}: field 'kind': `));
    for (const kind of ['llvm-toolchain', 'rust-target', 'emulator-tests', 'ci-status'])
      expect(error.message).toContain(`'${kind}'`);
  });

  it('reports a config of one kind with fields of another as unrecognized', () => {
    const { file, error } = configError('wrong-kind', { kind: 'ci-status', programs: [] });
    expect(error.message).toBe(`${file}: field '(root)': Unrecognized key: "programs"`);
  });

  it('reports programs given as a list (the overrides are keyed by package name)', () => {
    const { file, error } = configError('list-programs', {
      kind: 'rust-target',
      targetSpecs: {},
      programs: [{ name: 'a' }],
    });
    expect(error.message).toBe(`${file}: field 'programs': Invalid input: expected record, received array`);
  });

  it('rejects paths that leave the project root', () => {
    const dotdot = configError('dotdot', rustTargetConfig([], { programsDir: '../elsewhere' }));
    expect(dotdot.error.message).toBe(
      `${dotdot.file}: field 'programsDir': expected a path relative to the project root, without ".."`,
    );
    const nested = configError('dotdot-atomics', {
      kind: 'llvm-toolchain',
      atomics: { sources: ['ok.c', 'a/../../b.c'] },
    });
    expect(nested.error.message).toBe(
      `${nested.file}: field 'atomics.sources[1]': expected a path relative to the project root, without ".."`,
    );
    const absolute = configError('absolute', { kind: 'emulator-tests', testsDir: '/etc' });
    expect(absolute.error.message).toBe(
      `${absolute.file}: field 'testsDir': expected a path relative to the project root, without ".."`,
    );
  });

  it('reports one line per invalid field', () => {
    const { error } = configError(
      'many',
      rustTargetConfig([], { profile: 'fast', programs: { 'Bad Name': { cpus: ['m68020'] } } }),
    );
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^projects\/many\/nextrust\.json: field 'profile': .*"release"\|"dev"/),
        expect.stringMatching(
          /^projects\/many\/nextrust\.json: field 'programs\.Bad Name\.cpus\[0\]': .*"m68000"\|"m68030"\|"m68040"\|"m68060"/,
        ),
      ]),
    );
  });

  it('reports text that is not JSON', () => {
    const { file, error } = configError('not-json', '{ "kind": "ci-status", }');
    expect(error.message.startsWith(`${file}: not valid JSON: `)).toBe(true);
  });

  it('reports a missing config file', () => {
    let thrown: unknown;
    try {
      createNodesForConfigFile('projects/ghost/nextrust.json', {}, context(ws));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toMatch(/^projects\/ghost\/nextrust\.json: cannot read: ENOENT/);
  });
});

describe('createNodes (the plugin entry: createNodesFromFiles)', () => {
  it('matches every nextrust.json', () => {
    expect(createNodes[0]).toBe('**/nextrust.json');
    expect(CONFIG_GLOB).toBe(createNodes[0]);
    expect(CONFIG_GLOB).toBe(`**/${PROJECT_CONFIG_FILE}`);
  });

  it('returns one [file, result] per config file', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    const results = await createNodes[1](files, undefined, context(ws));
    expect(results.map(([f]) => f)).toEqual(files);
    for (const [f, result] of results) expect(Object.keys(result.projects ?? {})).toEqual([path.dirname(f)]);
  });

  it('reports a bad file in an AggregateCreateNodesError and keeps the good project', async () => {
    const ws = makeWorkspace();
    const good = writeConfig(ws, 'good', rustTargetConfig([hosted('a')]));
    const bad = writeConfig(ws, 'bad', rustTargetConfig([hosted('a')], { programs: { a: { flavor: 'windows' } } }));

    let thrown: unknown;
    try {
      await createNodes[1]([good, bad], {}, context(ws));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AggregateCreateNodesError);
    const aggregate = thrown as AggregateCreateNodesError;
    expect(aggregate.errors).toHaveLength(1);
    const [file, error] = aggregate.errors[0];
    expect(file).toBe(bad);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${bad}: field 'programs.a.flavor': Invalid option: expected one of "std"|"hosted"|"freestanding"|"nextstep"`,
    );

    expect(aggregate.partialResults).toHaveLength(1);
    const [goodFile, goodResult] = aggregate.partialResults[0];
    expect(goodFile).toBe(good);
    expect(goodResult.projects?.['projects/good']).toMatchObject({ name: 'good', root: 'projects/good' });
    expect(Object.keys(goodResult.projects?.['projects/good']?.targets ?? {}).sort()).toEqual(['build', 'sysroot']);
  });
});

describe('the inferred-targets cache', () => {
  const PLUGIN_SRC = path.join(REPO_ROOT, 'tools/nx-plugin/src');
  /** The cache file createNodes uses for these options in a workspace (Nx's default workspace data directory). */
  const cacheFileOf = (ws: string, options = {}) => targetsCachePath(path.join(ws, '.nx', 'workspace-data'), options);
  /** Runs the plugin's createNodes; returns results by config file and what it did. */
  async function run(ws: string, files: string[], options = {}, srcDir?: string) {
    const results = srcDir
      ? await createNodesCached(files, options, context(ws), srcDir)
      : await createNodes[1](files, options, context(ws));
    return { byFile: Object.fromEntries(results), stats: { ...lastCreateNodesStats } };
  }
  /** What inference without the cache gives, by config file. */
  const fresh = (ws: string, files: string[], options = {}) =>
    Object.fromEntries(files.map((f) => [f, createNodesForConfigFile(f, options, context(ws))]));
  /** JSON round trip: the cache stores JSON, so `undefined` fields are absent (Nx treats both alike). */
  const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

  it('infers every project on the first run and answers an unchanged workspace from the cache file', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    const first = await run(ws, files);
    expect(first.stats).toMatchObject({ cached: 0, inferred: files.length, writeError: null });
    expect(fs.existsSync(cacheFileOf(ws))).toBe(true);
    const second = await run(ws, files);
    expect(second.stats).toMatchObject({ cached: files.length, inferred: 0 });
    expect(second.byFile).toEqual(asJson(fresh(ws, files)));
    expect(second.byFile).toEqual(asJson(first.byFile));
  });

  it('re-infers only the project whose nextrust.json changed, with the new targets', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    await run(ws, files);
    const rt = 'projects/rust-target/nextrust.json';
    const config = JSON.parse(fs.readFileSync(path.join(ws, rt), 'utf8'));
    fs.writeFileSync(path.join(ws, rt), JSON.stringify({ ...config, rustflags: ['-Cdebuginfo=1'] }));
    const after = await run(ws, files);
    expect(after.stats).toMatchObject({ cached: files.length - 1, inferred: 1 });
    const sysroot = (after.byFile[rt].projects?.['projects/rust-target'] as ProjectConfiguration).targets!.sysroot;
    expect(sysroot.options.rustflags).toEqual(['-Cdebuginfo=1']);
    expect(after.byFile).toEqual(asJson(fresh(ws, files)));
  });

  it("re-infers a rust-target project when a program's Cargo.toml changes or a program folder appears", async () => {
    const ws = makeWorkspace();
    const file = writeConfig(ws, 'rt', rustTargetConfig([hosted('a')]));
    const cpusOf = async () => {
      const { byFile, stats } = await run(ws, [file]);
      const build = (byFile[file].projects?.['projects/rt'] as ProjectConfiguration).targets!.build;
      return { cpus: Object.keys(build.configurations ?? {}).sort(), stats };
    };
    expect((await cpusOf()).cpus).toEqual(['m68030', 'm68040']);
    expect((await cpusOf()).stats).toMatchObject({ cached: 1, inferred: 0 });
    writeProgram(ws, 'rt', { name: 'a', flavor: 'hosted', cpus: ['m68030'] }); // same folder, new metadata
    expect(await cpusOf()).toEqual({ cpus: ['m68030'], stats: expect.objectContaining({ inferred: 1 }) });
    writeProgram(ws, 'rt', nextstep('b')); // a new program folder
    expect(await cpusOf()).toEqual({ cpus: ALL_CPUS, stats: expect.objectContaining({ inferred: 1 }) });
    // A program's sources are not read by inference: editing one keeps the cache.
    fs.mkdirSync(path.join(ws, 'projects/rt/programs/b/src'));
    fs.writeFileSync(path.join(ws, 'projects/rt/programs/b/src/lib.rs'), '#![no_std]\n');
    expect((await cpusOf()).stats).toMatchObject({ cached: 1, inferred: 0 });
  });

  it('keys entries by the plugin options', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    await run(ws, files);
    const out = await run(ws, files, { distDir: 'out' });
    expect(out.stats).toMatchObject({ cached: 0, inferred: files.length });
    const toolchain = out.byFile['projects/llvm-m68k/nextrust.json'].projects?.['projects/llvm-m68k'];
    expect((toolchain as ProjectConfiguration).targets!.toolchain.options.outputFile).toBe(
      'out/llvm-m68k/toolchain/toolchain.json',
    );
    expect(cacheFileOf(ws, { distDir: 'out' })).not.toBe(cacheFileOf(ws));
    expect((await run(ws, files)).stats).toMatchObject({ cached: files.length, inferred: 0 });
  });

  it("re-infers everything when the plugin's code changes, not when a spec does", async () => {
    const { ws, files } = workspaceWithRealConfigs();
    const src = path.join(makeWorkspace(), 'src');
    fs.cpSync(PLUGIN_SRC, src, { recursive: true });
    await run(ws, files, {}, src);
    expect((await run(ws, files, {}, src)).stats).toMatchObject({ cached: files.length, inferred: 0 });
    fs.appendFileSync(path.join(src, 'graph/create-nodes.spec.ts'), '\n// a spec edit\n');
    expect((await run(ws, files, {}, src)).stats).toMatchObject({ cached: files.length, inferred: 0 });
    // An executor's module (an input of its targets through the import walk) changes: every project is inferred again.
    fs.appendFileSync(path.join(src, 'executors/build/executor.ts'), '\n// an executor edit\n');
    expect((await run(ws, files, {}, src)).stats).toMatchObject({ cached: 0, inferred: files.length });
  });

  it('ignores a corrupt cache file, infers, and rewrites it', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    await run(ws, files);
    const cacheFile = cacheFileOf(ws);
    fs.writeFileSync(cacheFile, fs.readFileSync(cacheFile, 'utf8').slice(0, 500));
    const after = await run(ws, files);
    expect(after.stats).toMatchObject({ cached: 0, inferred: files.length, writeError: null });
    expect(after.byFile).toEqual(asJson(fresh(ws, files)));
    expect(() => JSON.parse(fs.readFileSync(cacheFile, 'utf8'))).not.toThrow();
    expect((await run(ws, files)).stats).toMatchObject({ cached: files.length, inferred: 0 });
  });

  it('does not serve a cached entry whose content was edited in the cache file', async () => {
    const ws = makeWorkspace();
    const file = writeConfig(ws, 'rt', rustTargetConfig([hosted('a')]));
    await run(ws, [file]);
    const cacheFile = cacheFileOf(ws);
    const data = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    data.entries[file].key = '0'.repeat(64);
    fs.writeFileSync(cacheFile, JSON.stringify(data));
    expect((await run(ws, [file])).stats).toMatchObject({ cached: 0, inferred: 1 });
  });

  it('never caches an invalid config: it is reported on every run, and the fix is seen at once', async () => {
    const ws = makeWorkspace();
    const bad = writeConfig(ws, 'bad', rustTargetConfig([hosted('a')], { programs: { a: { flavor: 'windows' } } }));
    for (let i = 0; i < 2; i++) {
      await expect(createNodes[1]([bad], {}, context(ws))).rejects.toBeInstanceOf(AggregateCreateNodesError);
      expect(lastCreateNodesStats).toMatchObject({ cached: 0, inferred: 0 });
    }
    writeConfig(ws, 'bad', rustTargetConfig([], { programs: { a: { flavor: 'hosted' } } }));
    const { byFile, stats } = await run(ws, [bad]);
    expect(stats).toMatchObject({ inferred: 1 });
    expect(Object.keys(byFile[bad].projects ?? {})).toEqual(['projects/bad']);
  });

  it('drops the entries of config files that are gone', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    await run(ws, files);
    await run(ws, files.slice(1));
    expect(Object.keys(JSON.parse(fs.readFileSync(cacheFileOf(ws), 'utf8')).entries).sort()).toEqual(
      files.slice(1).sort(),
    );
  });
});

describe('plugin options that rename the inferred targets', () => {
  const RENAMED: NextrustPluginOptions = {
    backendTargetName: 'llvm-backend',
    toolchainTargetName: 'tools',
    atomicsTargetName: 'libatomics',
    sysrootTargetName: 'rust-sysroot',
    buildTargetName: 'compile',
    testTargetName: 'check',
    bundleTargetName: 'publish',
  };

  /** Every project of the committed configs, inferred through the plugin entry with these options, by name. */
  async function graphWith(options: NextrustPluginOptions): Promise<Record<string, ProjectConfiguration>> {
    const { ws, files } = workspaceWithRealConfigs();
    const results = await createNodes[1](files, options, context(ws));
    const projects: Record<string, ProjectConfiguration> = {};
    for (const [, r] of results)
      for (const p of Object.values(r.projects ?? {})) projects[p.name as string] = p as ProjectConfiguration;
    return projects;
  }

  /**
   * Every dependsOn entry of every target as `project:target` it points at, with whether that target exists
   * (`target`: same project; `^target`: each implicit dependency; `{projects, target}`: each named project).
   */
  function dependsOnTargets(
    projects: Record<string, ProjectConfiguration>,
  ): { from: string; to: string; exists: boolean }[] {
    const out: { from: string; to: string; exists: boolean }[] = [];
    for (const [name, p] of Object.entries(projects)) {
      for (const [tname, t] of Object.entries(p.targets ?? {})) {
        for (const d of t.dependsOn ?? []) {
          const entry = typeof d === 'string' ? { target: d } : d;
          const dependencies = entry.target.startsWith('^');
          const targetName = entry.target.replace(/^\^/, '');
          const owners = dependencies
            ? (p.implicitDependencies ?? [])
            : entry.projects
              ? [entry.projects].flat()
              : [name];
          expect(owners.length).toBeGreaterThan(0);
          for (const owner of owners)
            out.push({
              from: `${name}:${tname}`,
              to: `${owner}:${targetName}`,
              exists: !!projects[owner]?.targets?.[targetName],
            });
        }
      }
    }
    return out;
  }

  it('the default options keep the names backend, toolchain, atomics, sysroot, build, test', async () => {
    for (const options of [{}, { distDir: 'dist' }]) {
      const projects = await graphWith(options);
      expect(Object.keys(projects['llvm-m68k'].targets!).sort()).toEqual(['atomics', 'backend', 'toolchain']);
      expect(Object.keys(projects['rust-target'].targets!).sort()).toEqual(['build', 'sysroot', 'test']);
      expect(Object.keys(projects['emulator-tests'].targets!)).toEqual(['test']);
      expect(Object.keys(projects['ci-status'].targets!)).toEqual(['bundle']);
      expect(dependsOnTargets(projects).every((d) => d.exists)).toBe(true);
    }
  });

  it('infers every target under its new name, and every dependsOn names a target that exists', async () => {
    const projects = await graphWith(RENAMED);
    expect(Object.keys(projects['llvm-m68k'].targets!).sort()).toEqual(['libatomics', 'llvm-backend', 'tools']);
    expect(Object.keys(projects['rust-target'].targets!).sort()).toEqual(['check', 'compile', 'rust-sysroot']);
    expect(Object.keys(projects['emulator-tests'].targets!)).toEqual(['check']);
    expect(Object.keys(projects['ci-status'].targets!)).toEqual(['publish']);
    const deps = dependsOnTargets(projects);
    expect(deps.filter((d) => !d.exists)).toEqual([]);
    expect(deps.map((d) => `${d.from} -> ${d.to}`).sort()).toEqual([
      'ci-status:publish -> emulator-tests:check',
      'emulator-tests:check -> rust-target:compile',
      'llvm-m68k:libatomics -> llvm-m68k:tools',
      'llvm-m68k:tools -> llvm-m68k:llvm-backend',
      'rust-target:check -> llvm-m68k:libatomics',
      'rust-target:check -> rust-target:rust-sysroot',
      'rust-target:compile -> llvm-m68k:libatomics',
      'rust-target:compile -> rust-target:rust-sysroot',
      'rust-target:rust-sysroot -> llvm-m68k:tools',
    ]);
  });

  it("names the renamed target in each target's help command, and only the name changes", async () => {
    const renamed = await graphWith(RENAMED);
    const plain = await graphWith({});
    const pairs: [string, string, string][] = [
      ['llvm-m68k', 'backend', 'llvm-backend'],
      ['llvm-m68k', 'toolchain', 'tools'],
      ['llvm-m68k', 'atomics', 'libatomics'],
      ['rust-target', 'sysroot', 'rust-sysroot'],
      ['rust-target', 'build', 'compile'],
      ['rust-target', 'test', 'check'],
      ['emulator-tests', 'test', 'check'],
      ['ci-status', 'bundle', 'publish'],
    ];
    for (const [project, before, after] of pairs) {
      const t = target(renamed[project], after);
      expect(t.metadata?.help?.command).toMatch(new RegExp(` ${project}:${after}$`));
      const old = target(plain[project], before);
      // Same executor, options, configurations, inputs and outputs: renaming changes what a task is called, not
      // what it does or what it hashes.
      const { dependsOn: _a, metadata: _b, ...rest } = t;
      const { dependsOn: _c, metadata: _d, ...restOld } = old;
      expect(rest).toEqual(restOld);
    }
  });

  it.each([
    [{ buildTargetName: 'rust:build' }, "nx.json: option 'buildTargetName' of the nextrust plugin", '"rust:build"'],
    [{ testTargetName: '^test' }, "nx.json: option 'testTargetName' of the nextrust plugin", '"^test"'],
    [{ sysrootTargetName: '' }, "nx.json: option 'sysrootTargetName' of the nextrust plugin", 'got ""'],
    [{ atomicsTargetName: 7 }, "nx.json: option 'atomicsTargetName' of the nextrust plugin", 'got 7'],
    [{ buildTarget: 'compile' }, "nx.json: option 'buildTarget' of the nextrust plugin", 'unknown option'],
    [
      { sysrootTargetName: 'build' },
      "nx.json: options 'sysrootTargetName' and 'buildTargetName' of the nextrust plugin both name 'build'",
      'distinct names',
    ],
    [
      { toolchainTargetName: 'x', atomicsTargetName: 'x' },
      "nx.json: options 'toolchainTargetName' and 'atomicsTargetName' of the nextrust plugin both name 'x'",
      'distinct names',
    ],
  ])(
    'rejects the options %j before inferring anything, naming nx.json and the option',
    async (options, head, detail) => {
      const { ws, files } = workspaceWithRealConfigs();
      const run = createNodesCached(files, options as NextrustPluginOptions, context(ws));
      await expect(run).rejects.toBeInstanceOf(PluginOptionsError);
      const message = await run.then(
        () => '',
        (e: Error) => e.message,
      );
      expect(message.startsWith(head)).toBe(true);
      expect(message).toContain(detail);
      expect(lastCreateNodesStats).toMatchObject({ cached: 0, inferred: 0 });
      expect(() => createNodesForConfigFile(files[0], options as NextrustPluginOptions, context(ws))).toThrow(head);
    },
  );

  it('lets two projects of different kinds share a name (rust-target:build and a toolchain target called build)', async () => {
    const projects = await graphWith({ toolchainTargetName: 'build' });
    expect(Object.keys(projects['llvm-m68k'].targets!).sort()).toEqual(['atomics', 'backend', 'build']);
    expect(target(projects['rust-target'], 'sysroot').dependsOn).toEqual([
      { projects: ['llvm-m68k'], target: 'build' },
    ]);
    expect(dependsOnTargets(projects).every((d) => d.exists)).toBe(true);
  });
});

describe('the `production` named input of nx.json', () => {
  const PROGRAM_GLOBS = [
    '{projectRoot}/**/*',
    '!{projectRoot}/nextrust.json',
    '!{projectRoot}/*.md',
    '!{projectRoot}/docs/**/*',
  ];

  /** The committed configs inferred with this nx.json (createNodesForConfigFile: no cache), by project name. */
  function inferAll(nxJson: CreateNodesContextV2['nxJsonConfiguration']): Record<string, ProjectConfiguration> {
    const { ws, files } = workspaceWithRealConfigs();
    const projects: Record<string, ProjectConfiguration> = {};
    for (const f of files) {
      const p = onlyProject(createNodesForConfigFile(f, {}, context(ws, nxJson)));
      projects[p.name as string] = p;
    }
    return projects;
  }

  it('rust-target:build and test hash `production` minus nextrust.json when nx.json defines it', () => {
    const projects = inferAll(WITH_PRODUCTION);
    for (const name of ['build', 'test']) {
      const inputs = target(projects['rust-target'], name).inputs!;
      expect(inputs.slice(0, 2)).toEqual(['production', '!{projectRoot}/nextrust.json']);
      for (const glob of PROGRAM_GLOBS.filter((g) => g !== '!{projectRoot}/nextrust.json'))
        expect(inputs).not.toContain(glob);
      // The toolchain manifest, the upstream manifests, the Debian registry and the plugin's code stay.
      expect(inputs).toContainEqual(TOOLCHAIN_MANIFEST_INPUT);
      expect(inputs).toContainEqual({ dependentTasksOutputFiles: '**/sysroot.json' });
      expect(inputs).toContainEqual({ runtime: 'ls /usr/share/cargo/registry 2>/dev/null || true' });
      expect(inputs.some((i) => typeof i === 'object' && 'externalDependencies' in i)).toBe(true);
    }
  });

  it('they spell the same rule out as file sets when nx.json has no `production` (a workspace without it)', () => {
    for (const nxJson of [{}, { namedInputs: { default: ['{projectRoot}/**/*'] } }, undefined]) {
      const projects = inferAll(nxJson as CreateNodesContextV2['nxJsonConfiguration']);
      for (const name of ['build', 'test']) {
        const inputs = target(projects['rust-target'], name).inputs!;
        expect(inputs.slice(0, 4)).toEqual(PROGRAM_GLOBS);
        expect(inputs).not.toContain('production');
      }
    }
  });

  it('only those inputs differ: every other target, and everything else of build and test, is the same', () => {
    const withIt = inferAll(WITH_PRODUCTION);
    const without = inferAll({});
    for (const [name, p] of Object.entries(without)) {
      for (const [tname, t] of Object.entries(p.targets ?? {})) {
        const other = target(withIt[name], tname);
        if (name === 'rust-target' && (tname === 'build' || tname === 'test')) {
          expect(other.inputs!.slice(2)).toEqual(t.inputs!.slice(4));
          expect({ ...other, inputs: [] }).toEqual({ ...t, inputs: [] });
        } else expect(other).toEqual(t);
      }
    }
  });

  it('the inferred-targets cache tells the two apart: defining or removing `production` infers again', async () => {
    const { ws, files } = workspaceWithRealConfigs();
    const rt = 'projects/rust-target/nextrust.json';
    const buildInputs = async (nxJson: CreateNodesContextV2['nxJsonConfiguration']) => {
      const results = Object.fromEntries(await createNodes[1](files, {}, context(ws, nxJson)));
      const p = results[rt].projects?.['projects/rust-target'] as ProjectConfiguration;
      return { first: p.targets!.build.inputs![0], stats: { ...lastCreateNodesStats } };
    };
    expect((await buildInputs({})).first).toBe('{projectRoot}/**/*');
    expect(await buildInputs(WITH_PRODUCTION)).toEqual({
      first: 'production',
      stats: expect.objectContaining({ cached: 0, inferred: files.length }),
    });
    expect(await buildInputs(WITH_PRODUCTION)).toEqual({
      first: 'production',
      stats: expect.objectContaining({ cached: files.length, inferred: 0 }),
    });
    expect((await buildInputs({})).first).toBe('{projectRoot}/**/*');
  });

  it("the repository's nx.json defines `production` as the project's files minus top-level *.md and docs/**", () => {
    const nxJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'nx.json'), 'utf8'));
    expect(nxJson.namedInputs).toEqual(WITH_PRODUCTION.namedInputs);
  });
});
