/**
 * A small static linker for test programs: lays out the loaded sections of
 * relocatable objects (ELF32 m68k, 32-bit Mach-O with generic relocations) and of
 * the archive members they need at a fixed base address, resolves symbols and
 * applies the relocations into one flat image.
 *
 * Layout (the same as GNU ld with the script of gnuLinkerScript(), so that the
 * two can be compared byte for byte): four groups in this order, text, rodata,
 * data, bss; each starts at the next multiple of the largest alignment of its
 * sections; inside a group the sections follow in object order (objects in
 * command-line order, then archive members in the order they were pulled in),
 * and in each object in section-header order, each at its own alignment. Common
 * symbols follow the bss sections. Sections are never split or merged (no
 * string merging, no dead-stripping).
 *
 * Symbols: global definitions are shared by name (Mach-O C names carry their
 * leading underscore: the C function `main` is `_main`); a second strong
 * definition is an error, a weak one yields to a strong one, an undefined weak
 * reference is 0; commons take the largest size and alignment seen. An archive
 * member is pulled in when it defines a symbol that is still undefined, until
 * nothing changes (so archive order does not matter).
 *
 * Relocations: every fixup is `plus + addend - minus - (pcrel ? P : 0)` (see
 * model.ts); a 4-byte field wraps modulo 2^32, a PC-relative 1- or 2-byte field
 * must fit in the signed range, an absolute one in the signed or unsigned range
 * (GNU ld's complain_overflow_bitfield for R_68K_16/R_68K_8; cctools'
 * generic_reloc() applies that range to PC-relative fields too, this linker is
 * stricter there, because the 68k sign-extends every displacement).
 *
 * This is a test harness, not NeXT's ld: no Mach-O output, no dynamic linking,
 * no -seglinkedit, no section ordering files.
 */
import * as fs from 'node:fs';
import { isArchive, readArchive } from './archive';
import { isElf, readElfObject } from './elf-reader';
import { isMachO, readMachObject } from './macho-reader';
import {
  LinkError,
  SECTION_GROUPS,
  writeField,
  type Fixup,
  type InputObject,
  type RelocTarget,
  type SectionGroup,
} from './model';

/** A file given to the linker: an object (ELF or Mach-O) or an ar archive of objects. */
export interface LinkInput {
  /** Name used in messages (usually the path). */
  name: string;
  bytes: Uint8Array;
}

/** Options of link(). */
export interface LinkOptions {
  /** Address of the first byte of the image (the text group starts here). */
  base: number;
  /** Entry symbol names tried in order; default `_start`, then `start` (Mach-O's C `start` is `_start`). */
  entry?: string[];
}

/** Where one input section was placed. */
export interface PlacedSection {
  object: string;
  section: string;
  group: SectionGroup;
  address: number;
  size: number;
  align: number;
}

/** The linked program. */
export interface LinkResult {
  machine: 'm68k' | 'i386';
  bigEndian: boolean;
  base: number;
  /** Bytes from `base` to the end of the data group (text, rodata, data, with alignment gaps zero). */
  image: Uint8Array;
  /** Bytes of zero-filled memory after the image (bss and commons). */
  bssSize: number;
  entry: number;
  entryName: string;
  /** Global symbols by name -> address. */
  symbols: Map<string, number>;
  /** Every placed section, in address order. */
  layout: PlacedSection[];
  /** Start and end address of each group (end exclusive; start == end when empty). */
  groups: Record<SectionGroup, { start: number; end: number }>;
  /** The objects linked, in layout order (archive members named `archive(member)`). */
  objects: string[];
}

/** Reads one object file of either format (chosen by its magic number). @throws LinkError for anything else. */
export function readObject(bytes: Uint8Array, name: string): InputObject {
  if (isElf(bytes)) return readElfObject(bytes, name);
  if (isMachO(bytes)) return readMachObject(bytes, name);
  throw new LinkError(`${name}: neither an ELF nor a 32-bit Mach-O object, nor an ar archive (unknown magic number)`);
}

