/** Executor `emulator-test`: run the built programs under qemu-m68k against the test manifests. */
import type { ExecutorContext } from '@nx/devkit';
import { runEmulatorTests } from '../../emulator/run-tests';
import { runTarget, type ExecutorResult } from '../run-target';
import type { EmulatorTestExecutorOptions } from './schema';

export default async function emulatorTestExecutor(
  options: EmulatorTestExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const failureLog: string[] = [];
    const report = await runEmulatorTests({
      ...options,
      workspaceRoot: context.root,
      onCase: (c) => {
        console.log(
          `${c.passed ? 'PASS' : 'FAIL'} ${c.name} (${c.cpu}, ${c.durationMs} ms)${c.retry ? ` after a retry: the first run failed (${c.retry.class}: ${c.retry.first.error ?? `exit ${c.retry.first.exitCode}`})` : ''}`,
        );
        if (!c.passed) {
          failureLog.push(
            `FAIL ${c.name} (${c.cpu})`,
            c.error ?? '',
            ...c.assertions.filter((x) => !x.passed).map((a) => a.message),
          );
          failureLog.push(c.command ? `command: ${c.command}` : '', c.stdout ?? '', c.stderr ?? '');
          if (c.error) console.log(`  ${c.error}`);
          for (const a of c.assertions.filter((x) => !x.passed)) console.log(`  ${a.message}`);
          if (c.command) console.log(`  command: ${c.command}`);
          if (c.stdout) console.log(`  stdout: ${c.stdout.trimEnd().split('\n').slice(-10).join('\n          ')}`);
          if (c.stderr) console.log(`  stderr: ${c.stderr.trimEnd().split('\n').slice(-10).join('\n          ')}`);
        }
      },
    });
    if (report.notApplicable.length)
      console.log(`not applicable on ${options.cpu}: ${report.notApplicable.join(', ')}`);
    console.log(`${report.passed} passed, ${report.failed} failed`);
    console.log(`results: ${options.outputDir}/results.json, ${options.outputDir}/junit.xml`);
    // Failing cases are analysed as one log (post-target failure analysis).
    if (report.failed) return { success: false as const, log: failureLog.filter(Boolean).join('\n') };
    return undefined;
  });
}
