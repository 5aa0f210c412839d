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
export function resolveTarget(name: string, targetSpecs: Record<string, string>, workspaceRoot: string): ResolvedTarget {
  const spec = targetSpecs[name];
  if (spec) return { name: path.basename(spec, '.json'), targetArg: path.resolve(workspaceRoot, spec), isSpec: true };
  return { name, targetArg: name, isSpec: false };
}
