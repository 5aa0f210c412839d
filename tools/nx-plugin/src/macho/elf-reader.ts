/**
 * Reader of ELF32 big-endian relocatable objects for the Motorola 68k (ET_REL,
 * EM_68K), as the patched LLVM M68k backend and GNU as write them, into the
 * neutral model of model.ts.
 *
 * Formats: the ELF header, section headers, symbol table and RELA entries of the
 * System V gABI (https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html);
 * the m68k relocation numbers of LLVM
 * (https://github.com/llvm/llvm-project/blob/main/llvm/include/llvm/BinaryFormat/ELFRelocs/M68k.def)
 * and binutils (https://sourceware.org/git/?p=binutils-gdb.git;a=blob;f=include/elf/m68k.h).
 * m68k ELF relocations are RELA: the field's contents are replaced, not added to
 * (binutils bfd/elf32-m68k.c, howtos with partial_inplace false).
 *
 * Why not an npm library: the ELF readers on the registry (elfy, elf-tools,
 * elfinfo) parse headers and sections but neither symbols nor relocation
 * entries, so the part the linker needs would be written here anyway.
 */
import { ByteReader, LinkError, type Fixup, type InputObject, type InputSection, type InputSymbol } from './model';

/** EM_68K (gABI e_machine). */
export const EM_68K = 4;

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHF_WRITE = 0x1;
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;
const SHN_COMMON = 0xfff2;
const STB_LOCAL = 0;
const STB_WEAK = 2;

/** The m68k relocation types the linker applies: name, field size and whether PC-relative (M68k.def). */
export const R_68K: Readonly<Record<number, { name: string; size: 1 | 2 | 4; pcrel: boolean }>> = {
  1: { name: 'R_68K_32', size: 4, pcrel: false },
  2: { name: 'R_68K_16', size: 2, pcrel: false },
  3: { name: 'R_68K_8', size: 1, pcrel: false },
  4: { name: 'R_68K_PC32', size: 4, pcrel: true },
  5: { name: 'R_68K_PC16', size: 2, pcrel: true },
  6: { name: 'R_68K_PC8', size: 1, pcrel: true },
};

/** Names of the other m68k relocation types (M68k.def), for the "unsupported" message. */
const R_68K_OTHER: Record<number, string> = {
  7: 'R_68K_GOTPCREL32',
  8: 'R_68K_GOTPCREL16',
  9: 'R_68K_GOTPCREL8',
  10: 'R_68K_GOTOFF32',
  11: 'R_68K_GOTOFF16',
  12: 'R_68K_GOTOFF8',
  13: 'R_68K_PLT32',
  14: 'R_68K_PLT16',
  15: 'R_68K_PLT8',
  16: 'R_68K_PLT32O',
  17: 'R_68K_PLT16O',
  18: 'R_68K_PLT8O',
  19: 'R_68K_COPY',
  20: 'R_68K_GLOB_DAT',
  21: 'R_68K_JMP_SLOT',
  22: 'R_68K_RELATIVE',
};

interface SectionHeader {
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

/** True if `bytes` start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Reads an ELF32 big-endian m68k relocatable object.
 * @param bytes the whole file.
 * @param file its name, used in every message.
 * @returns its loaded (SHF_ALLOC) sections with their RELA relocations, and its symbols
 *   (symbol i of the model is ELF symbol i; section symbols are named after their section).
 * @throws LinkError naming the file and the field for anything else: another class,
 *   byte order, type or machine; SHT_REL relocations; an unsupported relocation type
 *   (named with section and offset); offsets outside the file.
 */
export function readElfObject(bytes: Uint8Array, file: string): InputObject {
  if (!isElf(bytes)) throw new LinkError(`${file}: not an ELF file (e_ident does not start with 0x7f 'E' 'L' 'F')`);
  const r = new ByteReader(bytes, file, true);
  const cls = r.u8(4, 'e_ident[EI_CLASS]');
  if (cls !== 1) throw new LinkError(`${file}: e_ident[EI_CLASS] is ${cls}, expected 1 (ELFCLASS32)`);
  const data = r.u8(5, 'e_ident[EI_DATA]');
  if (data !== 2) throw new LinkError(`${file}: e_ident[EI_DATA] is ${data}, expected 2 (ELFDATA2MSB, big-endian)`);
  const type = r.u16(16, 'e_type');
  if (type !== 1) throw new LinkError(`${file}: e_type is ${type}, expected 1 (ET_REL, a relocatable object)`);
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_68K) throw new LinkError(`${file}: e_machine is ${machine}, expected ${EM_68K} (EM_68K)`);
  const shoff = r.u32(32, 'e_shoff');
  const shentsize = r.u16(46, 'e_shentsize');
  const shnum = r.u16(48, 'e_shnum');
  const shstrndx = r.u16(50, 'e_shstrndx');
  if (shentsize !== 40) throw new LinkError(`${file}: e_shentsize is ${shentsize}, expected 40`);
  if (shstrndx >= shnum) throw new LinkError(`${file}: e_shstrndx ${shstrndx} is not below e_shnum ${shnum}`);

