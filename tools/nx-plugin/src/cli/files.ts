/**
 * Reading a file named on the command line: only a regular file is read, so a
 * FIFO, a device or a directory given by mistake is refused at once instead of
 * hanging the command or reading without end. Files are hashed as streams, so
 * memory stays bounded at any size and signals are handled between chunks.
 */
import { createHash } from 'node:crypto';
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
    throw new Error(
      `${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      { cause: e },
    );
  }
  if (!st.isFile()) throw new Error(`${flag} ${file}: ${kindOf(st)}, not a regular file`);
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The regular files named by `paths` (files, or folders walked in name order; symbolic links followed, each real folder
 * visited once, so a link loop ends).
 * @param paths as given on the command line; @param cwd for relative paths.
 * @returns absolute paths, in the order given and walked.
 * @throws Error `PATH: no such file or folder`, or `PATH: a FIFO, not a regular file or folder` (also for one inside a
 *   folder: nothing is half done).
 */
export function regularFilesUnder(paths: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const walk = (abs: string, shown: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      throw new Error(
        `${shown}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`,
        { cause: e },
      );
    }
    if (st.isDirectory()) {
      const real = fs.realpathSync(abs);
      if (seen.has(real)) return;
      seen.add(real);
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(abs, e), path.join(shown, e));
    } else if (st.isFile()) files.push(abs);
    else throw new Error(`${shown}: ${kindOf(st)}, not a regular file or folder`);
  };
  for (const p of paths) walk(path.resolve(cwd, p), p);
  return files;
}

/**
 * sha256 and size of a file, read as a stream (64 KiB chunks: memory bounded at any size).
 * @returns `{sha256: hex, bytes}`.
 * @throws Error from reading the file.
 */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    bytes += c.length;
    hash.update(c);
  }
  return { sha256: hash.digest('hex'), bytes };
}
