/**
 * Targets of the `emulator-tests` project kind (projects/emulator-tests):
 *  - test (per CPU): run the built programs under emulation against the test
 *    manifests; dist/emulator-tests/<cpu>/results.json and junit.xml.
 */
import type { EmulatorTestsConfig } from '../config/project-config';
import { CPU_NAMES } from '../toolchain/cpu';
import { cpuConfigurations, executor, TOOLCHAIN_MANIFEST_INPUT, type InputDefinition } from './common';
import { executorInputs } from './executor-inputs';
import { targetHelpCommand } from './target-help';
import { DEFAULT_TARGET_NAMES } from './plugin-options';
import type { InferredProject, TargetBuilderContext } from './types';
import { buildDir } from './rust-target-targets';

/** Builds the targets of an emulator-tests project. */
export function emulatorTestsTargets(config: EmulatorTestsConfig, ctx: TargetBuilderContext): InferredProject {
  const { projectRoot, projectName, distDir } = ctx;
  const names = ctx.targetNames ?? DEFAULT_TARGET_NAMES;
  return {
    tags: ['type:test'],
    implicitDependencies: [config.buildProject],
    targets: {
      [names.test]: {
        executor: executor('emulator-test'),
        cache: true,
        dependsOn: [{ projects: [config.buildProject], target: names.build }],
        options: {
          emulator: config.emulator,
          testsDir: `${projectRoot}/${config.testsDir}`,
          timeoutMs: config.timeoutMs,
        },
        ...cpuConfigurations(CPU_NAMES, (cpu) => ({
          buildManifest: `${buildDir(distDir, config.buildProject, cpu)}/manifest.json`,
          outputDir: `${distDir}/${projectName}/${cpu}`,
        })),
        inputs: [
          `{projectRoot}/${config.testsDir}/**/*`,
          { dependentTasksOutputFiles: '**/manifest.json' },
          TOOLCHAIN_MANIFEST_INPUT,
          // The Previous backend's settings (src/emulator/previous.ts: PREVIOUS_ENV); the window switch changes no result.
          ...[
            'NEXTRUST_PREVIOUS',
            'NEXTRUST_PREVIOUS_ROM',
            'NEXTRUST_PREVIOUS_DISK',
            'NEXTRUST_PREVIOUS_MACHINE',
            'NEXTRUST_PREVIOUS_GUEST_FORMATS',
          ].map((env) => ({ env })),
          ...executorInputs('emulator-test'),
        ] as InputDefinition[],
        outputs: [`{workspaceRoot}/${distDir}/${projectName}/{options.cpu}`],
        metadata: {
          technologies: ['qemu'],
          description:
            'Run every built program under qemu-m68k -cpu <cpu> with a timeout and check it against the test manifests (exit code, output contains/matches/equals a file, file exists); write results.json and junit.xml.',
          help: {
            command: targetHelpCommand('emulator-test', projectName, names.test),
            example: { args: ['--configuration=m68030'] },
          },
        },
      },
    },
  };
}
