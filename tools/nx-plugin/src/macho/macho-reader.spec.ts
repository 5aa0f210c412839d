// The Mach-O path: i386 objects assembled by llvm-mc-22 (little-endian, the same
// generic relocations as the 68k's) and 68k objects built byte by byte here
// (big-endian: the bit-field order of relocation_info differs), linked and
// checked against values computed by hand from cctools' rules
// (https://github.com/apple-oss-distributions/cctools/blob/main/ld/generic_reloc.c).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { link, readInputs } from './linker';
import { CPU_TYPE_MC680x0, parseMachObject, readMachObject } from './macho-reader';
import { LLVM_BIN, ObjectScratch } from './test-objects';

type Reloc =
  | {
      scattered?: false;
      address: number;
      symbolnum: number;
      pcrel: boolean;
      length: number;
      extern: boolean;
      type: number;
    }
  | { scattered: true; address: number; pcrel: boolean; length: number; type: number; value: number };

interface Sect {
  segname: string;
  sectname: string;
  addr: number;
  data: Buffer;
  align: number;
  flags: number;
  relocs: Reloc[];
}

/**
 * A big-endian 32-bit MH_OBJECT for CPU_TYPE_MC680x0 laid out as loader.h describes:
 * header, one LC_SEGMENT with its sections, LC_SYMTAB; then contents, relocations,
 * symbols (nlist: strx, type, sect, desc, value) and strings.
 */
function buildM68kObject(
  sections: Sect[],
  symbols: { name: string; type: number; sect: number; value: number }[],
): Buffer {
  const headerSize = 28 + 56 + 68 * sections.length + 24;
  let off = headerSize;
  const dataOff = sections.map((s) => {
    const o = off;
    off += s.data.length;
    return o;
  });
  const relOff = sections.map((s) => {
    const o = off;
    off += 8 * s.relocs.length;
    return o;
  });
  const symoff = off;
  off += 12 * symbols.length;
  const stroff = off;
  const strings = Buffer.concat([Buffer.from([0]), ...symbols.map((s) => Buffer.from(`${s.name}\0`, 'latin1'))]);
  const out = Buffer.alloc(stroff + strings.length);
  const w = (o: number, v: number) => out.writeUInt32BE(v >>> 0, o);
  w(0, 0xfeedface);
  w(4, CPU_TYPE_MC680x0);
  w(8, 0);
  w(12, 1); // MH_OBJECT
  w(16, 2);
  w(20, 56 + 68 * sections.length + 24);
  w(24, 0);
  w(28, 1); // LC_SEGMENT
  w(32, 56 + 68 * sections.length);
  w(28 + 28, Math.max(0, ...sections.map((x) => x.addr + x.data.length))); // vmsize
  w(28 + 32, headerSize); // fileoff
  w(
    28 + 36,
    sections.reduce((n, x) => n + x.data.length, 0),
  ); // filesize
  w(28 + 40, 7);
  w(28 + 44, 7);
  w(28 + 48, sections.length);
  sections.forEach((s, i) => {
    const o = 28 + 56 + 68 * i;
    out.write(s.sectname, o, 'latin1');
    out.write(s.segname, o + 16, 'latin1');
    w(o + 32, s.addr);
    w(o + 36, s.data.length);
    w(o + 40, dataOff[i]);
    w(o + 44, s.align);
    w(o + 48, relOff[i]);
    w(o + 52, s.relocs.length);
    w(o + 56, s.flags);
    s.data.copy(out, dataOff[i]);
    s.relocs.forEach((r, k) => {
      const ro = relOff[i] + 8 * k;
      if (r.scattered) {
        w(ro, 0x80000000 | (Number(r.pcrel) << 30) | (r.length << 28) | (r.type << 24) | r.address);
        w(ro + 4, r.value);
      } else {
        w(ro, r.address);
        w(ro + 4, (r.symbolnum << 8) | (Number(r.pcrel) << 7) | (r.length << 5) | (Number(r.extern) << 4) | r.type);
      }
    });
  });
  const st = 28 + 56 + 68 * sections.length;
  w(st, 2); // LC_SYMTAB
  w(st + 4, 24);
  w(st + 8, symoff);
  w(st + 12, symbols.length);
  w(st + 16, stroff);
  w(st + 20, strings.length);
  let strx = 1;
  symbols.forEach((s, i) => {
    const o = symoff + 12 * i;
    w(o, strx);
    strx += s.name.length + 1;
    out.writeUInt8(s.type, o + 4);
    out.writeUInt8(s.sect, o + 5);
    out.writeUInt16BE(0, o + 6);
    w(o + 8, s.value);
  });
  strings.copy(out, stroff);
  return out;
}

