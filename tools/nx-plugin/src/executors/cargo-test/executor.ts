/** Executor `cargo-test`: the `#[test]` harnesses of the std programs and chosen Debian crates, run under qemu-m68k. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { runCargoTests } from '../../build/cargo-test';
import { readToolchainManifest } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { CargoTestExecutorOptions } from './schema';

export default async function cargoTestExecutor(
  options: CargoTestExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const toolchain = readToolchainManifest(path.resolve(context.root, options.toolchainManifest));
    const failureLog: string[] = [];
    const report = await runCargoTests({
      ...options,
      workspaceRoot: context.root,
      toolchain,
      workDir: path.join('tmp', 'nextrust', 'cargo-test', options.cpu),
      stream: true,
      onSuite: (s) => {
        const ok = !s.error && s.failures === 0;
        console.log(`${ok ? 'PASS' : 'FAIL'} ${s.suite}: ${s.tests - s.failures} of ${s.tests} passed (${s.junit})`);
        if (s.error) console.log(`  ${s.error.split('\n').join('\n  ')}`);
        if (!ok) failureLog.push(`FAIL ${s.suite} (${options.cpu})`, s.error ?? `${s.failures} failed: see ${s.junit}`);
      },
    });
    console.log(
      `${report.suites.length} test binaries, ${report.tests} tests, ${report.failures} failed${report.errors ? `, ${report.errors} gave no report` : ''}`,
    );
    console.log(`results: ${options.outputDir}/results.json`);
    if (report.failures || report.errors) return { success: false as const, log: failureLog.join('\n') };
    return undefined;
  });
}
