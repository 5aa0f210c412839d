// The patched backend's Mach-O object writer (projects/llvm-m68k/patches/0006-macho-object-writer.patch),
// with the real toolchain (llvm-m68k:toolchain through nx, so the backend of this checkout):
//  - assembly (clang -cc1as through the clang wrapper) and C (clang -cc1 -emit-llvm, then the llc wrapper)
//    for the triple m68k-next-nextstep-macho give big-endian MH_OBJECT files for CPU_TYPE_MC680x0, read
//    back with llvm-objdump --macho: header, sections, symbols and every relocation (type, pcrel, length,
//    extern or section number, scattered r_value) and the value each relocated item holds, in NeXT's
//    convention (cctools ld/generic_reloc.c: a pc-relative item holds "target - address of the item");
//  - Debian's backend (the same clang and llc without the preload) crashes on the same inputs, and writes
//    ELF for m68k-apple-darwin, as the patched one does: only a Mach-O triple selects the writer;
//  - the NeXT target spec (projects/rust-target/target-specs/m68k-next-nextstep.json): rustc accepts its
//    data layout and writes Mach-O; the atomics' NeXTSTEP archive is Mach-O with NeXT's symbol names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratchDir } from '../src/backend/regressions';
import { buildAtomics, NEXTSTEP_MACHO_TRIPLE } from '../src/build/atomics';
import type { ToolchainManifest } from '../src/toolchain/locate';
import { runProcess } from '../src/util/exec';
import { workspaceToolchain, WORKSPACE_ROOT } from './scratch-workspace';

const TRIPLE = 'm68k-next-nextstep-macho';
let toolchain: ToolchainManifest;
let objdump: string;
const work = scratchDir('nextrust-macho-');

/** One row of `llvm-objdump --macho --reloc`. */
interface Reloc {
  address: number;
  pcrel: boolean;
  length: string;
  /** 'True' | 'False' | 'n/a' (scattered entries have no r_extern). */
  extern: string;
  type: number;
  scattered: boolean;
  /** symbol name (extern), `<n> (<seg>,<sect>)` (section number) or `0x...` (scattered r_value). */
  target: string;
}

/** One row of `llvm-objdump --macho --syms`. */
interface Sym {
  value: number;
  /** 'l' local, 'g' global, '' undefined. */
  scope: string;
  section: string;
  name: string;
}

/** What objdump says about one object. */
interface Dump {
  relocs: Record<string, Reloc[]>;
  syms: Sym[];
  /** `segname,sectname` -> { addr, size, type, offset } from the load commands. */
  sections: Record<string, { addr: number; size: number; type: string }>;
  header: string;
  loadCommands: string[];
  contents: Record<string, Buffer>;
  raw: Buffer;
}

function hex(s: string): number {
  return parseInt(s, 16);
}

