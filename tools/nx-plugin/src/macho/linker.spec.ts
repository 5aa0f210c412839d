// The static linker on ELF32 m68k objects assembled on the fly by llvm-mc-22
// (and GNU as where llvm-mc cannot write a relocation): every field value and
// address below is computed by hand from the layout rules in linker.ts.
import { readFileSync } from 'node:fs';
import { readArchive } from './archive';
import { readElfObject } from './elf-reader';
import { link, readInputs } from './linker';
import { LinkError } from './model';
import { ObjectScratch } from './test-objects';

const A = `
  .text
  .p2align 2
  .globl _start
_start:
  .long far_sym + 4 ; 0: R_68K_32
  .long far_sym - . ; 4: R_68K_PC32
  .short far_sym - . ; 8: R_68K_PC16
  .byte far_sym - . ; 10: R_68K_PC8
  .byte abs8 ; 11: R_68K_8 (absolute symbol)
  .short abs16 ; 12: R_68K_16 (absolute symbol)
  .long local_data + 3 ; 14: R_68K_32 against the .data section symbol
  .long buf ; 18: R_68K_32 to bss of the other object
  .data
  .p2align 2
  .long 0x11223344
local_data:
  .long 0x55667788
`;
const B = `
  .text
  .p2align 2
  .short 0x4e71
  .globl far_sym
far_sym:
  .short 0x4e75
  .globl abs8, abs16
  .set abs8, 0x7f
  .set abs16, 0x1234
  .bss
  .p2align 2
  .globl buf
buf:
  .space 16
`;

const be32 = (b: Uint8Array, o: number) => Buffer.from(b).readUInt32BE(o);
const be16 = (b: Uint8Array, o: number) => Buffer.from(b).readUInt16BE(o);

