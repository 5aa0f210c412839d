/**
 * Targets of the `llvm-toolchain` project kind (projects/llvm-m68k):
 *  - backend (provider `source`): LLVM's M68k target built from Debian's LLVM
 *    source with the patch series: dist/llvm-m68k/backend/ (library, backend.json);
 *  - toolchain: find and check the tools (wrapped to use the backend for
 *    provider `source`), write dist/llvm-m68k/toolchain/toolchain.json;
 *  - atomics (per CPU): the spinlock `__sync_*` libcalls as a static archive,
 *    dist/llvm-m68k/<cpu>/<archive> with atomics.json beside it.
 */
import type { LlvmToolchainConfig } from '../config/project-config';
import candidates from '../toolchain/candidates.json';
import { cpuConfigurations, executor, TOOLCHAIN_MANIFEST_INPUT, type InputDefinition } from './common';
import { executorInputs } from './executor-inputs';
import { targetHelpCommand } from './target-help';
import { DEFAULT_TARGET_NAMES } from './plugin-options';
import type { InferredProject, TargetBuilderContext } from './types';

/** Workspace-relative path of the toolchain manifest written by `<project>:toolchain`. */
export function toolchainManifestPath(distDir: string, toolchainProject: string): string {
  return `${distDir}/${toolchainProject}/toolchain/toolchain.json`;
}

/** Workspace-relative folder of the backend library and backend.json. */
export function backendDir(distDir: string, toolchainProject: string): string {
  return `${distDir}/${toolchainProject}/backend`;
}

/** Workspace-relative folder of the atomics archive of one CPU. */
export function atomicsDir(distDir: string, toolchainProject: string, cpu: string): string {
  return `${distDir}/${toolchainProject}/${cpu}`;
}

/** Builds the targets of an llvm-toolchain project. */
export function llvmToolchainTargets(config: LlvmToolchainConfig, ctx: TargetBuilderContext): InferredProject {
  const { projectRoot, projectName, distDir } = ctx;
  const names = ctx.targetNames ?? DEFAULT_TARGET_NAMES;
  const manifest = toolchainManifestPath(distDir, projectName);
  const backend = config.provider === 'source' ? config.backend : null;
  const backendOut = backendDir(distDir, projectName);
  const backendTargets: InferredProject['targets'] = backend
    ? {
        [names.backend]: {
          executor: executor('backend'),
          cache: true,
          options: {
            source: backend.source,
            patchesDir: `${projectRoot}/${backend.patches}`,
            makefile: `${projectRoot}/${backend.makefile}`,
            llvmConfig: backend.llvmConfig,
            outputDir: backendOut,
          },
          inputs: [
            // The source's identity is its pinned sha256 (an option); the patches and Makefile are files;
            // the LLVM headers, libLLVM and g++ it compiles against come from the fingerprint.
            `{projectRoot}/${backend.patches}/*.patch`,
            `{projectRoot}/${backend.makefile}`,
            { runtime: `sh tools/nx-plugin/bin/backend-fingerprint.sh ${backend.llvmConfig}` },
            '{workspaceRoot}/tools/nx-plugin/bin/backend-fingerprint.sh',
            ...executorInputs('backend'),
          ] as InputDefinition[],
          outputs: [`{workspaceRoot}/${backendOut}`],
          metadata: {
            technologies: ['llvm'],
            description: `Build LLVM's M68k target from Debian's ${backend.source.package} ${backend.source.version} with the patches in ${projectRoot}/${backend.patches} into a library that replaces the backend inside libLLVM (preloaded by the toolchain's rustc, clang and llc wrappers).`,
            help: { command: targetHelpCommand('backend', projectName, names.backend), example: {} },
          },
        },
      }
    : {};
  return {
    tags: ['type:toolchain'],
    targets: {
      ...backendTargets,
      [names.toolchain]: {
        executor: executor('toolchain'),
        cache: true,
        ...(backend ? { dependsOn: [names.backend] } : {}),
        options: {
          provider: config.provider,
          minLlvmVersion: config.minLlvmVersion,
          outputFile: manifest,
          ...(backend ? { backendManifest: `${backendOut}/backend.json` } : {}),
        },
        inputs: [
          { runtime: 'sh tools/nx-plugin/bin/toolchain-fingerprint.sh' },
          ...candidates.envOverrides.map((env) => ({ env })),
          '{workspaceRoot}/tools/nx-plugin/src/toolchain/candidates.json',
          '{workspaceRoot}/tools/nx-plugin/bin/toolchain-fingerprint.sh',
          ...(backend ? [{ dependentTasksOutputFiles: '**/backend.json' }] : []),
          ...executorInputs('toolchain'),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${distDir}/${projectName}/toolchain`],
        metadata: {
          technologies: ['llvm'],
          description: backend
            ? `Find and check LLVM ${'>='} ${config.minLlvmVersion}, rustc with rust-src, m68k binutils and qemu-m68k; write rustc, clang and llc wrappers that preload the patched M68k backend; write ${manifest}.`
            : `Find and check the system LLVM (>= ${config.minLlvmVersion}, its unpatched M68k backend), rustc with rust-src, m68k binutils and qemu-m68k; write ${manifest}.`,
          help: { command: targetHelpCommand('toolchain', projectName, names.toolchain), example: {} },
        },
      },
      [names.atomics]: {
        executor: executor('atomics'),
        cache: true,
        dependsOn: [names.toolchain],
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
          ...executorInputs('atomics'),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${atomicsDir(distDir, projectName, '{options.cpu}')}`],
        metadata: {
          technologies: ['llvm', 'c'],
          description:
            'Build the spinlock __sync_* libcalls (TAS locks, cache-line padded, hashed by address) for one CPU variant with clang into a static archive.',
          help: {
            command: targetHelpCommand('atomics', projectName, names.atomics),
            example: { args: ['--configuration=m68000'] },
          },
        },
      },
    },
  };
}
