/** Executor `bundle`: the release bundle of one CPU variant (release/bundle.ts). */
import type { ExecutorContext } from '@nx/devkit';
import { createBundle } from '../../release/bundle';
import { runTarget, type ExecutorResult } from '../run-target';
import type { BundleExecutorOptions } from './schema';

export default async function bundleExecutor(
  options: BundleExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const b = await createBundle({
      ...options,
      workspaceRoot: context.root,
      target: `${context.projectName}:${context.targetName}`,
      configuration: context.configurationName ?? options.cpu,
    });
    console.log(`${b.tarball}: ${b.manifest.members.length} files, ${b.size} bytes, sha256 ${b.sha256}`);
    console.log(`version ${b.version}; ${options.outputDir}/SHA256SUMS, ${options.outputDir}/provenance.json`);
  });
}
