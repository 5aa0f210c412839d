/**
 * Retention of the logs the pipeline saves: failure logs (<status dir>/failure-logs)
 * and Claude Code hook logs (<workspace>/.claude/hook-logs) are deleted once
 * older than a number of days (`nextrust rotate-logs`). Only regular files
 * directly in the given folders are considered; the age is the file's
 * modification time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One day in ms. */
const DAY_MS = 86_400_000;

/** What deleteOldLogs does. */
export interface OldLogsOptions {
  /** Folders whose files are considered (absolute); a missing folder is skipped. */
  dirs: readonly string[];
  /** Keep files modified within this many days (>= 0; 0: only files modified at `now` or later survive). */
  maxAgeDays: number;
  /** The time, in ms since the epoch. */
  now: number;
  /** Only report what would be deleted. */
  dryRun?: boolean;
  /** The paths returned are relative to this folder. */
  relativeTo: string;
}

/**
 * Deletes the regular files directly in `dirs` last modified more than `maxAgeDays` days before `now` (symbolic
 * links are judged by their target and the link is what is deleted; subfolders are left alone). A file that
 * disappears meanwhile (another rotation) is skipped.
 * @returns the files deleted (or, with dryRun, that would be), relative to `relativeTo`, folder by folder in name order.
 * @throws RangeError when maxAgeDays is negative or not finite; Error from reading a folder or deleting a file.
 */
export function deleteOldLogs(opts: OldLogsOptions): string[] {
  if (!(opts.maxAgeDays >= 0) || !Number.isFinite(opts.maxAgeDays))
    throw new RangeError(`maxAgeDays must be a number >= 0, got ${opts.maxAgeDays}`);
  const cutoff = opts.now - opts.maxAgeDays * DAY_MS;
  const removed: string[] = [];
  for (const dir of opts.dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone, or a dangling link
        throw e;
      }
      if (!st.isFile() || st.mtimeMs >= cutoff) continue;
      if (!opts.dryRun) fs.rmSync(file, { force: true });
      removed.push(path.relative(opts.relativeTo, file));
    }
  }
  return removed;
}
