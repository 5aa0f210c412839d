// Covers the escape-by-default markup template (html.ts) and that renderReport escapes every string that comes
// from the data: a metrics object whose every string field (and the numbers of hand-editable files) carries its
// own payload with markup and quotes is rendered, and each payload must appear as text (escaped exactly once),
// none as markup.
import { NO_CPU, type PipelineMetrics, type TargetStats } from '../types';
import { concatHtml, escapeHtml, Html, joinHtml, markup } from './html';
import { renderReport, type ReportStatus } from './render';

describe('markup template', () => {
  it('escapes every interpolated value unless it is markup the template made', () => {
    const name = `<script>alert(1)</script>"&'`;
    expect(String(markup`<td title="${name}">${name}</td>`)).toBe(
      '<td title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;">' +
        '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;</td>',
    );
    const inner = markup`<b>${'<i>'}</b>`;
    expect(String(markup`<p>${inner}${42}${null}${undefined}${false}${['<a>', inner]}</p>`)).toBe(
      '<p><b>&lt;i&gt;</b>42&lt;a&gt;<b>&lt;i&gt;</b></p>',
    );
    expect(String(joinHtml(['<x>', markup`<br>`], markup`<hr>`))).toBe('&lt;x&gt;<hr><br>');
    expect(String(concatHtml(markup`<a `, markup`href="#">${'&'}</a>`))).toBe('<a href="#">&amp;</a>');
    expect(escapeHtml(`"&<>'`)).toBe('&quot;&amp;&lt;&gt;&#39;');
  });

  it('makes Html values only itself: a string cannot be passed off as markup', () => {
    const forge = () => new (Html as unknown as new (mint: symbol, text: string) => Html)(Symbol('Html'), '<x>');
    expect(forge).toThrow(TypeError);
    // An object that merely looks like Html is text.
    const fake = { toString: () => '<x>' } as unknown as string;
    expect(String(markup`${fake}`)).toBe('&lt;x&gt;');
  });
});

/** A payload with markup and quotes, naming the field it was planted in (short: survives truncation). */
const P = (field: string) => `<x-${field}>"&'`;
/** How the payload must appear: escaped once. */
const ESCAPED = (field: string) => escapeHtml(P(field));

describe('renderReport escaping', () => {
  const counts = { runs: 2, executed: 2, succeeded: 1, failed: 1, cache_local: 0, cache_remote: 0, skipped: 0 };
  const rates = { cache_hit_rate: 0, failure_rate: 0.5 };
  const target: TargetStats = {
    target: P('target'),
    project: P('project'),
    cpu: P('cpu'),
    phase: P('tphase'),
    ...counts,
    ...rates,
    duration: { count: 2, sum_ms: 30, mean_ms: 15, p50_ms: 10, p95_ms: 20, min_ms: 10, max_ms: 20 },
    by_result: { success: 1, failure: 1 },
    last_run: '2026-03-10T10:00:00.000Z',
  };
  const usage = { calls: 1, input_tokens: 10, output_tokens: 5, cost_usd: 0.5, unpriced_calls: 1 };
  const metrics: PipelineMetrics = {
    generated_at: '2026-03-10T12:00:00.000Z',
    days: 7,
    since: '2026-03-04T00:00:00.000Z',
    status_dir: P('dir'),
    phases: [{ id: P('phaseid'), number: 1, name: P('phname') }],
    current_phase: null,
    window: {
      totals: { ...counts, ...rates },
      targets: [target, { ...target, cpu: NO_CPU, duration: null }],
      by_phase: [{ phase: P('phaseid'), ...counts, ...rates }],
      by_cpu: [{ cpu: P('bycpu'), ...counts, ...rates }],
      by_phase_cpu: [],
    },
    lifetime: { totals: { ...counts, ...rates }, targets: [], by_phase: [], by_cpu: [], by_phase_cpu: [] },
    runs: [],
    failures: [
      {
        timestamp: P('ftime'),
        task: P('ftask'),
        cpu: P('fcpu'),
        phase: null,
        known_issue: P('issue'),
        analysed: true,
        message: P('fmsg'),
        log: P('flog'),
        source: 'nx',
      },
    ],
    flaky: [
      {
        timestamp: P('ktime'),
        task: P('ktask'),
        hash: P('h'),
        // Counts come from activity details: hand-edited logs can hold anything.
        passed: P('kpass') as unknown as number,
        failed: P('kfail') as unknown as number,
        cause: P('kcause'),
      },
    ],
    // precision.json is read without a schema: its counts can be strings.
    precision: {
      [P('precid')]: {
        confirmed: P('conf') as unknown as number,
        rejected: P('rej') as unknown as number,
        precision: 0.5,
      },
    },
    ai: {
      by_model_kind: [{ model: P('kmodel'), kind: P('kind') as 'design', ...usage }],
      by_day_model: [{ day: '2026-03-09', model: P('dmodel'), ...usage }],
      total: usage,
      lifetime_by_model_kind: [],
      records: [],
      events: [
        {
          timestamp: P('etime'),
          type: 'design_decision',
          subject: P('subj'),
          model: P('emodel'),
          cached: true,
          summary: P('summary'),
        },
      ],
    },
    warnings: [P('warn1'), P('warn2')],
  };
  const phase = (id: string, name: string, status: string, message: string) => ({
    id,
    name,
    status: status as 'in_progress',
    started_at: '2026-03-08T08:00:00.000Z',
    updated_at: '2026-03-09T08:00:00.000Z',
    ended_at: null,
    message,
  });
  const status = {
    current_phase: phase(P('phaseid'), P('curname'), P('curstat'), P('curmsg')),
    phase_history: [{ ...phase('other', P('histname'), P('histstat'), ''), ended_at: '2026-03-08T07:00:00.000Z' }],
  } as unknown as ReportStatus;
  const html = renderReport(metrics, status);

  it.each([
    'dir',
    'phaseid',
    'phname',
    'target',
    'tphase',
    'cpu',
    'bycpu',
    'ftime',
    'ftask',
    'fcpu',
    'issue',
    'fmsg',
    'flog',
    'ktime',
    'ktask',
    'kpass',
    'kfail',
    'kcause',
    'precid',
    'conf',
    'rej',
    'kmodel',
    'kind',
    'dmodel',
    'etime',
    'subj',
    'emodel',
    'summary',
    'warn1',
    'warn2',
    'curname',
    'curstat',
    'curmsg',
    'histname',
    'histstat',
  ])('shows the %s payload as text', (field) => {
    expect(html).toContain(ESCAPED(field));
  });

  it('has no markup from the data: no planted element, no raw quote sequence', () => {
    expect(html).not.toMatch(/<x-/);
    expect(html).not.toContain(`"&'`);
    // The hash column shows 12 characters of the hash: cut, still escaped.
    expect(html).toContain(`<td class="mono">${escapeHtml(P('h').slice(0, 12))}</td>`);
  });
});
