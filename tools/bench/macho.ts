/**
 * Benchmark: the build-time overhead of the NeXTSTEP (Mach-O) path against the ELF path, on the same inputs in
 * the same run, with the pipeline's toolchain as `llvm-m68k:toolchain` left it in dist/ (nothing is rebuilt:
 * the sysroot's core and compiler_builtins are the prebuilt ones of dist/rust-target/sysroot/<cpu>).
 *
 *   node -r @swc-node/register tools/bench/macho.ts
 *
 * Measures, each command REPS times with the two paths interleaved (so machine noise hits both alike), the
 * median wall time of:
 *  1. nextstep-hello's static library (rustc through the pipeline's wrapper, release, the pipeline's flags:
 *     test/fixtures/nextstep-run/rustc-args.ts), for m68k-unknown-linux-gnu (ELF; the sysroot's core for that
 *     target: an ELF copy of the spec would need its own core, that is a sysroot build) against the
 *     m68k-next-nextstep spec (Mach-O); once the whole library (`--emit=link`: codegen, then the archive with
 *     core's and compiler_builtins' members copied in) and once the crate's own object (`--emit=obj`: the
 *     front end, LLVM and the object writer only);
 *  2. the spinlock atomics, as src/build/atomics.ts builds them: ELF by the patched clang in one step
 *     (atomics.json's recorded cflags) then llvm-ar; Mach-O by Debian's clang front end to bitcode, the
 *     patched llc to the object, then llvm-ar in BSD format. A third column, ELF through the same two-step
 *     route (front end, then llc for the ELF triple), separates the cost of the route from the writer's.
 * Prints the medians, the Mach-O/ELF ratio and the overhead in per cent (goal: under 10 %), and the machine's
 * load average (other work on the machine slows both paths, not their ratio, but widens the spread).
 *
 * Environment: BENCH_REPS (default 15), BENCH_CPU (default m68040).
 * @throws Error naming the missing file and the nx target that makes it, when dist/ lacks the toolchain,
 *   sysroot or atomics manifest.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NEXTSTEP_LLC_FLAGS, NEXTSTEP_MACHO_TRIPLE, type AtomicsManifest } from '../nx-plugin/src/build/atomics';
import { readObject } from '../nx-plugin/src/macho/linker';
import { readArchive } from '../nx-plugin/src/macho/archive';
import { cpuInfo } from '../nx-plugin/src/toolchain/cpu';
import { readToolchainManifest } from '../nx-plugin/src/toolchain/manifest';
import { runTool, ToolError } from '../nx-plugin/src/util/exec';
import { nextstepHelloRustcArgs } from '../nx-plugin/test/fixtures/nextstep-run/rustc-args';

const WS = path.resolve(__dirname, '../..');
const REPS = Number(process.env.BENCH_REPS ?? 15);
const CPU = process.env.BENCH_CPU ?? 'm68040';
const ELF_TRIPLE = 'm68k-unknown-linux-gnu';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;

/** A file dist/ must hold, or an error naming the nx target that makes it. */
function required(rel: string, target: string): string {
  const p = path.join(WS, rel);
  if (!fs.existsSync(p))
    throw new Error(`${rel} not found: run npx nx run ${target} first (the benchmark reuses dist/)`);
  return p;
}

/** One way to build something: a sequence of commands, timed as a whole; check() validates its output. */
interface Path {
  name: string;
  steps: Array<{ file: string; args: string[]; env?: Record<string, string> }>;
  check: () => void;
}

/** Fails unless every member of an archive (or the object) is of the given format. */
function expectFormat(file: string, format: 'elf' | 'macho'): void {
  const bytes = fs.readFileSync(file);
  const formats = file.endsWith('.a')
    ? readArchive(bytes, file).map((m) => readObject(m.data, m.name).format)
    : [readObject(bytes, file).format];
  if (formats.length === 0 || formats.some((f) => f !== format))
    throw new Error(`${file}: expected ${format} objects, found ${[...new Set(formats)].join(', ') || 'none'}`);
}

async function timeOnce(p: Path): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const s of p.steps) await runTool(s.file, s.args, { cwd: WS, env: s.env });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs each path once to warm caches, then REPS rounds interleaved; returns medians in ms. */
async function measure(title: string, paths: Path[]): Promise<number[]> {
  for (const p of paths) {
    await timeOnce(p);
    p.check();
  }
  const times = paths.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) for (let i = 0; i < paths.length; i++) times[i].push(await timeOnce(paths[i]));
  const medians = times.map(median);
  console.log(`\n${title} (median of ${REPS}, min-max in brackets)`);
  paths.forEach((p, i) => {
    const ratio = medians[i] / medians[0];
    const rel = i === 0 ? 'baseline' : `${ratio.toFixed(3)}x  (${((ratio - 1) * 100).toFixed(1)} %)`;
    console.log(
      `  ${p.name.padEnd(44)} ${ms(medians[i])}  [${Math.min(...times[i]).toFixed(0)}-${Math.max(...times[i]).toFixed(0)}]  ${rel}`,
    );
  });
  return medians;
}

