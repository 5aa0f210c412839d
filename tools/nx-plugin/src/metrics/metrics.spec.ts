// Covers the pipeline metrics: a status dir filled through StatusStore (nx_run, executor activities, phases,
// AI usage) and the exact metrics computed from it (join of executor records to Nx runs, window and lifetime,
// failure and cache-hit rates, nearest-rank quantiles, AI by model/kind/day); the Prometheus text output parsed
// line by line and checked for format validity and values; StatsD datagrams received on a real UDP socket
// (plain and DogStatsD tags); the Grafana dashboard's queries against the metric names; the metrics/report CLI.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { recordUsage, type UsageRecord } from '../ai/usage';
import { registerMetricsCommands, STATSD_CURSOR } from '../cli/commands/metrics';
import { findPhase, PHASES_FILE, phasesFileSchema } from '../pipeline/phases';
import { StatusStore, type Activity } from '../pipeline/status-store';
import { readValidatedJson } from '../pipeline/validated-file';
import { quantile } from './aggregate';
import { computeMetrics } from './compute';
import { escapeLabelValue, toPrometheus } from './export/prometheus';
import { sendStatsd, statsdMetrics, statsdSettings } from './export/statsd';
import { runsFromActivities } from './join';
import { JOIN_WINDOW_MS, type PipelineMetrics } from './types';

const repoRoot = path.resolve(__dirname, '../../../..');
const WORKSPACE_PHASES = path.join(repoRoot, 'projects/ci-status/phases.json');
const NOW = new Date('2026-03-10T12:00:00.000Z');
/** A model name that needs escaping in Prometheus labels. */
const ODD_MODEL = 'llama "local"\\q';

let dir: string;
let store: StatusStore;
let clockMs: number;
const at = (iso: string) => {
  clockMs = Date.parse(iso);
};

