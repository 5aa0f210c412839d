/**
 * Benchmark of the spinlock atomics' lock table (projects/llvm-m68k/atomics):
 * a 64-lock table (the baseline: the per-word table these atomics started
 * from) against compiler-rt's and ours, on the host.
 *
 *   node -r @swc-node/register tools/bench/atomics-locks.ts
 *
 * Builds spinlock_atomics.c + tests/bench_locks.c three ways with the host
 * clang-19 (-O2 -pthread):
 *   lock64  NEXTRUST_LOCK_HASH=0, NEXTRUST_LOCK_BITS=6   64 locks, (addr >> 2) & 63
 *   crt     NEXTRUST_LOCK_HASH=1, NEXTRUST_LOCK_BITS=10  compiler-rt: ((addr >> 4) ^ (addr >> 20)) & 1023
 *   ours    NEXTRUST_LOCK_HASH=2, NEXTRUST_LOCK_BITS=10  g ^ g >> 10 ^ g >> 20, g = addr >> 4
 * (Only the table and hash differ: all three take the lock with the same
 * test-and-test-and-set loop; the 64-lock design's own lock primitive,
 * __sync_lock_test_and_set, is not rebuilt: it is a libcall on the 68000.)
 *
 * Measures, in one run:
 *  (a) throughput (Mops/s of nx_fetch_and_add_4) of T threads on the workloads
 *      of bench_locks.c (shared counter, own counter at 4/16/4096-byte strides,
 *      4096-word array with pseudo-random access); median of REPS runs, the
 *      variants interleaved so machine noise hits all alike;
 *  (b) lock-index spread for realistic layouts (consecutive words, 16-byte
 *      structs, 64-byte objects, page-strided objects) at a host-like and an
 *      m68k-like base address: distinct locks used and the largest number of
 *      objects on one lock. The hash formulas are replicated here and checked
 *      index by index against nx_lock_index of each build.
 * Prints tables with ratios against the 64-lock table measured in the same run.
 *
 * Environment: BENCH_THREADS (default "1,2"), BENCH_ITERS (per thread,
 * default 5000000), BENCH_REPS (default 5), BENCH_CC (default clang-19).
 */
import { harnessCflags } from '../nx-plugin/test/c-harness';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTool } from '../nx-plugin/src/util/exec';

const ws = path.resolve(__dirname, '../..');
const atomicsDir = path.join(ws, 'projects/llvm-m68k/atomics');
const testsDir = path.join(ws, 'projects/llvm-m68k/tests');

interface Variant {
  name: string;
  hash: 0 | 1 | 2;
  bits: number;
  label: string;
  exe?: string;
}

const variants: Variant[] = [
  { name: 'lock64', hash: 0, bits: 6, label: '64-lock table (baseline): 64 locks, (a>>2)&63' },
  { name: 'crt', hash: 1, bits: 10, label: 'compiler-rt: 1024 locks, ((a>>4)^(a>>20))&1023' },
  { name: 'ours', hash: 2, bits: 10, label: 'ours: 1024 locks, g^(g>>10)^(g>>20), g=a>>4' },
];

const workloads = ['shared', 'own4', 'own16', 'own4096', 'array4096'];
const layouts: Array<{ name: string; stride: bigint }> = [
  { name: 'words4', stride: 4n },
  { name: 'structs16', stride: 16n },
  { name: 'objects64', stride: 64n },
  { name: 'pages', stride: 4096n },
];
const bases: Array<{ name: string; addr: bigint }> = [
  { name: 'host heap 0x55a4c3e21000', addr: 0x55a4c3e21000n },
  { name: 'm68k data 0x80006000', addr: 0x80006000n },
];
const OBJECTS = 1024;

