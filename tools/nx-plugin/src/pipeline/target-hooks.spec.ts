// The post-target hooks as an Nx run calls them (afterTarget), with real failure logs: backoff and escalation run in
// CI (CI=true) or when asked (NEXTRUST_ESCALATE=1) and never for a user's compile error, which prints no escalation or
// "retries paused" line even when the commit is already in backoff.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BACKOFF_THRESHOLD, recordFailure } from './backoff';
import type { EscalationRequest } from './failure-analysis';
import { StatusStore } from './status-store';
import { afterTarget, automationWanted, taskName, type TargetRun } from './target-hooks';

const REPO = path.resolve(__dirname, '../../../..');
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures/failure-logs', name), 'utf8');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('automationWanted', () => {
  it.each([
    [{}, false],
    [{ CI: 'true' }, true],
    [{ CI: '1' }, true],
    [{ CI: 'false' }, false],
    [{ CI: '' }, false],
    [{ NEXTRUST_ESCALATE: '1' }, true],
    [{ NEXTRUST_ESCALATE: 'yes', CI: 'false' }, true],
    [{ NEXTRUST_ESCALATE: '0', CI: 'true' }, false],
    [{ NEXTRUST_ESCALATE: 'off', CI: 'true' }, false],
    [{ NEXTRUST_ESCALATE: 'maybe', CI: 'true' }, true],
  ] as [NodeJS.ProcessEnv, boolean][])('%j → %s', (env, want) => {
    expect(automationWanted(env)).toBe(want);
  });
});

describe('afterTarget', () => {
  let root: string;
  let statusDir: string;
  let printed: string[];
  const run: TargetRun = {
    workspaceRoot: '',
    project: 'rust-target',
    target: 'build',
    configuration: 'm68040',
    cpu: 'm68040',
  };
  const savedStatusDir = process.env.NEXTRUST_STATUS_DIR;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'target-hooks-'));
    statusDir = path.join(root, 'projects/ci-status');
    fs.mkdirSync(statusDir, { recursive: true });
    for (const f of ['known-issues.json', 'phases.json'])
      fs.copyFileSync(path.join(REPO, 'projects/ci-status', f), path.join(statusDir, f));
    delete process.env.NEXTRUST_STATUS_DIR;
    printed = [];
  });
  afterEach(() => {
    if (savedStatusDir !== undefined) process.env.NEXTRUST_STATUS_DIR = savedStatusDir;
    fs.rmSync(root, { recursive: true, force: true });
  });
  const backoffFailures = () => {
    const f = path.join(statusDir, 'backoff', `${COMMIT}.json`);
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')).failures as number) : 0;
  };
  const types = () =>
    fs.existsSync(path.join(statusDir, 'pipeline-log.jsonl'))
      ? fs
          .readFileSync(path.join(statusDir, 'pipeline-log.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).type as string)
      : [];
  /** A failed run of rust-target:build:m68040 with `log`, in an environment `env` (GITHUB_SHA fixes the commit). */
  async function fail(log: string, env: NodeJS.ProcessEnv, runId: string) {
    const escalate = jest.fn(async (_r: EscalationRequest) => ({
      status: 'skipped' as const,
      summary: 'design escalation skipped: OPENAI_API_KEY is not set (test)',
    }));
    const a = await afterTarget(
      { ...run, workspaceRoot: root },
      { success: false, durationMs: 5, log },
      (l) => printed.push(l),
      {
        escalate,
        env: { GITHUB_SHA: COMMIT, GITHUB_RUN_ID: runId, ...env },
      },
    );
    return { a: a!, escalate };
  }

  it('names the task', () => {
    expect(taskName(run)).toBe('rust-target:build:m68040');
  });

  it("a developer's machine: an unknown failure is recorded, not counted and not escalated", async () => {
    const { a, escalate } = await fail(fixture('novel-cargo-duplicate-source.log'), {}, 'r1');
    expect(a.scan.diagnosis).toBe('unknown');
    expect(escalate).not.toHaveBeenCalled();
    expect(backoffFailures()).toBe(0);
    expect(types()).toEqual(['target_failed']);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(
      'not escalated: design escalation and backoff run in CI (CI=true) or with NEXTRUST_ESCALATE=1',
    );
  });

  it('CI: the same failure is counted and handed to escalation; NEXTRUST_ESCALATE=1 asks for it locally', async () => {
    const ci = await fail(fixture('novel-cargo-duplicate-source.log'), { CI: 'true' }, 'r2');
    expect(ci.escalate).toHaveBeenCalledTimes(1);
    expect(backoffFailures()).toBe(1);
    expect(printed[0]).toContain('design escalation skipped: OPENAI_API_KEY is not set (test)');
    const asked = await fail(fixture('novel-cargo-duplicate-source.log'), { NEXTRUST_ESCALATE: '1' }, 'r3');
    expect(asked.escalate).toHaveBeenCalledTimes(1);
    expect(backoffFailures()).toBe(2);
    expect(types()).toEqual(['target_failed', 'escalation_pending', 'target_failed', 'escalation_pending']);
  });

  it("CI, a commit already in backoff: a user's compile error prints the compiler's message and no escalation or backoff line", async () => {
    const store = new StatusStore(statusDir);
    for (let i = 0; i < BACKOFF_THRESHOLD; i++) await recordFailure(store, COMMIT, 'earlier');
    const { a, escalate } = await fail(fixture('user-error.type-error.log'), { CI: 'true' }, 'r4');
    expect(a.scan.diagnosis).toBe('user-error');
    expect(escalate).not.toHaveBeenCalled();
    expect(backoffFailures()).toBe(BACKOFF_THRESHOLD);
    expect(printed).toHaveLength(1);
    expect(printed[0].split('\n')[0]).toBe('nextrust: user error: error[E0308]: mismatched types');
    expect(printed[0]).not.toMatch(/escalation|paused|backoff:/);
    expect(types()).toEqual(['target_failed']);
    // An unknown failure of the same commit in CI does say the backoff.
    await fail(fixture('novel-cargo-duplicate-source.log'), { CI: 'true' }, 'r5');
    expect(printed[1]).toMatch(
      /design escalation skipped: commit 0123456789ab has failed 4 times: automated escalation and retries are paused/,
    );
  });

  it('a success records the run and analyses nothing', async () => {
    const a = await afterTarget({ ...run, workspaceRoot: root }, { success: true, durationMs: 7 }, (l) =>
      printed.push(l),
    );
    expect(a).toBeUndefined();
    expect(printed).toEqual([]);
    expect(types()).toEqual(['target_succeeded']);
  });
});
