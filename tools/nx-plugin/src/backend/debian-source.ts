/**
 * The LLVM source the M68k backend is rebuilt from: the orig tarball of a
 * Debian source package (llvm-toolchain-22 for Debian's libLLVM.so.22.1),
 * fetched once from the archive the machine's apt is configured with, checked
 * against the package's Checksums-Sha256 and cached outside the Nx outputs.
 *
 * How the archive is found (no host name is written anywhere in the project):
 *  1. `apt-get indextargets` lists the configured binary repositories
 *     (https://manpages.debian.org/bookworm/apt/apt-get.8.en.html#indextargets);
 *  2. a private apt configuration (its own sources list and lists folder in the
 *     cache) adds a `deb-src` entry for each and runs `apt-get update`;
 *  3. `apt-cache showsrc` gives the package's `Directory` and `Checksums-Sha256`
 *     (Debian source control fields:
 *     https://www.debian.org/doc/debian-policy/ch-controlfields.html#debian-source-control-files-dsc);
 *  4. the tarball is downloaded from `<repository>/<Directory>/<file>`, or from
 *     the main archive's pool (`pool/<component>/<prefix>/<package>/`), where a
 *     security archive's pool lacks it; the sha256 is checked while it streams.
 * A cached tarball whose sha256 matches the expected one is used without any
 * network access.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256File } from '../toolchain/locate';
import { runTool, ToolError } from '../util/exec';
import type { DebianSourcePin } from './types';

export type { DebianSourcePin } from './types';

/** The source could not be fetched or verified; the message names what and why, on one line. */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

/**
 * The folder nextrust caches downloads and backend builds in:
 * `$NEXTRUST_CACHE_DIR`, else `$XDG_CACHE_HOME/nextrust`, else `~/.cache/nextrust`
 * (XDG Base Directory spec: https://specifications.freedesktop.org/basedir-spec/latest/).
 */
export function nextrustCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NEXTRUST_CACHE_DIR) return path.resolve(env.NEXTRUST_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'nextrust');
}

/** One configured apt repository (a `deb` entry). */
export interface AptRepository {
  /** Base URI with a trailing slash, e.g. `http://<mirror>/debian/`. */
  uri: string;
  /** Suite codename, e.g. `bookworm-security`. */
  codename: string;
  component: string;
}

/**
 * Parses `apt-get indextargets --format '$(REPO_URI)\t$(CODENAME)\t$(COMPONENT)\t$(TARGET_OF)'`
 * output into the distinct `deb` repositories, in apt's order.
 */
