/** Executor `backend`: build the patched LLVM M68k backend from Debian's LLVM source and the patch series. */
import type { ExecutorContext } from '@nx/devkit';
import { buildBackend } from '../../backend/build-backend';
import { runTarget, type ExecutorResult } from '../run-target';
import type { BackendExecutorOptions } from './schema';

export default async function backendExecutor(
  options: BackendExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    await buildBackend({ ...options, workspaceRoot: context.root });
  });
}