/** The filled status dir (fillStatusDir, once); each test works on a copy. */
let template: string;
beforeAll(async () => {
  template = dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-metrics-template-'));
  store = new StatusStore(dir, { now: () => new Date(clockMs) });
  await fillStatusDir();
});
afterAll(() => {
  fs.rmSync(template, { recursive: true, force: true });
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-metrics-'));
  fs.cpSync(template, dir, { recursive: true });
  store = new StatusStore(dir, { now: () => new Date(clockMs) });
  at(NOW.toISOString());
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One Nx task record as run-record.ts writes it. */
function task(id: string, status: string, duration_ms: number | null, code = status === 'failure' ? 1 : 0) {
  const [project, target, configuration] = id.split(':');
  return {
    id,
    project,
    target,
    configuration: configuration ?? null,
    status,
    cache: status === 'remote-cache' ? 'remote' : status.startsWith('local-cache') ? 'local' : null,
    duration_ms,
    code,
  };
}

async function nxRun(iso: string, tasks: ReturnType<typeof task>[]) {
  at(iso);
  await store.append('nx_run', { tasks, message: `nx ran ${tasks.length} task(s)` });
}

function usage(
  iso: string,
  kind: 'design' | 'review',
  model: string,
  input: number,
  output: number,
  cost: number | null,
): UsageRecord {
  return {
    timestamp: iso,
    kind,
    provider: model.startsWith('gemini') ? 'gemini' : 'openai',
    model,
    phase: 'rust-target',
    input_tokens: input,
    output_tokens: output,
    latency_ms: 1500,
    cost_usd: cost,
    session: null,
    pr: null,
  };
}

/**
 * The fixture: phases, a phase history, Nx runs on four days of the window
 * (2026-03-04 .. 2026-03-10) and one before it, executor records, a failed
 * command, AI usage. Expected values are worked out in the tests.
 */
async function fillStatusDir(): Promise<void> {
  fs.copyFileSync(WORKSPACE_PHASES, path.join(dir, PHASES_FILE));
  const phases = readValidatedJson(path.join(dir, PHASES_FILE), phasesFileSchema);
  const ph = (id: string) => findPhase(phases, id)!;

  // Before the window: an executor run from before nx_run recording existed.
  at('2026-02-20T09:00:00.000Z');
  await store.setPhase(ph('environment-setup'));
  at('2026-02-20T10:00:00.000Z');
  await store.append('target_succeeded', { task: 'llvm-m68k:toolchain', duration_ms: 3_600_000 });
  at('2026-03-02T08:00:00.000Z');
  await store.updatePhaseStatus('completed');
  await store.setPhase(ph('llvm-backend'));
  at('2026-03-05T08:00:00.000Z');
  await store.updatePhaseStatus('completed');
  await store.setPhase(ph('rust-target'));

  // 03-05: executor records, then the Nx run that contains them.
  at('2026-03-05T10:00:20.000Z');
  await store.append('target_succeeded', { task: 'llvm-m68k:atomics:m68000', cpu: 'm68000', duration_ms: 19_990 });
  at('2026-03-05T10:01:00.000Z');
  await store.append('target_failed', {
    task: 'rust-target:build:m68040',
    cpu: 'm68040',
    target_phase: 'rust-target',
    known_issue: 'crates-io-unreachable',
    log: 'failure-logs/2026-03-05-build.log',
    message: 'rust-target:build:m68040 failed: known issue crates-io-unreachable',
  });
  await nxRun('2026-03-05T10:02:00.000Z', [
    task('llvm-m68k:toolchain', 'local-cache', 150),
    task('llvm-m68k:atomics:m68000', 'success', 20_000),
    task('rust-target:build:m68040', 'failure', 45_000),
    task('rust-target:sysroot:m68040', 'remote-cache', 900),
  ]);

  // 03-06
  at('2026-03-06T09:05:00.000Z');
  await store.append('target_succeeded', { task: 'rust-target:sysroot:m68040', cpu: 'm68040', duration_ms: 299_000 });
  at('2026-03-06T09:06:00.000Z');
  await store.append('target_succeeded', { task: 'rust-target:build:m68040', cpu: 'm68040', duration_ms: 59_000 });
  await nxRun('2026-03-06T09:07:00.000Z', [
    task('llvm-m68k:toolchain', 'local-cache-kept-existing', 120),
    task('llvm-m68k:atomics:m68000', 'local-cache', 80),
    task('rust-target:sysroot:m68040', 'success', 300_000),
    task('rust-target:build:m68040', 'success', 60_000),
  ]);

  // 03-08: an unknown failure; the test that depends on it is skipped.
  at('2026-03-08T14:00:00.000Z');
  await store.append('target_failed', {
    task: 'rust-target:build:m68040',
    cpu: 'm68040',
    target_phase: 'rust-target',
    known_issue: null,
    message: 'rust-target:build:m68040 failed: unknown failure',
  });
  await nxRun('2026-03-08T14:00:30.000Z', [
    task('llvm-m68k:toolchain', 'local-cache', 100),
    task('rust-target:build:m68040', 'failure', 30_000),
    task('emulator-tests:test:m68040', 'skipped', null),
  ]);
  at('2026-03-08T15:00:00.000Z');
  await store.append('design_decision', {
    task: 'rust-target:build:m68040',
    error_hash: 'abc',
    cached: false,
    model: 'o3',
    summary: 'Vendor the crates for build-std',
    message: 'design decision',
  });

  // 03-09: a failed shell command (Claude Code hook), a run executed outside Nx, an
  // Nx failure without failure analysis, a non-CPU configuration.
  at('2026-03-09T08:00:00.000Z');
  await store.append('target_failed', {
    task: 'bash: cargo build --release',
    known_issue: null,
    message: 'bash: cargo build --release failed: unknown failure',
  });
  at('2026-03-09T09:00:00.000Z');
  await store.append('target_succeeded', { task: 'emulator-tests:test:m68030', cpu: 'm68030', duration_ms: 8_000 });
  await nxRun('2026-03-09T10:00:00.000Z', [
    task('rust-target:build:m68030', 'failure', 12_000, 101),
    task('ci-status:validate:production', 'success', 1_500),
  ]);
  at('2026-03-09T11:00:00.000Z');
  await store.append('review_completed', {
    phase: 'llvm-backend',
    base: 'main',
    files: 3,
    artifact: 'reviews/x.md',
    model: 'gemini-2.5-pro',
    cost_usd: 0.01225,
    message: 'review of phase llvm-backend',
  });

  await recordUsage(store, usage('2026-02-20T11:00:00.000Z', 'design', 'o3', 1_000, 500, 0.006));
  await recordUsage(store, usage('2026-03-05T10:05:00.000Z', 'design', 'o3', 1_200, 800, 0.0084));
  await recordUsage(store, usage('2026-03-08T15:00:00.000Z', 'design', 'o3', 2_000, 1_000, 0.012));
  await recordUsage(store, usage('2026-03-09T11:00:00.000Z', 'review', 'gemini-2.5-pro', 5_000, 600, 0.01225));
  await recordUsage(store, usage('2026-03-09T11:30:00.000Z', 'review', ODD_MODEL, 300, 100, null));
  at(NOW.toISOString());
}

describe('computeMetrics', () => {
  let m: PipelineMetrics;
  beforeEach(async () => {
    m = await computeMetrics(store, { days: 7, now: NOW });
  });

  it('covers the last 7 UTC days, today included, and knows the current phase', () => {
    expect(m.since).toBe('2026-03-04T00:00:00.000Z');
    expect(m.generated_at).toBe(NOW.toISOString());
    expect(m.current_phase).toMatchObject({ id: 'rust-target', status: 'in_progress' });
    expect(m.phases.map((p) => p.id)).toEqual([
      'environment-setup',
      'llvm-backend',
      'rust-target',
      'emulation-testing',
      'integration',
    ]);
    expect(m.warnings).toEqual([]);
  });

  it('counts each run once: executor records join their Nx run, unclaimed ones count alone', () => {
    const row = (target: string, cpu: string) => m.window.targets.find((t) => t.target === target && t.cpu === cpu);
    expect(m.window.targets.map((t) => `${t.target}/${t.cpu}`)).toEqual([
      'ci-status:validate/none',
      'emulator-tests:test/m68030',
      'emulator-tests:test/m68040',
      'llvm-m68k:atomics/m68000',
      'llvm-m68k:toolchain/none',
      'rust-target:build/m68030',
      'rust-target:build/m68040',
      'rust-target:sysroot/m68040',
    ]);
    expect(row('rust-target:build', 'm68040')).toMatchObject({
      phase: 'rust-target',
      runs: 3,
      executed: 3,
      succeeded: 1,
      failed: 2,
      cache_local: 0,
      cache_remote: 0,
      failure_rate: 2 / 3,
      cache_hit_rate: 0,
      by_result: { failure: 2, success: 1 },
      // Nx's durations, not the executors' own.
      duration: {
        count: 3,
        sum_ms: 135_000,
        mean_ms: 45_000,
        p50_ms: 45_000,
        p95_ms: 60_000,
        min_ms: 30_000,
        max_ms: 60_000,
      },
      last_run: '2026-03-08T14:00:30.000Z',
    });
    expect(row('llvm-m68k:toolchain', 'none')).toMatchObject({
      phase: 'environment-setup',
      runs: 3,
      executed: 0,
      cache_local: 3,
      duration: null,
      failure_rate: null,
      cache_hit_rate: 1,
    });
    expect(row('llvm-m68k:atomics', 'm68000')).toMatchObject({
      phase: 'llvm-backend',
      runs: 2,
      executed: 1,
      cache_local: 1,
      duration: { count: 1, p50_ms: 20_000, p95_ms: 20_000 },
    });
    expect(row('rust-target:sysroot', 'm68040')).toMatchObject({
      runs: 2,
      executed: 1,
      cache_remote: 1,
      duration: { p50_ms: 300_000 },
    });
    expect(row('emulator-tests:test', 'm68040')).toMatchObject({
      phase: 'emulation-testing',
      runs: 1,
      executed: 0,
      skipped: 1,
      duration: null,
    });
    // Ran outside Nx: only the executor's record.
    expect(row('emulator-tests:test', 'm68030')).toMatchObject({
      runs: 1,
      executed: 1,
      succeeded: 1,
      duration: { sum_ms: 8_000 },
    });
    expect(m.runs.find((r) => r.task === 'emulator-tests:test:m68030')?.source).toBe('executor');
    // A configuration that is not a CPU variant.
    expect(row('ci-status:validate', 'none')).toMatchObject({ phase: 'integration', runs: 1, executed: 1 });
    expect(row('rust-target:build', 'm68030')).toMatchObject({
      runs: 1,
      failed: 1,
      failure_rate: 1,
      duration: { p50_ms: 12_000 },
    });
  });

  it('computes totals, cache hit rate and failure rates by phase and CPU', () => {
    expect(m.window.totals).toEqual({
      runs: 14,
      executed: 8,
      succeeded: 5,
      failed: 3,
      cache_local: 4,
      cache_remote: 1,
      skipped: 1,
      cache_hit_rate: 5 / 13,
      failure_rate: 3 / 8,
    });
    const byPhase = Object.fromEntries(m.window.by_phase.map((p) => [p.phase, [p.failed, p.executed, p.failure_rate]]));
    expect(byPhase).toEqual({
      'environment-setup': [0, 0, null],
      'llvm-backend': [0, 1, 0],
      'rust-target': [3, 5, 0.6],
      'emulation-testing': [0, 1, 0],
      integration: [0, 1, 0],
    });
    expect(m.window.by_phase.map((p) => p.phase)).toEqual([
      'environment-setup',
      'llvm-backend',
      'rust-target',
      'emulation-testing',
      'integration',
    ]);
    const byCpu = Object.fromEntries(m.window.by_cpu.map((c) => [c.cpu, [c.failed, c.executed, c.failure_rate]]));
    expect(byCpu).toEqual({ m68000: [0, 1, 0], m68030: [1, 2, 0.5], m68040: [2, 4, 0.5], none: [0, 1, 0] });
    expect(m.window.by_cpu.map((c) => c.cpu)).toEqual(['m68000', 'm68030', 'm68040', 'none']);
    expect(m.window.by_phase_cpu.find((x) => x.phase === 'rust-target' && x.cpu === 'm68040')).toMatchObject({
      executed: 4,
      failed: 2,
      failure_rate: 0.5,
    });
  });

  it('keeps lifetime counts (for counters) apart from the window', () => {
    expect(m.lifetime.totals).toMatchObject({
      runs: 15,
      executed: 9,
      succeeded: 6,
      failed: 3,
      cache_local: 4,
      cache_remote: 1,
    });
    expect(m.lifetime.targets.find((t) => t.target === 'llvm-m68k:toolchain')).toMatchObject({
      runs: 4,
      executed: 1,
      duration: { count: 1, sum_ms: 3_600_000 },
    });
  });

  it('lists failures newest first, with the known issue, "not analysed" and failed commands', () => {
    expect(
      m.failures.map((f) => [f.timestamp.slice(5, 16), f.task, f.cpu, f.known_issue, f.analysed, f.source]),
    ).toEqual([
      ['03-09T10:00', 'rust-target:build:m68030', 'm68030', null, false, 'nx'],
      ['03-09T08:00', 'bash: cargo build --release', null, null, true, 'command'],
      ['03-08T14:00', 'rust-target:build:m68040', 'm68040', null, true, 'nx'],
      ['03-05T10:02', 'rust-target:build:m68040', 'm68040', 'crates-io-unreachable', true, 'nx'],
    ]);
    expect(m.failures[0].message).toBe('rust-target:build:m68030 failed (exit code 101)');
    expect(m.failures[3]).toMatchObject({
      phase: 'rust-target',
      log: 'failure-logs/2026-03-05-build.log',
      message: 'rust-target:build:m68040 failed: known issue crates-io-unreachable',
    });
  });

  it('sums AI tokens and cost by model and kind, by day and model, and lists decisions', () => {
    expect(m.ai.by_model_kind).toEqual([
      {
        model: 'gemini-2.5-pro',
        kind: 'review',
        calls: 1,
        input_tokens: 5_000,
        output_tokens: 600,
        cost_usd: 0.01225,
        unpriced_calls: 0,
      },
      {
        model: ODD_MODEL,
        kind: 'review',
        calls: 1,
        input_tokens: 300,
        output_tokens: 100,
        cost_usd: 0,
        unpriced_calls: 1,
      },
      {
        model: 'o3',
        kind: 'design',
        calls: 2,
        input_tokens: 3_200,
        output_tokens: 1_800,
        cost_usd: 0.0204,
        unpriced_calls: 0,
      },
    ]);
    expect(m.ai.total).toEqual({
      calls: 4,
      input_tokens: 8_500,
      output_tokens: 2_500,
      cost_usd: 0.03265,
      unpriced_calls: 1,
    });
    expect(m.ai.by_day_model.map((r) => [r.day, r.model, r.calls, r.cost_usd])).toEqual([
      ['2026-03-05', 'o3', 1, 0.0084],
      ['2026-03-08', 'o3', 1, 0.012],
      ['2026-03-09', 'gemini-2.5-pro', 1, 0.01225],
      ['2026-03-09', ODD_MODEL, 1, 0],
    ]);
    expect(m.ai.lifetime_by_model_kind.find((r) => r.model === 'o3')).toMatchObject({
      calls: 3,
      input_tokens: 4_200,
      output_tokens: 2_300,
      cost_usd: 0.0264,
    });
    expect(m.ai.events.map((ev) => [ev.type, ev.subject, ev.model])).toEqual([
      ['review_completed', 'llvm-backend', 'gemini-2.5-pro'],
      ['design_decision', 'rust-target:build:m68040', 'o3'],
    ]);
  });

  it('reads rotated archives for the lifetime and reports invalid lines as warnings', async () => {
    at('2026-03-10T12:00:00.000Z');
    // Rotation moves everything older than 7 days to archive/.
    const rot = await store.rotate({ maxAgeDays: 7 });
    expect(rot.archived).toBeGreaterThan(0);
    fs.appendFileSync(path.join(dir, 'pipeline-log.jsonl'), '{"not": "an activity"}\n');
    const after = await computeMetrics(store, { days: 7, now: NOW });
    expect(after.lifetime.totals).toEqual(m.lifetime.totals);
    expect(after.window.totals).toEqual(m.window.totals);
    expect(after.warnings).toEqual(['pipeline-log.jsonl: 1 invalid line(s) ignored (see nextrust status)']);
  });

  it('rejects a window that is not a whole number of days', async () => {
    await expect(computeMetrics(store, { days: 0 })).rejects.toThrow(RangeError);
    await expect(computeMetrics(store, { days: 1.5 })).rejects.toThrow('whole number');
  });
});

describe('runsFromActivities', () => {
  const act = (timestamp: string, type: string, details: Record<string, unknown>): Activity => ({
    timestamp,
    type,
    details,
  });

  it('joins an executor record only to a later Nx run of the same task and outcome, within the join window', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    const { runs } = runsFromActivities(
      [
        act(iso(0), 'target_succeeded', { task: 'p:build', duration_ms: 5 }),
        // Too late to claim the first record: both count.
        act(iso(JOIN_WINDOW_MS + 60_000), 'nx_run', { tasks: [task('p:build', 'success', 7)] }),
        act(iso(JOIN_WINDOW_MS + 120_000), 'target_failed', { task: 'p:build', known_issue: 'k1' }),
        // A success does not claim a failure record; the failure run does.
        act(iso(JOIN_WINDOW_MS + 180_000), 'nx_run', { tasks: [task('p:build', 'failure', 9)] }),
      ],
      undefined,
    );
    expect(runs.map((r) => [r.source, r.result, r.duration_ms, r.known_issue])).toEqual([
      ['executor', 'success', 5, undefined],
      ['nx', 'success', 7, undefined],
      ['nx', 'failure', 9, 'k1'],
    ]);
  });

  it('ignores malformed nx_run tasks with a warning', () => {
    const warnings: string[] = [];
    const { runs } = runsFromActivities(
      [act('2026-01-01T00:00:00.000Z', 'nx_run', { tasks: [{ id: 'x' }, task('p:t', 'success', 1)] })],
      undefined,
      warnings,
    );
    expect(runs).toHaveLength(1);
    expect(warnings).toEqual(['nx_run: 1 task record(s) without id, project, target or status ignored']);
  });

  it('uses nearest-rank quantiles', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(
      quantile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
    expect(quantile([7], 0.5)).toBe(7);
  });
});

// ---------------------------------------------------------------------------
// Prometheus text format
// ---------------------------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

/** Parses label pairs `a="x",b="y\"z"` strictly (exposition format 0.0.4); throws on anything else. */
function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!name) throw new Error(`bad label name in: ${line}`);
    i += name[0].length;
    if (text.slice(i, i + 2) !== '="') throw new Error(`expected =" in: ${line}`);
    i += 2;
    let value = '';
    for (;;) {
      if (i >= text.length) throw new Error(`unterminated label value in: ${line}`);
      const c = text[i];
      if (c === '"') break;
      if (c === '\n') throw new Error(`raw newline in label value: ${line}`);
      if (c === '\\') {
        const n = text[i + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new Error(`bad escape \\${n} in: ${line}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++; // closing quote
    if (name[0] in out) throw new Error(`duplicate label ${name[0]} in: ${line}`);
    out[name[0]] = value;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`expected , in: ${line}`);
      i++;
    }
  }
  return out;
}

/** Parses and validates a whole exposition; throws with the offending line. */
function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      if (families.has(m[1])) throw new Error(`family ${m[1]} declared twice`);
      current = { name: m[1], help: m[2], type: '', samples: [] };
      families.set(m[1], current);
      continue;
    }
    if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`).exec(line))) {
      if (!current || current.name !== m[1] || current.type || current.samples.length)
        throw new Error(`TYPE out of place: ${line}`);
      current.type = m[2];
      continue;
    }
    if (line.startsWith('#') || !line.trim()) throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, valueText] = m;
    if (!/^(NaN|[+-]Inf|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/.test(valueText))
      throw new Error(`bad value in: ${line}`);
    if (!current?.type) throw new Error(`sample before HELP/TYPE: ${line}`);
    const labels = labelText ? parseLabels(labelText, line) : {};
    if (current.type === 'summary') {
      const ok =
        (name === current.name && 'quantile' in labels) ||
        name === `${current.name}_sum` ||
        name === `${current.name}_count`;
      if (!ok) throw new Error(`not a summary sample of ${current.name}: ${line}`);
    } else if (name !== current.name) {
      throw new Error(`sample ${name} inside family ${current.name}`);
    }
    if (current.type === 'counter' && !name.endsWith('_total')) throw new Error(`counter without _total: ${name}`);
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.add(key);
    current.samples.push({
      name,
      labels,
      value:
        valueText === 'NaN'
          ? NaN
          : valueText === '+Inf'
            ? Infinity
            : valueText === '-Inf'
              ? -Infinity
              : Number(valueText),
    });
  }
  for (const f of families.values()) if (!f.type) throw new Error(`family ${f.name} without TYPE`);
  return families;
}

