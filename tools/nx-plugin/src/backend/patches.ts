/**
 * The backend's patch series: `projects/llvm-m68k/patches/*.patch`, applied in
 * file-name order with GNU patch (`-p1` from the LLVM source root). Each patch
 * starts with a header of `Field: value` lines (continuation lines indented)
 * before the diff:
 *   Subject:  one line, what the patch does;
 *   Fixes:    the miscompile or failure it fixes;
 *   Upstream: the LLVM issue or pull request (URL), or `none` with the reason;
 *   Test:     the regression test that proves it.
 * GNU patch ignores text before the first `---`/`diff` line
 * (https://www.gnu.org/software/diffutils/manual/html_node/Imperfect.html).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../util/exec';
import type { PatchInfo } from './types';

export type { PatchInfo } from './types';

/** Header fields every patch must have. */
export const PATCH_FIELDS = ['Subject', 'Fixes', 'Upstream', 'Test'] as const;

/** A patch is malformed or does not apply; the message names the patch file, and the hunk where known. */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

/**
 * Parses a patch's header (the lines before the diff).
 * @throws PatchError naming the file and the missing field.
 */
export function parsePatchHeader(file: string, text: string): Omit<PatchInfo, 'file' | 'sha256'> {
  const header = text.split(/^(?:diff |--- )/m)[0];
  const fields: Record<string, string> = {};
  let current = '';
  for (const line of header.split('\n')) {
    const m = /^([A-Z][A-Za-z-]*):\s*(.*)$/.exec(line);
    if (m) {
      current = m[1];
      fields[current] = m[2].trim();
    } else if (/^\s+\S/.test(line) && current) fields[current] += ' ' + line.trim();
  }
  for (const f of PATCH_FIELDS) {
    if (!fields[f])
      throw new PatchError(
        `${file}: header field '${f}:' missing (each patch starts with ${PATCH_FIELDS.map((x) => x + ':').join(', ')})`,
      );
  }
  if (!/^(diff |--- )/m.test(text)) throw new PatchError(`${file}: no diff after the header`);
  return { subject: fields.Subject, fixes: fields.Fixes, upstream: fields.Upstream, test: fields.Test };
}

/**
 * Lists the series in application order.
 * @throws PatchError when a header is malformed; Error when the folder is unreadable.
 */
export function readPatchSeries(dir: string): PatchInfo[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      return { file, sha256: crypto.createHash('sha256').update(text).digest('hex'), ...parsePatchHeader(file, text) };
    });
}

/**
 * Turns GNU patch's report into one line naming the failing files and hunks,
 * e.g. `hunk #2 of llvm/lib/Target/M68k/M68kInstrInfo.cpp (at line 688)`.
 */
export function describePatchFailure(output: string): string {
  const problems: string[] = [];
  let file = '';
  for (const line of output.split('\n')) {
    let m = /^(?:patching|checking) file '?([^']+?)'?$/.exec(line);
    if (m) {
      file = m[1];
      continue;
    }
    m = /^Hunk #(\d+) FAILED at (\d+)/.exec(line);
    if (m) {
      problems.push(`hunk #${m[1]} of ${file} does not apply (at line ${m[2]})`);
      continue;
    }
    if (/can't find file to patch/.test(line)) problems.push(`a file it patches is not in the source`);
    else if (/Reversed \(or previously applied\) patch detected/.test(line))
      problems.push(`${file} already has this change`);
    else if (/malformed patch/.test(line)) problems.push(line.replace(/^patch: \*+ /, ''));
  }
  return problems.length ? problems.join('; ') : output.trim().split('\n').slice(-3).join(' | ');
}

/**
 * Applies the series to `sourceRoot` (which holds `llvm/...`), in order; a
 * patch is first tried with --dry-run so that a failing one changes nothing.
 * @throws PatchError naming the patch and the hunk that does not apply.
 */
export async function applyPatchSeries(dir: string, series: PatchInfo[], sourceRoot: string): Promise<void> {
  for (const p of series) {
    const args = [
      '-p1',
      '--batch',
      '--forward',
      '--no-backup-if-mismatch',
      '-d',
      sourceRoot,
      '-i',
      path.join(dir, p.file),
    ];
    const dry = await runProcess('patch', ['--dry-run', ...args], { timeoutMs: 60_000 });
    if (dry.startError) throw new PatchError(`cannot run patch: ${dry.startError} (install Debian package patch)`);
    if (dry.exitCode !== 0) throw new PatchError(`${path.join(dir, p.file)}: ${describePatchFailure(dry.all)}`);
    const real = await runProcess('patch', args, { timeoutMs: 60_000 });
    if (real.exitCode !== 0) throw new PatchError(`${path.join(dir, p.file)}: ${describePatchFailure(real.all)}`);
  }
}
