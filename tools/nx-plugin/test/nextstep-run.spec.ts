// The NeXTSTEP flavour's products linked and run, with the real toolchain: the Rust static library that
// `nx run rust-target:build -c m68040` makes for the m68k-next-nextstep spec (Mach-O members,
// dist/rust-target/m68040/lib/libnextstep_hello.a, found through the build's manifest.json) and the Mach-O
// copy of the spinlock atomics (dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a, found through
// atomics.json), with the C driver of fixtures/nextstep-run (compiled for m68k-next-nextstep-macho by Debian's
// clang front end and the patched llc, docs/nextstep.md), the runtime of fixtures/link-programs and an archive
// of the two C library functions the Rust library's members reach (memcpy, abort), linked by the test link
// harness (src/macho) and run under qemu-m68k -cpu m68040. Its output and exit status must equal
//  - the ELF flavour of the same thing: the same Rust source compiled by the pipeline's rustc wrapper for
//    m68k-unknown-linux-gnu against the pipeline's m68040 sysroot with the pipeline's flags, the same C through
//    the same route for the ELF triple, the ELF atomics archive, the same harness;
//  - the build host: the same C (the host compiler's __sync builtins in place of the libcalls) and the same
//    Rust source as a host static library, built by the host's cc and rustc and run.
// A wrong relocated value in the Mach-O link changes the output (the greeting comes from the library's data
// through a relocated reference); ELF members in the NeXT library or the atomics archive fail the format checks;
// an atomics archive that is not used fails the check that the link took every __sync_* from its members.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readArchive } from '../src/macho/archive';
import { link, readInputs, readObject, type LinkResult } from '../src/macho/linker';
import { runLinked } from '../src/macho/run';
import { cpuInfo } from '../src/toolchain/cpu';
import { sha256File, type ToolchainManifest } from '../src/toolchain/locate';
import { runProcess, runTool } from '../src/util/exec';
import { NEXTSTEP_HELLO_SOURCE, nextstepHelloRustcArgs } from './fixtures/nextstep-run/rustc-args';
import { NX_TEST_ENV, WORKSPACE_ROOT, workspaceToolchain } from './scratch-workspace';

const FIXTURES = path.join(__dirname, 'fixtures');
const DRIVER = path.join(FIXTURES, 'nextstep-run/driver.c');
const MEMCPY = path.join(FIXTURES, 'nextstep-run/memcpy.c');
const ABORT = path.join(FIXTURES, 'nextstep-run/abort.c');
const MACHO_TRIPLE = 'm68k-next-nextstep-macho';
const ELF_TRIPLE = 'm68k-unknown-linux-gnu';
type Flavour = 'macho' | 'elf';
const RT = path.join(FIXTURES, 'link-programs/rt.c');
const INCLUDES = [path.join(FIXTURES, 'link-programs'), path.join(WORKSPACE_ROOT, 'projects/llvm-m68k/atomics')];
const CPU = 'm68040';
const BUILD_MANIFEST = `dist/rust-target/${CPU}/manifest.json`;
const ATOMICS_MANIFEST = `dist/llvm-m68k/${CPU}/atomics.json`;
const SYSROOT = path.join(WORKSPACE_ROOT, `dist/rust-target/sysroot/${CPU}`);
const BASE = 0x10000000;
/** The libcalls the driver calls (C names). */
const LIBCALLS = [1, 2, 4].flatMap((n) =>
  ['fetch_and_add', 'val_compare_and_swap', 'lock_test_and_set', 'lock_release'].map((op) => `__sync_${op}_${n}`),
);

const readJson = (rel: string) => JSON.parse(fs.readFileSync(path.join(WORKSPACE_ROOT, rel), 'utf8'));

/** The main job's m68040 products this test links: present and matching their manifests, or built through nx. */
async function mainJobProducts(): Promise<{ rustLib: string; machoAtomics: string; elfAtomics: string }> {
  const find = () => {
    if (!fs.existsSync(path.join(WORKSPACE_ROOT, BUILD_MANIFEST))) return null;
    if (!fs.existsSync(path.join(WORKSPACE_ROOT, ATOMICS_MANIFEST))) return null;
    const lib = readJson(BUILD_MANIFEST).artifacts.find(
      (a: { name: string; kind: string }) => a.name === 'nextstep-hello' && a.kind === 'staticlib',
    );
    const atomics = readJson(ATOMICS_MANIFEST);
    const files = [lib?.path, atomics.archive, atomics.nextstep?.archive];
    if (files.some((f) => !f || !fs.existsSync(path.join(WORKSPACE_ROOT, f)))) return null;
    if (sha256File(path.join(WORKSPACE_ROOT, lib.path)) !== lib.sha256) return null;
    return {
      rustLib: path.join(WORKSPACE_ROOT, lib.path),
      elfAtomics: path.join(WORKSPACE_ROOT, atomics.archive),
      machoAtomics: path.join(WORKSPACE_ROOT, atomics.nextstep.archive),
    };
  };
  const found = find();
  if (found) return found;
  // As e2e.spec.ts: the main job in this workspace (the atomics are one of its dependencies).
  const r = await runProcess(
    path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'),
    ['run', `rust-target:build`, `--configuration=${CPU}`, '--output-style=static'],
    { cwd: WORKSPACE_ROOT, env: NX_TEST_ENV, timeoutMs: 30 * 60_000 },
  );
  if (r.exitCode !== 0) throw new Error(`nx run rust-target:build -c ${CPU} failed:\n${r.all}`);
  const built = find();
  if (!built) throw new Error(`${BUILD_MANIFEST} or ${ATOMICS_MANIFEST} lists no nextstep-hello library or atomics`);
  return built;
}

