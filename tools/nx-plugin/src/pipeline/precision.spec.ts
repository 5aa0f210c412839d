// Precision per known issue from confirm/reject verdicts on recorded failures: real analyses of real fixture logs give
// failure ids; verdicts update precision.json; an issue rejected too often is printed as "possible" with a warning;
// the CLI commands end to end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../cli/program';
import { analyzeFailure } from './failure-analysis';
import {
  DEMOTE_BELOW,
  isDemoted,
  MIN_VERDICTS,
  precisionFromActivities,
  readPrecision,
  recordVerdict,
} from './precision';
import { StatusStore } from './status-store';

const REPO = path.resolve(__dirname, '../../../..');
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures/failure-logs', name), 'utf8');

let dir: string;
let store: StatusStore;
let runs = 0;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-precision-'));
  for (const f of ['known-issues.json', 'phases.json'])
    fs.copyFileSync(path.join(REPO, 'projects/ci-status', f), path.join(dir, f));
  store = new StatusStore(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A real analysis of the linker-not-found fixture, recorded; returns it. */
const linkerFailure = () =>
  analyzeFailure(
    store,
    {
      task: 'rust-target:build:m68040',
      project: 'rust-target',
      target: 'build',
      cpu: 'm68040',
      logText: fixture('linker-not-found.log'),
      workspaceRoot: dir,
    },
    { keyParts: { commit: 'c0ffee', runId: `run-${++runs}` }, env: {} },
  );

describe('verdicts and precision', () => {
  it('a recorded failure has an id printed under its diagnosis; verdicts on it update precision.json (latest verdict per failure)', async () => {
    const a = await linkerFailure();
    expect(a.match!.id).toBe('linker-not-found');
    expect(a.failureId).toMatch(/^[0-9a-f]{10}$/);
    expect(a.diagnosis).toContain(
      `right or wrong? npx nextrust confirm ${a.failureId}  |  npx nextrust reject ${a.failureId}`,
    );
    expect((await recordVerdict(store, a.failureId!, 'confirmed', 'alice')).precision).toEqual({
      confirmed: 1,
      rejected: 0,
      precision: 1,
    });
    // The same failure judged again: the latest verdict replaces the earlier one.
    expect(
      (await recordVerdict(store, a.failureId!, 'rejected', 'bob', 'crate-not-available-offline')).precision,
    ).toEqual({ confirmed: 0, rejected: 1, precision: 0 });
    expect(readPrecision(store)).toEqual({ 'linker-not-found': { confirmed: 0, rejected: 1, precision: 0 } });
  });

  it('an unknown id, or a failure without a known issue, is refused', async () => {
    await expect(recordVerdict(store, '0000000000', 'confirmed', 'a')).rejects.toThrow(
      'no recorded failure with id 0000000000',
    );
    const unknown = await analyzeFailure(
      store,
      {
        task: 'rust-target:test:m68040',
        project: 'rust-target',
        target: 'test',
        logText: fixture('novel-cargo-test-duplicate-key.log'),
        workspaceRoot: dir,
      },
      { keyParts: { commit: 'c0ffee', runId: 'x' }, env: {} },
    );
    expect(unknown.match).toBeNull();
    await expect(recordVerdict(store, unknown.failureId!, 'rejected', 'a')).rejects.toThrow(
      'was not diagnosed as a known issue: there is nothing to reject',
    );
  });

  it(`demotes an issue under ${DEMOTE_BELOW * 100} % once it has ${MIN_VERDICTS} verdicts: the next diagnosis says "possible" and warns`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < MIN_VERDICTS; i++) ids.push((await linkerFailure()).failureId!);
    await recordVerdict(store, ids[0], 'rejected', 'a');
    await recordVerdict(store, ids[1], 'rejected', 'a');
    // Two verdicts: not enough to demote.
    expect((await linkerFailure()).diagnosis).toMatch(/^nextrust: known issue linker-not-found /);
    await recordVerdict(store, ids[2], 'confirmed', 'a');
    const next = await linkerFailure();
    expect(next.diagnosis.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^nextrust: possible known issue linker-not-found \(confidence 0\.\d\d\): /),
      '  warning: people rejected this diagnosis 2 of 3 times (precision 33 %): check it before applying the fix',
    ]);
  });

  it('isDemoted and precisionFromActivities follow the rule', () => {
    expect(isDemoted(undefined)).toBe(false);
    expect(isDemoted({ confirmed: 0, rejected: 2, precision: 0 })).toBe(false);
    expect(isDemoted({ confirmed: 1, rejected: 2, precision: 0.333 })).toBe(true);
    expect(isDemoted({ confirmed: 2, rejected: 2, precision: 0.5 })).toBe(false);
    const v = (id: string, issue: string, verdict: string) => ({
      type: 'diagnosis_verdict',
      details: { failure_id: id, known_issue: issue, verdict },
    });
    expect(
      precisionFromActivities([
        v('1', 'a', 'confirmed'),
        v('2', 'a', 'rejected'),
        v('1', 'a', 'rejected'),
        v('3', 'b', 'confirmed'),
      ]),
    ).toEqual({
      a: { confirmed: 0, rejected: 2, precision: 0 },
      b: { confirmed: 1, rejected: 0, precision: 1 },
    });
  });
});

describe('nextrust confirm | reject | precision', () => {
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(['--status-dir', dir, ...argv], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      cwd: dir,
      env: { ...process.env, USER: 'tester' },
    });
    return { code, out, err };
  };

  it('records verdicts and prints the table', async () => {
    const a = await linkerFailure();
    expect(await cli('confirm', a.failureId!)).toEqual({
      code: 0,
      out: 'linker-not-found: 1 confirmed, 0 rejected (precision 100 %)\n',
      err: '',
    });
    expect((await cli('precision')).out).toBe('linker-not-found: 1 confirmed, 0 rejected, precision 100 %\n');
    expect(JSON.parse((await cli('precision', '--json')).out)).toEqual({
      issues: { 'linker-not-found': { confirmed: 1, rejected: 0, precision: 1 } },
    });
    const verdicts = (await store.readActivities()).activities.filter((x) => x.type === 'diagnosis_verdict');
    expect(verdicts.map((x) => x.details.by)).toEqual(['tester']);
  });

  it('a malformed id: exit 2; an unknown one: exit 1 naming it', async () => {
    expect((await cli('reject', 'not-an-id')).code).toBe(2);
    const r = await cli('reject', 'abcdef0123', '--issue', 'other');
    expect(r.code).toBe(1);
    expect(r.err).toContain('no recorded failure with id abcdef0123');
  });
});
