/**
 * Targets of the `rust-target` project kind (projects/rust-target):
 *  - sysroot (per CPU): core, alloc and compiler_builtins built from rust-src
 *    (build-std) for every target the CPU's programs use, cached on its own so
 *    a program edit never rebuilds core: dist/rust-target/sysroot/<cpu>/;
 *  - build (per CPU): the Rust programs, linked with the atomics archive:
 *    dist/rust-target/<cpu>/ with manifest.json;
 *  - test (per CPU with std programs): their `#[test]` harnesses and those of
 *    the `crateTests` Debian crates, run under qemu-m68k (build/cargo-test.ts):
 *    dist/rust-target/test/<cpu>/ with JUnit reports and results.json.
 * The programs are the folders of `programsDir` (config/programs.ts); a folder
 * with a problem is left out of the graph here and reported by the build.
 */
import * as path from 'node:path';
import type { RustTargetConfig } from '../config/project-config';
import { discoverPrograms } from '../config/programs';
import { CPU_NAMES, type CpuVariant } from '../toolchain/cpu';
import { DEBIAN_CARGO_REGISTRY } from '../build/crates';
import { HOSTED_TRIPLE } from '../build/rust-targets';
import { cpuConfigurations, executor, TOOLCHAIN_MANIFEST_INPUT, type InputDefinition } from './common';
import { executorInputs } from './executor-inputs';
import { targetHelpCommand } from './target-help';
import { DEFAULT_TARGET_NAMES } from './plugin-options';
import type { InferredProject, TargetBuilderContext } from './types';
import { atomicsDir, toolchainManifestPath } from './llvm-toolchain-targets';
import type { FileSet } from './targets-cache';

/** Workspace-relative sysroot folder of one CPU. */
export function sysrootDir(distDir: string, project: string, cpu: string): string {
  return `${distDir}/${project}/sysroot/${cpu}`;
}

/** Workspace-relative build output folder of one CPU (holds manifest.json). */
export function buildDir(distDir: string, project: string, cpu: string): string {
  return `${distDir}/${project}/${cpu}`;
}

/**
 * What the targets of a rust-target project are inferred from besides its nextrust.json: the Cargo.toml of every
 * folder of its programs folder (what discoverPrograms reads), for the inferred-targets cache.
 * @param projectRoot workspace-relative project folder.
 */
export function rustTargetReads(config: RustTargetConfig, projectRoot: string): FileSet[] {
  return [{ folder: path.posix.join(projectRoot, config.programsDir), each: 'Cargo.toml' }];
}

/**
 * The project's own files that the targets compiling its programs (build, test) hash: programs, shared crates,
 * Cargo.toml/lock and target specs, without its nextrust.json (its content reaches the hash through the options) and
 * without documentation at the project's top level (`*.md`, `docs/`), which is not compiled (a crate that
 * include_str!s its own README keeps it inside its folder, which stays an input).
 * @param productionInput whether nx.json defines the `production` named input: then that input (the workspace's rule
 *   for a project's non-test, non-doc files, https://nx.dev/reference/inputs#named-inputs) minus nextrust.json;
 *   otherwise the same rule spelled out as file sets, so the plugin works in a workspace without it.
 * @returns Nx input definitions (named input names and file sets).
 */
export function projectSourceInputs(productionInput: boolean): InputDefinition[] {
  return productionInput
    ? ['production', '!{projectRoot}/nextrust.json']
    : ['{projectRoot}/**/*', '!{projectRoot}/nextrust.json', '!{projectRoot}/*.md', '!{projectRoot}/docs/**/*'];
}