/** nx_lock_index of spinlock_atomics.c, for each NEXTRUST_LOCK_HASH (64-bit uintptr_t). */
export function lockIndex(hash: 0 | 1 | 2, bits: number, addr: bigint): number {
  const mask = (1n << BigInt(bits)) - 1n;
  if (hash === 0) return Number((addr >> 2n) & mask);
  if (hash === 1) {
    let h = addr >> 4n;
    const low = h & mask;
    h >>= 16n;
    h ^= low;
    return Number(h & mask);
  }
  const g = addr >> 4n;
  const b = BigInt(bits);
  return Number((g ^ (g >> b) ^ (g >> (2n * b))) & mask);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function build(v: Variant, dir: string, cc: string): Promise<string> {
  const exe = path.join(dir, `bench_locks_${v.name}`);
  await runTool(cc, [
    ...harnessCflags(atomicsDir),
    `-DNEXTRUST_LOCK_HASH=${v.hash}`,
    `-DNEXTRUST_LOCK_BITS=${v.bits}`,
    path.join(atomicsDir, 'spinlock_atomics.c'),
    path.join(testsDir, 'bench_locks.c'),
    '-o',
    exe,
  ]);
  return exe;
}

async function throughput(exe: string, workload: string, threads: number, iters: number): Promise<number> {
  const r = await runTool(exe, ['throughput', workload, String(threads), String(iters)], { timeoutMs: 300_000 });
  const m = /mops=([\d.]+) check=(\w+)/.exec(r.stdout);
  if (!m || m[2] !== 'ok') throw new Error(`${exe} ${workload}: bad result: ${r.stdout}`);
  return parseFloat(m[1]);
}

interface Spread {
  distinct: number;
  maxLoad: number;
}

function spread(indices: number[]): Spread {
  const load = new Map<number, number>();
  for (const i of indices) load.set(i, (load.get(i) ?? 0) + 1);
  return { distinct: load.size, maxLoad: Math.max(...load.values()) };
}

/** Lock indices per layout from the C build, checked against lockIndex. */
async function indicesFromC(v: Variant, base: bigint): Promise<Map<string, number[]>> {
  const r = await runTool(v.exe!, ['index', base.toString(16), String(OBJECTS)]);
  const lines = r.stdout.trim().split('\n');
  if (lines[0] !== `lockbits ${v.bits}`) throw new Error(`${v.name}: expected lockbits ${v.bits}, got ${lines[0]}`);
  const out = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    const [, layout, ...nums] = line.split(' ');
    out.set(layout, nums.map(Number));
  }
  for (const l of layouts) {
    const c = out.get(l.name);
    if (!c || c.length !== OBJECTS) throw new Error(`${v.name}: no ${l.name} indices from the C helper`);
    for (let i = 0; i < OBJECTS; i++) {
      const ts = lockIndex(v.hash, v.bits, base + BigInt(i) * l.stride);
      if (ts !== c[i]) {
        throw new Error(
          `${v.name} ${l.name}[${i}]: TS hash ${ts} != nx_lock_index ${c[i]} (base 0x${base.toString(16)})`,
        );
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const cc = process.env.BENCH_CC ?? 'clang-19';
  const threadCounts = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
  const iters = Number(process.env.BENCH_ITERS ?? 5_000_000);
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomics-locks-bench-'));
  try {
    const ccVersion = (await runTool(cc, ['--version'])).stdout.split('\n')[0];
    console.log(
      `atomics lock-table benchmark: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()}-${os.arch()}`,
    );
    console.log(`compiler: ${ccVersion}; -O2 -pthread; ${iters} nx_fetch_and_add_4 per thread; median of ${reps} runs`);
    for (const v of variants) {
      v.exe = await build(v, dir, cc);
      console.log(`  ${pad(v.name, 6)} ${v.label}`);
    }

    // (a) throughput, variants interleaved within each repetition.
    const samples = new Map<string, number[]>();
    for (let rep = 0; rep < reps; rep++) {
      for (const threads of threadCounts) {
        for (const w of workloads) {
          for (const v of variants) {
            const key = `${v.name}|${w}|${threads}`;
            const list = samples.get(key) ?? [];
            list.push(await throughput(v.exe!, w, threads, iters));
            samples.set(key, list);
          }
        }
      }
    }
    console.log('\n(a) throughput, Mops/s (median), ratio = variant / lock64 (the 64-lock table)');
    const head = `${pad('workload', 10)} ${pad('T', 2, true)} | ${variants.map((v) => pad(v.name, 8, true) + pad('', 7)).join(' | ')}`;
    console.log(head);
    console.log('-'.repeat(head.length));
    for (const threads of threadCounts) {
      for (const w of workloads) {
        const baseline = median(samples.get(`lock64|${w}|${threads}`)!);
        const cells = variants.map((v) => {
          const m = median(samples.get(`${v.name}|${w}|${threads}`)!);
          const ratio = v.name === 'lock64' ? '' : `x${(m / baseline).toFixed(2)}`;
          return pad(m.toFixed(1), 8, true) + pad(ratio ? ` ${ratio}` : '', 7);
        });
        console.log(`${pad(w, 10)} ${pad(String(threads), 2, true)} | ${cells.join(' | ')}`);
      }
    }

    // (b) lock-index spread.
    console.log(`\n(b) lock-index spread of ${OBJECTS} objects: distinct locks / most objects on one lock`);
    console.log("    (hash formulas replicated in TS and checked index by index against each build's nx_lock_index)");
    const head2 = `${pad('base', 26)} ${pad('layout', 10)} | ${variants.map((v) => pad(v.name, 11, true)).join(' | ')}`;
    console.log(head2);
    console.log('-'.repeat(head2.length));
    let checked = 0;
    for (const b of bases) {
      const perVariant = new Map<string, Map<string, number[]>>();
      for (const v of variants) {
        perVariant.set(v.name, await indicesFromC(v, b.addr));
        checked += OBJECTS * layouts.length;
      }
      for (const l of layouts) {
        const cells = variants.map((v) => {
          const s = spread(perVariant.get(v.name)!.get(l.name)!);
          return pad(`${s.distinct} / ${s.maxLoad}`, 11, true);
        });
        console.log(`${pad(b.name, 26)} ${pad(l.name, 10)} | ${cells.join(' | ')}`);
      }
    }
    console.log(`cross-check: ${checked} lock indices, TS == C for all`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
