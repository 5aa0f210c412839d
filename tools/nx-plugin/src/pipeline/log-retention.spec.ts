// deleteOldLogs on real folders: files dated with utimes around the cutoff, subfolders, links, dry runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deleteOldLogs } from './log-retention';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-15T12:00:00Z');
let root: string;

/** Writes `rel` under root, modified `ageMs` before NOW. */
function file(rel: string, ageMs: number): string {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, rel);
  const t = new Date(NOW - ageMs);
  fs.utimesSync(f, t, t);
  return f;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-log-retention-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const exists = (rel: string) => fs.existsSync(path.join(root, rel));

describe('deleteOldLogs', () => {
  it('deletes the files older than maxAgeDays in every folder, keeps the newer ones and subfolders', () => {
    file('failure-logs/b-old.log', 15 * DAY);
    file('failure-logs/a-old.log', 14 * DAY + 1000);
    file('failure-logs/edge.log', 14 * DAY - 1000); // inside the window: kept
    file('failure-logs/new.log', 0);
    file('failure-logs/sub/ancient.log', 100 * DAY);
    const sub = path.join(root, 'failure-logs/sub');
    fs.utimesSync(sub, new Date(NOW - 100 * DAY), new Date(NOW - 100 * DAY));
    file('hook-logs/2026-01-01.log', 73 * DAY);
    const removed = deleteOldLogs({
      dirs: [path.join(root, 'failure-logs'), path.join(root, 'hook-logs'), path.join(root, 'missing')],
      maxAgeDays: 14,
      now: NOW,
      relativeTo: root,
    });
    expect(removed).toEqual(['failure-logs/a-old.log', 'failure-logs/b-old.log', 'hook-logs/2026-01-01.log']);
    for (const gone of removed) expect(exists(gone)).toBe(false);
    for (const kept of ['failure-logs/edge.log', 'failure-logs/new.log', 'failure-logs/sub/ancient.log'])
      expect(exists(kept)).toBe(true);
  });

  it('a dry run lists the same files and deletes nothing', () => {
    file('logs/old.log', 3 * DAY);
    file('logs/new.log', DAY / 2);
    const opts = { dirs: [path.join(root, 'logs')], maxAgeDays: 1, now: NOW, relativeTo: root };
    expect(deleteOldLogs({ ...opts, dryRun: true })).toEqual(['logs/old.log']);
    expect(exists('logs/old.log')).toBe(true);
    expect(deleteOldLogs(opts)).toEqual(['logs/old.log']);
    expect(exists('logs/old.log')).toBe(false);
    expect(deleteOldLogs(opts)).toEqual([]);
  });

  it('maxAgeDays 0 deletes every file modified before now', () => {
    file('logs/a.log', 1);
    file('logs/b.log', 0); // modified at now: not older
    expect(deleteOldLogs({ dirs: [path.join(root, 'logs')], maxAgeDays: 0, now: NOW, relativeTo: root })).toEqual([
      'logs/a.log',
    ]);
  });

  it('a link is judged by its target and only the link is deleted; a dangling link is skipped', () => {
    const target = file('elsewhere/kept.log', 30 * DAY);
    fs.mkdirSync(path.join(root, 'logs'));
    fs.symlinkSync(target, path.join(root, 'logs/link.log'));
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'logs/dangling.log'));
    expect(deleteOldLogs({ dirs: [path.join(root, 'logs')], maxAgeDays: 7, now: NOW, relativeTo: root })).toEqual([
      'logs/link.log',
    ]);
    expect(fs.existsSync(target)).toBe(true);
    expect(fs.readdirSync(path.join(root, 'logs'))).toEqual(['dangling.log']);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('maxAgeDays %p: RangeError, nothing deleted', (maxAgeDays) => {
    file('logs/old.log', 1000 * DAY);
    expect(() => deleteOldLogs({ dirs: [path.join(root, 'logs')], maxAgeDays, now: NOW, relativeTo: root })).toThrow(
      RangeError,
    );
    expect(exists('logs/old.log')).toBe(true);
  });
});
