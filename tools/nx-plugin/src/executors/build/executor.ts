/** Executor `build`: the Rust programs for one CPU variant, with manifest.json. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildPrograms } from '../../build/programs';
import { readToolchainManifest } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { BuildExecutorOptions } from './schema';

export default async function buildExecutor(
  options: BuildExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const toolchain = readToolchainManifest(path.resolve(context.root, options.toolchainManifest));
    const m = await buildPrograms({
      ...options,
      workspaceRoot: context.root,
      project: context.projectName ?? 'rust-target',
      toolchain,
      cargoTargetRoot: path.join('tmp', 'nextrust', 'cargo', options.cpu),
      stream: true,
    });
    for (const a of m.artifacts) console.log(`${a.kind.padEnd(10)} ${a.path} (${a.target}, ${a.size} bytes)`);
    console.log(`manifest: ${options.outputDir}/manifest.json`);
  });
}
