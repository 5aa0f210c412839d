/** Executor `sysroot`: core, alloc and compiler_builtins from rust-src for one CPU variant. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildSysroot } from '../../build/sysroot';
import { readToolchainManifest } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { SysrootExecutorOptions } from './schema';

export default async function sysrootExecutor(
  options: SysrootExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const toolchain = readToolchainManifest(path.resolve(context.root, options.toolchainManifest));
    console.log(
      `building core, alloc, compiler_builtins for ${options.targets.join(', ')} (${options.cpu}) from ${toolchain.rust.rustSrcLibrary}`,
    );
    const m = await buildSysroot({
      ...options,
      workspaceRoot: context.root,
      toolchain,
      workDir: path.join('tmp', 'nextrust', 'sysroot', options.cpu),
      stream: true,
    });
    console.log(`sysroot ${options.outputDir}: ${m.rlibs.length} rlibs for ${m.targets.join(', ')}`);
  });
}