/** Runs a command and fails the test with its output when it does not exit 0. */
async function run(cmd: string, args: string[], env?: Record<string, string>, cwd?: string): Promise<string> {
  const r = await runProcess(cmd, args, { env, cwd });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.exitCode}:\n${r.all}`);
  return r.stdout;
}

/** Reads an object back with llvm-objdump --macho (Debian's: the reader is not part of the backend). */
async function dump(obj: string): Promise<Dump> {
  const out = await run(objdump, ['--macho', '--private-headers', '--reloc', '--syms', '--full-contents', obj]);
  const d: Dump = {
    relocs: {},
    syms: [],
    sections: {},
    header: '',
    loadCommands: [],
    contents: {},
    raw: fs.readFileSync(obj),
  };
  const lines = out.split('\n');
  let relocSection = '';
  let inSyms = false;
  let contentsSection = '';
  let sect: { sectname?: string; segname?: string; addr?: number; size?: number; type?: string } | null = null;
  const flushSect = () => {
    if (sect?.sectname && sect.segname)
      d.sections[`${sect.segname},${sect.sectname}`] = { addr: sect.addr!, size: sect.size!, type: sect.type! };
    sect = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m = /^Relocation information \((\S+)\) \d+ entries/.exec(line);
    if (m) {
      relocSection = m[1];
      d.relocs[relocSection] = [];
      i++; // column titles
      continue;
    }
    m = /^([0-9a-f]{8}) (True|False)\s+(byte|word|long)\s+(True|False|n\/a)\s+(\d+)\s+(True|False)\s+(.+)$/.exec(line);
    if (m && relocSection) {
      d.relocs[relocSection].push({
        address: hex(m[1]),
        pcrel: m[2] === 'True',
        length: m[3],
        extern: m[4],
        type: Number(m[5]),
        scattered: m[6] === 'True',
        target: m[7].trim(),
      });
      continue;
    }
    if (!line.startsWith('0') && !line.startsWith('Relocation')) relocSection = '';
    if (line === 'SYMBOL TABLE:') {
      inSyms = true;
      continue;
    }
    if (inSyms) {
      m = /^([0-9a-f]{8}) (.{7}) (\S+) (\S+)$/.exec(line);
      const u = /^([0-9a-f]{8})\s+\*UND\* (\S+)$/.exec(line);
      if (u) d.syms.push({ value: hex(u[1]), scope: '', section: '*UND*', name: u[2] });
      else if (m) d.syms.push({ value: hex(m[1]), scope: m[2].trim()[0], section: m[3], name: m[4] });
      else inSyms = false;
    }
    m = /^Contents of section (\S+):$/.exec(line);
    if (m) {
      contentsSection = m[1];
      d.contents[contentsSection] = Buffer.alloc(0);
      continue;
    }
    m = /^ [0-9a-f]{4,} ((?:[0-9a-f]{2,8} ?)+) /.exec(line);
    if (m && contentsSection) {
      d.contents[contentsSection] = Buffer.concat([
        d.contents[contentsSection],
        Buffer.from(m[1].replace(/ /g, ''), 'hex'),
      ]);
      continue;
    }
    if (!line.startsWith(' ')) contentsSection = '';
    if (/^\s+magic\s+cputype/.test(line)) d.header = lines[i + 1].trim();
    m = /^\s+cmd (LC_\w+)$/.exec(line);
    if (m) d.loadCommands.push(m[1]);
    if (line === 'Section') {
      flushSect();
      sect = {};
    }
    if (sect) {
      m = /^\s+(sectname|segname|addr|size|type) (\S+)$/.exec(line);
      if (m) {
        if (m[1] === 'addr' || m[1] === 'size') sect[m[1]] = hex(m[2]);
        else sect[m[1] as 'sectname' | 'segname' | 'type'] = m[2];
      }
      if (/^Load command/.test(line)) flushSect();
    }
  }
  flushSect();
  return d;
}

/** The 32-bit big-endian item at `address` (a section offset) of `section`. */
function item32(d: Dump, section: string, address: number): number {
  return d.contents[section].readInt32BE(address);
}

function item16(d: Dump, section: string, address: number): number {
  return d.contents[section].readInt16BE(address);
}

function sym(d: Dump, name: string): Sym {
  const s = d.syms.find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name} in ${d.syms.map((x) => x.name).join(', ')}`);
  return s;
}

/** The header checks every Mach-O object of this writer must pass. */
function expectNextHeader(d: Dump): void {
  // struct mach_header, big-endian: magic, cputype, cpusubtype, filetype (include/mach-o/loader.h).
  expect(d.raw.readUInt32BE(0)).toBe(0xfeedface);
  expect(d.raw.readUInt32BE(4)).toBe(6); // CPU_TYPE_MC680x0
  expect(d.raw.readUInt32BE(8)).toBe(1); // CPU_SUBTYPE_MC680x0_ALL
  expect(d.raw.readUInt32BE(12)).toBe(1); // MH_OBJECT
  expect(d.raw.readUInt32BE(24)).toBe(0); // flags: no MH_SUBSECTIONS_VIA_SYMBOLS (NeXT's ld predates it)
  expect(d.header).toMatch(/^MH_MAGIC\s+6\s+1\s+0x00\s+OBJECT\s/);
  expect(d.loadCommands).toEqual(['LC_SEGMENT', 'LC_SYMTAB', 'LC_DYSYMTAB']);
}

const ASM = `
	.text
	.globl	_func
_func:
	move.l	_counter, %d0
	move.l	_ext_data, %d1
	jsr	_ext_func
	bsr.l	_ext_func
	lea	(_ext_data+8,%pc), %a0
	lea	(_local_data,%pc), %a0
	move.l	#_local_data+4, %a0
	bra	Lnear
	nop
Lnear:
	rts

	.section	__TEXT,__const
	.globl	_table
_table:
	.long	_func
	.long	_ext_data+8
	.long	_b - _a
	.long	_counter - _table
	.long	_counter+4

	.section	__TEXT,__cstring,cstring_literals
_a:
	.asciz	"hello"
_b:
	.asciz	"world"

	.data
	.globl	_counter
_counter:
	.long	42
_local_data:
	.long	1, 2

	.zerofill	__DATA,__bss,_zero,16,2
`;

