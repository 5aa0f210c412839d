// The shipped known-issues database against the real failure logs in fixtures/failure-logs
// (each reproduced on this machine; see its README.md; the expected diagnosis of each is in
// diagnoses.json): every known failure is recognised, every other log (novel failures, user
// errors, a successful build) has no candidate at all, the patterns mean the same to grep -E as
// to JavaScript, every reference opens from a checkout, and the committed JSON Schema is current.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/project-config';
import {
  KNOWN_ISSUES_SCHEMA_FILE,
  knownIssuesFileSchema,
  knownIssuesJsonSchema,
  referenceProblem,
  type KnownIssuesFile,
} from './known-issues';
import { scanLogFile } from './matcher';
import { readValidatedJson, readWithLastGood } from './validated-file';

const REPO = path.resolve(__dirname, '../../../..');
const STATUS_DIR = path.join(REPO, 'projects/ci-status');
const FIXTURES = path.join(__dirname, 'fixtures/failure-logs');
const REQUIRED_IDS = [
  'atomic-spinlock-m68k',
  'rust-src-missing',
  'nightly-required',
  'crates-io-unreachable',
  'llvm-triple-unrecognized',
  'linker-not-found',
  'llvm-atomic-isel',
  'qemu-sysroot-missing',
  'emulator-cpu-mismatch',
  'crate-not-available-offline',
  'json-target-spec-flag',
  'target-spec-invalid',
  'std-not-in-sysroot',
  'llvm-codegen-crash',
  'toolchain-override-invalid',
  'system-backend-miscompile',
];

const db: KnownIssuesFile = readValidatedJson(path.join(STATUS_DIR, 'known-issues.json'), knownIssuesFileSchema);
const logs = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.log'));
/** Expected diagnosis per log: a known issue id, user-error or unknown. */
const expected: Record<string, { expect: string }> = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'diagnoses.json'), 'utf8'),
).logs;
const knownLogs = logs.filter((f) => !['user-error', 'unknown'].includes(expected[f]?.expect));
const unknownLogs = logs.filter((f) => ['user-error', 'unknown'].includes(expected[f]?.expect));

describe('known-issues.json', () => {
  it('ships every required issue, each with a real fixture log', () => {
    expect(db.known_issues.map((k) => k.id).sort()).toEqual([...REQUIRED_IDS].sort());
    for (const id of REQUIRED_IDS)
      expect({ id, fixture: knownLogs.some((f) => expected[f].expect === id) }).toEqual({ id, fixture: true });
    // Every issue has a log named after it (its main fixture), and the logs are named after what they show.
    for (const id of REQUIRED_IDS) expect(logs).toContain(`${id}.log`);
    expect(unknownLogs.length).toBeGreaterThanOrEqual(5);
  });

  it.each(knownLogs)('recognises %s with evidence at the right line', async (file) => {
    const id = expected[file].expect;
    const r = await scanLogFile(path.join(FIXTURES, file), db.known_issues);
    expect(r.match?.id).toBe(id);
    expect(r.match!.confidence).toBeGreaterThanOrEqual(0.5);
    // The evidence is the file's own line at that number.
    const lines = fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n');
    for (const e of r.match!.evidence)
      expect(lines[e.line - 1].replace(/\r$/, '').startsWith(e.text.replace(/…$/, ''))).toBe(true);
    // No other issue claims the log.
    expect(r.candidates.map((c) => c.id)).toEqual([id]);
  });

  it.each(unknownLogs)('reports %s as unknown, with no candidate', async (file) => {
    const r = await scanLogFile(path.join(FIXTURES, file), db.known_issues);
    expect(r.match).toBeNull();
    expect(r.candidates).toEqual([]);
    expect(r.lines).toBeGreaterThan(0);
  });

  it('has references that open from a checkout: an existing repository path, or an https URL', () => {
    for (const issue of db.known_issues) {
      for (const ref of issue.metadata.references) {
        const problem = referenceProblem(ref);
        const file = ref.replace(/ \(.*\)$/, '');
        const ok = problem === null && (ref.startsWith('https://') || fs.existsSync(path.join(REPO, file)));
        expect({ id: issue.id, ref, ok }).toEqual({ id: issue.id, ref, ok: true });
      }
      // Each issue points at its own fixture log.
      expect(issue.metadata.references).toContain(`tools/nx-plugin/src/pipeline/fixtures/failure-logs/${issue.id}.log`);
    }
  });

  it('has patterns that match the same fixture lines under grep -E as in JavaScript', () => {
    const patterns = db.known_issues.flatMap((k) => [
      ...k.error_patterns,
      ...k.required_patterns,
      ...k.context_patterns,
    ]);
    for (const p of patterns) {
      const re = new RegExp(p);
      const expected: string[] = [];
      for (const f of logs) {
        fs.readFileSync(path.join(FIXTURES, f), 'utf8')
          .split('\n')
          .forEach((l, i) => {
            if (re.test(l)) expected.push(`${f}:${i + 1}`);
          });
      }
      const grep = spawnSync('grep', ['-E', '-n', '-H', '-e', p, ...logs], { cwd: FIXTURES, encoding: 'utf8' });
      expect(grep.status === 0 || grep.status === 1).toBe(true);
      const got = grep.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':').slice(0, 2).join(':'));
      expect({ pattern: p, lines: got }).toEqual({ pattern: p, lines: expected });
    }
  });

  it('has a committed JSON Schema equal to the one generated from the zod schema', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(STATUS_DIR, KNOWN_ISSUES_SCHEMA_FILE), 'utf8'));
    expect(committed).toEqual(knownIssuesJsonSchema());
    expect(JSON.parse(fs.readFileSync(path.join(STATUS_DIR, 'known-issues.json'), 'utf8')).$schema).toBe(
      `./${KNOWN_ISSUES_SCHEMA_FILE}`,
    );
  });
});

