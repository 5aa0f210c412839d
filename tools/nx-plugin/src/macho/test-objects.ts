/**
 * Helpers for the link harness's unit tests: assemble small objects with the
 * machine's LLVM (llvm-mc-22) or GNU as, and archive them with llvm-ar-22, in a
 * scratch folder.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** LLVM 22's bin folder (Debian's llvm-22 package). */
export const LLVM_BIN = '/usr/lib/llvm-22/bin';

/** A scratch folder with assemble/archive helpers; `dispose()` removes it. */
export class ObjectScratch {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-link-'));

  /**
   * Assembles `source` for `triple` (`m68k-linux-gnu`, `i386-apple-darwin`) into `<name>.o`.
   * @param assembler `llvm-mc` (default) or `gnu-as` (m68k-linux-gnu-as, for relocations llvm-mc cannot write).
   * @returns the object's path. @throws Error with the assembler's message.
   */
  assemble(
    name: string,
    source: string,
    triple = 'm68k-linux-gnu',
    assembler: 'llvm-mc' | 'gnu-as' = 'llvm-mc',
  ): string {
    const src = path.join(this.dir, `${name}.s`);
    const obj = path.join(this.dir, `${name}.o`);
    fs.writeFileSync(src, source);
    if (assembler === 'gnu-as') execFileSync('m68k-linux-gnu-as', [src, '-o', obj], { stdio: 'pipe' });
    else
      execFileSync(path.join(LLVM_BIN, 'llvm-mc'), ['-triple', triple, '-filetype=obj', src, '-o', obj], {
        stdio: 'pipe',
      });
    return obj;
  }

  /** Archives `members` into `<name>` with llvm-ar (format `gnu` or `bsd`); member names are the files' base names. */
  archive(name: string, members: string[], format: 'gnu' | 'bsd'): string {
    const out = path.join(this.dir, name);
    execFileSync(path.join(LLVM_BIN, 'llvm-ar'), [`--format=${format}`, 'rcs', out, ...members], { stdio: 'pipe' });
    return out;
  }

  /** Copies `file` to `newName` in the scratch folder (for long member names). */
  copy(file: string, newName: string): string {
    const out = path.join(this.dir, newName);
    fs.copyFileSync(file, out);
    return out;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