const be = (...words: number[]) =>
  Buffer.concat(words.map((v) => Buffer.from([v >>> 24, v >>> 16, v >>> 8, v].map((x) => x & 0xff))));
const TEXT_FLAGS = 0x80000400; // S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS
const N_EXT = 1;
const N_SECT = 0xe;

/**
 * The 68k object: __TEXT,__text at object address 0 (18 bytes), __DATA,__data at 18 (10 bytes).
 * Field contents are what an assembler writes for each reference, computed with those addresses.
 */
function m68kMain(): Buffer {
  const text = Buffer.alloc(18);
  text.writeInt32BE(4, 0); // _ext + 4 (external: the field holds the addend)
  text.writeInt16BE(20 - 4, 4); // data+2 relative to the field at 4 (local, pc-relative word)
  text.writeInt32BE(20 + 2, 6); // data+2 plus 2 (scattered: r_value 20)
  text.writeInt32BE(20 - 8 + 1, 10); // (data+2) - (text+8) + 1 (SECTDIFF r_value 20, PAIR r_value 8)
  text.writeInt16BE(-14, 14); // _ext relative to the field at 14 (external, pc-relative word)
  text.writeInt16BE(0x4e75, 16);
  return buildM68kObject(
    [
      {
        segname: '__TEXT',
        sectname: '__text',
        addr: 0,
        data: text,
        align: 2,
        flags: TEXT_FLAGS,
        relocs: [
          { address: 0, symbolnum: 1, pcrel: false, length: 2, extern: true, type: 0 },
          { address: 4, symbolnum: 2, pcrel: true, length: 1, extern: false, type: 0 },
          { scattered: true, address: 6, pcrel: false, length: 2, type: 0, value: 20 },
          { scattered: true, address: 10, pcrel: false, length: 2, type: 2, value: 20 },
          { scattered: true, address: 0, pcrel: false, length: 2, type: 1, value: 8 },
          { address: 14, symbolnum: 1, pcrel: true, length: 1, extern: true, type: 0 },
        ],
      },
      {
        segname: '__DATA',
        sectname: '__data',
        addr: 18,
        data: Buffer.concat([Buffer.alloc(2), be(8, 0xdeadbeef)]),
        align: 1,
        flags: 0,
        // text+8, a local entry naming section 1, at data offset 2
        relocs: [{ address: 2, symbolnum: 1, pcrel: false, length: 2, extern: false, type: 0 }],
      },
    ],
    [
      { name: '_start', type: N_SECT | N_EXT, sect: 1, value: 0 },
      { name: '_ext', type: N_EXT, sect: 0, value: 0 },
    ],
  );
}

function m68kExt(): Buffer {
  return buildM68kObject(
    [{ segname: '__TEXT', sectname: '__text', addr: 0, data: be(0x4e714e75), align: 2, flags: TEXT_FLAGS, relocs: [] }],
    [{ name: '_ext', type: N_SECT | N_EXT, sect: 1, value: 2 }],
  );
}

