// The link harness (tools/nx-plugin/src/macho) with the real toolchain: the C
// programs in fixtures/link-programs (pointers to globals in other objects and
// sections, calls across objects, jump tables from switch, string constants and
// tables) are compiled
//  - for the 68k as ELF by the pipeline's patched clang (llvm-m68k:toolchain),
//    with the small code model (16-bit PC-relative data references) and the large
//    one (32-bit absolute), the runtime rt.c in a static library;
//  - for i386 as Mach-O by clang-19 (`--target=i386-apple-darwin`, the same
//    generic relocations as NeXT's 68k Mach-O), static and PIC (section
//    differences, non-lazy pointers);
//  - for NeXT's 68k Mach-O (m68k-next-nextstep-macho) by the patched backend's
//    Mach-O writer (Debian's clang -cc1 for the IR, the patched llc for the
//    object, static relocation model, large code model: docs/nextstep.md), and
//    the same IR route for m68k ELF, to compare the two;
// linked by our linker into a static executable and run under qemu (68040 /
// i386). Each must print what the same source prints when built for the build
// host and run there, and exit with the same status. The ELF images must also be
// byte for byte what GNU ld (m68k-linux-gnu-ld) makes of the same objects at the
// same address.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gnuLinkerScript, link, readInputs, readObject, type LinkResult } from '../src/macho/linker';
import type { InputObject } from '../src/macho/model';
import { parseMachObject } from '../src/macho/macho-reader';
import { runLinked } from '../src/macho/run';
import { runProcess, runTool } from '../src/util/exec';
import type { ToolchainManifest } from '../src/toolchain/locate';
import { workspaceToolchain } from './scratch-workspace';

const FIXTURES = path.join(__dirname, 'fixtures/link-programs');
const PROGRAMS = ['globals', 'switch', 'strings'];
const BASE = 0x10000000;
const sources = (program: string) =>
  fs
    .readdirSync(path.join(FIXTURES, program))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => path.join(FIXTURES, program, f));

const M68K_FLAGS = [
  '--target=m68k-linux-gnu',
  '-mcpu=68040',
  '-O2',
  '-ffreestanding',
  '-fno-pic',
  '-fno-asynchronous-unwind-tables',
];
/** The code models: clang's driver rejects -mcmodel=large for m68k, cc1 takes it. */
const M68K_MODELS: Record<string, string[]> = { small: [], large: ['-Xclang', '-mcmodel=large'] };
const I386_MACHO_FLAGS = [
  '--target=i386-apple-darwin',
  '-O2',
  '-ffreestanding',
  '-fno-asynchronous-unwind-tables',
  '-fno-stack-protector',
  '-mno-sse',
];
const I386_MODELS: Record<string, string[]> = { static: ['-static', '-fno-pic'], pic: ['-fPIC'] };

