// Failure analysis on real failure logs (fixtures/failure-logs): the saved log is the analysed text (run context
// first), so `nextrust check-known-issue --log <saved log>` gives the same match, confidence and explanation as the
// analysis; a user's compile error is reported with the compiler's message and a repository-relative file:line and
// is neither counted for backoff nor escalated; backoff and escalation run only when automation is on.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BACKOFF_THRESHOLD, recordFailure } from './backoff';
import {
  analyzeFailure,
  formatDiagnosis,
  runContextOf,
  TOOLCHAIN_MANIFEST,
  type EscalationRequest,
} from './failure-analysis';
import { knownIssuesFileSchema } from './known-issues';
import { scanLogFile, scanLogText } from './matcher';
import { StatusStore } from './status-store';
import { readValidatedJson } from './validated-file';

const REPO = path.resolve(__dirname, '../../../..');
const FIXTURES = path.join(__dirname, 'fixtures/failure-logs');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const issues = readValidatedJson(
  path.join(REPO, 'projects/ci-status/known-issues.json'),
  knownIssuesFileSchema,
).known_issues;
const COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';

let dir: string;
let store: StatusStore;
let runs = 0;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'failure-analysis-'));
  for (const f of ['known-issues.json', 'phases.json'])
    fs.copyFileSync(path.join(REPO, 'projects/ci-status', f), path.join(dir, f));
  store = new StatusStore(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const activities = () =>
  fs.existsSync(path.join(dir, 'pipeline-log.jsonl'))
    ? fs
        .readFileSync(path.join(dir, 'pipeline-log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; details: Record<string, unknown> })
    : [];
const backoffFailures = () => {
  const f = path.join(dir, 'backoff', `${COMMIT}.json`);
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')).failures as number) : 0;
};
/** Options of one analysis: a fresh run id (one process counts each run once), the test commit. */
const opts = (o: Parameters<typeof analyzeFailure>[2] = {}) => ({
  keyParts: { commit: COMMIT, runId: `run-${++runs}` },
  env: {},
  ...o,
});

describe('one confidence: the Nx run and check-known-issue agree', () => {
  it('the same log gets the same match, confidence and explanation in the analysis and from its saved log', async () => {
    // linker-not-found belongs to phase rust-target; here it fails llvm-m68k:atomics (phase llvm-backend).
    const raw = fixture('linker-not-found.log');
    const a = await analyzeFailure(
      store,
      {
        task: 'llvm-m68k:atomics:m68040',
        project: 'llvm-m68k',
        target: 'atomics',
        cpu: 'm68040',
        logText: raw,
        workspaceRoot: dir,
      },
      opts({ automation: false }),
    );
    expect(a.phase).toBe('llvm-backend');
    expect(a.match?.id).toBe('linker-not-found');
    // The saved log starts with the run context, then the output unchanged.
    const saved = fs.readFileSync(a.savedLog!, 'utf8');
    expect(saved).toBe(`nextrust-run: task llvm-m68k:atomics:m68040, phase llvm-backend, cpu m68040\n${raw}`);
    // What `check-known-issue --log` computes (no options), on the saved log and on the raw one: the same.
    const again = await scanLogFile(a.savedLog!, issues);
    expect(again.match!.confidence).toBe(a.match!.confidence);
    expect(again.match!.explanation).toEqual(a.match!.explanation);
    expect(scanLogText(raw, issues).match!.confidence).toBe(a.match!.confidence);
    expect(a.match!.confidence).toBe(0.81);
    // Before: the Nx run passed its phase and got 0.81 × 0.8 = 0.65 where the CLI said 0.81.
    expect(scanLogText(raw, issues, { phase: 'llvm-backend' }).match!.confidence).toBe(0.65);
    // The CLI itself, on the saved log.
    const cli = JSON.parse(
      execFileSync(
        process.execPath,
        [
          path.join(REPO, 'tools/nx-plugin/bin/nextrust.js'),
          'check-known-issue',
          '--log',
          a.savedLog!,
          '--json',
          '--status-dir',
          dir,
        ],
        { encoding: 'utf8' },
      ),
    );
    expect([cli.match.id, cli.match.confidence]).toEqual(['linker-not-found', 0.81]);
    expect(cli.match.explanation).toEqual(JSON.parse(JSON.stringify(a.match!.explanation)));
  });

  it('prints how the confidence came about: each pattern with its lines in the saved log, and the factors', async () => {
    const a = await analyzeFailure(
      store,
      {
        task: 'rust-target:build:m68040',
        project: 'rust-target',
        target: 'build',
        cpu: 'm68040',
        logText: fixture('crate-not-available-offline.log'),
        workspaceRoot: dir,
      },
      opts({ automation: false }),
    );
    const lines = a.diagnosis.split('\n');
    expect(lines[0]).toBe(
      "nextrust: known issue crate-not-available-offline (confidence 0.87): A dependency is not in the offline crate source (Debian's packaged crates)",
    );
    const how = lines.indexOf('  how sure:');
    expect(how).toBeGreaterThan(0);
    expect(lines.slice(how + 1, how + 9)).toEqual([
      '    confidence 0.87 = 0.9 (database) × 0.96 (3 of 4 context patterns found: 0.85 + 0.15 × 3/4) = 0.866',
      "    error pattern /crate '[^']+'.* is not available offline/: line 2",
      '    error pattern /location searched: directory source .*which is replacing registry .crates-io./: line 5',
      '    error pattern /no Debian crates are installed/: not found',
      '    context pattern /no matching package named .[^ ]+. found/: line 4',
      '    context pattern /failed to select a version for the requirement/: not found',
      '    context pattern /source\\.crates-io\\.replace-with=.*debian-packages/: line 3',
      '    context pattern /offline mode \\(via .--offline.\\)/: line 7',
    ]);
  });
});

describe('user errors are not incidents', () => {
  const input = {
    task: 'rust-target:build:m68040',
    project: 'rust-target',
    target: 'build',
    cpu: 'm68040',
    logText: fixture('user-error.type-error.log'),
    workspaceRoot: '/tmp/repro-ws',
  };

  it("the compiler's message first, the file relative to the repository root, the quoted line; no backoff or escalation, even in backoff", async () => {
    for (let i = 0; i < BACKOFF_THRESHOLD; i++) await recordFailure(store, COMMIT, 'earlier');
    const escalate = jest.fn(async (_r: EscalationRequest) => ({
      status: 'answered' as const,
      summary: 'should not be asked',
    }));
    const a = await analyzeFailure(store, input, opts({ escalate }));
    expect(a.userError).toMatchObject({ kind: 'compile', message: 'error[E0308]: mismatched types' });
    const lines = a.diagnosis.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'nextrust: user error: error[E0308]: mismatched types',
      '  --> projects/rust-target/programs/hello/src/main.rs:11:21',
      '   11 |     let code: i32 = "zero";',
    ]);
    expect(lines[3]).toMatch(/^ {2}\(\S+\.log:5\)$/); // the message's line in the saved log (after the run-context line)
    expect(lines[4]).toContain('Not a toolchain problem: not a known issue, not escalated, not counted for backoff.');
    expect(a.diagnosis).not.toMatch(/escalation|paused|backoff:|known issue [a-z]/);
    expect(escalate).not.toHaveBeenCalled();
    expect(a.escalation.status).toBe('not-needed');
    expect(backoffFailures()).toBe(BACKOFF_THRESHOLD);
    expect(a.backoff).toBeUndefined();
    const acts = activities();
    expect(acts.map((x) => x.type)).toEqual(['target_failed']);
    expect(acts[0].details).toMatchObject({
      diagnosis: 'user-error',
      known_issue: null,
      user_error: {
        message: 'error[E0308]: mismatched types',
        file: 'projects/rust-target/programs/hello/src/main.rs',
      },
      message:
        'rust-target:build:m68040 failed: user error: error[E0308]: mismatched types (projects/rust-target/programs/hello/src/main.rs:11)',
    });
  });

  it("a missing program is a user error with cargo's hint", async () => {
    const a = await analyzeFailure(store, { ...input, logText: fixture('user-error.missing-program.nx.log') }, opts());
    expect(a.diagnosis.split('\n').slice(0, 2)).toEqual([
      'nextrust: user error: error: package ID specification `std-helo` did not match any packages',
      '  help: a package with a similar name exists: `std-hello`',
    ]);
    expect(backoffFailures()).toBe(0);
  });
});

describe('backoff and escalation only with automation', () => {
  const novel = () => ({
    task: 'rust-target:test:m68040',
    project: 'rust-target',
    target: 'test',
    cpu: 'm68040',
    logText: fixture('novel-cargo-test-duplicate-key.log'),
    workspaceRoot: dir,
  });

  it('off: the failure is recorded, not counted, not escalated, and says how to turn it on', async () => {
    const escalate = jest.fn(async () => ({ status: 'answered' as const, summary: 'x' }));
    const a = await analyzeFailure(store, novel(), opts({ automation: false, escalate }));
    expect(a.scan.diagnosis).toBe('unknown');
    expect(escalate).not.toHaveBeenCalled();
    expect(a.escalation).toEqual({
      status: 'not-run',
      summary: 'not escalated: design escalation and backoff run in CI (CI=true) or with NEXTRUST_ESCALATE=1',
    });
    expect(a.diagnosis.split('\n')[1]).toBe(
      '  not escalated: design escalation and backoff run in CI (CI=true) or with NEXTRUST_ESCALATE=1',
    );
    expect(backoffFailures()).toBe(0);
    expect(activities().map((x) => x.type)).toEqual(['target_failed']);
  });

  it('on: counted, and handed to escalation with the saved log', async () => {
    const escalate = jest.fn(async (r: EscalationRequest) => ({
      status: 'skipped' as const,
      summary: `design escalation skipped: test (${path.basename(r.logFile!)})`,
    }));
    const a = await analyzeFailure(store, novel(), opts({ escalate }));
    expect(escalate).toHaveBeenCalledTimes(1);
    expect(escalate.mock.calls[0][0].logFile).toBe(a.savedLog);
    expect(backoffFailures()).toBe(1);
    expect(activities().map((x) => x.type)).toEqual(['target_failed', 'escalation_pending']);
  });

  it('on, for a known issue: counted, not escalated', async () => {
    const escalate = jest.fn(async () => ({ status: 'answered' as const, summary: 'x' }));
    const a = await analyzeFailure(
      store,
      { ...novel(), logText: fixture('target-spec-invalid.key-typo.log') },
      opts({ escalate }),
    );
    expect(a.match?.id).toBe('target-spec-invalid');
    expect(escalate).not.toHaveBeenCalled();
    expect(backoffFailures()).toBe(1);
  });
});

describe('run context', () => {
  it('names the toolchain provider from the toolchain manifest and the NEXTRUST_* overrides that are set', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'run-context-'));
    try {
      const input = { task: 'emulator-tests:test:m68040', cpu: 'm68040', workspaceRoot: root };
      expect(
        runContextOf(input, 'emulation-testing', {
          NEXTRUST_STATUS_DIR: '/x',
          NEXTRUST_QEMU_M68K: '',
          PATH: '/usr/bin',
        }),
      ).toEqual({
        task: 'emulator-tests:test:m68040',
        phase: 'emulation-testing',
        cpu: 'm68040',
      });
      fs.mkdirSync(path.dirname(path.join(root, TOOLCHAIN_MANIFEST)), { recursive: true });
      fs.writeFileSync(path.join(root, TOOLCHAIN_MANIFEST), JSON.stringify({ provider: 'system' }));
      expect(
        runContextOf(input, undefined, {
          NEXTRUST_LLVM_BIN: '/usr/lib/llvm-22/bin',
          NEXTRUST_QEMU_M68K: '/opt/qemu-m68k',
        }),
      ).toEqual({
        task: 'emulator-tests:test:m68040',
        cpu: 'm68040',
        provider: {
          name: 'system',
          detail: `M68k backend: the system one inside libLLVM, unpatched; ${TOOLCHAIN_MANIFEST}`,
        },
        overrides: ['NEXTRUST_LLVM_BIN=/usr/lib/llvm-22/bin', 'NEXTRUST_QEMU_M68K=/opt/qemu-m68k'],
      });
      fs.writeFileSync(
        path.join(root, TOOLCHAIN_MANIFEST),
        JSON.stringify({
          provider: 'source',
          backend: { sha256: '28cf7d44bcd23a9288e39f03892acb44abb5b941add7443a97d00b95ffe11d4c' },
        }),
      );
      expect(runContextOf(input, undefined, {}).provider).toEqual({
        name: 'source',
        detail: `M68k backend: patched, sha256 28cf7d44bcd23a92…; ${TOOLCHAIN_MANIFEST}`,
      });
      fs.writeFileSync(path.join(root, TOOLCHAIN_MANIFEST), '{ torn');
      expect(runContextOf(input, undefined, {}).provider).toBeUndefined();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('an override in the environment turns a "not found" into the override known issue; without it the same message is unknown', async () => {
    const message =
      'no LLVM >= 19.1.5 with the M68k backend found: install Debian packages clang-22 llvm-22, or set NEXTRUST_LLVM_BIN to an LLVM bin directory';
    const input = {
      task: 'llvm-m68k:toolchain',
      project: 'llvm-m68k',
      target: 'toolchain',
      logText: message,
      workspaceRoot: dir,
    };
    const set = await analyzeFailure(
      store,
      input,
      opts({ automation: false, env: { NEXTRUST_LLVM_BIN: '/nonexistent/bin' } }),
    );
    expect(set.match?.id).toBe('toolchain-override-invalid');
    expect(set.diagnosis).toContain(
      'nextrust-run: environment NEXTRUST_LLVM_BIN=/nonexistent/bin  (required, context)',
    );
    expect(set.diagnosis.match(/\.log:[0-9]+: nextrust-run: environment/g)).toHaveLength(1);
    const unset = await analyzeFailure(store, input, opts({ automation: false, env: {} }));
    expect(unset.match).toBeNull();
  });
});

describe('formatDiagnosis', () => {
  it('renders a scan the CLI made (no analysis): a user error without backoff lines even when a backoff is given', () => {
    const scan = scanLogText(fixture('user-error.type-error.log'), issues, { workspaceRoot: '/tmp/repro-ws' });
    const text = formatDiagnosis(
      {
        match: null,
        scan,
        escalation: { status: 'not-needed', summary: '' },
        warnings: [],
        backoff: { commit: COMMIT, failures: 3, inBackoff: true, message: 'paused' },
      },
      'b.log',
    );
    expect(text.split('\n')[0]).toBe('nextrust: user error: error[E0308]: mismatched types');
    expect(text).toContain('  (b.log:4)');
    expect(text).not.toMatch(/backoff:|paused|escalation/);
  });
});