describe('Mach-O reader and generic relocations, 68k (big-endian, built by hand)', () => {
  const s = new ObjectScratch();
  afterAll(() => s.dispose());

  it('decodes the big-endian relocation_info and scattered_relocation_info bit fields as llvm-objdump does', () => {
    const file = path.join(s.dir, 'm68k-main.o');
    writeFileSync(file, m68kMain());
    const m = parseMachObject(readFileSync(file), file);
    expect(m.bigEndian).toBe(true);
    expect(m.relocations[0].map((r) => [r.address, r.scattered, r.pcrel, r.length, r.extern, r.type])).toEqual([
      [0, false, false, 2, true, 0],
      [4, false, true, 1, false, 0],
      [6, true, false, 2, false, 0],
      [10, true, false, 2, false, 2],
      [0, true, false, 2, false, 1],
      [14, false, true, 1, true, 0],
    ]);
    // LLVM's own Mach-O reader sees the same entries (offsets, kinds, symbols).
    const dump = execFileSync(path.join(LLVM_BIN, 'llvm-objdump'), ['--macho', '-r', file], { encoding: 'utf8' });
    const rows = dump
      .split('\n')
      .filter((l) => /^[0-9a-f]{8} /.test(l))
      .map((l) => l.trim().split(/\s+/));
    // columns: address pcrel length extern type scattered symbolnum/value
    expect(rows.map((r) => r.slice(0, 7).join(' '))).toEqual([
      '00000000 False long True 0 False _ext',
      '00000004 True word False 0 False 2',
      '00000006 False long n/a 0 True 0x00000014',
      '0000000a False long n/a 2 True 0x00000014',
      '00000000 False long n/a 1 True 0x00000008',
      '0000000e True word True 0 False _ext',
      '00000002 False long False 0 False 1',
    ]);
  });

  it('links: external, local, scattered, SECTDIFF+PAIR and pc-relative entries, values computed by hand', () => {
    const main = path.join(s.dir, 'm68k-main.o');
    const ext = path.join(s.dir, 'm68k-ext.o');
    writeFileSync(main, m68kMain());
    writeFileSync(ext, m68kExt());
    const r = link(readInputs([main, ext]), { base: 0x30000 });
    // main __text 0x30000..0x30012, ext __text at 0x30014 (_ext 0x30016), main __data at 0x30018.
    expect(r.layout.map((p) => p.address)).toEqual([0x30000, 0x30014, 0x30018]);
    expect(r.entryName).toBe('_start');
    const img = Buffer.from(r.image);
    expect(img.readUInt32BE(0)).toBe(0x30016 + 4);
    expect(img.readInt16BE(4)).toBe(0x30018 + 2 - 0x30004);
    expect(img.readUInt32BE(6)).toBe(0x30018 + 2 + 2);
    expect(img.readUInt32BE(10)).toBe(0x30018 + 2 - (0x30000 + 8) + 1);
    expect(img.readInt16BE(14)).toBe(0x30016 - 0x3000e);
    expect(img.readUInt32BE(0x18 + 2)).toBe(0x30008);
    expect(img.readUInt32BE(0x18 + 6)).toBe(0xdeadbeef);
  });

  it('names the object, section, offset and entry of an unsupported or malformed relocation', () => {
    const bad = (relocs: Reloc[]) => {
      const f = path.join(s.dir, 'bad.o');
      writeFileSync(
        f,
        buildM68kObject(
          [
            {
              segname: '__TEXT',
              sectname: '__text',
              addr: 0,
              data: Buffer.alloc(8),
              align: 2,
              flags: TEXT_FLAGS,
              relocs,
            },
          ],
          [{ name: '_start', type: N_SECT | N_EXT, sect: 1, value: 0 }],
        ),
      );
      return () => readMachObject(readFileSync(f), f);
    };
    const f = path.join(s.dir, 'bad.o');
    expect(bad([{ scattered: true, address: 4, pcrel: false, length: 2, type: 3, value: 0 }])).toThrow(
      `${f}: section (__TEXT,__text), offset 0x4, relocation entry 0 (GENERIC_RELOC_PB_LA_PTR): unsupported relocation type; this linker applies GENERIC_RELOC_VANILLA, GENERIC_RELOC_SECTDIFF and GENERIC_RELOC_LOCAL_SECTDIFF`,
    );
    expect(bad([{ scattered: true, address: 0, pcrel: false, length: 2, type: 2, value: 0 }])).toThrow(
      `${f}: section (__TEXT,__text), offset 0x0, relocation entry 0 (GENERIC_RELOC_SECTDIFF): not followed by a scattered GENERIC_RELOC_PAIR entry`,
    );
    expect(bad([{ scattered: true, address: 0, pcrel: false, length: 2, type: 1, value: 0 }])).toThrow(
      /relocation entry 0 \(GENERIC_RELOC_PAIR\): unsupported relocation type \(a GENERIC_RELOC_PAIR must follow a SECTDIFF\)/,
    );
    expect(bad([{ address: 6, symbolnum: 0, pcrel: false, length: 2, extern: true, type: 0 }])).toThrow(
      `${f}: section (__TEXT,__text), offset 0x6, relocation entry 0 (GENERIC_RELOC_VANILLA): the field lies outside the section`,
    );
    expect(bad([{ scattered: true, address: 0, pcrel: false, length: 2, type: 0, value: 0x100 }])).toThrow(
      `${f}: section (__TEXT,__text), offset 0x0, relocation entry 0 (GENERIC_RELOC_VANILLA): r_value 0x100 lies in no loaded section`,
    );
  });

  it('reports an overflowing pc-relative word and an undefined external with object, section and offset', () => {
    const main = path.join(s.dir, 'm68k-main.o');
    writeFileSync(main, m68kMain());
    expect(() => link(readInputs([main]), { base: 0x30000 })).toThrow(
      [`undefined symbol _ext, referenced from ${main}: section __TEXT,__text, offset 0x0`].join('\n'),
    );
    // _ext 40000 bytes into a data section placed after main's: main __text 0x30000..0x30012, the data group
    // aligned to its largest section alignment (4): main __data 0x30014..0x3001e, far __data at 0x30020; the pc-relative word at 14 cannot reach it.
    const far = path.join(s.dir, 'm68k-far.o');
    writeFileSync(
      far,
      buildM68kObject(
        [{ segname: '__DATA', sectname: '__data', addr: 0, data: Buffer.alloc(40002), align: 2, flags: 0, relocs: [] }],
        [{ name: '_ext', type: N_SECT | N_EXT, sect: 1, value: 40000 }],
      ),
    );
    expect(() => link(readInputs([main, far]), { base: 0x30000 })).toThrow(
      `${main}: section __TEXT,__text, offset 0xe: GENERIC_RELOC_VANILLA PC-relative value ${0x30020 + 40000 - 0x3000e} does not fit in a signed 16-bit field (-32768..32767)`,
    );
  });
});