async function main(): Promise<void> {
  const toolchain = readToolchainManifest(required('dist/llvm-m68k/toolchain/toolchain.json', 'llvm-m68k:toolchain'));
  if (!toolchain.backend)
    throw new Error('dist/llvm-m68k/toolchain/toolchain.json: provider "system" has no Mach-O writer');
  const sysroot = path.dirname(required(`dist/rust-target/sysroot/${CPU}/sysroot.json`, `rust-target:sysroot:${CPU}`));
  const atomics: AtomicsManifest = JSON.parse(
    fs.readFileSync(required(`dist/llvm-m68k/${CPU}/atomics.json`, `llvm-m68k:atomics:${CPU}`), 'utf8'),
  );
  const spec = path.join(WS, 'projects/rust-target/target-specs/m68k-next-nextstep.json');
  const rustc = toolchain.rust.rustc.path;
  const env = { RUSTC_BOOTSTRAP: '1' };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bench-macho-'));
  const rustCpu = cpuInfo(CPU).rustCpu;
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`Mach-O vs ELF build time, ${CPU}, ${os.cpus().length} cores, load average ${load()}`);

  try {
    const rustPath = (name: string, target: string, format: 'elf' | 'macho', emit: 'link' | 'obj'): Path => {
      const file = path.join(out, `${format}-nextstep_hello.${emit === 'link' ? 'a' : 'o'}`);
      return {
        name,
        steps: [{ file: rustc, args: nextstepHelloRustcArgs(target, sysroot, rustCpu, file, emit), env }],
        check: () => expectFormat(file, format),
      };
    };
    const lib = await measure('nextstep-hello static library (rustc --emit=link)', [
      rustPath(`ELF (--target ${ELF_TRIPLE})`, ELF_TRIPLE, 'elf', 'link'),
      rustPath('Mach-O (m68k-next-nextstep spec)', spec, 'macho', 'link'),
    ]);
    const obj = await measure("nextstep-hello's own object (rustc --emit=obj)", [
      rustPath(`ELF (--target ${ELF_TRIPLE})`, ELF_TRIPLE, 'elf', 'obj'),
      rustPath('Mach-O (m68k-next-nextstep spec)', spec, 'macho', 'obj'),
    ]);

    // The atomics, with the commands of src/build/atomics.ts (sources from atomics.json's build: one archive).
    const sources = JSON.parse(fs.readFileSync(path.join(WS, 'projects/llvm-m68k/nextrust.json'), 'utf8')).atomics
      .sources as string[];
    const ar = toolchain.llvm.tools['llvm-ar'].path;
    const frontEnd = path.join(toolchain.llvm.binDir, 'clang');
    const llc = toolchain.llvm.tools.llc.path;
    const rel = (f: string) => path.relative(WS, f);
    const objOf = (tag: string, src: string, ext: string) =>
      path.join(out, `${tag}-${path.basename(src, '.c')}.${ext}`);
    const src = (s: string) => path.join('projects/llvm-m68k', s);
    const archiveOf = (tag: string) => path.join(out, `${tag}-libnextrust_atomics.a`);
    const arStep = (tag: string, extra: string[]) => ({
      file: ar,
      args: [...extra, 'rcsD', archiveOf(tag), ...sources.map((s) => objOf(tag, s, 'o'))],
    });
    const rmArchive = (tag: string) => ({ file: 'rm', args: ['-f', archiveOf(tag)] });
    const elfDirect: Path = {
      name: 'ELF (patched clang, one step)',
      steps: [
        ...sources.map((s) => ({
          file: toolchain.llvm.tools.clang.path,
          args: [...atomics.cflags, '-c', src(s), '-o', rel(objOf('elf', s, 'o'))],
        })),
        rmArchive('elf'),
        arStep('elf', []),
      ],
      check: () => expectFormat(archiveOf('elf'), 'elf'),
    };
    const twoStep = (tag: string, frontEndTarget: string[], llcFlags: string[], arFlags: string[]): Path['steps'] => [
      ...sources.flatMap((s) => [
        {
          file: frontEnd,
          args: [
            ...atomics.cflags.filter((f) => !f.startsWith('--target=')),
            ...frontEndTarget,
            '-emit-llvm',
            '-c',
            src(s),
            '-o',
            rel(objOf(tag, s, 'bc')),
          ],
        },
        { file: llc, args: [...llcFlags, rel(objOf(tag, s, 'bc')), '-o', rel(objOf(tag, s, 'o'))] },
      ]),
      rmArchive(tag),
      arStep(tag, arFlags),
    ];
    const elfTwoStep: Path = {
      name: 'ELF (front end + llc, the Mach-O route)',
      steps: twoStep(
        'elf2',
        [`--target=${ELF_TRIPLE}`],
        NEXTSTEP_LLC_FLAGS.map((f) => (f === `-mtriple=${NEXTSTEP_MACHO_TRIPLE}` ? `-mtriple=${ELF_TRIPLE}` : f)),
        [],
      ),
      check: () => expectFormat(archiveOf('elf2'), 'elf'),
    };
    const macho: Path = {
      name: 'Mach-O (front end + llc, BSD archive)',
      steps: twoStep(
        'macho',
        ['--target=m68k-next-nextstep', '-Xclang', '-triple', '-Xclang', NEXTSTEP_MACHO_TRIPLE],
        NEXTSTEP_LLC_FLAGS,
        ['--format=bsd'],
      ),
      check: () => expectFormat(archiveOf('macho'), 'macho'),
    };
    const atom = await measure('spinlock atomics (compile + archive, src/build/atomics.ts commands)', [
      elfDirect,
      macho,
      elfTwoStep,
    ]);

    const overhead = (m: number[]) => (m[1] / m[0] - 1) * 100;
    console.log('\nMach-O overhead over ELF (goal: under 10 %)');
    console.log(`  nextstep-hello static library   ${overhead(lib).toFixed(1)} %`);
    console.log(`  nextstep-hello object only      ${overhead(obj).toFixed(1)} %`);
    console.log(`  atomics, pipeline commands      ${overhead(atom).toFixed(1)} %`);
    console.log(
      `  atomics, same two-step route    ${((atom[1] / atom[2] - 1) * 100).toFixed(1)} %  (the writer alone)`,
    );
    console.log(`  load average at the end         ${load()}`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(
    e instanceof ToolError ? `${e.message}\n$ ${e.command}\n${e.output}` : e instanceof Error ? e.message : e,
  );
  process.exit(1);
});
