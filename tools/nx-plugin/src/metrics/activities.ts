/**
 * Reading the activity log of a status directory for the metrics: the
 * rotated archives (`archive/pipeline-log-YYYY-MM.jsonl`, oldest first) and
 * then the active log (`pipeline-log.jsonl`), one JSON activity per line
 * (pipeline/status-store.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ACTIVITY_LOG,
  forEachLine,
  parseActivityLine,
  type Activity,
  type StatusStore,
} from '../pipeline/status-store';

/** Names of rotated activity logs in `archive/`. */
const ARCHIVE_NAME = /^pipeline-log-\d{4}-\d{2}\.jsonl$/;

/** The activity log files of a status directory, oldest first (archives by month, then the active log). */
export function activityFiles(store: StatusStore): string[] {
  const archiveDir = store.file('archive');
  const archives = fs.existsSync(archiveDir)
    ? fs
        .readdirSync(archiveDir)
        .filter((f) => ARCHIVE_NAME.test(f))
        .sort()
        .map((f) => path.join(archiveDir, f))
    : [];
  return [...archives, store.file(ACTIVITY_LOG)];
}

/**
 * Reads every activity of the status directory, sorted by time (stable: the
 * file order among equal times). A line found in two files (a rotation killed
 * between writing the archive and replacing the log) is read once. Invalid
 * complete lines are counted per file and pushed to `warnings`
 * (`pipeline-log.jsonl: 2 invalid line(s) ignored (see nextrust status)`);
 * an unfinished last line (a write in progress) is skipped silently.
 * @throws file system errors other than a missing file.
 */
export async function readActivities(store: StatusStore, warnings: string[]): Promise<Activity[]> {
  const out: Activity[] = [];
  const seen = new Set<string>();
  for (const file of activityFiles(store)) {
    if (!fs.existsSync(file)) continue;
    let invalid = 0;
    await forEachLine(file, (text, _line, complete) => {
      const parsed = parseActivityLine(text);
      if ('error' in parsed) {
        if (complete) invalid++;
        return;
      }
      if (seen.has(text)) return;
      seen.add(text);
      out.push(parsed.activity);
    });
    if (invalid)
      warnings.push(`${path.relative(store.dir, file)}: ${invalid} invalid line(s) ignored (see nextrust status)`);
  }
  return out
    .map((a, i) => ({ a, i, t: Date.parse(a.timestamp) }))
    .sort((x, y) => x.t - y.t || x.i - y.i)
    .map((x) => x.a);
}