const I386_MAIN = `
  .text
  .p2align 2
  .globl start
start:
  .long _ext + 4       # 0: VANILLA, external
  .long Ld - Lt + 2    # 4: LOCAL_SECTDIFF + PAIR
  .long Ld + 8         # 8: VANILLA, scattered (a local label plus an offset)
  call _ext            # 12: VANILLA, external, pc-relative (field at 13)
Lt:
  call Lt2             # 17: VANILLA, local, pc-relative to another section (field at 18)
  .data
  .p2align 2
  .long 0
Ld:
  .long Lt + 1         # VANILLA, local or scattered, in __data
  .section __TEXT,__other,regular,pure_instructions
  .p2align 2
Lt2:
  ret
`;
const I386_EXT = `
  .text
  .p2align 2
  .long 0
  .globl _ext
_ext:
  ret
`;

describe('Mach-O reader and generic relocations, i386 (little-endian, assembled by llvm-mc-22)', () => {
  const s = new ObjectScratch();
  afterAll(() => s.dispose());

  it('reads sections in order with their groups and relocation kinds', () => {
    const main = s.assemble('main', I386_MAIN, 'i386-apple-darwin');
    const o = readMachObject(readFileSync(main), main);
    expect(o.machine).toBe('i386');
    expect(o.bigEndian).toBe(false);
    expect(o.sections.map((x) => [x.name, x.group])).toEqual([
      ['__TEXT,__text', 'text'],
      ['__DATA,__data', 'data'],
      ['__TEXT,__other', 'text'],
    ]);
    const text = o.sections[0].fixups;
    expect(
      text.map((f) => [f.offset, f.type, f.pcrel, f.plus.kind, f.minus?.kind]).sort((a, b) => +a[0]! - +b[0]!),
    ).toEqual([
      [0, 'GENERIC_RELOC_VANILLA', false, 'symbol', undefined],
      [4, 'GENERIC_RELOC_LOCAL_SECTDIFF', false, 'section', 'section'],
      [8, 'GENERIC_RELOC_VANILLA', false, 'section', undefined],
      [13, 'GENERIC_RELOC_VANILLA', true, 'symbol', undefined],
      [18, 'GENERIC_RELOC_VANILLA', true, 'section', undefined],
    ]);
  });

  it('links to the values computed by hand', () => {
    const main = s.assemble('main', I386_MAIN, 'i386-apple-darwin');
    const ext = s.assemble('ext', I386_EXT, 'i386-apple-darwin');
    const r = link(readInputs([main, ext]), { base: 0x20000 });
    // text: main __text 0x20000..0x20016, main __other 0x20018 (Lt2), ext __text 0x2001c (_ext 0x20020);
    // data: main __data 0x20024 (Ld 0x20028). Lt = 0x20011.
    expect(r.layout.map((p) => [p.section, p.address])).toEqual([
      ['__TEXT,__text', 0x20000],
      ['__TEXT,__other', 0x20018],
      ['__TEXT,__text', 0x2001c],
      ['__DATA,__data', 0x20024],
    ]);
    expect(r.entryName).toBe('start');
    const img = Buffer.from(r.image);
    expect(img.readUInt32LE(0)).toBe(0x20024);
    expect(img.readUInt32LE(4)).toBe(0x20028 - 0x20011 + 2);
    expect(img.readUInt32LE(8)).toBe(0x20030);
    expect(img.readInt32LE(13)).toBe(0x20020 - 0x20011);
    expect(img.readInt32LE(18)).toBe(0x20018 - 0x20016);
    expect(img.readUInt32LE(0x28)).toBe(0x20012);
  });

  it('refuses to mix objects of different machines', () => {
    const main = s.assemble('main', I386_MAIN, 'i386-apple-darwin');
    const elf = s.assemble('elf', '  .text\n  .globl _ext\n_ext:\n  rts\n');
    expect(() => link(readInputs([main, elf]), { base: 0x20000 })).toThrow(
      `${elf}: m68k (big-endian) object, but ${main} is i386`,
    );
  });
});
