/**
 * The format-neutral model of a relocatable object that the static linker
 * (linker.ts) works on. The readers (elf-reader.ts for ELF32 m68k, macho-reader.ts
 * for 32-bit Mach-O MH_OBJECT with generic relocations) translate their format
 * into it, so that one rule applies every relocation:
 *
 *     field = plus + addend - minus - (pcrel ? P : 0)
 *
 * where `plus`/`minus` are final addresses of a symbol or a section start and P
 * is the final address of the field. ELF RELA relocations give the addend
 * explicitly (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.reloc.html);
 * Mach-O generic relocations keep it in the field, relative to the object's own
 * section addresses, and the reader rebases it (see macho-reader.ts, after
 * cctools ld/generic_reloc.c:
 * https://github.com/apple-oss-distributions/cctools/blob/main/ld/generic_reloc.c).
 */

/** Where a loaded section goes in the image, in this order: text, rodata, data, bss. */
export type SectionGroup = 'text' | 'rodata' | 'data' | 'bss';

/** The image's section groups in layout order. */
export const SECTION_GROUPS: readonly SectionGroup[] = ['text', 'rodata', 'data', 'bss'];

/** What a relocation adds or subtracts: a symbol of the object, the start of one of its sections, or nothing. */
export type RelocTarget =
  { kind: 'symbol'; index: number } | { kind: 'section'; index: number } | { kind: 'absolute'; value: number };

/** One relocation, already in the neutral form `plus + addend - minus - (pcrel ? P : 0)`. */
export interface Fixup {
  /** Byte offset of the field in its section. */
  offset: number;
  /** Field width in bytes; the field is stored in the object's byte order. */
  size: 1 | 2 | 4;
  pcrel: boolean;
  plus: RelocTarget;
  /** Subtracted target (Mach-O GENERIC_RELOC_SECTDIFF / LOCAL_SECTDIFF), if any. */
  minus?: RelocTarget;
  /** Signed constant, in bytes. */
  addend: number;
  /** The relocation's name in its format, for messages (`R_68K_PC16`, `GENERIC_RELOC_VANILLA`). */
  type: string;
  /** Index of the relocation entry in its table, for messages. */
  entry: number;
}

/** A section that is loaded into the image. */
export interface InputSection {
  /** `.text`, `.rodata.str1.1`, or for Mach-O `__TEXT,__text`. */
  name: string;
  group: SectionGroup;
  /** Contents (zero-filled for bss); its length is the section size. */
  data: Uint8Array;
  /** Alignment in bytes (a power of two, at least 1). */
  align: number;
  fixups: Fixup[];
}

/** Where a symbol is defined. */
export type SymbolDefinition =
  | { kind: 'section'; section: number; offset: number }
  | { kind: 'absolute'; value: number }
  | { kind: 'common'; size: number; align: number }
  | { kind: 'undefined' };

/** A symbol of an object's symbol table. */
export interface InputSymbol {
  /** As stored: Mach-O C symbols carry their leading underscore (`_main`). */
  name: string;
  /** Visible to other objects (ELF STB_GLOBAL/STB_WEAK, Mach-O N_EXT). */
  global: boolean;
  /** ELF STB_WEAK, Mach-O N_WEAK_DEF / N_WEAK_REF. */
  weak: boolean;
  def: SymbolDefinition;
}

/** A relocatable object in neutral form. Sections that are not loaded (debug info, notes) are left out. */
export interface InputObject {
  /** File name (and `archive(member)` for archive members), used in every message. */
  name: string;
  format: 'elf' | 'macho';
  /** Machine: `m68k` or `i386`. */
  machine: 'm68k' | 'i386';
  bigEndian: boolean;
  sections: InputSection[];
  symbols: InputSymbol[];
}

/**
 * An error in the input or in linking it: the message names the file, and where
 * it applies the section, the offset, the relocation or the symbol.
 */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

/** Bounds-checked big- or little-endian reads from a file's bytes; errors name the file and what was read. */
export class ByteReader {
  private readonly view: DataView;

  /**
   * @param bytes the whole file; @param file its name for messages;
   * @param bigEndian the file's byte order (a Mach-O reader sets it from the magic number).
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    public bigEndian: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws LinkError unless [offset, offset+length) lies inside the file. */
  check(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length)
      throw new LinkError(
        `${this.file}: ${what} at offset ${offset} (${length} bytes) lies outside the file (${this.bytes.length} bytes)`,
      );
  }

  /** Unsigned byte at `offset`; `what` names the field in the error. @throws LinkError outside the file. */
  u8(offset: number, what: string): number {
    this.check(offset, 1, what);
    return this.view.getUint8(offset);
  }

  /** Unsigned 16-bit value in the file's byte order. @throws LinkError outside the file. */
  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, !this.bigEndian);
  }

  /** Unsigned 32-bit value in the file's byte order. @throws LinkError outside the file. */
  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, !this.bigEndian);
  }

  /** Signed 32-bit value in the file's byte order. @throws LinkError outside the file. */
  i32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getInt32(offset, !this.bigEndian);
  }

  /** The bytes [offset, offset+length), copied. */
  slice(offset: number, length: number, what: string): Uint8Array {
    this.check(offset, length, what);
    return this.bytes.slice(offset, offset + length);
  }

  /** A NUL-terminated string starting at offset (or ending at `end`), decoded as latin1. */
  cstring(offset: number, what: string, end = this.bytes.length): string {
    if (offset < 0 || offset >= end) throw new LinkError(`${this.file}: ${what}: string offset ${offset} out of range`);
    let e = offset;
    while (e < end && this.bytes[e] !== 0) e++;
    return Buffer.from(this.bytes.subarray(offset, e)).toString('latin1');
  }

  /** A fixed-width NUL-padded name (Mach-O segname/sectname: 16 bytes). */
  fixedString(offset: number, width: number, what: string): string {
    const b = this.slice(offset, width, what);
    const z = b.indexOf(0);
    return Buffer.from(z < 0 ? b : b.subarray(0, z)).toString('latin1');
  }
}

/** Reads a signed field of `size` bytes at `offset` of `data`. */
export function readField(data: Uint8Array, offset: number, size: 1 | 2 | 4, bigEndian: boolean): number {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (size === 1) return v.getInt8(offset);
  if (size === 2) return v.getInt16(offset, !bigEndian);
  return v.getInt32(offset, !bigEndian);
}

/** Writes the low `size` bytes of `value` at `offset` of `data` (no range check: see linker.ts). */
export function writeField(data: Uint8Array, offset: number, size: 1 | 2 | 4, bigEndian: boolean, value: number): void {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (size === 1) v.setUint8(offset, value & 0xff);
  else if (size === 2) v.setUint16(offset, value & 0xffff, !bigEndian);
  else v.setUint32(offset, value >>> 0, !bigEndian);
}