export function parseIndexTargets(text: string): AptRepository[] {
  const seen = new Set<string>();
  const out: AptRepository[] = [];
  for (const line of text.split('\n')) {
    const [uri, codename, component, targetOf] = line.split('\t');
    if (!uri || !codename || !component || targetOf?.trim() !== 'deb') continue;
    const key = `${uri} ${codename} ${component}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ uri: uri.endsWith('/') ? uri : uri + '/', codename, component });
  }
  return out;
}

/** One source package record of `apt-cache showsrc`. */
export interface SourceRecord {
  package: string;
  version: string;
  /** Pool folder relative to the archive root, e.g. `pool/updates/main/l/llvm-toolchain-22`. */
  directory: string;
  /** File name → sha256 (hex) and size (bytes), from Checksums-Sha256. */
  files: Record<string, { sha256: string; size: number }>;
}

/**
 * Parses `apt-cache showsrc` output (deb822 paragraphs separated by blank lines).
 * Format: https://www.debian.org/doc/debian-policy/ch-controlfields.html#debian-source-package-template-control-files-debian-control
 */
export function parseShowSrc(text: string): SourceRecord[] {
  const records: SourceRecord[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let current = '';
    for (const line of para.split('\n')) {
      if (/^\s/.test(line) && current) fields[current] += '\n' + line.trim();
      else {
        const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
        if (m) {
          current = m[1].toLowerCase();
          fields[current] = m[2];
        }
      }
    }
    if (!fields.package || !fields.version) continue;
    const files: SourceRecord['files'] = {};
    for (const l of (fields['checksums-sha256'] ?? '').split('\n')) {
      const m = /^([0-9a-f]{64})\s+(\d+)\s+(\S+)$/.exec(l.trim());
      if (m) files[m[3]] = { sha256: m[1], size: Number(m[2]) };
    }
    records.push({ package: fields.package, version: fields.version, directory: fields.directory ?? '', files });
  }
  return records;
}

/** `pool/<component>/<prefix>/<package>`: where the main archive keeps a source package (lib* packages use 4-letter prefixes). */
export function poolDirectory(pkg: string, component = 'main'): string {
  const prefix = pkg.startsWith('lib') ? pkg.slice(0, 4) : pkg[0];
  return `pool/${component}/${prefix}/${pkg}`;
}

/** Options of fetchDebianSource. */
export interface FetchOptions {
  pin: DebianSourcePin;
  /** Cache folder (nextrustCacheDir()). */
  cacheDir: string;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

function aptArgs(aptDir: string): string[] {
  return [
    '-o',
    `Dir::Etc::SourceList=${path.join(aptDir, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/nonexistent',
    '-o',
    `Dir::State::Lists=${path.join(aptDir, 'lists')}`,
    '-o',
    `Dir::Cache=${path.join(aptDir, 'cache')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
}

/** Asks apt (a private configuration with deb-src entries) for the source package's record. */
async function lookUpRecord(
  opts: FetchOptions,
  log: (l: string) => void,
): Promise<{ record: SourceRecord; repos: AptRepository[] }> {
  const { pin } = opts;
  let targets: string;
  try {
    targets = (
      await runTool('apt-get', ['indextargets', '--format', '$(REPO_URI)\t$(CODENAME)\t$(COMPONENT)\t$(TARGET_OF)'], {
        timeoutMs: 60_000,
      })
    ).stdout;
  } catch (e) {
    throw new SourceError(
      `cannot read apt's repositories (apt-get indextargets): ${(e as Error).message}; run 'apt-get update' first`,
    );
  }
  const repos = parseIndexTargets(targets);
  if (!repos.length) {
    throw new SourceError(
      "apt has no repositories with downloaded indexes: run 'apt-get update' (the backend source comes from the Debian archive apt is configured with)",
    );
  }
  const aptDir = path.join(opts.cacheDir, 'apt');
  await fs.promises.mkdir(path.join(aptDir, 'lists', 'partial'), { recursive: true });
  await fs.promises.mkdir(path.join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  await fs.promises.writeFile(
    path.join(aptDir, 'sources.list'),
    repos.map((r) => `deb-src ${r.uri} ${r.codename} ${r.component}\n`).join(''),
  );
  const find = async (): Promise<SourceRecord | undefined> => {
    const r = await runTool('apt-cache', [...aptArgs(aptDir), 'showsrc', pin.package], { timeoutMs: 60_000 }).catch(
      () => null,
    );
    return r ? parseShowSrc(r.stdout).find((s) => s.package === pin.package && s.version === pin.version) : undefined;
  };
  let record = await find();
  if (!record) {
    log(`backend source: reading the source indexes of ${repos.length} apt repositories`);
    try {
      await runTool('apt-get', [...aptArgs(aptDir), '-q', 'update'], { timeoutMs: 600_000 });
    } catch (e) {
      const out = e instanceof ToolError ? e.output.trim().split('\n').slice(-3).join(' | ') : '';
      throw new SourceError(
        `apt-get update of the source indexes failed: ${(e as Error).message}${out ? ` (${out})` : ''}`,
      );
    }
    record = await find();
  }
  if (!record) {
    throw new SourceError(
      `Debian source package ${pin.package} ${pin.version} is not in the archives apt is configured with (${repos.map((r) => r.codename).join(', ')}): ` +
        `check projects/llvm-m68k/nextrust.json field 'backend.source.version' against 'apt-cache policy libllvm22'`,
    );
  }
  return { record, repos };
}

/** A download is abandoned after this long without a byte (ms), unless NEXTRUST_DOWNLOAD_STALL_MS says otherwise. */
export const DOWNLOAD_STALL_MS = 60_000;

/**
 * Downloads `url` to `dest` (through `dest.part`, renamed once complete) and checks its sha256. The request is
 * abandoned when no byte arrives for `stallMs` (the answer's headers included): a total time limit would fail a slow
 * but moving download of a large tarball.
 * @returns 'missing' on HTTP 404, else 'ok'.
 * @throws SourceError on a sha256 mismatch (the part file is removed); Error `no data for N s` on a stall, or on any
 *   other HTTP or network failure (the caller tries the next archive).
 */
export async function downloadVerified(
  url: string,
  dest: string,
  expected: { sha256: string; size: number },
  log: (l: string) => void,
  stallMs: number = DOWNLOAD_STALL_MS,
): Promise<'ok' | 'missing'> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const stalled = () => new Error(`no data for ${(stallMs / 1000).toFixed(stallMs < 1000 ? 1 : 0)} s: abandoned`);
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(stalled()), stallMs);
  };
  arm();
  const part = dest + '.part';
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal });
    } catch (e) {
      throw controller.signal.aborted ? stalled() : e;
    }
    if (res.status === 404) return 'missing';
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const hash = crypto.createHash('sha256');
    const out = fs.createWriteStream(part);
    let got = 0;
    let shown = 0;
    const started = Date.now();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        hash.update(chunk);
        got += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        const pct = Math.floor((got / expected.size) * 100);
        if (pct >= shown + 10) {
          shown = pct - (pct % 10);
          log(
            `backend source: ${shown}% of ${(expected.size / 1e6).toFixed(0)} MB (${((Date.now() - started) / 1000).toFixed(0)} s)`,
          );
        }
      }
    } catch (e) {
      await new Promise<void>((r) => out.end(() => r()));
      await fs.promises.rm(part, { force: true });
      throw controller.signal.aborted ? stalled() : e;
    }
    await new Promise<void>((r) => out.end(() => r()));
    const sha = hash.digest('hex');
    if (sha !== expected.sha256) {
      await fs.promises.rm(part, { force: true });
      throw new SourceError(
        `${url}: sha256 ${sha} differs from the archive's Checksums-Sha256 ${expected.sha256}; refused`,
      );
    }
    await fs.promises.rename(part, dest);
    return 'ok';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Returns the path of the verified orig tarball in the cache, fetching it first when needed.
 * @throws SourceError when apt cannot find the package version, the archive lists another
 *   sha256 than the pin, no repository serves the file, or the download's sha256 differs.
 */