/** Reads files from disk as link inputs (names as given). */
export function readInputs(paths: string[]): LinkInput[] {
  return paths.map((p) => {
    try {
      return { name: p, bytes: fs.readFileSync(p) };
    } catch (e) {
      throw new LinkError(`${p}: cannot read: ${(e as Error).message}`);
    }
  });
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

interface GlobalDef {
  object: number;
  symbol: number;
  weak: boolean;
}

/**
 * Links objects and archives into a flat image at options.base.
 * @returns the image, its layout, global symbols and entry address.
 * @throws LinkError for: unreadable input; objects of different machines or byte orders; a symbol
 *   defined twice (naming both objects); undefined symbols (each named with the first object,
 *   section and offset that references it); a relocation whose value does not fit its field
 *   (object, section, offset, type, value); no entry symbol.
 */
export function link(inputs: LinkInput[], options: LinkOptions): LinkResult {
  const objects: InputObject[] = [];
  const archives: { name: string; members: { obj: InputObject; used: boolean }[] }[] = [];
  for (const input of inputs) {
    if (isArchive(input.bytes)) {
      const members = readArchive(input.bytes, input.name).map((m) => ({
        obj: readObject(m.data, `${input.name}(${m.name})`),
        used: false,
      }));
      archives.push({ name: input.name, members });
    } else objects.push(readObject(input.bytes, input.name));
  }
  if (objects.length === 0) throw new LinkError('no object files to link (archives alone pull in nothing)');

  // Symbol resolution.
  const globals = new Map<string, GlobalDef>();
  const commons = new Map<string, { size: number; align: number; object: number }>();
  const referenced = new Set<string>();
  const addObject = (o: InputObject) => {
    const first = objects[0];
    if (o.machine !== first.machine || o.bigEndian !== first.bigEndian)
      throw new LinkError(
        `${o.name}: ${o.machine} (${o.bigEndian ? 'big' : 'little'}-endian) object, but ${first.name} is ${first.machine}`,
      );
    const oi = objects.indexOf(o);
    o.symbols.forEach((s, si) => {
      if (!s.global || s.name === '') return;
      if (s.def.kind === 'undefined') {
        referenced.add(s.name);
        return;
      }
      if (s.def.kind === 'common') {
        const c = commons.get(s.name);
        commons.set(s.name, {
          size: Math.max(c?.size ?? 0, s.def.size),
          align: Math.max(c?.align ?? 1, s.def.align),
          object: c?.object ?? oi,
        });
        return;
      }
      const prev = globals.get(s.name);
      if (prev && !prev.weak && !s.weak)
        throw new LinkError(`symbol ${s.name} is defined in both ${objects[prev.object].name} and ${o.name}`);
      if (!prev || (prev.weak && !s.weak)) globals.set(s.name, { object: oi, symbol: si, weak: s.weak });
    });
  };
  for (const o of [...objects]) addObject(o);
  const isUndefined = (name: string) => !globals.has(name) && !commons.has(name);
  for (let changed = true; changed;) {
    changed = false;
    for (const a of archives)
      for (const m of a.members) {
        if (m.used) continue;
        const wanted = m.obj.symbols.some(
          (s) => s.global && s.def.kind !== 'undefined' && referenced.has(s.name) && isUndefined(s.name),
        );
        if (!wanted) continue;
        m.used = true;
        changed = true;
        objects.push(m.obj);
        addObject(m.obj);
      }
  }
  for (const name of commons.keys()) if (globals.has(name)) commons.delete(name); // a real definition wins

  // Layout.
  const layout: PlacedSection[] = [];
  const sectionAddr: number[][] = objects.map((o) => o.sections.map(() => 0));
  const groups = {} as LinkResult['groups'];
  const commonAddr = new Map<string, number>();
  let pos = options.base >>> 0;
  for (const g of SECTION_GROUPS) {
    let groupAlign = 1;
    for (const o of objects) for (const s of o.sections) if (s.group === g) groupAlign = Math.max(groupAlign, s.align);
    if (g === 'bss') for (const c of commons.values()) groupAlign = Math.max(groupAlign, c.align);
    pos = alignUp(pos, groupAlign);
    const start = pos;
    objects.forEach((o, oi) =>
      o.sections.forEach((s, si) => {
        if (s.group !== g) return;
        pos = alignUp(pos, s.align);
        sectionAddr[oi][si] = pos;
        layout.push({ object: o.name, section: s.name, group: g, address: pos, size: s.data.length, align: s.align });
        pos += s.data.length;
      }),
    );
    if (g === 'bss')
      for (const [name, c] of commons) {
        pos = alignUp(pos, c.align);
        commonAddr.set(name, pos);
        pos += c.size;
      }
    groups[g] = { start, end: pos };
  }
  const imageEnd = groups.data.end > groups.data.start ? groups.data.end : Math.max(groups.rodata.end, groups.text.end);
  const image = new Uint8Array(imageEnd - options.base);
  objects.forEach((o, oi) =>
    o.sections.forEach((s, si) => {
      if (s.group !== 'bss') image.set(s.data, sectionAddr[oi][si] - options.base);
    }),
  );

  // Symbol addresses.
  const symbolAddress = (oi: number, si: number): number | undefined => {
    const s = objects[oi].symbols[si];
    if (s.global && s.name !== '') {
      const g = globals.get(s.name);
      if (g) {
        const d = objects[g.object].symbols[g.symbol].def;
        if (d.kind === 'section') return sectionAddr[g.object][d.section] + d.offset;
        if (d.kind === 'absolute') return d.value;
      }
      const c = commonAddr.get(s.name);
      if (c !== undefined) return c;
      return s.weak ? 0 : undefined;
    }
    if (s.def.kind === 'section') return sectionAddr[oi][s.def.section] + s.def.offset;
    if (s.def.kind === 'absolute') return s.def.value;
    return undefined;
  };
  const symbols = new Map<string, number>();
  for (const name of globals.keys()) {
    const g = globals.get(name)!;
    symbols.set(name, symbolAddress(g.object, g.symbol)!);
  }
  for (const [name, a] of commonAddr) symbols.set(name, a);

  // Relocation.
  const undefinedRefs = new Map<string, string>();
  objects.forEach((o, oi) =>
    o.sections.forEach((s, si) => {
      for (const f of s.fixups) {
        const where = `${o.name}: section ${s.name}, offset 0x${f.offset.toString(16)}`;
        const resolve = (t: RelocTarget): number | undefined => {
          if (t.kind === 'absolute') return t.value;
          if (t.kind === 'section') return sectionAddr[oi][t.index];
          const a = symbolAddress(oi, t.index);
          if (a === undefined) {
            const sym = o.symbols[t.index];
            const name = sym.name || `symbol ${t.index}`;
            if (!undefinedRefs.has(name))
              undefinedRefs.set(
                name,
                sym.global ? `${where}` : `${where} (a local symbol of a section that is not loaded)`,
              );
          }
          return a;
        };
        const plus = resolve(f.plus);
        const minus = f.minus ? resolve(f.minus) : 0;
        if (plus === undefined || minus === undefined) continue;
        const p = sectionAddr[oi][si] + f.offset;
        const value = plus + f.addend - minus - (f.pcrel ? p : 0);
        checkRange(value, f, where);
        writeField(image, p - options.base, f.size, o.bigEndian, value);
      }
    }),
  );
  if (undefinedRefs.size > 0)
    throw new LinkError(
      [...undefinedRefs].map(([name, where]) => `undefined symbol ${name}, referenced from ${where}`).join('\n'),
    );

  const entryNames = options.entry ?? ['_start', 'start'];
  const entryName = entryNames.find((n) => symbols.has(n));
  if (entryName === undefined)
    throw new LinkError(
      `no entry symbol: none of ${entryNames.join(', ')} is defined by ${objects.map((o) => o.name).join(', ')}`,
    );

  return {
    machine: objects[0].machine,
    bigEndian: objects[0].bigEndian,
    base: options.base >>> 0,
    image,
    bssSize: groups.bss.end - imageEnd,
    entry: symbols.get(entryName)!,
    entryName,
    symbols,
    layout,
    groups,
    objects: objects.map((o) => o.name),
  };
}

/** Throws LinkError unless `value` fits the fixup's field (see the module comment for the ranges). */
function checkRange(value: number, f: Fixup, where: string): void {
  if (f.size === 4) {
    if (value < -0x80000000 || value > 0xffffffff)
      throw new LinkError(`${where}: ${f.type} value ${value} does not fit in 32 bits`);
    return;
  }
  const bits = f.size * 8;
  const lo = -(2 ** (bits - 1));
  const hi = f.pcrel ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (value < lo || value > hi)
    throw new LinkError(
      `${where}: ${f.type} ${f.pcrel ? 'PC-relative ' : ''}value ${value} does not fit in a ${f.pcrel ? 'signed ' : ''}${bits}-bit field (${lo}..${hi})`,
    );
}

/**
 * A GNU ld linker script that lays out ELF objects as link() does (for comparing
 * the two byte for byte): the four groups as output sections at `base`, input
 * sections by name in command-line order, no string merging across objects
 * (each object's sections keep their place), entry `start` (the C function `start` of the test programs).
 * Script language: https://sourceware.org/binutils/docs/ld/Scripts.html
 * @param base the image's first address.
 */
export function gnuLinkerScript(base: number): string {
  return [
    'ENTRY(start)',
    'SECTIONS',
    '{',
    `  . = 0x${base.toString(16)};`,
    '  .text : { *(.text .text.*) }',
    '  .rodata : { *(.rodata .rodata.*) }',
    '  .data : { *(.data .data.*) }',
    '  .bss : { *(.bss .bss.*) *(COMMON) }',
    '  /DISCARD/ : { *(.comment) *(.note.*) *(.llvm_addrsig) *(.eh_frame) }',
    '}',
    '',
  ].join('\n');
}