describe('known-issues.json validation', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-issues-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (mutate: (d: any) => void): string => {
    const d = JSON.parse(fs.readFileSync(path.join(STATUS_DIR, 'known-issues.json'), 'utf8'));
    mutate(d);
    const f = path.join(dir, 'known-issues.json');
    fs.writeFileSync(f, JSON.stringify(d));
    return f;
  };

  it('names the file and the field of a bad value', () => {
    const f = write((d) => {
      d.known_issues[2].confidence = 1.5;
    });
    expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(ConfigError);
    expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(
      `${f}: field 'known_issues[2].confidence': Too big: expected number to be <=1`,
    );
  });

  it('refuses patterns that grep -E would read differently, and invalid regular expressions', () => {
    for (const [pattern, message] of [
      ['error\\d+', "'\\d' is not POSIX ERE"],
      ['(?:foo)bar', "'(?' at 0: lookaround and special groups are not POSIX ERE"],
      ['foo.*?bar', "'*?' at 4: lazy or stacked quantifiers are not POSIX ERE"],
      ['(.*)*x', 'a quantified group that contains a quantifier'],
      ['x[\\-9]y', 'a backslash inside [...]'],
      ['unclosed (group', 'not a valid regular expression'],
    ]) {
      const f = write((d) => {
        d.known_issues[0].error_patterns = [pattern];
      });
      expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(`field 'known_issues[0].error_patterns[0]'`);
      expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(message);
    }
  });

  it('refuses references outside the repository, absolute paths and other URL schemes, naming the field', () => {
    for (const [ref, message] of [
      ['../elsewhere/NOTES.md (a note)', "a path outside the repository ('..')"],
      ['docs/../../secrets.txt', "a path outside the repository ('..')"],
      ['/etc/hosts', 'not an absolute one'],
      ['~/notes.md', 'not an absolute one'],
      ['http://example.com/page', 'expected an https URL or a repository path'],
      ['file:///etc/hosts', 'expected an https URL or a repository path'],
    ]) {
      const f = write((d) => {
        d.known_issues[1].metadata.references = ['docs/pipeline.md', ref];
      });
      expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(
        `field 'known_issues[1].metadata.references[1]'`,
      );
      expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(message);
    }
    // Accepted: a repository path with a note, and an https URL with a fragment.
    expect(referenceProblem('docs/toolchain-bugs.md (A crash in instruction selection)')).toBeNull();
    expect(referenceProblem('https://doc.rust-lang.org/cargo/reference/unstable.html#build-std')).toBeNull();
  });

  it('refuses a required pattern that grep -E would read differently, like the other pattern lists', () => {
    const f = write((d) => {
      d.known_issues[0].required_patterns = ['provider\\s+system'];
    });
    expect(() => readValidatedJson(f, knownIssuesFileSchema)).toThrow(`field 'known_issues[0].required_patterns[0]'`);
  });

  it('refuses duplicate ids and unknown CPU variants', () => {
    const dup = write((d) => {
      d.known_issues[1].id = d.known_issues[0].id;
    });
    expect(() => readValidatedJson(dup, knownIssuesFileSchema)).toThrow(
      `field 'known_issues[1].id': duplicate id 'atomic-spinlock-m68k'`,
    );
    const cpu = write((d) => {
      d.known_issues[0].cpu_variants = ['m68020'];
    });
    expect(() => readValidatedJson(cpu, knownIssuesFileSchema)).toThrow(`field 'known_issues[0].cpu_variants[0]'`);
  });

  it('keeps the last good state when the file turns invalid', () => {
    const f = write(() => undefined);
    const lastGood = path.join(dir, '.last-good');
    expect(readWithLastGood(f, knownIssuesFileSchema, lastGood).fallbackError).toBeUndefined();
    fs.writeFileSync(f, '{"schema_version": "2.0", "known_issues": [ {"id": "half-writ');
    const loaded = readWithLastGood(f, knownIssuesFileSchema, lastGood);
    expect(loaded.value.known_issues.map((k) => k.id)).toEqual(db.known_issues.map((k) => k.id));
    expect(loaded.fallbackError).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    // The bad file is not copied over the good one.
    expect(readWithLastGood(f, knownIssuesFileSchema, lastGood).value.known_issues).toHaveLength(REQUIRED_IDS.length);
    fs.rmSync(lastGood, { recursive: true });
    expect(() => readWithLastGood(f, knownIssuesFileSchema, lastGood)).toThrow(ConfigError);
  });

  it('is what the CLI validates (nextrust validate exits 0 on the shipped files)', () => {
    const out = execFileSync(
      process.execPath,
      [path.resolve(__dirname, '../../bin/nextrust.js'), 'validate', '--status-dir', STATUS_DIR],
      { encoding: 'utf8' },
    );
    expect(out).toBe(`known-issues.json: ${REQUIRED_IDS.length} known issues; phases.json: 5 phases: valid\n`);
  });
});
