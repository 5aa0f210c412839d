/** Executor `toolchain`: find and check the toolchain (with the patched backend for provider `source`), write its manifest. */
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { TOOLCHAIN_PROVIDERS } from '../../toolchain/provider';
import { writeJson } from '../../toolchain/manifest';
import { runTarget, type ExecutorResult } from '../run-target';
import type { ToolchainExecutorOptions } from './schema';

export default async function toolchainExecutor(
  options: ToolchainExecutorOptions,
  context: ExecutorContext,
): Promise<ExecutorResult> {
  return runTarget(context, async () => {
    const outputFile = path.resolve(context.root, options.outputFile);
    const manifest = await TOOLCHAIN_PROVIDERS[options.provider]({
      minLlvmVersion: options.minLlvmVersion,
      outputFile,
      backendManifest: options.backendManifest ? path.resolve(context.root, options.backendManifest) : undefined,
    });
    await writeJson(outputFile, manifest);
    console.log(
      `LLVM ${manifest.llvm.version} (${manifest.llvm.binDir}), ${manifest.rust.version} with rust-src` +
        `${manifest.rust.vendorDir ? ' (vendored, offline)' : ''}, ${manifest.cross.prefix}gcc ${manifest.cross.gccVersion}, qemu-m68k ${manifest.qemu.version}`,
    );
    if (manifest.backend) {
      const b = manifest.backend;
      console.log(
        `M68k backend: patched (${b.patches.length} patches), sha256 ${b.sha256.slice(0, 16)}…; rustc, clang and llc run through ${path.join(options.outputFile, '..', 'bin')}/`,
      );
    } else {
      console.log('M68k backend: the system one inside libLLVM (unpatched: programs may be miscompiled)');
    }
    console.log(`toolchain manifest: ${options.outputFile}`);
  });
}