describe('static linker, ELF m68k', () => {
  const s = new ObjectScratch();
  afterAll(() => s.dispose());
  const a = s.assemble('a', A);
  const b = s.assemble('b', B);

  it('reads the RELA entries of the loaded sections with their types and addends', () => {
    const o = readElfObject(readFileSync(a), 'a.o');
    const text = o.sections.find((x) => x.name === '.text')!;
    expect(text.fixups.map((f) => [f.offset, f.type, f.size, f.pcrel, f.addend])).toEqual([
      [0, 'R_68K_32', 4, false, 4],
      [4, 'R_68K_PC32', 4, true, 0],
      [8, 'R_68K_PC16', 2, true, 0],
      [10, 'R_68K_PC8', 1, true, 0],
      [11, 'R_68K_8', 1, false, 0],
      [12, 'R_68K_16', 2, false, 0],
      [14, 'R_68K_32', 4, false, 7],
      [18, 'R_68K_32', 4, false, 0],
    ]);
    expect(o.sections.map((x) => [x.name, x.group, x.align])).toEqual([
      ['.text', 'text', 4],
      ['.data', 'data', 4],
    ]);
  });

  it('lays out text, data and bss at the base and applies every relocation type', () => {
    const r = link(readInputs([a, b]), { base: 0x10000 });
    // a.text 0x10000..0x10016; b.text at 0x10018 (far_sym 0x1001a); a.data at 0x1001c
    // (local_data 0x10020); b.bss at 0x10024 (buf), 16 bytes.
    expect(r.layout.map((p) => [p.object.endsWith('a.o') ? 'a' : 'b', p.section, p.address])).toEqual([
      ['a', '.text', 0x10000],
      ['b', '.text', 0x10018],
      ['a', '.data', 0x1001c],
      ['b', '.bss', 0x10024],
    ]);
    const img = r.image;
    expect(img.length).toBe(0x24);
    expect(r.bssSize).toBe(16);
    expect(be32(img, 0)).toBe(0x1001e);
    expect(be32(img, 4)).toBe(0x1001a - 0x10004);
    expect(be16(img, 8)).toBe(0x1001a - 0x10008);
    expect(img[10]).toBe(0x1001a - 0x1000a);
    expect(img[11]).toBe(0x7f);
    expect(be16(img, 12)).toBe(0x1234);
    expect(be32(img, 14)).toBe(0x10023);
    expect(be32(img, 18)).toBe(0x10024);
    expect(be32(img, 0x18)).toBe(0x4e714e75); // b.text copied
    expect(be32(img, 0x1c)).toBe(0x11223344); // a.data copied
    expect(be32(img, 0x20)).toBe(0x55667788);
    expect(r.entry).toBe(0x10000);
    expect(r.symbols.get('buf')).toBe(0x10024);
    expect(r.groups.bss).toEqual({ start: 0x10024, end: 0x10034 });
  });

  it('names each undefined symbol with the object, section and offset that references it', () => {
    expect(() => link(readInputs([a]), { base: 0x10000 })).toThrow(
      new LinkError(
        [
          `undefined symbol far_sym, referenced from ${a}: section .text, offset 0x0`,
          `undefined symbol abs8, referenced from ${a}: section .text, offset 0xb`,
          `undefined symbol abs16, referenced from ${a}: section .text, offset 0xc`,
          `undefined symbol buf, referenced from ${a}: section .text, offset 0x12`,
        ].join('\n'),
      ),
    );
  });

  it('reports a PC-relative 16-bit or 8-bit field that overflows, with object, section and offset', () => {
    const far = s.assemble('far', '  .text\n  .space 40000\n  .globl t\nt:\n  .short 0\n');
    const pc16 = s.assemble('pc16', '  .text\n  .globl _start\n_start:\n  .short 0\n  .short t - .\n');
    expect(() => link(readInputs([pc16, far]), { base: 0x10000 })).toThrow(
      `${pc16}: section .text, offset 0x2: R_68K_PC16 PC-relative value 40002 does not fit in a signed 16-bit field (-32768..32767)`,
    );
    const near = s.assemble('near', '  .text\n  .space 128\n  .globl t\nt:\n  .short 0\n');
    const pc8 = s.assemble('pc8', '  .text\n  .globl _start\n_start:\n  .byte t - .\n');
    expect(() => link(readInputs([pc8, near]), { base: 0x10000 })).toThrow(
      `${pc8}: section .text, offset 0x0: R_68K_PC8 PC-relative value 132 does not fit in a signed 8-bit field (-128..127)`,
    );
    // near's .text starts at 0x10004 (llvm-mc aligns m68k .text to 4): t is 4 + 128 bytes ahead of the
    // field above, 4 + 123 = 127 here, the largest that fits.
    const near2 = s.assemble('near2', '  .text\n  .space 123\n  .globl t\nt:\n  .short 0\n');
    const ok = link(readInputs([pc8, near2]), { base: 0x10000 });
    expect(ok.image[0]).toBe(127);
  });

  it('names an unsupported relocation type with object, section and offset', () => {
    const plt = s.assemble(
      'plt',
      '  .text\n  .globl _start\n_start:\n  .short 0\n  .reloc 2, R_68K_PLT32, f\n  .long 0\n',
      '',
      'gnu-as',
    );
    expect(() => link(readInputs([plt]), { base: 0x10000 })).toThrow(
      `${plt}: section .text, offset 0x2: unsupported relocation type 13 (R_68K_PLT32); this linker applies R_68K_32, R_68K_16, R_68K_8, R_68K_PC32, R_68K_PC16, R_68K_PC8`,
    );
  });

  it('rejects a second strong definition, lets a strong one replace a weak one, resolves undefined weak to 0', () => {
    const dup = s.assemble('dup', '  .text\n  .globl far_sym\nfar_sym:\n  .short 0\n');
    expect(() => link(readInputs([a, b, dup]), { base: 0x10000 })).toThrow(
      `symbol far_sym is defined in both ${b} and ${dup}`,
    );
    const weak = s.assemble(
      'weak',
      '  .text\n  .globl _start\n_start:\n  .long w\n  .long missing\n  .weak w, missing\nw:\n  .short 1\n',
    );
    const strong = s.assemble('strong', '  .text\n  .p2align 2\n  .globl w\nw:\n  .short 2\n');
    const r = link(readInputs([weak, strong]), { base: 0x10000 });
    expect(be32(r.image, 0)).toBe(0x1000c); // weak.text is 10 bytes: strong.text at 0x1000c
    expect(be32(r.image, 4)).toBe(0);
  });

  it('pulls in only the archive members that define undefined symbols (GNU and BSD archives, long names)', () => {
    // z defines _start too: pulling it in would be a duplicate definition.
    const z = s.assemble('z', '  .text\n  .globl _start, unused\n_start:\nunused:\n  .short 0\n');
    const longB = s.copy(b, 'a-member-name-longer-than-sixteen.o');
    for (const format of ['gnu', 'bsd'] as const) {
      const lib = s.archive(`lib-${format}.a`, [z, longB], format);
      expect(readArchive(readFileSync(lib), lib).map((m) => m.name)).toEqual([
        'z.o',
        'a-member-name-longer-than-sixteen.o',
      ]);
      const r = link(readInputs([a, lib]), { base: 0x10000 });
      expect(r.objects).toEqual([a, `${lib}(a-member-name-longer-than-sixteen.o)`]);
      expect(be32(r.image, 0)).toBe(0x1001e);
    }
  });

  it('rejects inputs that are not objects, and a link without an entry symbol', () => {
    expect(() => link([{ name: 'notes.txt', bytes: Buffer.from('hello') }], { base: 0 })).toThrow(
      'notes.txt: neither an ELF nor a 32-bit Mach-O object, nor an ar archive (unknown magic number)',
    );
    expect(() => link(readInputs([b]), { base: 0x10000 })).toThrow(
      `no entry symbol: none of _start, start is defined by ${b}`,
    );
    const truncated = readFileSync(a).subarray(0, 60);
    expect(() => readElfObject(truncated, 'cut.o')).toThrow(
      /^cut\.o: section header 0 sh_name at offset \d+ \(4 bytes\) lies outside the file \(60 bytes\)$/,
    );
  });
});
