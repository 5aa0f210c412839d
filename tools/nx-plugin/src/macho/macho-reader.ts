/**
 * Reader of 32-bit Mach-O relocatable objects (MH_OBJECT) of either byte order
 * with generic relocations: the Motorola 68k (CPU_TYPE_MC680x0, big-endian, what
 * NeXTSTEP's cc writes) and the i386 (CPU_TYPE_I386, little-endian, which uses the
 * same relocation scheme), into the neutral model of model.ts.
 *
 * Formats, from Apple's cctools:
 * - header, LC_SEGMENT and its sections, LC_SYMTAB:
 *   https://github.com/apple-oss-distributions/cctools/blob/main/include/mach-o/loader.h
 * - symbol table entries (nlist, N_EXT, N_SECT, common symbols' alignment in n_desc):
 *   https://github.com/apple-oss-distributions/cctools/blob/main/include/mach-o/nlist.h
 * - relocation entries, scattered entries, GENERIC_RELOC_* types:
 *   https://github.com/apple-oss-distributions/cctools/blob/main/include/mach-o/reloc.h
 * - how ld applies them (generic_reloc()):
 *   https://github.com/apple-oss-distributions/cctools/blob/main/ld/generic_reloc.c
 *
 * A Mach-O field holds its value computed with the object's own section
 * addresses (each section has an address in the object, `addr`): a local entry
 * (r_extern 0) names the section the value points into (r_symbolnum, 1-based, or
 * R_ABS), a scattered entry gives the value itself (r_value) to find the section
 * with, an external entry adds a symbol's value, and a PC-relative field has the
 * object's own PC subtracted. ld relocates by adding what the section moved, the
 * symbol's value, and for PC-relative fields what the field's own section moved
 * (subtracted). This reader turns each entry into `plus + addend - minus -
 * (pcrel ? P : 0)` by moving the object addresses into the addend:
 *
 * | entry | plus | minus | addend (c = field contents, P0 = section addr + r_address) |
 * |---|---|---|---|
 * | VANILLA, r_extern 1 | symbol r_symbolnum | | c (+ P0 if pcrel) |
 * | VANILLA, r_extern 0 | section r_symbolnum | | c - section addr (+ P0 if pcrel) |
 * | VANILLA, scattered | section holding r_value | | c - section addr (+ P0 if pcrel) |
 * | SECTDIFF / LOCAL_SECTDIFF + PAIR | section of r_value | section of the pair's r_value | c - addr(plus) + addr(minus) (+ P0 if pcrel) |
 *
 * which is the same arithmetic as generic_reloc() for sections moved as whole
 * blocks (this linker never splits a section). The field's PC convention (start
 * or end of the displacement) does not enter: the writer's choice cancels out.
 *
 * Why not an npm library: the Mach-O parser on the registry (macho) reads load
 * commands and section headers but neither relocation entries nor symbols, and
 * nothing on it knows scattered entries.
 */
import {
  ByteReader,
  LinkError,
  readField,
  type Fixup,
  type InputObject,
  type InputSection,
  type InputSymbol,
  type RelocTarget,
} from './model';

/** Mach-O magic numbers of 32-bit files (loader.h). */
export const MH_MAGIC = 0xfeedface;
export const MH_CIGAM = 0xcefaedfe;
/** cputype values (cctools include/mach/machine.h). */
export const CPU_TYPE_MC680x0 = 6;
export const CPU_TYPE_I386 = 7;

const MH_OBJECT = 1;
const LC_SEGMENT = 0x1;
const LC_SYMTAB = 0x2;
const LC_DYSYMTAB = 0xb;
const S_NON_LAZY_SYMBOL_POINTERS = 0x6;
const INDIRECT_SYMBOL_LOCAL = 0x80000000;
const INDIRECT_SYMBOL_ABS = 0x40000000;
const SECTION_TYPE = 0xff;
const S_ZEROFILL = 0x1;
const S_GB_ZEROFILL = 0xc;
const S_ATTR_DEBUG = 0x02000000;
const S_ATTR_PURE_INSTRUCTIONS = 0x80000000;
const S_ATTR_SOME_INSTRUCTIONS = 0x00000400;
const R_SCATTERED = 0x80000000;
const N_STAB = 0xe0;
const N_TYPE = 0x0e;
const N_EXT = 0x01;
const N_UNDF = 0x0;
const N_ABS = 0x2;
const N_SECT = 0xe;
const N_WEAK_REF = 0x0040;
const N_WEAK_DEF = 0x0080;

