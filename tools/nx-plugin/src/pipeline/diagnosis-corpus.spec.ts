// The diagnosis corpus: every real failure log in fixtures/failure-logs (how each was made: its README.md) against
// its expected diagnosis in fixtures/failure-logs/diagnoses.json: a known issue id, a user error (with the location
// relative to the workspace the log was made in), or unknown. Each log is asserted with both scan engines (GNU grep
// and the JavaScript scanner), and the tally of right, wrong (a diagnosis that is not the expected one) and missed
// (unknown where a diagnosis was expected) is printed at the end and held to >= 90 % right and 0 wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { knownIssuesFileSchema } from './known-issues';
import { scanLogFile, type FileScanResult } from './matcher';
import { readValidatedJson } from './validated-file';

const REPO = path.resolve(__dirname, '../../../..');
const FIXTURES = path.join(__dirname, 'fixtures/failure-logs');
const issues = readValidatedJson(
  path.join(REPO, 'projects/ci-status/known-issues.json'),
  knownIssuesFileSchema,
).known_issues;

/** One entry of diagnoses.json. */
interface Expectation {
  /** A known issue id, `user-error` or `unknown`. */
  expect: string;
  /** What the log is. */
  what: string;
  /** The workspace root the log was made in (default: this repository). */
  root?: string;
  /** For a user error: its file (relative to `root`) and line, `file:line` or `file`. */
  location?: string;
}
const corpus = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'diagnoses.json'), 'utf8')).logs as Record<
  string,
  Expectation
>;
const entries = Object.entries(corpus);

/** The diagnosis of a scan as the corpus names it. */
function diagnosisOf(r: FileScanResult): string {
  if (r.diagnosis === 'known-issue') return r.match!.id;
  return r.diagnosis;
}

const tally = { right: 0, wrong: 0, missed: 0, total: 0 };
const wrongs: string[] = [];

describe('diagnosis corpus', () => {
  it('lists every log of the fixture folder, and only those; at least 30, every known issue and user errors among them', () => {
    const logs = fs
      .readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.log'))
      .sort();
    expect(Object.keys(corpus).sort()).toEqual(logs);
    expect(logs.length).toBeGreaterThanOrEqual(30);
    const expected = new Set(entries.map(([, e]) => e.expect));
    for (const issue of issues)
      expect({ id: issue.id, inCorpus: expected.has(issue.id) }).toEqual({ id: issue.id, inCorpus: true });
    expect(entries.filter(([, e]) => e.expect === 'user-error').length).toBeGreaterThanOrEqual(8);
    expect(entries.filter(([, e]) => e.expect === 'unknown').length).toBeGreaterThanOrEqual(8);
    for (const [file, e] of entries) {
      expect({
        file,
        valid: e.expect === 'user-error' || e.expect === 'unknown' || issues.some((i) => i.id === e.expect),
      }).toEqual({ file, valid: true });
    }
  });

  it.each(entries)('%s', async (file, e) => {
    const full = path.join(FIXTURES, file);
    const lines = fs.readFileSync(full, 'utf8').split('\n');
    const options = { workspaceRoot: e.root ?? REPO };
    const [grep, js] = await Promise.all([
      scanLogFile(full, issues, { ...options, engine: 'grep' }),
      scanLogFile(full, issues, { ...options, engine: 'js' }),
    ]);
    // Both engines see the same lines and decide the same.
    const { engine: _g, ...g } = grep;
    const { engine: _j, ...j } = js;
    expect(g).toEqual(j);
    const got = diagnosisOf(grep);
    tally.total++;
    if (got === e.expect) tally.right++;
    else if (got === 'unknown') tally.missed++;
    else {
      tally.wrong++;
      wrongs.push(`${file}: expected ${e.expect}, got ${got}`);
    }
    expect({ file, diagnosis: got }).toEqual({ file, diagnosis: e.expect });
    if (e.expect === 'user-error') {
      // A user's own mistake: no known issue is even a candidate.
      expect(grep.candidates).toEqual([]);
      const u = grep.userError!;
      // The message is the tool's own line, verbatim.
      expect(lines[u.line - 1]).toBe(u.message);
      expect(u.message).toMatch(/^error(\[E[0-9]+\])?: /);
      if (e.location)
        expect(`${u.location!.file}${u.location!.line !== undefined ? `:${u.location!.line}` : ''}`).toBe(e.location);
    } else if (e.expect !== 'unknown') {
      // Evidence is the file's own text at the line it names.
      for (const ev of grep.match!.evidence)
        expect(lines[ev.line - 1].replace(/\r$/, '').startsWith(ev.text.replace(/…$/, ''))).toBe(true);
      // No other issue is a candidate: the patterns tell the issues apart.
      expect(grep.candidates.map((c) => c.id)).toEqual([e.expect]);
    } else {
      expect(grep.match).toBeNull();
      expect(grep.userError).toBeNull();
    }
  });

  afterAll(() => {
    const rate = tally.total ? tally.right / tally.total : 0;
    console.log(
      `diagnosis corpus: ${tally.right} of ${tally.total} right (${(rate * 100).toFixed(1)} %), ${tally.wrong} wrong, ${tally.missed} unknown where a diagnosis was expected` +
        (wrongs.length ? `\n${wrongs.join('\n')}` : ''),
    );
    // Only meaningful when every log ran (not under a -t filter).
    if (tally.total === entries.length) {
      expect(tally.wrong).toBe(0);
      expect(rate).toBeGreaterThanOrEqual(0.9);
    }
  });
});
