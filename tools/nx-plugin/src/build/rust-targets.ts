/**
 * The Rust targets the pipeline builds for, and how cargo is pointed at them.
 *  - m68k-unknown-linux-gnu (built into rustc, tier 3, no std shipped): the
 *    hosted and freestanding programs that run under qemu-m68k user mode;
 *  - m68k-next-nextstep: the NeXTRust target spec (a JSON file; cargo 1.96
 *    needs -Zjson-target-spec). rustc names a JSON target after its file stem,
 *    and looks for its sysroot crates in lib/rustlib/<stem>/lib.
 */
import * as path from 'node:path';

/** Target triple of the programs that run under qemu-m68k. */
export const HOSTED_TRIPLE = 'm68k-unknown-linux-gnu';

/** How one target is named to cargo/rustc. */
export interface ResolvedTarget {
  /** Name rustc gives the target (triple, or the spec file's stem). */
  name: string;
  /** Value of `--target`: the triple, or the absolute spec path. */
  targetArg: string;
  /** True when it is a JSON target spec. */
  isSpec: boolean;
}

/**
 * Resolves a target name: a spec listed in `targetSpecs` (workspace-relative
 * paths) or a built-in triple.
 */
export function resolveTarget(
  name: string,
  targetSpecs: Record<string, string>,
  workspaceRoot: string,
): ResolvedTarget {
  const spec = targetSpecs[name];
  if (spec) return { name: path.basename(spec, '.json'), targetArg: path.resolve(workspaceRoot, spec), isSpec: true };
  return { name, targetArg: name, isSpec: false };
}

/**
 * Code generation flags for every crate the pipeline compiles for m68k (the
 * sysroot and the programs, every flavour): the static relocation model and
 * the large code model. LLVM's M68k backend reaches data PC-relative with a
 * 16-bit displacement in the small, medium and kernel code models and in PIC
 * (llvm/llvm-project#181481): core's float formatting tables alone put more
 * than 32 KiB between code and data, and linking fails with "relocation
 * truncated to fit: R_68K_PC16". Static + large gives 32-bit absolute
 * references (R_68K_32). Hosted executables are therefore linked non-PIE
 * (HOSTED_LINK_ARGS). The NeXTSTEP target spec has the same settings.
 * Thread-locals (std) use the local-exec TLS model: the other models reach the
 * GOT with 16-bit offsets (R_68K_GOT16) too, and every program is a static,
 * non-PIE executable, where local-exec is valid.
 */
export const M68K_CODEGEN_FLAGS = ['-Crelocation-model=static', '-Ccode-model=large', '-Ztls-model=local-exec'];

/** Linker arguments of hosted executables: non-PIE, to match M68K_CODEGEN_FLAGS. */
export const HOSTED_LINK_ARGS = ['-Clink-arg=-no-pie'];