/** GENERIC_RELOC_* (reloc.h, enum reloc_type_generic). */
export const GENERIC_RELOC = ['VANILLA', 'PAIR', 'SECTDIFF', 'PB_LA_PTR', 'LOCAL_SECTDIFF', 'TLV'].map(
  (n) => `GENERIC_RELOC_${n}`,
);

/** One section header of a Mach-O object (loader.h, struct section). */
export interface MachSection {
  sectname: string;
  segname: string;
  /** Address in the object's own address space. */
  addr: number;
  size: number;
  offset: number;
  /** Alignment as a power of two. */
  align: number;
  reloff: number;
  nreloc: number;
  flags: number;
  /** For symbol pointer sections: the index of its first slot in the indirect symbol table. */
  reserved1: number;
}

/** One relocation entry, decoded (reloc.h, relocation_info / scattered_relocation_info). */
export interface MachRelocation {
  scattered: boolean;
  /** Offset of the field in its section. */
  address: number;
  pcrel: boolean;
  /** 0 byte, 1 word, 2 long, 3 quad. */
  length: number;
  type: number;
  /** Non-scattered only. */
  extern: boolean;
  /** Non-scattered only: symbol index (extern) or 1-based section ordinal (0 = R_ABS). */
  symbolnum: number;
  /** Scattered only: the address the field refers to, without offset. */
  value: number;
}

/** A Mach-O object as read, before conversion to the neutral model. */
export interface MachObject {
  cputype: number;
  bigEndian: boolean;
  sections: MachSection[];
  /** Relocation entries per section, same order as sections. */
  relocations: MachRelocation[][];
  symbols: { name: string; type: number; sect: number; desc: number; value: number }[];
  /** LC_DYSYMTAB's indirect symbol table: symbol indexes, or INDIRECT_SYMBOL_LOCAL / _ABS flags. */
  indirectSymbols: number[];
}

/** True if `bytes` start with a 32-bit Mach-O magic number of either byte order. */
export function isMachO(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const m = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  return m === MH_MAGIC || m === MH_CIGAM;
}

/**
 * Decodes the header, LC_SEGMENT sections, LC_SYMTAB and every section's relocation entries.
 * @param bytes the whole file; @param file its name for messages.
 * @throws LinkError naming the file and field for a wrong magic, filetype, a command or table outside the file.
 */