  const raw: Omit<SectionHeader, 'name'>[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 40;
    const what = `section header ${i}`;
    nameOffs.push(r.u32(o, `${what} sh_name`));
    raw.push({
      type: r.u32(o + 4, `${what} sh_type`),
      flags: r.u32(o + 8, `${what} sh_flags`),
      offset: r.u32(o + 16, `${what} sh_offset`),
      size: r.u32(o + 20, `${what} sh_size`),
      link: r.u32(o + 24, `${what} sh_link`),
      info: r.u32(o + 28, `${what} sh_info`),
      align: r.u32(o + 32, `${what} sh_addralign`),
      entsize: r.u32(o + 36, `${what} sh_entsize`),
    });
  }
  const strtab = raw[shstrndx];
  const strEnd = strtab.offset + strtab.size;
  r.check(strtab.offset, strtab.size, 'section name table');
  const headers: SectionHeader[] = raw.map((h, i) => ({
    ...h,
    name: i === 0 ? '' : r.cstring(strtab.offset + nameOffs[i], `name of section ${i}`, strEnd),
  }));

  // Loaded sections, in file order.
  const sections: InputSection[] = [];
  const sectionMap = new Map<number, number>();
  headers.forEach((h, i) => {
    if (!(h.flags & SHF_ALLOC) || h.type === SHT_RELA || h.type === SHT_REL) return;
    const group =
      h.type === SHT_NOBITS ? 'bss' : h.flags & SHF_EXECINSTR ? 'text' : h.flags & SHF_WRITE ? 'data' : 'rodata';
    const contents =
      h.type === SHT_NOBITS ? new Uint8Array(h.size) : r.slice(h.offset, h.size, `contents of section ${h.name}`);
    sectionMap.set(i, sections.length);
    sections.push({ name: h.name, group, data: contents, align: Math.max(1, h.align), fixups: [] });
  });

  // Symbols (one symbol table in a relocatable object).
  const symbols: InputSymbol[] = [];
  const symtabIndex = headers.findIndex((h) => h.type === SHT_SYMTAB);
  if (symtabIndex >= 0) {
    const st = headers[symtabIndex];
    const names = headers[st.link];
    if (!names) throw new LinkError(`${file}: .symtab's sh_link ${st.link} names no section`);
    r.check(names.offset, names.size, 'symbol name table');
    for (let i = 0; i < st.size / 16; i++) {
      const o = st.offset + i * 16;
      const what = `symbol ${i}`;
      const nameOff = r.u32(o, `${what} st_name`);
      const value = r.u32(o + 4, `${what} st_value`);
      const info = r.u8(o + 12, `${what} st_info`);
      const shndx = r.u16(o + 14, `${what} st_shndx`);
      const bind = info >> 4;
      const stype = info & 0xf;
      let name = i === 0 ? '' : r.cstring(names.offset + nameOff, `name of ${what}`, names.offset + names.size);
      if (stype === 3 /* STT_SECTION */ && name === '' && shndx < headers.length) name = headers[shndx].name;
      let def: InputSymbol['def'];
      if (shndx === SHN_UNDEF) def = { kind: 'undefined' };
      else if (shndx === SHN_ABS) def = { kind: 'absolute', value };
      else if (shndx === SHN_COMMON)
        def = { kind: 'common', size: r.u32(o + 8, `${what} st_size`), align: Math.max(1, value) };
      else if (shndx >= SHN_LORESERVE)
        throw new LinkError(`${file}: ${what} (${name}) has st_shndx 0x${shndx.toString(16)}, which is not supported`);
      else {
        const s = sectionMap.get(shndx);
        // A symbol of a section that is not loaded (debug info) cannot be referenced from a loaded one.
        def = s === undefined ? { kind: 'undefined' } : { kind: 'section', section: s, offset: value };
      }
      symbols.push({ name, global: bind !== STB_LOCAL, weak: bind === STB_WEAK, def });
    }
  }

  // Relocations of loaded sections.
  headers.forEach((h) => {
    if (h.type === SHT_REL && sectionMap.has(h.info))
      throw new LinkError(`${file}: section ${h.name}: SHT_REL relocations; m68k objects use SHT_RELA`);
    if (h.type !== SHT_RELA) return;
    const target = sectionMap.get(h.info);
    if (target === undefined) return;
    const sec = sections[target];
    if (h.link !== symtabIndex)
      throw new LinkError(`${file}: section ${h.name}: sh_link ${h.link} is not the symbol table`);
    for (let k = 0; k < h.size / 12; k++) {
      const o = h.offset + k * 12;
      const what = `${h.name} entry ${k}`;
      const offset = r.u32(o, `${what} r_offset`);
      const rinfo = r.u32(o + 4, `${what} r_info`);
      const addend = r.i32(o + 8, `${what} r_addend`);
      const rtype = rinfo & 0xff;
      const sym = rinfo >>> 8;
      if (rtype === 0) continue; // R_68K_NONE
      const t = R_68K[rtype];
      if (!t)
        throw new LinkError(
          `${file}: section ${sec.name}, offset 0x${offset.toString(16)}: unsupported relocation type ${rtype}` +
            ` (${R_68K_OTHER[rtype] ?? 'unknown'}); this linker applies ${Object.values(R_68K)
              .map((x) => x.name)
              .join(', ')}`,
        );
      if (offset + t.size > sec.data.length)
        throw new LinkError(
          `${file}: section ${sec.name}: ${t.name} at offset 0x${offset.toString(16)} lies outside the section`,
        );
      if (sym >= symbols.length)
        throw new LinkError(
          `${file}: section ${sec.name}, offset 0x${offset.toString(16)}: symbol index ${sym} out of range`,
        );
      const fx: Fixup = {
        offset,
        size: t.size,
        pcrel: t.pcrel,
        plus: sym === 0 ? { kind: 'absolute', value: 0 } : { kind: 'symbol', index: sym },
        addend,
        type: t.name,
        entry: k,
      };
      sec.fixups.push(fx);
    }
  });

  return { name: file, format: 'elf', machine: 'm68k', bigEndian: true, sections, symbols };
}
