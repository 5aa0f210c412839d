/**
 * Reader of `ar` static libraries: the common format (`!<arch>\n`, 60-byte member
 * headers, data padded to even offsets) with GNU long names (`//` table, `/N`
 * references, names ending in `/`) and BSD long names (`#1/N`, the name in the
 * first N bytes of the data, as Apple's and NeXT's ar and libtool write).
 * Symbol-table members (`/`, `/SYM64/`, `__.SYMDEF`, `__.SYMDEF SORTED`) are left
 * out: the linker reads every member's own symbol table.
 *
 * Format: https://man.freebsd.org/cgi/man.cgi?query=ar&sektion=5 and
 * https://sourceware.org/binutils/docs/binutils/ar.html (GNU extensions);
 * Apple's: https://github.com/apple-oss-distributions/cctools/blob/main/include/ar.h
 *
 * Why not an npm library: the registry's ar reader (ar-async) reads files through
 * streams and events from a path; the format is a few lines over a buffer here.
 */
import { LinkError } from './model';

/** One member of an archive. */
export interface ArchiveMember {
  name: string;
  data: Uint8Array;
}

/** True if `bytes` start with the `!<arch>\n` magic. */
export function isArchive(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 8)).toString('latin1') === '!<arch>\n';
}

/**
 * The members of an ar archive, in archive order, without symbol tables.
 * @param bytes the whole file; @param file its name for messages.
 * @throws LinkError naming the file and the member header's offset for a bad magic, a header
 *   without its terminator (`` `\n ``), a size that is not a decimal number or runs past the file,
 *   a long-name reference outside the `//` table.
 */
export function readArchive(bytes: Uint8Array, file: string): ArchiveMember[] {
  if (!isArchive(bytes)) throw new LinkError(`${file}: not an ar archive (does not start with "!<arch>\\n")`);
  const text = (o: number, n: number) => Buffer.from(bytes.subarray(o, o + n)).toString('latin1');
  const members: ArchiveMember[] = [];
  let longNames = '';
  let off = 8;
  while (off + 60 <= bytes.length) {
    const rawName = text(off, 16).trimEnd();
    const sizeField = text(off + 48, 10).trim();
    if (text(off + 58, 2) !== '`\n')
      throw new LinkError(`${file}: member header at offset ${off}: ar_fmag is not "\`\\n"`);
    if (!/^\d+$/.test(sizeField))
      throw new LinkError(`${file}: member header at offset ${off}: ar_size "${sizeField}" is not a decimal number`);
    const size = Number(sizeField);
    const start = off + 60;
    if (start + size > bytes.length)
      throw new LinkError(
        `${file}: member "${rawName}" at offset ${off}: ar_size ${size} runs past the end of the file`,
      );
    let data = bytes.subarray(start, start + size);
    let name: string;
    if (rawName === '//') {
      longNames = text(start, size);
      name = '';
    } else if (rawName === '/' || rawName === '/SYM64/') {
      name = '';
    } else if (/^#1\/\d+$/.test(rawName)) {
      const n = Number(rawName.slice(3));
      if (n > size)
        throw new LinkError(`${file}: member at offset ${off}: BSD name length ${n} exceeds ar_size ${size}`);
      name = text(start, n).replace(/\0+$/, '');
      data = data.subarray(n);
    } else if (/^\/\d+$/.test(rawName)) {
      const at = Number(rawName.slice(1));
      if (at >= longNames.length)
        throw new LinkError(`${file}: member at offset ${off}: long name offset ${at} is outside the "//" table`);
      const end = longNames.indexOf('\n', at);
      name = longNames.slice(at, end < 0 ? undefined : end).replace(/\/$/, '');
    } else {
      name = rawName.replace(/\/$/, '');
    }
    if (name !== '' && name !== '__.SYMDEF' && name !== '__.SYMDEF SORTED')
      members.push({ name, data: Uint8Array.from(data) });
    off = start + size + (size % 2);
  }
  return members;
}
