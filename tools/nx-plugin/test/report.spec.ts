// Covers `nextrust report`'s HTML: a week of realistic pipeline activity (Nx runs over the CPU matrix, cache hits,
// known and unknown failures, a phase history, AI usage) rendered to a temp file; its content, that it is
// self-contained (no script, no external asset) and that data is escaped (a `<script>` planted in a failure
// message, a design summary and a phase message); then the real thing: Debian's Chromium opens it headless,
// its DOM is dumped (no script element came through) and a screenshot is taken and checked (decoded by pngjs:
// size, pixels actually drawn).
//
// Needs /usr/bin/chromium (apt-get install chromium; scripts/setup.sh). NEXTRUST_REPORT_SCREENSHOT=<file>
// keeps a copy of the screenshot (and of the report, as <file>.html).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordUsage } from '../src/ai/usage';
import { computeMetrics, type PipelineMetrics } from '../src/metrics';
import { escapeHtml, formatDuration, renderReport } from '../src/metrics/report';
import { findPhase, PHASES_FILE, phasesFileSchema } from '../src/pipeline/phases';
import { StatusStore } from '../src/pipeline/status-store';
import { readValidatedJson } from '../src/pipeline/validated-file';
import { PNG } from 'pngjs';

const repoRoot = path.resolve(__dirname, '../../..');
const CHROMIUM = '/usr/bin/chromium';
const NOW = new Date('2026-03-10T15:30:00.000Z');
const PLANTED = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';
/** A task whose configuration is markup, and a known issue whose id has every character HTML escapes. */
const SCRIPT_TASK = 'rust-target:build:<script>alert(1)</script>';
const QUOTE_ISSUE = `known-"&<>'`;

let dir: string;
let store: StatusStore;
let clockMs = 0;
const at = (iso: string | number) => {
  clockMs = typeof iso === 'number' ? iso : Date.parse(iso);
};