describe('the NeXTSTEP static library and Mach-O atomics, linked and run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-nextstep-run-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let toolchain: ToolchainManifest;
  let products: Awaited<ReturnType<typeof mainJobProducts>>;
  let host: { stdout: string; exitCode: number | null };

  beforeAll(async () => {
    toolchain = await workspaceToolchain();
    products = await mainJobProducts();
    // The host: the same Rust source as a host static library, the same C with the host's builtins.
    const hostLib = path.join(dir, 'libhost_hello.a');
    await runTool('rustc', [
      '--edition=2021',
      '--crate-name=nextstep_hello',
      '--crate-type=staticlib',
      '-Copt-level=2',
      '-Cpanic=abort',
      NEXTSTEP_HELLO_SOURCE,
      '-o',
      hostLib,
    ]);
    const exe = path.join(dir, 'host-driver');
    await runTool('cc', ['-O2', '-DRT_HOST', ...INCLUDES.map((i) => `-I${i}`), '-o', exe, DRIVER, RT, hostLib]);
    const r = await runProcess(exe, [], { timeoutMs: 20_000 });
    host = { stdout: r.stdout, exitCode: r.exitCode };
  });

  /**
   * C to an object through IR as src/build/atomics.ts builds the atomics (docs/nextstep.md): Debian's clang
   * front end (the driver's target, cc1's triple replaced for Mach-O), then the patched llc.
   */
  async function compileC(flavour: Flavour, file: string): Promise<string> {
    const base = path.join(dir, `${flavour}-${path.basename(file, '.c')}`);
    const target =
      flavour === 'macho'
        ? ['--target=m68k-next-nextstep', '-Xclang', '-triple', '-Xclang', MACHO_TRIPLE]
        : [`--target=${ELF_TRIPLE}`];
    await runTool(path.join(toolchain.llvm.binDir, 'clang'), [
      ...target,
      '-mcpu=68040',
      '-O2',
      '-ffreestanding',
      '-fno-pic',
      '-fno-asynchronous-unwind-tables',
      ...INCLUDES.map((i) => `-I${i}`),
      '-emit-llvm',
      '-c',
      file,
      '-o',
      `${base}.bc`,
    ]);
    await runTool(toolchain.llvm.tools.llc.path, [
      `-mtriple=${flavour === 'macho' ? MACHO_TRIPLE : ELF_TRIPLE}`,
      '-relocation-model=static',
      '-code-model=large',
      '-filetype=obj',
      `${base}.bc`,
      '-o',
      `${base}.o`,
    ]);
    return `${base}.o`;
  }

  /**
   * The program's inputs of one flavour: rt.o and driver.o, then the Rust library, the atomics archive and
   * an archive of what a C library would give (memcpy, abort), in that order.
   */
  async function inputs(flavour: Flavour, rustLib: string, atomics: string): Promise<string[]> {
    const objects = [await compileC(flavour, RT), await compileC(flavour, DRIVER)];
    const libc = path.join(dir, `${flavour}-libfixture-c.a`);
    fs.rmSync(libc, { force: true });
    await runTool(toolchain.llvm.tools['llvm-ar'].path, [
      'rcs',
      libc,
      await compileC(flavour, MEMCPY),
      await compileC(flavour, ABORT),
    ]);
    return [...objects, rustLib, atomics, libc];
  }

  /** Formats of every member of an archive. */
  const memberFormats = (archive: string) =>
    new Set(readArchive(fs.readFileSync(archive), archive).map((m) => readObject(m.data, m.name).format));

  /** The linked object (archive member or file) whose sections hold a symbol's address. */
  const definedIn = (linked: LinkResult, symbol: string) => {
    const at = linked.symbols.get(symbol);
    if (at === undefined) return undefined;
    return linked.layout.find((s) => s.group !== 'bss' && at >= s.address && at < s.address + s.size)?.object;
  };

  const run = async (linked: LinkResult, name: string) => {
    const r = await runLinked(linked, { file: path.join(dir, name), qemu: toolchain.qemu.qemuM68k.path, cpu: CPU });
    return { stdout: r.stdout, exitCode: r.exitCode };
  };

  it('the host run exercises the library and the libcalls', () => {
    // Four greetings before the atomics, one after: the exit status is the call count.
    expect(host.exitCode).toBe(5);
    expect(host.stdout).toContain('hello(27) = 27: 48656c6c6f2c204e655854535445502c2066726f6d205275737421');
    expect(host.stdout).toContain('fetch_and_add_1(250, 10) -> fa  [5a 4 ');
  });

  /** Names of the undefined symbols an object references (the driver: the libcalls it calls, not inlined). */
  const undefinedIn = (object: string) =>
    readObject(fs.readFileSync(object), object)
      .symbols.filter((s) => s.def.kind === 'undefined')
      .map((s) => s.name);

  /** The archive member an input list's archive contributed, as the linker names them. */
  const memberOf = (archive: string) => new RegExp(`^${escape(archive)}\\(`);

  it('Mach-O: the nextstep-hello library and the Mach-O atomics run under qemu-m68k with the host output', async () => {
    expect(memberFormats(products.rustLib)).toEqual(new Set(['macho']));
    expect(memberFormats(products.machoAtomics)).toEqual(new Set(['macho']));
    const files = await inputs('macho', products.rustLib, products.machoAtomics);
    for (const f of files.filter((f) => f.endsWith('.o')))
      expect(readObject(fs.readFileSync(f), f).format).toBe('macho');
    expect(memberFormats(files.at(-1)!)).toEqual(new Set(['macho']));
    expect(undefinedIn(files[1])).toEqual(expect.arrayContaining(LIBCALLS.map((c) => `_${c}`)));
    const linked = link(readInputs(files), { base: BASE });
    // The Rust entry points and memcpy (compiler_builtins) come from the Rust library, each libcall the driver
    // calls from the atomics archive.
    expect(definedIn(linked, '_nextrust_hello')).toMatch(memberOf(products.rustLib));
    expect(definedIn(linked, '_nextrust_hello_calls')).toMatch(memberOf(products.rustLib));
    expect(definedIn(linked, '_memcpy')).toMatch(memberOf(products.rustLib));
    for (const c of LIBCALLS)
      expect([c, definedIn(linked, `_${c}`)]).toEqual([c, expect.stringMatching(memberOf(products.machoAtomics))]);
    expect(await run(linked, 'macho-driver')).toEqual(host);
  });

  it('ELF: the same Rust source and C for m68k-unknown-linux-gnu with the ELF atomics give the same output', async () => {
    const elfLib = path.join(dir, 'libnextstep_hello-elf.a');
    await runTool(
      toolchain.rust.rustc.path,
      nextstepHelloRustcArgs(ELF_TRIPLE, SYSROOT, cpuInfo(CPU).rustCpu, elfLib),
      {
        env: { RUSTC_BOOTSTRAP: '1' },
      },
    );
    expect(memberFormats(elfLib)).toEqual(new Set(['elf']));
    expect(memberFormats(products.elfAtomics)).toEqual(new Set(['elf']));
    const files = await inputs('elf', elfLib, products.elfAtomics);
    expect(undefinedIn(files[1])).toEqual(expect.arrayContaining(LIBCALLS));
    const linked = link(readInputs(files), { base: BASE });
    expect(definedIn(linked, 'nextrust_hello')).toMatch(memberOf(elfLib));
    expect(definedIn(linked, 'memcpy')).toMatch(/libfixture-c\.a\(/);
    for (const c of LIBCALLS)
      expect([c, definedIn(linked, c)]).toEqual([c, expect.stringMatching(memberOf(products.elfAtomics))]);
    expect(await run(linked, 'elf-driver')).toEqual(host);
  });

  it('a wrong relocation in the Mach-O link changes the output', async () => {
    const linked = link(readInputs(await inputs('macho', products.rustLib, products.machoAtomics)), { base: BASE });
    // The library's greeting, one byte further on: its address is the one absolute long in nextrust_hello
    // that points into the library's own read-only data.
    const start = linked.symbols.get('_nextrust_hello')! - BASE;
    const end = linked.symbols.get('_nextrust_hello_calls')! - BASE;
    const image = Buffer.from(linked.image);
    const ro = linked.layout.filter((s) => memberOf(products.rustLib).test(s.object) && s.group === 'rodata');
    const sites: number[] = [];
    for (let at = start; at + 4 <= end; at += 2) {
      const v = image.readUInt32BE(at);
      if (ro.some((s) => v >= s.address && v < s.address + s.size)) sites.push(at);
    }
    expect(sites).toHaveLength(1);
    image.writeUInt32BE(image.readUInt32BE(sites[0]) + 1, sites[0]);
    const r = await run({ ...linked, image }, 'macho-wrong');
    expect(r.stdout).not.toBe(host.stdout);
    // "ello," instead of "Hello".
    expect(r.stdout).toContain('hello(5) = 5: 656c6c6f2c');
  });
});

/** A string as a literal regular expression. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