/** The value of the one sample with exactly these labels. */
function sample(
  families: Map<string, Family>,
  family: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const f = families.get(family);
  const hits = f?.samples.filter(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  );
  if (!hits?.length) return undefined;
  expect(hits).toHaveLength(1);
  return hits[0].value;
}

describe('toPrometheus', () => {
  let m: PipelineMetrics;
  let text: string;
  let fams: Map<string, Family>;
  beforeEach(async () => {
    m = await computeMetrics(store, { days: 7, now: NOW });
    text = toPrometheus(m);
    fams = parseExposition(text);
  });

  it('writes valid exposition text with HELP and TYPE for every family', () => {
    expect([...fams.values()].map((f) => [f.name, f.type])).toEqual([
      ['nextrust_task_runs_total', 'counter'],
      ['nextrust_task_duration_ms', 'summary'],
      ['nextrust_cache_hits_total', 'counter'],
      ['nextrust_cache_hit_rate', 'gauge'],
      ['nextrust_failure_rate', 'gauge'],
      ['nextrust_ai_calls_total', 'counter'],
      ['nextrust_ai_tokens_total', 'counter'],
      ['nextrust_ai_cost_usd_total', 'counter'],
      ['nextrust_current_phase', 'gauge'],
      ['nextrust_metrics_window_seconds', 'gauge'],
      ['nextrust_metrics_generated_timestamp_seconds', 'gauge'],
    ]);
    for (const f of fams.values()) expect(f.help.length).toBeGreaterThan(10);
  });

  it('counts runs over the lifetime by target, CPU, phase and result', () => {
    const runs = (target: string, cpu: string, phase: string, result: string) =>
      sample(fams, 'nextrust_task_runs_total', 'nextrust_task_runs_total', {
        project: target.split(':')[0],
        target,
        cpu,
        phase,
        result,
      });
    expect(runs('rust-target:build', 'm68040', 'rust-target', 'failure')).toBe(2);
    expect(runs('rust-target:build', 'm68040', 'rust-target', 'success')).toBe(1);
    expect(runs('llvm-m68k:toolchain', 'none', 'environment-setup', 'local_cache')).toBe(3);
    expect(runs('llvm-m68k:toolchain', 'none', 'environment-setup', 'success')).toBe(1); // before the window
    expect(runs('emulator-tests:test', 'm68040', 'emulation-testing', 'skipped')).toBe(1);
    expect(fams.get('nextrust_task_runs_total')!.samples.reduce((s, x) => s + x.value, 0)).toBe(15);
  });

  it('exports durations as a summary: window quantiles, lifetime sum and count', () => {
    const labels = { project: 'rust-target', target: 'rust-target:build', cpu: 'm68040', phase: 'rust-target' };
    const d = (name: string, extra: Record<string, string> = {}) =>
      sample(fams, 'nextrust_task_duration_ms', name, { ...labels, ...extra });
    expect(d('nextrust_task_duration_ms', { quantile: '0.5' })).toBe(45_000);
    expect(d('nextrust_task_duration_ms', { quantile: '0.95' })).toBe(60_000);
    expect(d('nextrust_task_duration_ms_sum')).toBe(135_000);
    expect(d('nextrust_task_duration_ms_count')).toBe(3);
    // Executed only before the window: sum and count, no quantile.
    const tc = { project: 'llvm-m68k', target: 'llvm-m68k:toolchain', cpu: 'none', phase: 'environment-setup' };
    expect(sample(fams, 'nextrust_task_duration_ms', 'nextrust_task_duration_ms_sum', tc)).toBe(3_600_000);
    expect(
      sample(fams, 'nextrust_task_duration_ms', 'nextrust_task_duration_ms', { ...tc, quantile: '0.5' }),
    ).toBeUndefined();
    // Never executed: no series.
    expect(
      fams
        .get('nextrust_task_duration_ms')!
        .samples.some((s) => s.labels.target === 'emulator-tests:test' && s.labels.cpu === 'm68040'),
    ).toBe(false);
  });

  it('exports cache hits, the hit rate and failure rates by phase and CPU', () => {
    expect(sample(fams, 'nextrust_cache_hits_total', 'nextrust_cache_hits_total', { source: 'local' })).toBe(4);
    expect(sample(fams, 'nextrust_cache_hits_total', 'nextrust_cache_hits_total', { source: 'remote' })).toBe(1);
    expect(sample(fams, 'nextrust_cache_hit_rate', 'nextrust_cache_hit_rate', {})).toBe(5 / 13);
    const rate = (phase: string, cpu: string) =>
      sample(fams, 'nextrust_failure_rate', 'nextrust_failure_rate', { phase, cpu });
    expect(rate('all', 'all')).toBe(0.375);
    expect(rate('rust-target', 'all')).toBe(0.6);
    expect(rate('llvm-backend', 'all')).toBe(0);
    expect(rate('environment-setup', 'all')).toBeUndefined(); // nothing executed
    expect(rate('all', 'm68030')).toBe(0.5);
    expect(rate('all', 'm68040')).toBe(0.5);
    expect(rate('rust-target', 'm68030')).toBe(1);
  });

  it('exports AI calls, tokens and cost, escaping label values', () => {
    const tok = (model: string, kind: string, direction: string) =>
      sample(fams, 'nextrust_ai_tokens_total', 'nextrust_ai_tokens_total', { model, kind, direction });
    expect(tok('o3', 'design', 'input')).toBe(4_200);
    expect(tok('o3', 'design', 'output')).toBe(2_300);
    expect(tok('gemini-2.5-pro', 'review', 'input')).toBe(5_000);
    expect(tok(ODD_MODEL, 'review', 'output')).toBe(100);
    expect(sample(fams, 'nextrust_ai_cost_usd_total', 'nextrust_ai_cost_usd_total', { model: 'o3' })).toBe(0.0264);
    expect(sample(fams, 'nextrust_ai_cost_usd_total', 'nextrust_ai_cost_usd_total', { model: ODD_MODEL })).toBe(0);
    expect(sample(fams, 'nextrust_ai_calls_total', 'nextrust_ai_calls_total', { model: 'o3', kind: 'design' })).toBe(3);
    // The raw text carries the escaped form.
    expect(text).toContain('nextrust_ai_cost_usd_total{model="llama \\"local\\"\\\\q"} 0\n');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('exports the current phase and the window', () => {
    expect(
      sample(fams, 'nextrust_current_phase', 'nextrust_current_phase', {
        phase: 'rust-target',
        name: 'Rust Target Specification',
        status: 'in_progress',
      }),
    ).toBe(1);
    expect(sample(fams, 'nextrust_metrics_window_seconds', 'nextrust_metrics_window_seconds', {})).toBe(7 * 86_400);
    expect(
      sample(fams, 'nextrust_metrics_generated_timestamp_seconds', 'nextrust_metrics_generated_timestamp_seconds', {}),
    ).toBe(NOW.getTime() / 1000);
  });

  it('keeps apart projects whose project:target labels coincide (a project named with a colon)', async () => {
    const run = (project: string, target: string) => ({
      ...task('p:t', 'success', 1000),
      id: `${project}:${target}`,
      project,
      target,
    });
    await nxRun('2026-03-09T12:00:00.000Z', [run('a:b', 'c'), run('a', 'b:c')]);
    const f = parseExposition(toPrometheus(await computeMetrics(store, { days: 7, now: NOW })));
    for (const family of ['nextrust_task_runs_total', 'nextrust_task_duration_ms']) {
      const series = f.get(family)!.samples.filter((s) => s.labels.target === 'a:b:c' && !s.labels.quantile);
      expect(series.map((s) => `${s.name} ${s.labels.project}`).sort()).toEqual(
        family === 'nextrust_task_runs_total'
          ? [`${family} a`, `${family} a:b`]
          : [`${family}_count a`, `${family}_count a:b`, `${family}_sum a`, `${family}_sum a:b`],
      );
    }
    // No two samples of any family share a name and labels.
    for (const fam of f.values()) {
      const keys = fam.samples.map((s) => s.name + JSON.stringify(Object.entries(s.labels).sort()));
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('is valid for an empty status dir', async () => {
    const empty = await computeMetrics(new StatusStore(fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-empty-'))), {
      now: NOW,
    });
    const f = parseExposition(toPrometheus(empty));
    expect(f.get('nextrust_task_runs_total')!.samples).toEqual([]);
    expect(sample(f, 'nextrust_cache_hits_total', 'nextrust_cache_hits_total', { source: 'local' })).toBe(0);
    fs.rmSync(empty.status_dir, { recursive: true, force: true });
  });

  it('matches the metric names the Grafana dashboard queries', () => {
    const dash = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs/grafana-dashboard.json'), 'utf8'));
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(39);
    const dsVar = dash.templating.list.find((v: { type: string }) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ query: 'prometheus' });
    const exprs: string[] = [];
    const ids = new Set<number>();
    const walk = (
      panels: {
        id: number;
        datasource?: { uid: string };
        targets?: { expr: string }[];
        panels?: unknown[];
        type: string;
      }[],
    ) => {
      for (const p of panels) {
        expect(ids.has(p.id)).toBe(false);
        ids.add(p.id);
        if (p.type === 'row') {
          walk((p.panels ?? []) as never);
          continue;
        }
        expect(p.datasource?.uid).toBe(`\${${dsVar.name}}`);
        for (const t of p.targets ?? []) exprs.push(t.expr);
      }
    };
    walk(dash.panels);
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    const exported = new Set<string>();
    for (const f of fams.values()) for (const s of f.samples) exported.add(s.name);
    for (const f of fams.values()) exported.add(f.name);
    const used = new Set(exprs.flatMap((x) => x.match(/nextrust_[a-z_]+/g) ?? []));
    for (const name of used) expect([name, exported.has(name)]).toEqual([name, true]);
    for (const want of [
      'nextrust_task_duration_ms',
      'nextrust_cache_hit_rate',
      'nextrust_failure_rate',
      'nextrust_ai_tokens_total',
      'nextrust_ai_cost_usd_total',
    ])
      expect(used).toContain(want);
  });
});

// ---------------------------------------------------------------------------
// StatsD on a real UDP socket
// ---------------------------------------------------------------------------

/** A UDP server on 127.0.0.1 that keeps every line it receives. */
async function udpServer(): Promise<{
  port: number;
  lines: string[];
  close: () => Promise<void>;
  waitFor: (n: number) => Promise<void>;
}> {
  const socket = dgram.createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (msg) => lines.push(...msg.toString('utf8').split('\n').filter(Boolean)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    lines,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
    waitFor: async (n) => {
      const until = Date.now() + 5000;
      while (lines.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

/** `name:value|type[|#tags]` → parts. */
function parseStatsd(line: string): { name: string; value: number; type: string; tags?: string } {
  const m = /^([^:|]+):([^|]+)\|(c|g|ms)(?:\|#(.*))?$/.exec(line);
  if (!m) throw new Error(`not a StatsD line: ${line}`);
  return { name: m[1], value: Number(m[2]), type: m[3], ...(m[4] !== undefined ? { tags: m[4] } : {}) };
}

describe('sendStatsd', () => {
  let m: PipelineMetrics;
  beforeEach(async () => {
    m = await computeMetrics(store, { days: 7, now: NOW });
  });

  it('sends nothing when STATSD_HOST is not set', async () => {
    await expect(sendStatsd(m, {})).resolves.toBe(0);
    expect(statsdSettings({})).toBeUndefined();
  });

  it('rejects an invalid port or tag mode', async () => {
    await expect(sendStatsd(m, { STATSD_HOST: '127.0.0.1', STATSD_PORT: '99999' })).rejects.toThrow('STATSD_PORT');
    expect(() => statsdSettings({ STATSD_HOST: 'h', STATSD_TAGS: 'influx' })).toThrow('STATSD_TAGS');
  });

  it('sends gauges, counters and timings as datagrams a StatsD server receives', async () => {
    const server = await udpServer();
    try {
      const since = '2026-03-08T12:00:00.000Z';
      const sent = await sendStatsd(m, { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(server.port) }, { since });
      expect(sent).toBe(statsdMetrics(m, since).length);
      await server.waitFor(sent);
      expect(server.lines).toHaveLength(sent);
      const got = server.lines.map(parseStatsd);
      const find = (name: string, type: string) => got.filter((g) => g.name === name && g.type === type);
      for (const g of got) {
        expect(g.name).toMatch(/^nextrust\.[A-Za-z0-9_.-]+$/);
        expect(g.tags).toBeUndefined();
      }
      // Gauges: the window snapshot.
      expect(find('nextrust.cache.hit_rate', 'g')).toEqual([
        { name: 'nextrust.cache.hit_rate', value: 5 / 13, type: 'g' },
      ]);
      expect(find('nextrust.failure_rate.phase.rust-target', 'g')[0].value).toBe(0.6);
      expect(find('nextrust.failure_rate.cpu.m68030', 'g')[0].value).toBe(0.5);
      expect(find('nextrust.task.duration_p50_ms.rust-target.build.m68040', 'g')[0].value).toBe(45_000);
      expect(find('nextrust.task.duration_p95_ms.rust-target.build.m68040', 'g')[0].value).toBe(60_000);
      // Counters and timings: only events after `since` (03-08 14:00 run, 03-09 runs and AI calls).
      const runs = got.filter((g) => g.name.startsWith('nextrust.task.runs.'));
      expect(runs.map((g) => `${g.name}:${g.value}`).sort()).toEqual(
        [
          'nextrust.task.runs.ci-status.validate.none.success:1',
          'nextrust.task.runs.emulator-tests.test.m68030.success:1',
          'nextrust.task.runs.emulator-tests.test.m68040.skipped:1',
          'nextrust.task.runs.llvm-m68k.toolchain.none.local_cache:1',
          'nextrust.task.runs.rust-target.build.m68030.failure:1',
          'nextrust.task.runs.rust-target.build.m68040.failure:1',
        ].sort(),
      );
      expect(runs.every((g) => g.type === 'c')).toBe(true);
      expect(find('nextrust.cache.hits.local', 'c')).toHaveLength(1);
      expect(
        got
          .filter((g) => g.type === 'ms')
          .map((g) => `${g.name}:${g.value}`)
          .sort(),
      ).toEqual(
        [
          'nextrust.task.duration.ci-status.validate.none:1500',
          'nextrust.task.duration.emulator-tests.test.m68030:8000',
          'nextrust.task.duration.rust-target.build.m68030:12000',
          'nextrust.task.duration.rust-target.build.m68040:30000',
        ].sort(),
      );
      expect(find('nextrust.ai.tokens.gemini-2_5-pro.review.input', 'c')[0].value).toBe(5_000);
      expect(find('nextrust.ai.cost_usd.gemini-2_5-pro', 'c')[0].value).toBe(0.01225);
      // The odd model name is made safe for the protocol.
      expect(find('nextrust.ai.calls.llama__local__q.review', 'c')).toHaveLength(1);
      // Nothing from before `since`.
      expect(got.some((g) => g.name.includes('sysroot') && g.type !== 'g')).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('sends DogStatsD tags when STATSD_TAGS=dogstatsd, with STATSD_PREFIX', async () => {
    const server = await udpServer();
    try {
      const sent = await sendStatsd(
        m,
        { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(server.port), STATSD_TAGS: 'dogstatsd', STATSD_PREFIX: 'ci' },
        { since: '2026-03-09T09:30:00.000Z' },
      );
      await server.waitFor(sent);
      const got = server.lines.map(parseStatsd);
      expect(got).toContainEqual({
        name: 'ci.task.runs',
        value: 1,
        type: 'c',
        tags: 'project:rust-target,target:build,cpu:m68030,result:failure',
      });
      expect(got).toContainEqual({ name: 'ci.failure_rate.phase', value: 0.6, type: 'g', tags: 'phase:rust-target' });
      expect(got).toContainEqual({
        name: 'ci.task.duration',
        value: 12_000,
        type: 'ms',
        tags: 'project:rust-target,target:build,cpu:m68030',
      });
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------
// CLI: metrics and report
// ---------------------------------------------------------------------------

describe('metrics and report commands', () => {
  async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    let exitCode = 0;
    const program = new Command('nextrust')
      .exitOverride()
      .configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
    // A variable rather than a literal: the commands take the part of the CLI's context they use.
    const context = {
      store: () => store,
      io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), cwd: dir, env },
      setExitCode: (c: number) => (exitCode = c),
      usageError: (msg: string) => Object.assign(new Error(msg), { usage: true }),
    };
    registerMetricsCommands(program, context);
    for (const c of program.commands) c.exitOverride();
    let error: Error | undefined;
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (e) {
      error = e as Error;
    }
    return { out: out.join(''), err: err.join(''), exitCode, error };
  }

  it('prints a summary and writes the Prometheus file atomically', async () => {
    // The fixture is dated March 2026: a window long enough to reach it from today.
    const r = await run(['metrics', '--days', '3650', '--prometheus', 'out/nextrust.prom']);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain('Pipeline metrics, last 3650 day(s)');
    expect(r.out).toMatch(/rust-target:build\s+m68040\s+rust-target\s+3\s+3\s+0\s+2\s+45000\s+60000\s+45000/);
    expect(r.out).toContain('cache hit rate: 35.7%'); // 5 of 14 with the pre-window run
    expect(r.out).toContain(`wrote ${path.join(dir, 'out/nextrust.prom')}`);
    const prom = parseExposition(fs.readFileSync(path.join(dir, 'out/nextrust.prom'), 'utf8'));
    expect(prom.get('nextrust_task_runs_total')!.samples.length).toBeGreaterThan(5);
    expect(fs.readdirSync(path.join(dir, 'out'))).toEqual(['nextrust.prom']);
  });

  it('prints JSON with --json', async () => {
    const r = await run(['metrics', '--days', '3650', '--json']);
    const j = JSON.parse(r.out);
    expect(j.window.totals.runs).toBe(15);
    expect(j.ai.total.calls).toBe(5);
  });

  it('refuses --statsd without STATSD_HOST and bad --days', async () => {
    expect((await run(['metrics', '--statsd'])).error?.message).toContain('--statsd needs STATSD_HOST');
    expect((await run(['metrics', '--days', '0'])).error).toBeDefined();
    expect((await run(['metrics'], { STATSD_HOST: 'h', STATSD_PORT: 'x' })).error?.message).toContain('STATSD_PORT');
  });

  it('sends StatsD when STATSD_HOST is set, each event once (cursor)', async () => {
    const server = await udpServer();
    try {
      const env = { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(server.port) };
      const first = await run(['metrics', '--days', '3650'], env);
      expect(first.exitCode).toBe(0);
      const n1 = Number(/sent (\d+) metric/.exec(first.out)?.[1]);
      await server.waitFor(n1);
      expect(server.lines.filter((l) => l.includes('.task.runs.'))).toHaveLength(15);
      expect(JSON.parse(fs.readFileSync(path.join(dir, STATSD_CURSOR), 'utf8')).sent_until).toMatch(/^\d{4}-/);
      server.lines.length = 0;
      const second = await run(['metrics', '--days', '3650', '--statsd'], env);
      const n2 = Number(/sent (\d+) metric/.exec(second.out)?.[1]);
      await server.waitFor(n2);
      // Gauges again, no counter or timing twice.
      expect(n2).toBeGreaterThan(0);
      expect(server.lines.every((l) => l.endsWith('|g'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('writes the report to <status dir>/report.html by default, or --out', async () => {
    const r = await run(['report', '--days', '3650']);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe(`wrote ${path.join(dir, 'report.html')}\n`);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Rust Target Specification');
    const r2 = await run(['report', '--out', 'site/r.html', '--days', '2']);
    expect(r2.out).toBe(`wrote ${path.join(dir, 'site/r.html')}\n`);
  });
});
