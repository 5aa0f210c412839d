/** Executor `toolchain`: find and check the toolchain, write its manifest. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { TOOLCHAIN_PROVIDERS } from '../../toolchain/provider';
import { writeJson } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { ToolchainExecutorOptions } from './schema';

export default async function toolchainExecutor(options: ToolchainExecutorOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const manifest = await TOOLCHAIN_PROVIDERS[options.provider]({ minLlvmVersion: options.minLlvmVersion });
    await writeJson(path.resolve(context.root, options.outputFile), manifest);
    console.log(
      `LLVM ${manifest.llvm.version} (${manifest.llvm.binDir}), ${manifest.rust.version} with rust-src` +
        `${manifest.rust.vendorDir ? ' (vendored, offline)' : ''}, ${manifest.cross.prefix}gcc ${manifest.cross.gccVersion}, qemu-m68k ${manifest.qemu.version}`,
    );
    console.log(`toolchain manifest: ${options.outputFile}`);
  });
}
