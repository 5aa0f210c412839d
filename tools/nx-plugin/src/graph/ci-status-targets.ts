/**
 * Targets of the `ci-status` project kind (projects/ci-status), the pipeline's phase 5 "Integration":
 *  - bundle (per CPU): the release bundle of the CPU's tested artifacts (release/bundle.ts): the build's programs and
 *    libraries, the atomics archives, the target specs, toolchain.json and the emulator test results in a
 *    reproducible tarball, with SHA256SUMS and an in-toto/SLSA provenance statement; dist/release/<cpu>/.
 * It depends on the emulator tests of the same CPU (and through them on everything upstream), so only tested
 * artifacts are published.
 */
import type { CiStatusConfig } from '../config/project-config';
import { CPU_NAMES } from '../toolchain/cpu';
import { cpuConfigurations, executor, TOOLCHAIN_MANIFEST_INPUT, type InputDefinition } from './common';
import { executorInputs } from './executor-inputs';
import { targetHelpCommand } from './target-help';
import { DEFAULT_TARGET_NAMES } from './plugin-options';
import type { InferredProject, TargetBuilderContext } from './types';
import { atomicsDir, toolchainManifestPath } from './llvm-toolchain-targets';
import { buildDir } from './rust-target-targets';

/** Workspace-relative release bundle folder of one CPU. */
export function releaseDir(distDir: string, cpu: string): string {
  return `${distDir}/release/${cpu}`;
}

/**
 * The git commit a bundle names, as Nx runtime inputs (https://nx.dev/reference/inputs#runtime-inputs): the commit,
 * and the tracked files that differ from it (the `.dirty` of the version), so that no bundle of another commit or
 * another state of the work tree is restored from the cache.
 */
export const GIT_COMMIT_INPUTS: InputDefinition[] = [
  { runtime: 'git rev-parse HEAD' },
  { runtime: 'git status --porcelain --untracked-files=no' },
] as InputDefinition[];

/** Builds the targets of a ci-status project. */
export function ciStatusTargets(config: CiStatusConfig, ctx: TargetBuilderContext): InferredProject {
  const { projectName, distDir } = ctx;
  const names = ctx.targetNames ?? DEFAULT_TARGET_NAMES;
  const { buildProject, toolchainProject, testsProject } = config;
  return {
    tags: ['type:status'],
    implicitDependencies: [testsProject],
    targets: {
      [names.bundle]: {
        executor: executor('bundle'),
        cache: true,
        // Only tested artifacts are published: the emulator tests of the same CPU (which depend on the build, the
        // atomics and the toolchain) run first.
        dependsOn: [{ projects: [testsProject], target: names.test }],
        options: {
          toolchainManifest: toolchainManifestPath(distDir, toolchainProject),
          targetSpecsDir: config.targetSpecsDir,
        },
        ...cpuConfigurations(CPU_NAMES, (cpu) => ({
          buildManifest: `${buildDir(distDir, buildProject, cpu)}/manifest.json`,
          atomicsManifest: `${atomicsDir(distDir, toolchainProject, cpu)}/atomics.json`,
          testResultsDir: `${distDir}/${testsProject}/${cpu}`,
          outputDir: releaseDir(distDir, cpu),
        })),
        inputs: [
          TOOLCHAIN_MANIFEST_INPUT,
          // What it packs: the manifests record every artifact's sha256 (and the bundle refuses a file that no longer
          // has it), the test results are packed as they are.
          { dependentTasksOutputFiles: '**/manifest.json', transitive: true },
          { dependentTasksOutputFiles: '**/atomics.json', transitive: true },
          { dependentTasksOutputFiles: '**/results.json', transitive: true },
          { dependentTasksOutputFiles: '**/junit.xml', transitive: true },
          `{workspaceRoot}/${config.targetSpecsDir}/*.json`,
          '{workspaceRoot}/package.json',
          ...GIT_COMMIT_INPUTS,
          ...executorInputs('bundle'),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${releaseDir(distDir, '{options.cpu}')}`],
        metadata: {
          technologies: ['nx'],
          description:
            'Pack the tested programs and libraries of one CPU (build, atomics ELF and Mach-O, target specs, toolchain.json, emulator test results) into a reproducible nextrust-<version>-<cpu>.tar.gz with MANIFEST.json, SHA256SUMS and an in-toto/SLSA v1 provenance.json.',
          help: {
            command: targetHelpCommand('bundle', projectName, names.bundle),
            example: { args: ['--configuration=m68030'] },
          },
        },
      },
    },
  };
}