export async function fetchDebianSource(opts: FetchOptions): Promise<string> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const { pin } = opts;
  const dir = path.join(opts.cacheDir, 'sources');
  const dest = path.join(dir, pin.tarball);
  if (fs.existsSync(dest)) {
    const sha = sha256File(dest);
    if (sha === pin.sha256) return dest;
    log(`backend source: cached ${dest} has sha256 ${sha}, expected ${pin.sha256}: fetching again`);
    await fs.promises.rm(dest, { force: true });
  }
  await fs.promises.mkdir(dir, { recursive: true });
  const { record, repos } = await lookUpRecord(opts, log);
  const listed = record.files[pin.tarball];
  if (!listed) {
    throw new SourceError(
      `${pin.package} ${pin.version} has no file ${pin.tarball} (it lists ${Object.keys(record.files).join(', ')}): check 'backend.source.tarball'`,
    );
  }
  if (listed.sha256 !== pin.sha256) {
    throw new SourceError(
      `${pin.tarball}: the archive's Checksums-Sha256 is ${listed.sha256}, projects/llvm-m68k/nextrust.json field 'backend.source.sha256' pins ${pin.sha256}; refused`,
    );
  }
  const urls = [
    ...repos.map((r) => `${r.uri}${record.directory}/${pin.tarball}`),
    ...repos.map((r) => `${r.uri}${poolDirectory(pin.package, r.component)}/${pin.tarball}`),
  ];
  const stallText = (opts.env ?? process.env).NEXTRUST_DOWNLOAD_STALL_MS;
  const stallMs = stallText ? Number(stallText) : DOWNLOAD_STALL_MS;
  if (!(stallMs > 0))
    throw new SourceError(`NEXTRUST_DOWNLOAD_STALL_MS '${stallText}': expected a positive number of milliseconds`);
  const tried: string[] = [];
  for (const url of [...new Set(urls)]) {
    log(`backend source: fetching ${url}`);
    let result: 'ok' | 'missing';
    try {
      result = await downloadVerified(url, dest, listed, log, stallMs);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      tried.push(`${url}: ${(e as Error).message}`);
      continue;
    }
    if (result === 'ok') {
      log(`backend source: ${dest} (sha256 verified)`);
      return dest;
    }
    tried.push(`${url}: not found`);
  }
  throw new SourceError(`no configured archive serves ${pin.tarball} (${tried.join('; ')})`);
}

/**
 * Extracts the members under `llvm/lib/Target/<target>/` of the tarball into
 * `<cacheDir>/llvm-src/<sha256 prefix>/` once, and returns that folder (holding `llvm/lib/Target/<target>`).
 * @throws ToolError when tar fails (xz-utils missing, corrupt archive).
 */
export async function extractTarget(
  tarball: string,
  sha256: string,
  cacheDir: string,
  target: string,
): Promise<string> {
  const root = path.join(cacheDir, 'llvm-src', `${sha256.slice(0, 16)}-${target}`);
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) return root;
  const tmp = `${root}.tmp-${process.pid}`;
  await fs.promises.rm(tmp, { recursive: true, force: true });
  await fs.promises.mkdir(tmp, { recursive: true });
  // The tarball's top folder is <package>_<version>/; strip it.
  await runTool(
    'tar',
    ['-xJf', tarball, '-C', tmp, '--strip-components=1', '--wildcards', `*/llvm/lib/Target/${target}/*`],
    { timeoutMs: 600_000 },
  );
  if (!fs.existsSync(path.join(tmp, 'llvm/lib/Target', target))) {
    throw new SourceError(`${tarball}: no llvm/lib/Target/${target} inside`);
  }
  await fs.promises.writeFile(path.join(tmp, '.complete'), '');
  await fs.promises.rm(root, { recursive: true, force: true });
  await fs.promises.rename(tmp, root);
  return root;
}