/** Builds the targets of a rust-target project. */
export function rustTargetTargets(config: RustTargetConfig, ctx: TargetBuilderContext): InferredProject {
  const { projectRoot, projectName, distDir } = ctx;
  const names = ctx.targetNames ?? DEFAULT_TARGET_NAMES;
  // Lenient here: a broken program folder must not break the project graph of the whole workspace;
  // the build executor discovers again and fails on any problem, naming the file.
  const programs = discoverPrograms(ctx.workspaceRoot, projectRoot, config.programsDir, config.programs).programs;
  const tc = config.toolchainProject;
  const specs: Record<string, string> = {};
  for (const [name, file] of Object.entries(config.targetSpecs)) specs[name] = `${projectRoot}/${file}`;

  /** Target triples (or spec names) the programs of one CPU need. */
  const targetsFor = (cpu: CpuVariant): string[] => {
    const set = new Set<string>();
    for (const p of programs) {
      if (!p.cpus.includes(cpu)) continue;
      set.add(p.flavor === 'nextstep' ? 'm68k-next-nextstep' : HOSTED_TRIPLE);
    }
    return [...set].sort();
  };
  /** Targets of one CPU whose programs have no libc: they need compiler_builtins' memcpy and friends. */
  const memTargetsFor = (cpu: CpuVariant): string[] => {
    const hostedUsesTriple = programs.some(
      (p) => (p.flavor === 'hosted' || p.flavor === 'std') && p.cpus.includes(cpu),
    );
    return targetsFor(cpu).filter((t) => t !== HOSTED_TRIPLE || !hostedUsesTriple);
  };
  /** Targets of one CPU whose programs use std: the sysroot builds std (and panic_abort) for them. */
  const stdTargetsFor = (cpu: CpuVariant): string[] =>
    programs.some((p) => p.flavor === 'std' && p.cpus.includes(cpu)) ? [HOSTED_TRIPLE] : [];
  const cpus = CPU_NAMES.filter((cpu) => targetsFor(cpu).length > 0);
  /** CPUs with std programs: the `test` target runs their `#[test]` harnesses there. */
  const testCpus = CPU_NAMES.filter((cpu) => stdTargetsFor(cpu).length > 0);
  const common = {
    toolchainManifest: toolchainManifestPath(distDir, tc),
    targetSpecs: specs,
    profile: config.profile,
    rustflags: config.rustflags,
  };
  const specInputs = Object.values(config.targetSpecs).map((f) => `{projectRoot}/${f}`);
  /** Options of the targets that compile the programs (build, test). */
  const programOptions = { ...common, projectRoot, programsDir: config.programsDir, programOverrides: config.programs };
  /** Per-CPU paths of those targets. */
  const programPaths = (cpu: CpuVariant, outputDir: string) => ({
    sysrootDir: sysrootDir(distDir, projectName, cpu),
    atomicsDir: atomicsDir(distDir, tc, cpu),
    outputDir,
  });
  /** Inputs of the targets that compile the programs (build, test), beyond the plugin's own sources. */
  const programInputs: InputDefinition[] = [
    ...projectSourceInputs(ctx.productionInput ?? false),
    TOOLCHAIN_MANIFEST_INPUT,
    { dependentTasksOutputFiles: '**/sysroot.json' },
    { dependentTasksOutputFiles: '**/atomics.json' },
    // Crates from Debian's registry (outside the workspace): their name-version folders.
    { runtime: `ls ${DEBIAN_CARGO_REGISTRY} 2>/dev/null || true` },
  ] as InputDefinition[];

  return {
    tags: ['type:rust'],
    implicitDependencies: [tc],
    targets: {
      [names.sysroot]: {
        executor: executor('sysroot'),
        cache: true,
        dependsOn: [{ projects: [tc], target: names.toolchain }],
        options: { ...common },
        ...cpuConfigurations(cpus, (cpu) => ({
          targets: targetsFor(cpu),
          memTargets: memTargetsFor(cpu),
          stdTargets: stdTargetsFor(cpu),
          outputDir: sysrootDir(distDir, projectName, cpu),
        })),
        inputs: [...specInputs, TOOLCHAIN_MANIFEST_INPUT, ...executorInputs('sysroot')] as InputDefinition[],
        outputs: [`{workspaceRoot}/${sysrootDir(distDir, projectName, '{options.cpu}')}`],
        metadata: {
          technologies: ['rust'],
          description:
            'Build core, alloc and compiler_builtins (and std where std programs use the target) from rust-src (-Zbuild-std, offline) for the CPU variant and each target its programs use (m68k-unknown-linux-gnu, m68k-next-nextstep).',
          help: {
            command: targetHelpCommand('sysroot', projectName, names.sysroot),
            example: { args: ['--configuration=m68030'] },
          },
        },
      },
      [names.build]: {
        executor: executor('build'),
        cache: true,
        dependsOn: [names.sysroot, { projects: [tc], target: names.atomics }],
        options: programOptions,
        ...cpuConfigurations(cpus, (cpu) => programPaths(cpu, buildDir(distDir, projectName, cpu))),
        inputs: [...programInputs, ...executorInputs('build')] as InputDefinition[],
        outputs: [`{workspaceRoot}/${buildDir(distDir, projectName, '{options.cpu}')}`],
        metadata: {
          technologies: ['rust'],
          description:
            'Build the Rust programs for one CPU variant against its sysroot, link them with the spinlock atomics, and list every artifact with its sha256 in manifest.json.',
          help: {
            command: targetHelpCommand('build', projectName, names.build),
            example: { args: ['--configuration=m68030'] },
          },
        },
      },
      ...(testCpus.length
        ? {
            [names.test]: {
              executor: executor('cargo-test'),
              cache: true,
              dependsOn: [names.sysroot, { projects: [tc], target: names.atomics }],
              options: { ...programOptions, debianCrates: config.crateTests },
              ...cpuConfigurations(testCpus, (cpu) => programPaths(cpu, `${distDir}/${projectName}/test/${cpu}`)),
              inputs: [...programInputs, ...executorInputs('cargo-test')] as InputDefinition[],
              outputs: [`{workspaceRoot}/${distDir}/${projectName}/test/{options.cpu}`],
              metadata: {
                technologies: ['rust'],
                description:
                  "Build the #[test] harnesses (libtest) of the std programs and of the crateTests Debian crates for one CPU variant, run them under qemu-m68k, and keep libtest's JUnit reports.",
                help: {
                  command: targetHelpCommand('cargo-test', projectName, names.test),
                  example: { args: ['--configuration=m68030'] },
                },
              },
            },
          }
        : {}),
    },
  };
}
