/**
 * Targets of the `llvm-toolchain` project kind (projects/llvm-m68k):
 *  - toolchain: find and check the tools, write dist/llvm-m68k/toolchain/toolchain.json;
 *  - atomics (per CPU): the spinlock `__sync_*` libcalls as a static archive,
 *    dist/llvm-m68k/<cpu>/<archive> with atomics.json beside it.
 */
import type { LlvmToolchainConfig } from '../config/project-config';
import candidates from '../toolchain/candidates.json';
import { cpuConfigurations, executor, pluginInputs, TOOLCHAIN_MANIFEST_INPUT, type InputDefinition } from './common';
import type { InferredProject, TargetBuilderContext } from './create-nodes';

/** Workspace-relative path of the toolchain manifest written by `<project>:toolchain`. */
export function toolchainManifestPath(distDir: string, toolchainProject: string): string {
  return `${distDir}/${toolchainProject}/toolchain/toolchain.json`;
}

/** Workspace-relative folder of the atomics archive of one CPU. */
export function atomicsDir(distDir: string, toolchainProject: string, cpu: string): string {
  return `${distDir}/${toolchainProject}/${cpu}`;
}

/** Builds the targets of an llvm-toolchain project. */
export function llvmToolchainTargets(config: LlvmToolchainConfig, ctx: TargetBuilderContext): InferredProject {
  const { projectRoot, projectName, distDir } = ctx;
  const manifest = toolchainManifestPath(distDir, projectName);
  return {
    tags: ['type:toolchain'],
    targets: {
      toolchain: {
        executor: executor('toolchain'),
        cache: true,
        options: { provider: config.provider, minLlvmVersion: config.minLlvmVersion, outputFile: manifest },
        inputs: [
          { runtime: 'node tools/nx-plugin/bin/toolchain-fingerprint.js' },
          ...candidates.envOverrides.map((env) => ({ env })),
          '{workspaceRoot}/tools/nx-plugin/src/toolchain/candidates.json',
          '{workspaceRoot}/tools/nx-plugin/bin/toolchain-fingerprint.js',
          ...pluginInputs('toolchain', ['toolchain/locate.ts', 'toolchain/provider.ts']),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${distDir}/${projectName}/toolchain`],
        metadata: {
          technologies: ['llvm'],
          description: `Find and check the ${config.provider} LLVM (>= ${config.minLlvmVersion}, M68k backend), rustc with rust-src, m68k binutils and qemu-m68k; write ${manifest}.`,
          help: { command: `npx nx run ${projectName}:toolchain --verbose`, example: {} },
        },
      },
      atomics: {
        executor: executor('atomics'),
        cache: true,
        dependsOn: ['toolchain'],
        options: {
          sources: config.atomics.sources.map((s) => `${projectRoot}/${s}`),
          includeDirs: config.atomics.includeDirs.map((s) => `${projectRoot}/${s}`),
          cflags: config.atomics.cflags,
          archive: config.atomics.archive,
          toolchainManifest: manifest,
        },
        ...cpuConfigurations(undefined, (cpu) => ({ outputDir: atomicsDir(distDir, projectName, cpu) })),
        inputs: [
          ...config.atomics.sources.map((s) => `{projectRoot}/${s}`),
          '{projectRoot}/atomics/**/*.h',
          ...config.atomics.includeDirs.map((d) => `{projectRoot}/${d}/**/*.h`),
          TOOLCHAIN_MANIFEST_INPUT,
          ...pluginInputs('atomics', ['build/atomics.ts']),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${atomicsDir(distDir, projectName, '{options.cpu}')}`],
        metadata: {
          technologies: ['llvm', 'c'],
          description:
            'Build the spinlock __sync_* libcalls (TAS locks, cache-line padded, hashed by address) for one CPU variant with clang into a static archive.',
        },
      },
    },
  };
}
