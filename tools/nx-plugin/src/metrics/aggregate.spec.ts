// Covers the aggregation's building blocks: the nearest-rank quantile against an independent definition over
// random inputs (fast-check), and the typed composite keys: records whose fields would collide when joined with a
// separator (NUL, or `project:target`) stay apart in KeyedMap, aggregateRuns and the usage report.
import fc from 'fast-check';
import { usageReport, type UsageRecord } from '../ai/usage';
import { aggregateRuns, quantile } from './aggregate';
import { groupByKey, KeyedMap, serializeKey } from './key';
import type { TaskRun } from './types';

/**
 * The nearest-rank percentile by its definition
 * (https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method): the
 * smallest value v of the data such that at least q·n values are <= v; the
 * smallest value for q = 0.
 */
function nearestRank(values: number[], q: number): number {
  const candidates = [...new Set(values)].sort((a, b) => a - b);
  for (const v of candidates) if (values.filter((x) => x <= v).length >= q * values.length) return v;
  throw new Error('unreachable: the largest value has all n values below or equal');
}

describe('quantile', () => {
  it('is the nearest-rank percentile of any data and any q in 0..1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sorted = [...values].sort((a, b) => a - b);
          expect(quantile(sorted, q)).toBe(nearestRank(values, q));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives p50 and p95 of small samples by rank ⌈q·n⌉ (the ranks Math.round would get wrong)', () => {
    // n = 4: 0.95·4 = 3.8 → rank 4; n = 5: 0.5·5 = 2.5 → rank 3; n = 21: 0.95·21 = 19.95 → rank 20.
    expect(quantile([10, 20, 30, 40], 0.95)).toBe(40);
    expect(quantile([10, 20, 30, 40, 50], 0.5)).toBe(30);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.21)).toBe(3); // 2.1 → rank 3 (rounding gives 2)
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('typed composite keys', () => {
  it('serialises keys injectively: values that meet when joined with a separator stay apart', () => {
    const m = new KeyedMap<{ a: string; b: string }, number>(['a', 'b']);
    m.set({ a: 'x\0y', b: 'z' }, 1);
    m.set({ a: 'x', b: 'y\0z' }, 2);
    m.set({ a: 'p:q', b: 'r' }, 3);
    m.set({ a: 'p', b: 'q:r' }, 4);
    m.set({ a: 'x', b: 'y\0z' }, 5); // the same key again: replaces 2
    expect(m.size).toBe(4);
    expect([...m.entries()]).toEqual([
      [{ a: 'x\0y', b: 'z' }, 1],
      [{ a: 'x', b: 'y\0z' }, 5],
      [{ a: 'p:q', b: 'r' }, 3],
      [{ a: 'p', b: 'q:r' }, 4],
    ]);
    expect(m.get({ a: 'x\0y', b: 'z' })).toBe(1);
    expect(m.has({ a: 'x\0', b: 'yz' })).toBe(false);
    // Field order is the declared one, not the object's.
    expect(serializeKey(['a', 'b'], { b: '2', a: '1' })).toBe(serializeKey(['a', 'b'], { a: '1', b: '2' }));
    expect(groupByKey([1, 2, 3, 4], ['k'], (n) => ({ k: n % 2 ? 'odd' : 'even' })).get({ k: 'odd' })).toEqual([1, 3]);
  });

  /** A run of `project:target` on `cpu` in `phase`, executed in `ms`. */
  const run = (project: string, target: string, cpu: string, phase: string, ms: number): TaskRun => ({
    timestamp: '2026-03-10T10:00:00.000Z',
    task: `${project}:${target}`,
    project,
    target,
    configuration: null,
    cpu,
    phase,
    result: 'success',
    duration_ms: ms,
    source: 'nx',
  });

  it('keeps runs apart whose project:target strings or NUL-joined phase and CPU are equal', () => {
    const runs = [
      run('a:b', 'c', 'm68000', 'p', 100),
      run('a', 'b:c', 'm68000', 'p', 900),
      run('x', 't', 'm68040', 'ph\0m68030', 10),
      run('x', 't', 'm68030\0m68040', 'ph', 20),
    ];
    const agg = aggregateRuns(runs);
    const ab = agg.targets.filter((t) => t.target === 'a:b:c');
    expect(ab.map((t) => [t.project, t.runs, t.duration?.sum_ms])).toEqual([
      ['a', 1, 900],
      ['a:b', 1, 100],
    ]);
    expect(agg.by_phase_cpu.map((x) => [x.phase, x.cpu, x.runs])).toEqual(
      expect.arrayContaining([
        ['ph\0m68030', 'm68040', 1],
        ['ph', 'm68030\0m68040', 1],
      ]),
    );
    expect(agg.by_phase_cpu).toHaveLength(3);
    expect(agg.by_phase.map((p) => p.phase)).toEqual(['p', 'ph', 'ph\0m68030']);
  });

  it('keeps usage rows apart whose model and phase meet when NUL-joined', () => {
    const rec = (model: string, phase: string, cost: number): UsageRecord => ({
      timestamp: '2026-03-10T09:00:00.000Z',
      kind: 'design',
      provider: 'openai',
      model,
      phase,
      input_tokens: 10,
      output_tokens: 5,
      latency_ms: 100,
      cost_usd: cost,
      session: null,
      pr: null,
    });
    const report = usageReport(
      [rec('o3\0rust', 'p', 0.25), rec('o3', 'rust\0p', 0.5)],
      1,
      new Date('2026-03-10T12:00:00Z'),
    );
    expect(report.rows.map((r) => [r.model, r.phase, r.calls, r.cost_usd])).toEqual([
      ['o3', 'rust\0p', 1, 0.5],
      ['o3\0rust', 'p', 1, 0.25],
    ]);
    expect(report.total).toMatchObject({ calls: 2, cost_usd: 0.75 });
  });
});