describe('link harness with the real toolchain', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-macho-link-'));
  let toolchain: ToolchainManifest;
  const expected = new Map<string, { stdout: string; exitCode: number | null }>();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    toolchain = await workspaceToolchain();
    for (const p of PROGRAMS) {
      const exe = path.join(dir, `host-${p}`);
      await runTool('cc', ['-O2', '-DRT_HOST', '-o', exe, path.join(FIXTURES, 'rt.c'), ...sources(p)]);
      const r = await runProcess(exe, [], { timeoutMs: 20_000 });
      expected.set(p, { stdout: r.stdout, exitCode: r.exitCode });
    }
  });

  /** Compiles each source to `<tag>-<name>.o`; returns the objects in source order. */
  async function compile(cc: string, flags: string[], tag: string, files: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const f of files) {
      const o = path.join(dir, `${tag}-${path.basename(path.dirname(f))}-${path.basename(f, '.c')}.o`);
      await runTool(cc, [...flags, '-c', f, '-o', o]);
      out.push(o);
    }
    return out;
  }

  /** The 68k ELF inputs: the program's objects and a static library holding rt.o. */
  async function m68kInputs(program: string, model: string): Promise<string[]> {
    const flags = [...M68K_FLAGS, ...M68K_MODELS[model]];
    const [rt] = await compile(toolchain.llvm.tools.clang.path, flags, `m68k-${model}`, [path.join(FIXTURES, 'rt.c')]);
    const lib = path.join(dir, `m68k-${model}-librt.a`);
    fs.rmSync(lib, { force: true });
    await runTool(toolchain.llvm.tools['llvm-ar'].path, ['rcs', lib, rt]);
    return [...(await compile(toolchain.llvm.tools.clang.path, flags, `m68k-${model}`, sources(program))), lib];
  }

  const fixupTypes = (objects: string[]) =>
    new Set(
      objects
        .filter((o) => o.endsWith('.o'))
        .flatMap((o) => readObject(fs.readFileSync(o), o).sections.flatMap((s) => s.fixups.map((f) => f.type))),
    );

  const m68kCases = PROGRAMS.flatMap((p) => Object.keys(M68K_MODELS).map((m) => [p, m] as const));

  it.each(m68kCases)(
    '68k ELF: %s (%s code model) runs under qemu-m68k with the host output',
    async (program, model) => {
      const inputs = await m68kInputs(program, model);
      // The code model decides the relocations: 16-bit PC-relative data references in the small one.
      expect(fixupTypes(inputs)).toEqual(new Set(model === 'small' ? ['R_68K_32', 'R_68K_PC16'] : ['R_68K_32']));
      const linked = link(readInputs(inputs), { base: BASE });
      expect(linked.objects.at(-1)).toMatch(/librt\.a\(.*rt\.o\)$/);
      const r = await runLinked(linked, {
        file: path.join(dir, `m68k-${model}-${program}`),
        qemu: toolchain.qemu.qemuM68k.path,
        cpu: 'm68040',
      });
      expect({ stdout: r.stdout, exitCode: r.exitCode }).toEqual(expected.get(program));
    },
  );

  it.each(m68kCases)('68k ELF: %s (%s code model) links to the same bytes as GNU ld', async (program, model) => {
    const inputs = await m68kInputs(program, model);
    // GNU ld merges SHF_MERGE string sections across objects (moving strings); this linker never
    // merges. Clearing the flag (the same objects for both) keeps the comparison to layout and relocation.
    const objcopy = toolchain.cross.ld.path.replace(/ld$/, 'objcopy');
    const plain = inputs.map((f) => path.join(dir, `plain-${path.basename(f)}`));
    for (let i = 0; i < inputs.length; i++)
      await runTool(objcopy, [
        '--set-section-flags',
        '.rodata*=alloc,load,readonly,data,contents',
        inputs[i],
        plain[i],
      ]);
    const ours = link(readInputs(plain), { base: BASE });
    const script = path.join(dir, 'link.ld');
    fs.writeFileSync(script, gnuLinkerScript(BASE));
    const gnuElf = path.join(dir, `gnu-${model}-${program}`);
    await runTool(toolchain.cross.ld.path, ['--no-warn-rwx-segments', '-T', script, '-o', gnuElf, ...plain]);
    const gnuBin = `${gnuElf}.bin`;
    await runTool(objcopy, ['-O', 'binary', gnuElf, gnuBin]);
    expect(Buffer.from(ours.image).equals(fs.readFileSync(gnuBin))).toBe(true);
    // Symbols and entry: GNU nm's addresses of every global symbol.
    const nm = await runTool(toolchain.cross.ld.path.replace(/ld$/, 'nm'), ['-g', '--defined-only', gnuElf]);
    const gnuSymbols = new Map(
      nm.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([addr, , name]) => [name, parseInt(addr, 16)] as const),
    );
    expect(new Map([...ours.symbols].sort())).toEqual(new Map([...gnuSymbols].sort()));
    expect(ours.entryName).toBe('start');
    expect(ours.entry).toBe(gnuSymbols.get('start'));
    // bss: GNU's end of .bss is ours.
    const sections = await runTool(toolchain.cross.ld.path.replace(/ld$/, 'readelf'), ['-SW', gnuElf]);
    const bss = /\.bss\s+NOBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(sections.stdout);
    if (bss) expect(parseInt(bss[1], 16) + parseInt(bss[2], 16)).toBe(ours.groups.bss.end);
    else expect(ours.bssSize).toBe(0);
  });

  it('68k ELF: a wrong relocation shows up as wrong output', async () => {
    const linked: LinkResult = link(readInputs(await m68kInputs('strings', 'large')), { base: BASE });
    // greetings[1] (in strings/words.c) pointed one byte further: "uten tag" instead of "guten tag".
    const at = linked.symbols.get('greetings')! + 4 - BASE;
    const image = Buffer.from(linked.image);
    image.writeUInt32BE(image.readUInt32BE(at) + 1, at);
    const r = await runLinked(
      { ...linked, image },
      { file: path.join(dir, 'm68k-wrong'), qemu: toolchain.qemu.qemuM68k.path },
    );
    expect(r.stdout).not.toBe(expected.get('strings')!.stdout);
    expect(r.stdout).toContain('\nuten tag (');
  });

  const i386Cases = PROGRAMS.flatMap((p) => Object.keys(I386_MODELS).map((m) => [p, m] as const));

  it.each(i386Cases)('i386 Mach-O: %s (%s) runs under qemu-i386 with the host output', async (program, model) => {
    const flags = [...I386_MACHO_FLAGS, ...I386_MODELS[model]];
    const objects = await compile('clang-19', flags, `i386-${model}`, [
      path.join(FIXTURES, 'rt.c'),
      ...sources(program),
    ]);
    const types = fixupTypes(objects);
    expect(types).toContain('GENERIC_RELOC_VANILLA');
    if (model === 'pic')
      // PIC code reaches data as differences from a PIC base, and other objects' data through non-lazy pointers.
      expect([...types].sort()).toEqual(
        expect.arrayContaining(['GENERIC_RELOC_LOCAL_SECTDIFF', 'S_NON_LAZY_SYMBOL_POINTERS']),
      );
    const linked = link(readInputs(objects), { base: BASE });
    expect(linked.entryName).toBe('_start');
    const r = await runLinked(linked, { file: path.join(dir, `i386-${model}-${program}`) });
    expect({ stdout: r.stdout, exitCode: r.exitCode }).toEqual(expected.get(program));
  });

  /** Compiles through IR as docs/nextstep.md does for NeXT: Debian's clang -cc1 (front end), the patched llc. */
  async function compileViaLlc(triple: string, tag: string, files: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const f of files) {
      const base = path.join(dir, `${tag}-${path.basename(path.dirname(f))}-${path.basename(f, '.c')}`);
      const clang = path.join(toolchain.llvm.binDir, 'clang');
      await runTool(clang, [
        '-cc1',
        '-triple',
        triple,
        '-target-cpu',
        'M68040',
        '-O2',
        '-ffreestanding',
        '-emit-llvm',
        f,
        '-o',
        `${base}.ll`,
      ]);
      await runTool(toolchain.llvm.tools.llc.path, [
        `-mtriple=${triple}`,
        '-mcpu=M68040',
        '-relocation-model=static',
        '-code-model=large',
        '-filetype=obj',
        `${base}.ll`,
        '-o',
        `${base}.o`,
      ]);
      out.push(`${base}.o`);
    }
    return out;
  }

  it.each(PROGRAMS)('68k NeXT Mach-O: %s runs under qemu-m68k with the host output', async (program) => {
    const files = [path.join(FIXTURES, 'rt.c'), ...sources(program)];
    const objects = await compileViaLlc('m68k-next-nextstep-macho', 'next', files);
    for (const o of objects) {
      const obj = readObject(fs.readFileSync(o), o);
      expect([obj.format, obj.machine, obj.bigEndian]).toEqual(['macho', 'm68k', true]);
    }
    expect(fixupTypes(objects)).toEqual(new Set(['GENERIC_RELOC_VANILLA']));
    const linked = link(readInputs(objects), { base: BASE });
    expect(linked.entryName).toBe('_start');
    expect(linked.symbols.has('_main')).toBe(true);
    const r = await runLinked(linked, { file: path.join(dir, `next-${program}`), qemu: toolchain.qemu.qemuM68k.path });
    expect({ stdout: r.stdout, exitCode: r.exitCode }).toEqual(expected.get(program));
  });

  it.each(PROGRAMS)(
    '68k round trip: %s from the same IR route as ELF and as Mach-O: the same code, relocated at the same places to the same symbols, both with the host output',
    async (program) => {
      const files = [path.join(FIXTURES, 'rt.c'), ...sources(program)];
      const macho = await compileViaLlc('m68k-next-nextstep-macho', 'rt-next', files);
      const elf = await compileViaLlc('m68k-unknown-linux-gnu', 'rt-elf', files);
      const refs: { elf: string; macho: string; refs: (readonly [number, string, number, boolean])[] }[] = [];
      for (let i = 0; i < files.length; i++) {
        const eObj = readObject(fs.readFileSync(elf[i]), elf[i]);
        const mObj = readObject(fs.readFileSync(macho[i]), macho[i]);
        const e = eObj.sections.find((s) => s.name === '.text')!;
        const m = mObj.sections.find((s) => s.name === '__TEXT,__text')!;
        const sites = (fx: typeof e.fixups) => fx.map((f) => `${f.offset}/${f.size}/${f.pcrel}`).sort();
        expect(sites(m.fixups)).toEqual(sites(e.fixups));
        const masked = (data: Uint8Array, fx: typeof e.fixups) => {
          const b = Buffer.from(data);
          for (const f of fx) b.fill(0, f.offset, f.offset + f.size);
          return b.toString('hex');
        };
        expect(masked(m.data, m.fixups)).toBe(masked(e.data, e.fixups));
        // A field that refers to a global symbol: where the symbol is external to the object, the Mach-O
        // entry names the same one (NeXT's with the leading underscore) with the same addend (a symbol defined
        // in the object gets a section entry there); after linking, both images hold the symbol's address
        // plus the addend (checked below for every such field).
        const globalRefs = (o: InputObject, sec: typeof e, prefix: string) =>
          sec.fixups
            .filter((f) => f.plus.kind === 'symbol' && o.symbols[f.plus.index].global && !f.pcrel)
            .map((f) => {
              const sym = o.symbols[(f.plus as { index: number }).index];
              return [f.offset, sym.name.slice(prefix.length), f.addend, sym.def.kind === 'undefined'] as const;
            })
            .sort((x, y) => x[0] - y[0]);
        const eRefs = globalRefs(eObj, e, '');
        expect(globalRefs(mObj, m, '_')).toEqual(eRefs.filter((r) => r[3]));
        refs.push({ elf: elf[i], macho: macho[i], refs: eRefs });
      }
      const linkedElf = link(readInputs(elf), { base: BASE });
      const linkedMacho = link(readInputs(macho), { base: BASE });
      // The images are laid out differently (ELF aligns .text to 4, the Mach-O writer __text to 2; strings go
      // to __TEXT,__cstring against .rodata.str1.1), so compare each relocated reference through the symbol map.
      expect(refs.flatMap((r) => r.refs).length).toBeGreaterThan(20);
      for (const { elf: eo, macho: mo, refs: list } of refs) {
        const at = (l: LinkResult, obj: string) =>
          l.layout.find((p) => p.object === obj && p.group === 'text')!.address;
        for (const [offset, name, addend] of list) {
          const ev = Buffer.from(linkedElf.image).readUInt32BE(at(linkedElf, eo) + offset - BASE);
          const mv = Buffer.from(linkedMacho.image).readUInt32BE(at(linkedMacho, mo) + offset - BASE);
          expect([name, ev]).toEqual([name, (linkedElf.symbols.get(name)! + addend) >>> 0]);
          expect([name, mv]).toEqual([name, (linkedMacho.symbols.get(`_${name}`)! + addend) >>> 0]);
        }
      }
      for (const [linked, tag] of [
        [linkedElf, 'elf'],
        [linkedMacho, 'next'],
      ] as const) {
        const r = await runLinked(linked, {
          file: path.join(dir, `rt-${tag}-${program}`),
          qemu: toolchain.qemu.qemuM68k.path,
        });
        expect({ stdout: r.stdout, exitCode: r.exitCode }).toEqual(expected.get(program));
      }
    },
  );

  it('68k NeXT Mach-O assembly: every relocation kind the writer emits, values by hand, run under qemu-m68k', async () => {
    // Assembly cannot run on the build host: the expected values follow from the sources and the layout rules.
    const objects: string[] = [];
    for (const name of ['prog', 'ext']) {
      const out = path.join(dir, `next-asm-${name}.o`);
      await runTool(toolchain.llvm.tools.clang.path, [
        '-cc1as',
        '-triple',
        'm68k-next-nextstep-macho',
        '-target-cpu',
        'M68040',
        '-filetype',
        'obj',
        path.join(FIXTURES, 'next-asm', `${name}.s`),
        '-o',
        out,
      ]);
      objects.push(out);
    }
    const prog = parseMachObject(fs.readFileSync(objects[0]), objects[0]);
    const kinds = new Set(
      prog.relocations
        .flat()
        .map(
          (r) =>
            `${['VANILLA', 'PAIR', 'SECTDIFF'][r.type]}/${r.scattered ? 'scattered' : r.extern ? 'extern' : 'local'}/${r.pcrel ? 'pcrel' : 'abs'}/${r.length}`,
        ),
    );
    expect([...kinds].sort()).toEqual([
      'PAIR/scattered/abs/2',
      'SECTDIFF/scattered/abs/2',
      'VANILLA/extern/abs/2',
      'VANILLA/extern/pcrel/1',
      'VANILLA/extern/pcrel/2',
      'VANILLA/local/abs/2',
      'VANILLA/scattered/abs/2',
    ]);
    const linked = link(readInputs(objects), { base: BASE });
    // prog __text (0x40 bytes), ext __text (0xe), prog __cstring (_second, _third 12 bytes on), prog __data
    // (_table, _diff at +8), ext __data (_greeting).
    expect(linked.layout.map((p) => [path.basename(p.object), p.section, p.address - BASE])).toEqual([
      ['next-asm-prog.o', '__TEXT,__text', 0],
      ['next-asm-ext.o', '__TEXT,__text', 0x40],
      ['next-asm-prog.o', '__TEXT,__cstring', 0x4e],
      ['next-asm-prog.o', '__DATA,__data', 0x66],
      ['next-asm-ext.o', '__DATA,__data', 0x72],
    ]);
    const img = Buffer.from(linked.image);
    expect(img.readInt16BE(0x2)).toBe(0x72 - 0x2); // lea (_greeting,%pc): the pc is the extension word
    expect(img.readInt32BE(0xc)).toBe(0x40 - 0xc); // bsr.l _write_out
    expect(img.readUInt32BE(0x2a)).toBe(BASE + 0x66 + 4); // move.l _table+4 (scattered)
    expect(img.readUInt32BE(0x66 + 4)).toBe(BASE + 0x4e + 12); // .long _third
    expect(img.readInt32BE(0x66 + 8)).toBe(0x4e - 0x66); // .long _second - _table (SECTDIFF)
    const r = await runLinked(linked, { file: path.join(dir, 'next-asm'), qemu: toolchain.qemu.qemuM68k.path });
    expect({ stdout: r.stdout, exitCode: r.exitCode }).toEqual({
      stdout: 'hello from ext\nsecond line\nthird line\n',
      exitCode: 7,
    });
  });
});