export function parseMachObject(bytes: Uint8Array, file: string): MachObject {
  if (!isMachO(bytes))
    throw new LinkError(`${file}: not a 32-bit Mach-O file (magic is not 0xfeedface in either byte order)`);
  const bigEndian = bytes[0] === 0xfe;
  const r = new ByteReader(bytes, file, bigEndian);
  const cputype = r.u32(4, 'mach_header.cputype');
  const filetype = r.u32(12, 'mach_header.filetype');
  if (filetype !== MH_OBJECT)
    throw new LinkError(`${file}: mach_header.filetype is ${filetype}, expected ${MH_OBJECT} (MH_OBJECT)`);
  const ncmds = r.u32(16, 'mach_header.ncmds');
  const sections: MachSection[] = [];
  let symtab: { symoff: number; nsyms: number; stroff: number; strsize: number } | undefined;
  let dysymtab: { indirectsymoff: number; nindirectsyms: number } | undefined;
  let off = 28;
  for (let c = 0; c < ncmds; c++) {
    const cmd = r.u32(off, `load command ${c} cmd`);
    const cmdsize = r.u32(off + 4, `load command ${c} cmdsize`);
    if (cmdsize < 8) throw new LinkError(`${file}: load command ${c} has cmdsize ${cmdsize}, expected at least 8`);
    if (cmd === LC_SEGMENT) {
      const nsects = r.u32(off + 48, `LC_SEGMENT (command ${c}) nsects`);
      for (let s = 0; s < nsects; s++) {
        const o = off + 56 + s * 68;
        const what = `section ${sections.length + 1}`;
        sections.push({
          sectname: r.fixedString(o, 16, `${what} sectname`),
          segname: r.fixedString(o + 16, 16, `${what} segname`),
          addr: r.u32(o + 32, `${what} addr`),
          size: r.u32(o + 36, `${what} size`),
          offset: r.u32(o + 40, `${what} offset`),
          align: r.u32(o + 44, `${what} align`),
          reloff: r.u32(o + 48, `${what} reloff`),
          nreloc: r.u32(o + 52, `${what} nreloc`),
          flags: r.u32(o + 56, `${what} flags`),
          reserved1: r.u32(o + 60, `${what} reserved1`),
        });
      }
    } else if (cmd === LC_SYMTAB) {
      symtab = {
        symoff: r.u32(off + 8, 'LC_SYMTAB symoff'),
        nsyms: r.u32(off + 12, 'LC_SYMTAB nsyms'),
        stroff: r.u32(off + 16, 'LC_SYMTAB stroff'),
        strsize: r.u32(off + 20, 'LC_SYMTAB strsize'),
      };
    } else if (cmd === LC_DYSYMTAB) {
      dysymtab = {
        indirectsymoff: r.u32(off + 56, 'LC_DYSYMTAB indirectsymoff'),
        nindirectsyms: r.u32(off + 60, 'LC_DYSYMTAB nindirectsyms'),
      };
    }
    off += cmdsize;
  }
  const indirectSymbols: number[] = [];
  for (let i = 0; i < (dysymtab?.nindirectsyms ?? 0); i++)
    indirectSymbols.push(r.u32(dysymtab!.indirectsymoff + i * 4, `indirect symbol ${i}`));
  const relocations = sections.map((s) => {
    const list: MachRelocation[] = [];
    for (let i = 0; i < s.nreloc; i++) {
      const o = s.reloff + i * 8;
      const what = `relocation entry ${i} of (${s.segname},${s.sectname})`;
      const w0 = r.u32(o, what);
      const w1 = r.u32(o + 4, what);
      if (w0 & R_SCATTERED) {
        // The same bits in either byte order once read as a 32-bit word (reloc.h, R_SCATTERED).
        list.push({
          scattered: true,
          address: w0 & 0xffffff,
          pcrel: ((w0 >>> 30) & 1) === 1,
          length: (w0 >>> 28) & 3,
          type: (w0 >>> 24) & 0xf,
          extern: false,
          symbolnum: 0,
          value: w1 >>> 0,
        });
      } else if (bigEndian) {
        list.push({
          scattered: false,
          address: w0,
          symbolnum: w1 >>> 8,
          pcrel: ((w1 >>> 7) & 1) === 1,
          length: (w1 >>> 5) & 3,
          extern: ((w1 >>> 4) & 1) === 1,
          type: w1 & 0xf,
          value: 0,
        });
      } else {
        list.push({
          scattered: false,
          address: w0,
          symbolnum: w1 & 0xffffff,
          pcrel: ((w1 >>> 24) & 1) === 1,
          length: (w1 >>> 25) & 3,
          extern: ((w1 >>> 27) & 1) === 1,
          type: (w1 >>> 28) & 0xf,
          value: 0,
        });
      }
    }
    return list;
  });
  const symbols: MachObject['symbols'] = [];
  if (symtab) {
    r.check(symtab.stroff, symtab.strsize, 'LC_SYMTAB string table');
    for (let i = 0; i < symtab.nsyms; i++) {
      const o = symtab.symoff + i * 12;
      const strx = r.u32(o, `symbol ${i} n_strx`);
      symbols.push({
        name: strx === 0 ? '' : r.cstring(symtab.stroff + strx, `name of symbol ${i}`, symtab.stroff + symtab.strsize),
        type: r.u8(o + 4, `symbol ${i} n_type`),
        sect: r.u8(o + 5, `symbol ${i} n_sect`),
        desc: r.u16(o + 6, `symbol ${i} n_desc`),
        value: r.u32(o + 8, `symbol ${i} n_value`),
      });
    }
  }
  return { cputype, bigEndian, sections, relocations, symbols, indirectSymbols };
}

/**
 * Reads a Mach-O MH_OBJECT for the 68k or the i386 into the neutral model
 * (symbol i of the model is nlist entry i; debug sections are left out).
 * @param bytes the whole file; @param file its name for every message.
 * @throws LinkError naming the file, section (segname,sectname), entry and offset for: another
 *   cputype, a relocation type other than VANILLA, SECTDIFF, LOCAL_SECTDIFF (with its PAIR), an
 *   r_length of 3, a scattered r_value or section ordinal that names no loaded section, a field
 *   outside its section, an indirect or prebound symbol.
 */
