/**
 * Reading a file named on the command line: only a regular file is read, so a
 * FIFO, a device or a directory given by mistake is refused at once instead of
 * hanging the command or reading without end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a path is, in words, for errors (`a FIFO`, `a directory`, ...). */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a regular file as UTF-8.
 * @param file as given on the command line; @param flag the option that named it, for errors; @param cwd for
 *   relative paths.
 * @throws Error `FLAG FILE: no such file` / `: a FIFO, not a regular file` / the read error, in one line.
 */
export function readRegularFile(file: string, flag: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    throw new Error(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`${flag} ${file}: ${kindOf(st)}, not a regular file`);
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: ${(e as Error).message}`);
  }
}
