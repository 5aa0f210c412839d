/** Executor `atomics`: the spinlock __sync_* libcalls for one CPU variant. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildAtomics } from '../../build/atomics';
import { readToolchainManifest } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { AtomicsExecutorOptions } from './schema';

export default async function atomicsExecutor(
  options: AtomicsExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const toolchain = readToolchainManifest(path.resolve(context.root, options.toolchainManifest));
    const m = await buildAtomics({ ...options, workspaceRoot: context.root, toolchain });
    console.log(
      `${m.archive}: ${m.symbols.length} __sync_* libcalls, ${m.size} bytes, sha256 ${m.sha256.slice(0, 16)}…`,
    );
    if (m.nextstep)
      console.log(
        `${m.nextstep.archive} (Mach-O, ${m.nextstep.triple}): ${m.nextstep.symbols.length} __sync_* libcalls, ${m.nextstep.size} bytes`,
      );
  });
}