export function readMachObject(bytes: Uint8Array, file: string): InputObject {
  const m = parseMachObject(bytes, file);
  const machine = m.cputype === CPU_TYPE_MC680x0 ? 'm68k' : m.cputype === CPU_TYPE_I386 ? 'i386' : undefined;
  if (!machine)
    throw new LinkError(
      `${file}: mach_header.cputype is ${m.cputype}, expected ${CPU_TYPE_MC680x0} (CPU_TYPE_MC680x0) or ${CPU_TYPE_I386} (CPU_TYPE_I386)`,
    );
  const r = new ByteReader(bytes, file, m.bigEndian);
  const label = (s: MachSection) => `${s.segname},${s.sectname}`;
  const sections: InputSection[] = [];
  /** 1-based section ordinal -> index in `sections`, or -1 when not loaded. */
  const ordinal: number[] = [-1];
  for (const s of m.sections) {
    const stype = s.flags & SECTION_TYPE;
    if (s.flags & S_ATTR_DEBUG || s.segname === '__DWARF' || s.segname === '__LD') {
      ordinal.push(-1);
      continue;
    }
    const zerofill = stype === S_ZEROFILL || stype === S_GB_ZEROFILL;
    const group = zerofill
      ? 'bss'
      : s.segname === '__TEXT'
        ? s.flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS)
          ? 'text'
          : 'rodata'
        : 'data';
    ordinal.push(sections.length);
    sections.push({
      name: label(s),
      group,
      data: zerofill ? new Uint8Array(s.size) : r.slice(s.offset, s.size, `contents of section (${label(s)})`),
      align: 2 ** s.align,
      fixups: [],
    });
  }

  const symbols: InputSymbol[] = m.symbols.map((s, i) => {
    const weak = (s.desc & (N_WEAK_DEF | N_WEAK_REF)) !== 0;
    const global = (s.type & N_EXT) !== 0 && (s.type & N_STAB) === 0;
    if (s.type & N_STAB) return { name: s.name, global: false, weak: false, def: { kind: 'undefined' } };
    const t = s.type & N_TYPE;
    if (t === N_UNDF) {
      if (s.value !== 0)
        return {
          name: s.name,
          global,
          weak,
          def: { kind: 'common', size: s.value, align: 2 ** ((s.desc >> 8) & 0xf) },
        };
      return { name: s.name, global, weak, def: { kind: 'undefined' } };
    }
    if (t === N_ABS) return { name: s.name, global, weak, def: { kind: 'absolute', value: s.value } };
    if (t === N_SECT) {
      const idx = ordinal[s.sect] ?? -1;
      if (s.sect < 1 || s.sect >= ordinal.length)
        throw new LinkError(
          `${file}: symbol ${i} (${s.name}) has n_sect ${s.sect}, but the object has ${m.sections.length} sections`,
        );
      if (idx < 0) return { name: s.name, global, weak, def: { kind: 'undefined' } };
      return {
        name: s.name,
        global,
        weak,
        def: { kind: 'section', section: idx, offset: s.value - m.sections[s.sect - 1].addr },
      };
    }
    throw new LinkError(
      `${file}: symbol ${i} (${s.name}) has n_type 0x${s.type.toString(16)} (N_INDR or N_PBUD), which a static link of objects does not support`,
    );
  });

  /** The loaded section whose object address range holds `value` (or ends at it, as ld allows). */
  const sectionOf = (value: number, where: string): number => {
    let found = m.sections.findIndex((s) => value >= s.addr && value < s.addr + s.size);
    if (found < 0) found = m.sections.findIndex((s) => value === s.addr + s.size);
    if (found < 0 || ordinal[found + 1] < 0)
      throw new LinkError(`${where}: r_value 0x${value.toString(16)} lies in no loaded section`);
    return found + 1;
  };

  m.sections.forEach((s, si) => {
    const target = ordinal[si + 1];
    if (target < 0) return;
    const sec = sections[target];
    const relocs = m.relocations[si];
    if ((s.flags & SECTION_TYPE) === S_NON_LAZY_SYMBOL_POINTERS) {
      // Each 4-byte slot holds the address of the symbol the indirect symbol table names for it
      // (loader.h, S_NON_LAZY_SYMBOL_POINTERS and struct dysymtab_command); local and absolute
      // slots already hold their value (with a relocation entry of their own for a local one).
      for (let k = 0; k < s.size / 4; k++) {
        const ind = m.indirectSymbols[s.reserved1 + k];
        if (ind === undefined)
          throw new LinkError(
            `${file}: section (${label(s)}), slot ${k}: indirect symbol ${s.reserved1 + k} out of range`,
          );
        if (ind & (INDIRECT_SYMBOL_LOCAL | INDIRECT_SYMBOL_ABS)) continue;
        if (ind >= symbols.length)
          throw new LinkError(`${file}: section (${label(s)}), slot ${k}: symbol index ${ind} out of range`);
        sec.fixups.push({
          offset: k * 4,
          size: 4,
          pcrel: false,
          plus: { kind: 'symbol', index: ind },
          addend: 0,
          type: 'S_NON_LAZY_SYMBOL_POINTERS',
          entry: k,
        });
      }
    }
    for (let i = 0; i < relocs.length; i++) {
      const e = relocs[i];
      const typeName = GENERIC_RELOC[e.type] ?? `type ${e.type}`;
      const where = `${file}: section (${label(s)}), offset 0x${e.address.toString(16)}, relocation entry ${i} (${typeName})`;
      if (e.type !== 0 && e.type !== 2 && e.type !== 4)
        throw new LinkError(
          `${where}: unsupported relocation type${e.type === 1 ? ' (a GENERIC_RELOC_PAIR must follow a SECTDIFF)' : ''}; this linker applies GENERIC_RELOC_VANILLA, GENERIC_RELOC_SECTDIFF and GENERIC_RELOC_LOCAL_SECTDIFF`,
        );
      if (e.length === 3) throw new LinkError(`${where}: r_length 3 (quad) is not supported in 32-bit objects`);
      const size = (1 << e.length) as 1 | 2 | 4;
      if (e.address < 0 || e.address + size > s.size)
        throw new LinkError(`${where}: the field lies outside the section`);
      const c = readField(sec.data, e.address, size, m.bigEndian);
      const p0 = e.pcrel ? s.addr + e.address : 0;
      const sectionTarget = (ord: number): { t: RelocTarget; addr: number } => {
        if (ord === 0) return { t: { kind: 'absolute', value: 0 }, addr: 0 };
        if (ord >= ordinal.length) throw new LinkError(`${where}: section ordinal ${ord} out of range`);
        if (ordinal[ord] < 0)
          throw new LinkError(
            `${where}: refers to section ${ord} (${label(m.sections[ord - 1])}), which is not loaded`,
          );
        return { t: { kind: 'section', index: ordinal[ord] }, addr: m.sections[ord - 1].addr };
      };
      let fx: Fixup;
      if (e.type === 0) {
        if (!e.scattered && e.extern) {
          if (e.symbolnum >= symbols.length) throw new LinkError(`${where}: r_symbolnum ${e.symbolnum} out of range`);
          fx = {
            offset: e.address,
            size,
            pcrel: e.pcrel,
            plus: { kind: 'symbol', index: e.symbolnum },
            addend: c + p0,
            type: typeName,
            entry: i,
          };
        } else {
          const st = sectionTarget(e.scattered ? sectionOf(e.value, where) : e.symbolnum);
          fx = {
            offset: e.address,
            size,
            pcrel: e.pcrel,
            plus: st.t,
            addend: c - st.addr + p0,
            type: typeName,
            entry: i,
          };
        }
      } else {
        if (!e.scattered) throw new LinkError(`${where}: a section difference must be a scattered relocation entry`);
        const pair = relocs[i + 1];
        if (!pair || !pair.scattered || pair.type !== 1)
          throw new LinkError(`${where}: not followed by a scattered GENERIC_RELOC_PAIR entry`);
        const a = sectionTarget(sectionOf(e.value, where));
        const b = sectionTarget(sectionOf(pair.value, where));
        fx = {
          offset: e.address,
          size,
          pcrel: e.pcrel,
          plus: a.t,
          minus: b.t,
          addend: c - a.addr + b.addr + p0,
          type: typeName,
          entry: i,
        };
        i++;
      }
      sec.fixups.push(fx);
    }
  });

  return { name: file, format: 'macho', machine, bigEndian: m.bigEndian, sections, symbols };
}