/** Deterministic pseudo-random numbers (LCG), so the fixture is the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A week of pipeline life, the last day being NOW. */
async function fillStatusDir(): Promise<void> {
  fs.copyFileSync(path.join(repoRoot, 'projects/ci-status/phases.json'), path.join(dir, PHASES_FILE));
  const phases = readValidatedJson(path.join(dir, PHASES_FILE), phasesFileSchema);
  const ph = (id: string) => findPhase(phases, id)!;
  at('2026-03-03T08:00:00.000Z');
  await store.setPhase(ph('environment-setup'));
  at('2026-03-03T20:00:00.000Z');
  await store.updatePhaseStatus('completed');
  at('2026-03-04T07:00:00.000Z');
  await store.setPhase(ph('llvm-backend'));
  at('2026-03-05T16:00:00.000Z');
  await store.updatePhaseStatus('failed', 'atomics fail on the 68000');
  at('2026-03-06T09:00:00.000Z');
  await store.setPhase(ph('llvm-backend'), 'in_progress', 'retry with spinlock atomics');
  at('2026-03-07T18:00:00.000Z');
  await store.updatePhaseStatus('completed');
  at('2026-03-08T08:00:00.000Z');
  await store.setPhase(ph('rust-target'), 'in_progress', `build-std for all CPUs ${PLANTED}`);

  const rand = rng(42);
  const cpus = ['m68000', 'm68030', 'm68040', 'm68060'];
  const base: Record<string, number> = {
    'llvm-m68k:atomics': 25_000,
    'rust-target:sysroot': 240_000,
    'rust-target:build': 70_000,
    'emulator-tests:test': 18_000,
  };
  for (let day = 4; day <= 10; day++) {
    for (const hour of [9, 14, 19]) {
      const t = Date.parse(`2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`);
      if (t > NOW.getTime()) continue;
      const tasks: Record<string, unknown>[] = [];
      const add = (id: string, status: string, duration: number | null) => {
        const [project, target, configuration] = id.split(':');
        tasks.push({
          id,
          project,
          target,
          configuration: configuration ?? null,
          status,
          cache: status === 'remote-cache' ? 'remote' : status === 'local-cache' ? 'local' : null,
          duration_ms: duration,
          code: status === 'failure' ? 1 : 0,
        });
      };
      add('llvm-m68k:toolchain', rand() < 0.9 ? 'local-cache' : 'remote-cache', 120);
      for (const cpu of cpus) {
        for (const [target, ms] of Object.entries(base)) {
          if (target === 'emulator-tests:test' && (cpu === 'm68000' || cpu === 'm68060')) continue;
          if (target.startsWith('rust-target') && day < 8) continue;
          if (target === 'emulator-tests:test' && day < 9) continue;
          const r = rand();
          if (r < 0.45) add(`${target}:${cpu}`, r < 0.3 ? 'local-cache' : 'remote-cache', 300);
          else {
            const fail =
              (target === 'rust-target:build' && cpu === 'm68000' && r > 0.7) ||
              (target === 'llvm-m68k:atomics' && cpu === 'm68000' && day === 5) ||
              r > 0.97;
            const duration = Math.round(ms * (0.7 + rand() * 0.9));
            if (fail) {
              at(t - 60_000);
              const known =
                target === 'llvm-m68k:atomics' ? 'atomic-spinlock-m68k' : rand() < 0.5 ? 'crates-io-unreachable' : null;
              await store.append('target_failed', {
                task: `${target}:${cpu}`,
                cpu,
                known_issue: known,
                message: known
                  ? `${target}:${cpu} failed: known issue ${known}`
                  : `${target}:${cpu} failed: unknown failure`,
              });
            }
            add(`${target}:${cpu}`, fail ? 'failure' : 'success', duration);
          }
        }
      }
      at(t);
      await store.append('nx_run', { tasks, message: `nx ran ${tasks.length} task(s)` });
    }
  }
  // A failed task named with markup, whose failure matched a known issue named with quotes.
  at('2026-03-10T14:29:00.000Z');
  await store.append('target_failed', { task: SCRIPT_TASK, known_issue: QUOTE_ISSUE, message: 'failed' });
  at('2026-03-10T14:30:00.000Z');
  await store.append('nx_run', {
    tasks: [
      {
        id: SCRIPT_TASK,
        project: 'rust-target',
        target: 'build',
        configuration: '<script>alert(1)</script>',
        status: 'failure',
        cache: null,
        duration_ms: 1_000,
        code: 1,
      },
    ],
  });
  // The planted failure: log text with markup reaches the message.
  at('2026-03-10T15:00:00.000Z');
  await store.append('target_failed', {
    task: 'rust-target:build:m68030',
    cpu: 'm68030',
    known_issue: null,
    message: `error: ${PLANTED}`,
  });
  at('2026-03-10T15:01:00.000Z');
  await store.append('nx_run', {
    tasks: [
      {
        id: 'rust-target:build:m68030',
        project: 'rust-target',
        target: 'build',
        configuration: 'm68030',
        status: 'failure',
        cache: null,
        duration_ms: 64_000,
        code: 101,
      },
    ],
  });
  at('2026-03-10T15:05:00.000Z');
  await store.append('flaky_task', {
    task: 'emulator-tests:test:m68030',
    hash: '1234567890abcdef',
    passed: 3,
    failed: 1,
    cause: 'emulator-timeout',
    message: 'flaky',
  });
  await store.append('flaky_task', {
    task: `rust-target:test:${PLANTED}`,
    hash: 'fedcba0987654321',
    passed: 1,
    failed: 1,
    cause: null,
    message: 'flaky',
  });
  fs.writeFileSync(
    path.join(dir, 'precision.json'),
    JSON.stringify({
      issues: {
        'linker-not-found': { confirmed: 1, rejected: 3, precision: 0.25 },
        'nightly-required': { confirmed: 4, rejected: 0, precision: 1 },
        [QUOTE_ISSUE]: { confirmed: 2, rejected: 0, precision: 1 },
      },
    }),
  );
  at('2026-03-10T15:10:00.000Z');
  await store.append('design_decision', {
    task: 'rust-target:build:m68030',
    cached: false,
    model: 'o3',
    summary: `Pin the crate ${PLANTED}`,
    message: 'design decision',
  });

  const models: [string, 'openai' | 'gemini', number, number][] = [
    ['o3', 'openai', 2 / 1e6, 8 / 1e6],
    ['gemini-2.5-pro', 'gemini', 1.25 / 1e6, 10 / 1e6],
  ];
  for (let day = 4; day <= 10; day++) {
    for (const [model, provider, pin, pout] of models) {
      const calls = Math.floor(rand() * 4);
      for (let c = 0; c < calls; c++) {
        const input = 2_000 + Math.floor(rand() * 30_000);
        const output = 500 + Math.floor(rand() * 6_000);
        await recordUsage(store, {
          timestamp: `2026-03-${String(day).padStart(2, '0')}T1${c}:00:00.000Z`,
          kind: provider === 'openai' ? 'design' : 'review',
          provider,
          model,
          phase: 'rust-target',
          input_tokens: input,
          output_tokens: output,
          latency_ms: 4_000,
          cost_usd: Math.round((input * pin + output * pout) * 1e6) / 1e6,
          session: null,
          pr: null,
        });
      }
    }
  }
  at(NOW.getTime());
}