const C_SRC = `
extern int ext_data;
extern int ext_func(int);
int counter = 42;
int shared;
static int zeroed[4];
const int table[3] = {1, 2, 3};
const char *greeting = "hello";
static int helper(int i) { return zeroed[i & 3] += counter; }
int use(int i) { return ext_func(ext_data + table[i % 3] + greeting[0]) + helper(i) + shared; }
int sw(int i) {
  switch (i) {
  case 0: return ext_func(1);
  case 1: return ext_func(7);
  case 2: return 5;
  case 3: return ext_func(9);
  case 4: return 11;
  default: return 0;
  }
}
`;

let asmSrc: string;
let cIr: string;

beforeAll(async () => {
  toolchain = await workspaceToolchain();
  objdump = path.join(toolchain.llvm.binDir, 'llvm-objdump');
  asmSrc = path.join(work, 'refs.s');
  fs.writeFileSync(asmSrc, ASM);
  const cSrc = path.join(work, 'refs.c');
  fs.writeFileSync(cSrc, C_SRC);
  // The clang driver cannot target a Mach-O m68k triple (its Mach-O tool chain maps architectures through
  // Darwin's -arch names, which have no m68k), so the front end runs as cc1. Its data layout says m:e for
  // every m68k triple and clang refuses a backend that says otherwise (m:o), even for -emit-llvm: the IR
  // comes from Debian's clang (front end only), and llc replaces its data layout with the backend's.
  cIr = path.join(work, 'refs.ll');
  await run(path.join(toolchain.llvm.binDir, 'clang'), [
    '-cc1',
    '-triple',
    TRIPLE,
    '-O2',
    '-emit-llvm',
    cSrc,
    '-o',
    cIr,
  ]);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Assembles the test's assembly with `clang` (a path) for `triple`. */
function assemble(clang: string, triple: string, out: string) {
  return runProcess(clang, [
    '-cc1as',
    '-triple',
    triple,
    '-target-cpu',
    'M68040',
    '-filetype',
    'obj',
    asmSrc,
    '-o',
    out,
  ]);
}

/** Compiles the test's C (as IR) with `llc` (a path) for the NeXT triple. */
function compile(llc: string, out: string) {
  return runProcess(llc, [
    `-mtriple=${TRIPLE}`,
    '-mcpu=M68040',
    '-relocation-model=static',
    '-code-model=large',
    '-filetype=obj',
    cIr,
    '-o',
    out,
  ]);
}

describe('assembly for m68k-next-nextstep-macho (clang -cc1as with the patched backend)', () => {
  let d: Dump;
  beforeAll(async () => {
    const obj = path.join(work, 'refs.o');
    const r = await assemble(toolchain.llvm.tools.clang.path, TRIPLE, obj);
    expect(r.all).toBe('');
    expect(r.exitCode).toBe(0);
    d = await dump(obj);
  });

  it('is a big-endian MH_OBJECT for CPU_TYPE_MC680x0 with only the load commands NeXT knows', () => {
    expectNextHeader(d);
  });

  it('puts code, constants, C strings, data and zero fill in their NeXT sections', () => {
    expect(Object.keys(d.sections).sort()).toEqual(
      ['__DATA,__bss', '__DATA,__data', '__TEXT,__const', '__TEXT,__cstring', '__TEXT,__text'].sort(),
    );
    expect(d.sections['__TEXT,__cstring'].type).toBe('S_CSTRING_LITERALS');
    expect(d.sections['__DATA,__bss'].type).toBe('S_ZEROFILL');
    expect(d.sections['__DATA,__bss'].size).toBe(16);
    expect(d.sections['__TEXT,__text'].type).toBe('S_REGULAR');
    expect(d.contents['__TEXT,__cstring'].toString('latin1')).toBe('hello\0world\0');
  });

  it('keeps globals external, labels local and undefined symbols undefined', () => {
    expect(sym(d, '_func')).toMatchObject({ scope: 'g', section: '__TEXT,__text', value: 0 });
    expect(sym(d, '_counter')).toMatchObject({ scope: 'g', section: '__DATA,__data' });
    expect(sym(d, '_table')).toMatchObject({ scope: 'g', section: '__TEXT,__const' });
    expect(sym(d, '_local_data')).toMatchObject({ scope: 'l', section: '__DATA,__data' });
    expect(sym(d, '_zero')).toMatchObject({ scope: 'l', section: '__DATA,__bss' });
    expect(sym(d, '_ext_func').section).toBe('*UND*');
    expect(sym(d, '_ext_data').section).toBe('*UND*');
    // `L` labels are assembler-private: resolved in the object, not in its symbol table.
    expect(d.syms.map((s) => s.name)).not.toContain('Lnear');
  });

  it('relocates code: absolute local and extern longs, pc-relative extern and local displacements', () => {
    const text = d.relocs['__TEXT,__text'];
    const data = d.sections['__DATA,__data'];
    const at = (a: number) => text.filter((r) => r.address === a);
    // move.l _counter,%d0 (opcode word, then the absolute long at 2): a local relocation by section number,
    // the item holds the symbol's address in the object.
    expect(at(0x02)).toEqual([
      {
        address: 2,
        pcrel: false,
        length: 'long',
        extern: 'False',
        type: 0,
        scattered: false,
        target: '4 (__DATA,__data)',
      },
    ]);
    expect(item32(d, '__TEXT,__text', 0x02)).toBe(sym(d, '_counter').value);
    // move.l _ext_data,%d1 and jsr _ext_func: extern relocations, the item holds the addend (0).
    expect(at(0x08)).toEqual([
      { address: 8, pcrel: false, length: 'long', extern: 'True', type: 0, scattered: false, target: '_ext_data' },
    ]);
    expect(item32(d, '__TEXT,__text', 0x08)).toBe(0);
    expect(at(0x0e)).toEqual([
      { address: 0x0e, pcrel: false, length: 'long', extern: 'True', type: 0, scattered: false, target: '_ext_func' },
    ]);
    // bsr.l _ext_func at 0x12: 32-bit displacement at 0x14, pc = its own address (cctools ld passes
    // pcrel_at_end_of_disp = FALSE for the 68k), so the item holds 0 - 0x14.
    expect(at(0x14)).toEqual([
      { address: 0x14, pcrel: true, length: 'long', extern: 'True', type: 0, scattered: false, target: '_ext_func' },
    ]);
    expect(item32(d, '__TEXT,__text', 0x14)).toBe(-0x14);
    // lea (_ext_data+8,%pc): a 16-bit pc-relative extern, the item holds 8 - 0x1a.
    expect(at(0x1a)).toEqual([
      { address: 0x1a, pcrel: true, length: 'word', extern: 'True', type: 0, scattered: false, target: '_ext_data' },
    ]);
    expect(item16(d, '__TEXT,__text', 0x1a)).toBe(8 - 0x1a);
    // lea (_local_data,%pc): pc-relative into another section of this file, by section number; the item
    // holds target - pc with the object's addresses.
    expect(at(0x1e)).toEqual([
      {
        address: 0x1e,
        pcrel: true,
        length: 'word',
        extern: 'False',
        type: 0,
        scattered: false,
        target: '4 (__DATA,__data)',
      },
    ]);
    expect(item16(d, '__TEXT,__text', 0x1e)).toBe(sym(d, '_local_data').value - 0x1e);
    // move.l #_local_data+4,%a0: a local symbol plus an offset is a scattered VANILLA entry whose r_value
    // is the symbol's address (reloc.h); the item holds symbol + offset.
    expect(at(0x22)).toEqual([
      {
        address: 0x22,
        pcrel: false,
        length: 'long',
        extern: 'n/a',
        type: 0,
        scattered: true,
        target: '0x' + sym(d, '_local_data').value.toString(16).padStart(8, '0'),
      },
    ]);
    expect(item32(d, '__TEXT,__text', 0x22)).toBe(sym(d, '_local_data').value + 4);
    expect(data.addr).toBe(sym(d, '_counter').value);
    // The 8-bit branch to Lnear is resolved in the section: no relocation, the displacement from pc (0x28).
    expect(text.map((r) => r.address).sort((a, b) => a - b)).toEqual([0x02, 0x08, 0x0e, 0x14, 0x1a, 0x1e, 0x22]);
    expect(d.contents['__TEXT,__text'].readUInt16BE(0x26)).toBe(0x6000 | 2);
  });

  it('relocates data: pointers, an extern plus addend, and differences as SECTDIFF + PAIR', () => {
    const rel = d.relocs['__TEXT,__const'];
    const base = d.sections['__TEXT,__const'].addr;
    const v = (name: string) => '0x' + sym(d, name).value.toString(16).padStart(8, '0');
    expect(rel).toEqual(
      expect.arrayContaining([
        {
          address: 0,
          pcrel: false,
          length: 'long',
          extern: 'False',
          type: 0,
          scattered: false,
          target: '1 (__TEXT,__text)',
        },
        { address: 4, pcrel: false, length: 'long', extern: 'True', type: 0, scattered: false, target: '_ext_data' },
        { address: 0x10, pcrel: false, length: 'long', extern: 'n/a', type: 0, scattered: true, target: v('_counter') },
      ]),
    );
    expect(item32(d, '__TEXT,__const', 0)).toBe(0);
    expect(item32(d, '__TEXT,__const', 4)).toBe(8);
    expect(item32(d, '__TEXT,__const', 0x10)).toBe(sym(d, '_counter').value + 4);
    // Each GENERIC_RELOC_SECTDIFF (2) is followed by its GENERIC_RELOC_PAIR (1): r_value of a, then of b.
    for (const [address, a, b] of [
      [8, '_b', '_a'],
      [0x0c, '_counter', '_table'],
    ] as const) {
      const i = rel.findIndex((r) => r.address === address && r.type === 2);
      expect(rel[i]).toEqual({
        address,
        pcrel: false,
        length: 'long',
        extern: 'n/a',
        type: 2,
        scattered: true,
        target: v(a),
      });
      expect(rel[i + 1]).toEqual({
        address: 0,
        pcrel: false,
        length: 'long',
        extern: 'n/a',
        type: 1,
        scattered: true,
        target: v(b),
      });
      expect(item32(d, '__TEXT,__const', address)).toBe(sym(d, a).value - sym(d, b).value);
    }
    expect(rel).toHaveLength(7);
    expect(base).toBe(sym(d, '_table').value);
    // No type the NeXT ld does not know (LOCAL_SECTDIFF is 4).
    expect(
      Object.values(d.relocs)
        .flat()
        .every((r) => r.type <= 2),
    ).toBe(true);
  });

  it('writes the non-scattered relocation_info bit fields as a big-endian host lays them out', () => {
    // Read the file itself (include/mach-o/loader.h, nlist.h): the first section header follows the
    // 28-byte mach_header and the 56-byte segment_command; reloff and nreloc are at 48 and 52 of it.
    const sect0 = 28 + 56;
    const reloff = d.raw.readUInt32BE(sect0 + 48);
    const nreloc = d.raw.readUInt32BE(sect0 + 52);
    const entries = Array.from({ length: nreloc }, (_, i) => [
      d.raw.readUInt32BE(reloff + 8 * i),
      d.raw.readUInt32BE(reloff + 8 * i + 4),
    ]);
    // LC_SYMTAB follows LC_SEGMENT: symoff, nsyms, stroff; each nlist is 12 bytes, n_strx first.
    const symtab = 28 + d.raw.readUInt32BE(28 + 4);
    expect(d.raw.readUInt32BE(symtab)).toBe(2); // LC_SYMTAB
    const symoff = d.raw.readUInt32BE(symtab + 8);
    const stroff = d.raw.readUInt32BE(symtab + 16);
    const nameOf = (index: number) => {
      const strx = d.raw.readUInt32BE(symoff + 12 * index);
      return d.raw.subarray(stroff + strx, d.raw.indexOf(0, stroff + strx)).toString('latin1');
    };
    // The bsr.l entry: r_address 0x14, then r_symbolnum:24 | r_pcrel:1 | r_length:2 | r_extern:1 | r_type:4
    // from the most significant bit (the bit-field struct of include/mach-o/reloc.h on a big-endian host).
    const bsr = entries.find(([addr]) => addr === 0x14)!;
    expect(bsr[1] & 0xff).toBe((1 << 7) | (2 << 5) | (1 << 4) | 0);
    expect(nameOf(bsr[1] >>> 8)).toBe('_ext_func');
    // move.l _counter: section 4, not pc-relative, long, not extern.
    const counter = entries.find(([addr]) => addr === 0x02)!;
    expect(counter[1]).toBe((4 << 8) | (0 << 7) | (2 << 5) | (0 << 4) | 0);
  });
});

describe('C for m68k-next-nextstep-macho (llc with the patched backend)', () => {
  let d: Dump;
  beforeAll(async () => {
    const obj = path.join(work, 'refs-c.o');
    const r = await compile(toolchain.llvm.tools.llc.path, obj);
    expect(r.exitCode).toBe(0);
    d = await dump(obj);
  });

  it('is a big-endian MH_OBJECT for CPU_TYPE_MC680x0', () => {
    expectNextHeader(d);
  });

  it("names C symbols with NeXT's leading underscore; statics local, private strings out of the table", () => {
    expect(sym(d, '_use')).toMatchObject({ scope: 'g', section: '__TEXT,__text' });
    expect(sym(d, '_sw')).toMatchObject({ scope: 'g', section: '__TEXT,__text' });
    expect(sym(d, '_counter')).toMatchObject({ scope: 'g', section: '__DATA,__data' });
    expect(sym(d, '_greeting')).toMatchObject({ scope: 'g', section: '__DATA,__data' });
    expect(sym(d, '_table')).toMatchObject({ scope: 'g', section: '__TEXT,__const' });
    expect(sym(d, '_zeroed')).toMatchObject({ scope: 'l', section: '__DATA,__bss' });
    expect(sym(d, '_shared')).toMatchObject({ scope: 'g', section: '__DATA,__common' });
    for (const u of ['_ext_func', '_ext_data', '___modsi3']) expect(sym(d, u).section).toBe('*UND*');
    expect(d.syms.map((s) => s.name).filter((n) => !n.startsWith('_') && !n.startsWith('l'))).toEqual([]);
    expect(d.syms.map((s) => s.name)).not.toContain('use');
    expect(d.contents['__TEXT,__cstring'].toString('latin1')).toBe('hello\0');
    expect(d.sections['__DATA,__bss'].type).toBe('S_ZEROFILL');
    expect(d.sections['__DATA,__common'].type).toBe('S_ZEROFILL');
  });

  it('calls external functions and the division libcall through extern relocations', () => {
    const text = d.relocs['__TEXT,__text'];
    const externs = new Set(text.filter((r) => r.extern === 'True').map((r) => r.target));
    expect([...externs].sort()).toEqual(['___modsi3', '_ext_data', '_ext_func']);
    for (const r of text) {
      expect(r).toMatchObject({ length: 'long', type: 0 });
      // The large code model reaches everything with absolute longs, so no pc-relative entry is needed.
      expect(r.pcrel).toBe(false);
      if (r.extern === 'True') expect(item32(d, '__TEXT,__text', r.address)).toBe(0);
    }
    // jsr _ext_func: opcode 0x4eb9 (absolute long) just before its relocated item.
    const calls = text.filter((r) => r.target === '_ext_func');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const c of calls) expect(d.contents['__TEXT,__text'].readUInt16BE(c.address - 2)).toBe(0x4eb9);
    // Local data by section number, the item holding the symbol's address.
    const local = text.filter((r) => r.extern === 'False' && !r.scattered);
    const targets = local.map((r) => item32(d, '__TEXT,__text', r.address));
    expect(targets).toEqual(expect.arrayContaining([sym(d, '_zeroed').value, sym(d, '_table').value]));
  });

  it('the jump table of the switch is a table of local relocations into __text', () => {
    const rel = d.relocs['__TEXT,__const'];
    const jt = rel.filter((r) => r.target === '1 (__TEXT,__text)');
    expect(jt).toHaveLength(5);
    const text = d.sections['__TEXT,__text'];
    for (const r of jt) {
      const target = item32(d, '__TEXT,__const', r.address);
      expect(target).toBeGreaterThan(sym(d, '_sw').value);
      expect(target).toBeLessThan(text.addr + text.size);
    }
    expect(d.relocs['__DATA,__data']).toEqual([
      {
        address: sym(d, '_greeting').value - d.sections['__DATA,__data'].addr,
        pcrel: false,
        length: 'long',
        extern: 'False',
        type: 0,
        scattered: false,
        target: expect.stringMatching(/^\d+ \(__TEXT,__cstring\)$/),
      },
    ]);
  });
});

describe('a pc-relative reference to a local symbol plus an offset', () => {
  it('is a scattered pc-relative entry whose r_value is the symbol; the item holds symbol + offset - pc', async () => {
    const src = path.join(work, 'pc.s');
    fs.writeFileSync(
      src,
      '\t.text\n\tnop\n\tlea\t(_local_data+4,%pc), %a0\n\trts\n\t.data\n\t.long 0\n_local_data:\n\t.long 1, 2\n',
    );
    const obj = path.join(work, 'pc.o');
    const r = await runProcess(toolchain.llvm.tools.clang.path, [
      '-cc1as',
      '-triple',
      TRIPLE,
      '-filetype',
      'obj',
      src,
      '-o',
      obj,
    ]);
    expect(r.exitCode).toBe(0);
    const d = await dump(obj);
    const target = sym(d, '_local_data').value;
    expect(target).toBe(0x0c);
    // nop at 0, lea's opcode word at 2, its displacement (the item, and the pc) at 4.
    expect(d.relocs['__TEXT,__text']).toEqual([
      { address: 4, pcrel: true, length: 'word', extern: 'n/a', type: 0, scattered: true, target: '0x0000000c' },
    ]);
    expect(item16(d, '__TEXT,__text', 4)).toBe(target + 4 - 4);
  });
});

describe('constants for m68k-next-nextstep-macho (llc with the patched backend)', () => {
  it("puts 4- and 8-byte literals in __literal4/__literal8 and 16-byte ones in __TEXT,__const, not __literal16 (later than NeXT's ld)", async () => {
    const ll = path.join(work, 'literals.ll');
    fs.writeFileSync(
      ll,
      [
        '@k16 = private unnamed_addr constant [4 x i32] [i32 1, i32 2, i32 3, i32 4], align 4',
        '@k8 = private unnamed_addr constant [2 x i32] [i32 5, i32 6], align 4',
        '@k4 = private unnamed_addr constant i32 7, align 4',
        'define ptr @p16() nounwind { ret ptr @k16 }',
        'define ptr @p8() nounwind { ret ptr @k8 }',
        'define ptr @p4() nounwind { ret ptr @k4 }',
        '',
      ].join('\n'),
    );
    const obj = path.join(work, 'literals.o');
    await run(toolchain.llvm.tools.llc.path, [
      `-mtriple=${TRIPLE}`,
      '-code-model=large',
      '-filetype=obj',
      ll,
      '-o',
      obj,
    ]);
    const d = await dump(obj);
    expectNextHeader(d);
    expect(Object.keys(d.sections).sort()).toEqual([
      '__TEXT,__const',
      '__TEXT,__literal4',
      '__TEXT,__literal8',
      '__TEXT,__text',
    ]);
    expect(d.sections['__TEXT,__literal4'].type).toBe('S_4BYTE_LITERALS');
    expect(d.sections['__TEXT,__literal8'].type).toBe('S_8BYTE_LITERALS');
    expect(d.contents['__TEXT,__const'].toString('hex')).toBe('00000001000000020000000300000004');
  });
});

describe("Debian's backend for the same inputs", () => {
  const systemClang = () => path.join(toolchain.llvm.binDir, 'clang');
  const systemLlc = () => path.join(toolchain.llvm.binDir, 'llc');

  it('crashes instead of writing a Mach-O object (assembly and C)', async () => {
    const asmOut = path.join(work, 'debian-asm.o');
    const a = await assemble(systemClang(), TRIPLE, asmOut);
    expect(a.exitCode).not.toBe(0);
    expect(a.signal ?? a.all).toMatch(/SIGSEGV|Stack dump/);
    const cOut = path.join(work, 'debian-c.o');
    const c = await compile(systemLlc(), cOut);
    expect(c.exitCode).not.toBe(0);
    expect(c.signal ?? c.all).toMatch(/SIGSEGV|Stack dump/);
    for (const f of [asmOut, cOut]) {
      if (fs.existsSync(f) && fs.statSync(f).size >= 4) expect(fs.readFileSync(f).readUInt32BE(0)).not.toBe(0xfeedface);
    }
  });

  it('m68k-apple-darwin is ELF for both (Triple gives m68k ELF unless the environment is macho)', async () => {
    const elf = (f: string) => fs.readFileSync(f).subarray(0, 4).toString('latin1');
    // Without the Mach-O-only directives, so that ELF's assembler accepts it.
    const src = path.join(work, 'plain.s');
    fs.writeFileSync(src, '\t.text\n\t.globl\t_f\n_f:\n\tjsr\t_g\n\trts\n');
    for (const clang of [systemClang(), toolchain.llvm.tools.clang.path]) {
      const out = path.join(work, 'darwin.o');
      const r = await runProcess(clang, ['-cc1as', '-triple', 'm68k-apple-darwin', '-filetype', 'obj', src, '-o', out]);
      expect(r.exitCode).toBe(0);
      expect(elf(out)).toBe('\x7fELF');
    }
  });
});

describe('the NeXTSTEP flavour', () => {
  const SPEC = path.join(WORKSPACE_ROOT, 'projects/rust-target/target-specs/m68k-next-nextstep.json');

  it("the target spec names the Mach-O triple and m:o, and rustc's object is Mach-O with NeXT's names", async () => {
    const spec = JSON.parse(fs.readFileSync(SPEC, 'utf8'));
    expect(spec['llvm-target']).toBe(NEXTSTEP_MACHO_TRIPLE);
    expect(spec['data-layout']).toMatch(/^E-m:o-/);
    // A crate without core (no sysroot needed): rustc compares the spec's data layout with the backend's
    // and fails on a difference.
    const src = path.join(work, 'nocore.rs');
    fs.writeFileSync(
      src,
      [
        '#![feature(no_core, lang_items)]',
        '#![allow(internal_features)]',
        '#![no_core]',
        '#![crate_type = "lib"]',
        '#[lang = "pointee_sized"] pub trait PointeeSized {}',
        '#[lang = "meta_sized"] pub trait MetaSized: PointeeSized {}',
        '#[lang = "sized"] pub trait Sized: MetaSized {}',
        '#[lang = "copy"] pub trait Copy {}',
        'impl Copy for i32 {}',
        '#[lang = "drop_in_place"] pub unsafe fn drop_in_place<T: PointeeSized>(_: *mut T) {}',
        'unsafe extern "C" { fn ext_func(x: i32) -> i32; static ext_data: i32; }',
        '#[no_mangle] pub unsafe extern "C" fn nextrust_call(x: i32) -> i32 { unsafe { ext_func(ext_data) } }',
        '',
      ].join('\n'),
    );
    const obj = path.join(work, 'nocore.o');
    await run(
      toolchain.rust.rustc.path,
      ['-Zunstable-options', '--target', SPEC, '--emit=obj', '-O', '-Ccode-model=large', src, '-o', obj],
      { RUSTC_BOOTSTRAP: '1' },
    );
    const d = await dump(obj);
    expectNextHeader(d);
    expect(sym(d, '_nextrust_call')).toMatchObject({ scope: 'g', section: '__TEXT,__text' });
    const externs = d.relocs['__TEXT,__text'].filter((r) => r.extern === 'True').map((r) => r.target);
    expect(externs.sort()).toEqual(['_ext_data', '_ext_func']);
  });

  it('the atomics have a Mach-O archive for NeXTSTEP: the 49 libcalls as ___sync_*, the lock table local', async () => {
    const config = JSON.parse(
      fs.readFileSync(path.join(WORKSPACE_ROOT, 'projects/llvm-m68k/nextrust.json'), 'utf8'),
    ).atomics;
    const outDir = path.join(work, 'atomics');
    const manifest = await buildAtomics({
      workspaceRoot: WORKSPACE_ROOT,
      toolchain,
      cpu: 'm68040',
      sources: config.sources.map((s: string) => path.join('projects/llvm-m68k', s)),
      includeDirs: config.includeDirs.map((d: string) => path.join('projects/llvm-m68k', d)),
      cflags: config.cflags,
      archive: config.archive,
      outputDir: outDir,
    });
    expect(manifest.nextstep).not.toBeNull();
    const ns = manifest.nextstep!;
    expect(ns.triple).toBe(NEXTSTEP_MACHO_TRIPLE);
    expect(ns.symbols).toEqual(manifest.symbols);
    expect(ns.symbols).toHaveLength(49);
    const archive = path.resolve(WORKSPACE_ROOT, ns.archive);
    expect(archive).toBe(path.join(outDir, 'nextstep', config.archive));
    // BSD archive: its symbol table member is __.SYMDEF (LLVM's ArchiveWriter for the bsd format, as rustc's
    // archive-format "bsd").
    const bytes = fs.readFileSync(archive);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('!<arch>\n');
    // The first member's name is BSD's extended form `#1/<length>`, the name following the 60-byte header.
    const ext = /^#1\/(\d+) /.exec(bytes.subarray(8, 24).toString('latin1'));
    expect(ext).not.toBeNull();
    expect(bytes.subarray(68, 68 + Number(ext![1])).toString('latin1')).toMatch(/^__\.SYMDEF\0*$/);
    const members = path.join(work, 'atomics-members');
    fs.mkdirSync(members, { recursive: true });
    await run(toolchain.llvm.tools['llvm-ar'].path, ['x', archive], undefined, members);
    const objects = fs.readdirSync(members);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const d = await dump(path.join(members, o));
      expectNextHeader(d);
      // Defined where the inline assembly looks for it (both get NeXT's underscore), nothing undefined.
      expect(sym(d, '_nextrust_spinlock_table')).toMatchObject({ scope: 'l', section: '__DATA,__bss' });
      expect(d.syms.filter((x) => x.section === '*UND*')).toEqual([]);
      for (const n of manifest.symbols) expect(sym(d, '_' + n)).toMatchObject({ scope: 'g', section: '__TEXT,__text' });
      const relocs = d.relocs['__TEXT,__text'];
      expect(relocs.length).toBeGreaterThanOrEqual(48);
      for (const r of relocs) expect(r).toMatchObject({ extern: 'False', pcrel: false, length: 'long' });
      expect([...new Set(relocs.map((r) => r.target))]).toEqual([expect.stringMatching(/\(__DATA,__bss\)$/)]);
    }
  });
});
