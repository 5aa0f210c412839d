/**
 * Wraps a linked flat image into a minimal static ELF32 executable that Linux
 * (and qemu's user mode) loads: ET_EXEC, no section headers, one PT_LOAD segment
 * readable, writable and executable that maps the image at its base address and
 * zero-fills the bss after it, entry point = the linker's entry symbol.
 *
 * Format: the System V gABI ELF header and program header
 * (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html,
 * https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html); machine
 * numbers EM_68K = 4 (big-endian) and EM_386 = 3 (little-endian).
 */
import { LinkError } from './model';
import type { LinkResult } from './linker';

/** File offset and alignment of the segment: 8 KiB, a multiple of every 68k Linux page size (4 and 8 KiB). */
export const SEGMENT_ALIGN = 0x2000;

/**
 * The bytes of the executable.
 * @param linked a link() result whose base is a multiple of SEGMENT_ALIGN.
 * @throws LinkError if the base is not aligned (the kernel maps the segment by pages).
 */
export function elfExecutable(
  linked: Pick<LinkResult, 'machine' | 'bigEndian' | 'base' | 'image' | 'bssSize' | 'entry'>,
): Buffer {
  if (linked.base % SEGMENT_ALIGN !== 0)
    throw new LinkError(
      `base address 0x${linked.base.toString(16)} is not a multiple of 0x${SEGMENT_ALIGN.toString(16)}`,
    );
  const le = !linked.bigEndian;
  const out = Buffer.alloc(SEGMENT_ALIGN + linked.image.length);
  const u16 = (o: number, v: number) => (le ? out.writeUInt16LE(v, o) : out.writeUInt16BE(v, o));
  const u32 = (o: number, v: number) => (le ? out.writeUInt32LE(v >>> 0, o) : out.writeUInt32BE(v >>> 0, o));
  out.set([0x7f, 0x45, 0x4c, 0x46, 1 /* ELFCLASS32 */, le ? 1 : 2 /* ELFDATA2LSB/MSB */, 1 /* EV_CURRENT */], 0);
  u16(16, 2); // e_type ET_EXEC
  u16(18, linked.machine === 'm68k' ? 4 : 3); // e_machine
  u32(20, 1); // e_version
  u32(24, linked.entry); // e_entry
  u32(28, 52); // e_phoff
  u32(32, 0); // e_shoff
  u32(36, 0); // e_flags
  u16(40, 52); // e_ehsize
  u16(42, 32); // e_phentsize
  u16(44, 1); // e_phnum
  u16(46, 40); // e_shentsize
  u16(48, 0); // e_shnum
  u16(50, 0); // e_shstrndx
  const ph = 52;
  u32(ph, 1); // p_type PT_LOAD
  u32(ph + 4, SEGMENT_ALIGN); // p_offset
  u32(ph + 8, linked.base); // p_vaddr
  u32(ph + 12, linked.base); // p_paddr
  u32(ph + 16, linked.image.length); // p_filesz
  u32(ph + 20, linked.image.length + linked.bssSize); // p_memsz
  u32(ph + 24, 7); // p_flags PF_R | PF_W | PF_X
  u32(ph + 28, SEGMENT_ALIGN); // p_align
  out.set(linked.image, SEGMENT_ALIGN);
  return out;
}