let metrics: PipelineMetrics;
let html: string;
let reportFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-report-'));
  store = new StatusStore(dir, { now: () => new Date(clockMs) });
  await fillStatusDir();
  metrics = await computeMetrics(store, { days: 7, now: NOW });
  html = renderReport(metrics, store.readState().state);
  reportFile = path.join(dir, 'report.html');
  fs.writeFileSync(reportFile, html);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('renderReport', () => {
  it('shows the current phase, the timeline, durations, cache, failures and AI cost', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<div class="v">3 · Rust Target Specification</div>');
    expect(html).toContain('>in progress</span>');
    // Timeline rows for every phase; two segments of llvm-backend (failed, then completed).
    for (const p of [
      '1 · Environment Setup',
      '2 · LLVM Backend Modifications',
      '4 · Emulation Testing',
      '5 · Integration',
    ])
      expect(html).toContain(`>${p}</text>`);
    expect(html.match(/LLVM Backend Modifications: (failed|completed)/g)).toEqual([
      'LLVM Backend Modifications: failed',
      'LLVM Backend Modifications: completed',
    ]);
    expect(html).toContain('>not started</text>');
    // Durations per target and CPU, with p50/p95 from the metrics.
    const build = metrics.window.targets.find((t) => t.target === 'rust-target:build' && t.cpu === 'm68040')!;
    expect(build.duration).not.toBeNull();
    expect(html).toContain(
      `aria-label="p50 ${escapeHtml(formatDuration(build.duration!.p50_ms))}, p95 ${escapeHtml(formatDuration(build.duration!.p95_ms))}"`,
    );
    // Cache hit rate as a big number.
    const rate = `${Math.round(metrics.window.totals.cache_hit_rate! * 100)}%`;
    expect(html).toMatch(new RegExp(`<div class="big"[^>]*>${rate}</div>`));
    // Failures: known issue, unknown, newest first.
    expect(html).toContain('<span class="tag known">atomic-spinlock-m68k</span>');
    expect(html).toContain('<span class="tag unknown">unknown</span>');
    const failuresStart = html.indexOf('Recent failures');
    expect(html.indexOf('2026-03-10 15:01', failuresStart)).toBeGreaterThan(failuresStart);
    // AI cost by day and model, with the total.
    expect(html).toContain('<td class="mono">2026-03-10</td>');
    expect(html).toContain(
      `$${metrics.ai.total.cost_usd < 1 ? metrics.ai.total.cost_usd.toFixed(4) : metrics.ai.total.cost_usd.toFixed(2)}`,
    );
    expect(metrics.ai.total.calls).toBeGreaterThan(5);
  });

  it('lists flaky tasks (the same inputs passed and failed) with their counts and cause, newest first', () => {
    expect(metrics.flaky.map((f) => [f.task.slice(0, 25), f.passed, f.failed, f.cause])).toEqual([
      ['rust-target:test:<script>', 1, 1, null],
      ['emulator-tests:test:m6803', 3, 1, 'emulator-timeout'],
    ]);
    const start = html.indexOf('Flaky tasks');
    expect(start).toBeGreaterThan(0);
    const section = html.slice(start, html.indexOf('</section>', start));
    expect(section).toContain(
      '<code>emulator-tests:test:m68030</code></td><td class="mono">1234567890ab</td><td class="n">3</td><td class="n">1</td><td><span class="tag known">emulator-timeout</span>',
    );
    expect(section.indexOf('fedcba098765')).toBeLessThan(section.indexOf('1234567890ab'));
    expect(section).toContain('<span class="tag unknown">unknown</span>');
  });

  it('shows the precision of each known issue from verdicts, marking a demoted one', () => {
    const start = html.indexOf('Diagnosis precision');
    const section = html.slice(start, html.indexOf('</section>', start));
    expect(section).toContain(
      '<span class="tag known">linker-not-found</span></td><td class="n">1</td><td class="n">3</td><td class="n">25%</td><td><span class="tag unknown">shown as possible</span>',
    );
    expect(section).toContain(
      '<span class="tag known">nightly-required</span></td><td class="n">4</td><td class="n">0</td><td class="n">100%</td><td></td>',
    );
  });

  it('escapes every string from the data', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    // No event-handler attribute in any tag (the planted one is text).
    expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
    const escaped = escapeHtml(PLANTED);
    expect(escaped).toBe('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`error: ${escaped}`); // failure message
    expect(html).toContain(`Pin the crate ${escaped}`); // design decision
    expect(html).toContain(`build-std for all CPUs ${escaped}`); // phase message
    // A task name and a known issue id, in the failures table and the precision table.
    expect(html).toContain('<code>rust-target:build:&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    const issue = '<span class="tag known">known-&quot;&amp;&lt;&gt;&#39;</span>';
    expect(html.split(issue).length - 1).toBe(2);
  });

  it('is self-contained: no script, no external asset, a CSP that forbids both', () => {
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<[^>]*\s(src|href|srcset|action|formaction)\s*=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?(https?:|\/\/)/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
  });

  it('renders an empty status dir without errors', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-report-empty-'));
    try {
      const m = await computeMetrics(new StatusStore(empty), { now: NOW });
      const h = renderReport(m, { current_phase: null, phase_history: [] });
      expect(h).toContain('No phase has been started yet');
      expect(h).toContain('No task runs in the last 7 day(s)');
      expect(h).toContain('No AI calls');
      expect(h).toContain('<div class="v">none set</div>');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

/**
 * Width, height, rows and an RGB pixel reader of a PNG screenshot, decoded by pngjs
 * (https://github.com/pngjs/pngjs; `PNG.sync.read` checks the signature, chunk CRCs and filters, and gives RGBA).
 */
function decodePng(buf: Buffer): {
  width: number;
  height: number;
  rows: Buffer[];
  pixel: (x: number, y: number) => number[];
} {
  const png = PNG.sync.read(buf);
  const stride = png.width * 4;
  const rows = Array.from({ length: png.height }, (_, y) => png.data.subarray(y * stride, (y + 1) * stride));
  return { width: png.width, height: png.height, rows, pixel: (x, y) => [...rows[y].subarray(x * 4, x * 4 + 3)] };
}

function chromium(args: string[], profile: string) {
  return spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: profile } },
  );
}

describe('in headless Chromium', () => {
  let tmp: string;
  beforeAll(() => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; scripts/setup.sh does)`,
      );
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-chromium-'));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('parses it with no script element and all sections', () => {
    const r = chromium(['--dump-dom', `file://${reportFile}`], path.join(tmp, 'profile-dom'));
    expect(r.error).toBeUndefined();
    expect(r.stdout).toContain('NeXTRust pipeline');
    expect(r.stdout).toContain('Recent failures');
    expect(r.stdout).not.toMatch(/<script/i);
    expect(r.stdout).not.toMatch(/<img/i);
    expect(r.stdout).toContain('&lt;script&gt;alert("pwned")&lt;/script&gt;');
    // Text, as the browser serialises text nodes: only &, < and > are escaped.
    expect(r.stdout).toContain('<code>rust-target:build:&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    expect(r.stdout).toContain(`<span class="tag known">known-"&amp;&lt;&gt;'</span>`);
  });

  it('takes a screenshot of it', () => {
    const png = path.join(tmp, 'report.png');
    const r = chromium(
      ['--window-size=1280,1600', '--hide-scrollbars', `--screenshot=${png}`, `file://${reportFile}`],
      path.join(tmp, 'profile-shot'),
    );
    expect(r.error).toBeUndefined();
    expect(fs.existsSync(png)).toBe(true);
    if (process.env.NEXTRUST_REPORT_SCREENSHOT) {
      fs.copyFileSync(png, process.env.NEXTRUST_REPORT_SCREENSHOT);
      fs.copyFileSync(reportFile, process.env.NEXTRUST_REPORT_SCREENSHOT.replace(/(\.png)?$/, '.html'));
    }
    const buf = fs.readFileSync(png);
    expect(buf.length).toBeGreaterThan(50_000);
    const img = decodePng(buf);
    expect([img.width, img.height]).toEqual([1280, 1600]);
    // Something was drawn: many different rows, the dark header on top, the light page below it.
    expect(new Set(img.rows.map((row) => row.toString('base64'))).size).toBeGreaterThan(300);
    const [hr, hg, hb] = img.pixel(8, 8);
    expect(hr + hg + hb).toBeLessThan(3 * 80);
    const [br, bg, bb] = img.pixel(8, 1590);
    expect(Math.min(br, bg, bb)).toBeGreaterThan(220);
  });
});
