/**
 * The release bundle of one CPU variant (`ci-status:bundle`, phase 5, artifact publishing): the tested programs and
 * libraries of one CPU packed into a reproducible tarball with a member list, a checksum file and a provenance
 * statement, written to `<outputDir>` (dist/release/<cpu>/):
 *
 *  - `nextrust-<version>-<cpu>.tar.gz`: every file under the folder `nextrust-<version>-<cpu>/` (BUNDLE_LAYOUT gives
 *    each member's path), with `MANIFEST.json` listing every other member with its size and sha256. Reproducible:
 *    GNU tar with `--sort=name --mtime=@<commit time> --owner=0 --group=0 --numeric-owner --format=gnu` and fixed
 *    modes, then `gzip -n` (no name, no time stamp), as https://reproducible-builds.org/docs/archives/ describes;
 *    two runs on the same inputs and commit give byte-identical tarballs.
 *  - `SHA256SUMS`: `<sha256>  <file name>` lines, the format `sha256sum -c` checks (GNU coreutils,
 *    https://www.gnu.org/software/coreutils/manual/html_node/sha2-utilities.html).
 *  - `provenance.json`: an in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
 *    whose predicate is SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance).
 *
 * `<version>` is the root package.json `version`, then `+g` and the commit's first 12 hex digits, then `.dirty` when
 * tracked files differ from the commit (`git status --porcelain --untracked-files=no` prints anything), a SemVer
 * build-metadata suffix (https://semver.org/#spec-item-10).
 *
 * Only tested artifacts are published: the bundle refuses, with one BundleError naming the file and what was wrong,
 * when the emulator results of the CPU are missing or record a failed case, when a manifest is missing or not of the
 * expected shape, or when a file a manifest names is missing or no longer has the sha256 it records. Everything is
 * written into a temporary folder beside `<outputDir>` and renamed into place at the end, so a refused or failed run
 * leaves the previous bundle as it was.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseValidatedJson } from '../config/project-config';
import { HOSTED_TRIPLE } from '../build/rust-targets';
import { sha256File } from '../toolchain/locate';
import { readJson } from '../toolchain/manifest';
import { runProcess } from '../util/exec';

/** A bundle that cannot be made; the message names the file and what was wrong. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/**
 * `buildType` of the provenance: this module's recipe (the layout above and BundleOptions as external and internal
 * parameters). A URN, as SLSA allows any URI (https://slsa.dev/spec/v1.0/provenance#buildType); docs/pipeline.md
 * ("Publishing (phase 5)") documents it.
 */
export const BUILD_TYPE = 'urn:x-nextrust:build-type:nx-release-bundle:v1';

/** in-toto Statement v1 `_type` (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md). */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** SLSA Provenance v1 `predicateType` (https://slsa.dev/spec/v1.0/provenance). */
export const PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';

/** Builder id of a run outside GitHub Actions. */
export const LOCAL_BUILDER_ID = 'urn:x-nextrust:builder:local';

/**
 * Where each kind of file goes inside the tarball, under its top folder `nextrust-<version>-<cpu>/`.
 * `<name>` is the file's own name.
 */
export const BUNDLE_LAYOUT = {
  /** Executables of the build manifest (mode 0755). */
  executable: 'bin/<name>',
  /** Static libraries and objects of the build manifest. */
  library: 'lib/<name>',
  /** The build's manifest.json (every artifact with its sha256, as built). */
  buildManifest: 'build/manifest.json',
  /** The spinlock atomics archive (ELF, m68k-linux-gnu). */
  atomics: 'atomics/<name>',
  /** Its NeXTSTEP (Mach-O) build. */
  atomicsNextstep: 'atomics/nextstep/<name>',
  /** atomics.json. */
  atomicsManifest: 'atomics/atomics.json',
  /** The target spec of every artifact target that is not built into rustc. */
  targetSpec: 'target-specs/<target>.json',
  /** The toolchain manifest the artifacts were built with. */
  toolchain: 'toolchain.json',
  /** The emulator test results of the CPU. */
  testResults: 'tests/results.json',
  testJunit: 'tests/junit.xml',
  /** The member list (not listed in itself). */
  manifest: 'MANIFEST.json',
} as const;

/** Inputs of createBundle. Paths are workspace-relative unless absolute. */
export interface BundleOptions {
  /** Absolute workspace root: a git work tree with a package.json. */
  workspaceRoot: string;
  /** CPU variant, e.g. `m68040`. */
  cpu: string;
  /** The build's manifest.json (rust-target:build). */
  buildManifest: string;
  /** atomics.json of the CPU (llvm-m68k:atomics). */
  atomicsManifest: string;
  /** toolchain.json (llvm-m68k:toolchain). */
  toolchainManifest: string;
  /** Folder of the emulator test results of the CPU: results.json and junit.xml (emulator-tests:test). */
  testResultsDir: string;
  /** Folder of the target specs: `<target>.json` for every artifact target other than m68k-unknown-linux-gnu. */
  targetSpecsDir: string;
  /** Output folder, e.g. dist/release/m68040; replaced as a whole at the end of a successful run. */
  outputDir: string;
  /** The Nx target, `project:target` (provenance externalParameters.target). */
  target: string;
  /** The Nx configuration (provenance externalParameters.configuration); default `cpu`. */
  configuration?: string;
  /** Environment read for the GitHub Actions run (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** One member of the tarball, as MANIFEST.json lists it. */
export interface BundleMember {
  /** Path inside the tarball, below its top folder (BUNDLE_LAYOUT). */
  path: string;
  /** Bytes. */
  size: number;
  /** Lowercase hex. */
  sha256: string;
}

/** MANIFEST.json. */
export interface BundleManifest {
  schemaVersion: 1;
  name: 'nextrust';
  version: string;
  cpu: string;
  /** Full commit id. */
  commit: string;
  /** Every member but MANIFEST.json itself, sorted by path. */
  members: BundleMember[];
}

/** What createBundle made. */
export interface BundleResult {
  version: string;
  /** Workspace-relative tarball path. */
  tarball: string;
  /** sha256 of the tarball (lowercase hex) and its size in bytes. */
  sha256: string;
  size: number;
  /** MANIFEST.json as packed. */
  manifest: BundleManifest;
}

/** The git facts a bundle records. */
export interface GitInfo {
  /** `git rev-parse HEAD`. */
  commit: string;
  /** Committer time of HEAD, seconds since the epoch (`git log -1 --format=%ct`). */
  commitTime: number;
  /** Tracked files differ from HEAD (`git status --porcelain --untracked-files=no`). */
  dirty: boolean;
  /** `git remote get-url origin`, or null without that remote. */
  origin: string | null;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 (64 lowercase hex digits)');
const digestEntry = z.object({ sha256: hex64 }).passthrough();

/** The parts of toolchain.json (toolchain/locate.ts ToolchainManifest) the bundle reads. */
const toolchainSchema = z
  .object({
    schemaVersion: z.literal(1),
    provider: z.string(),
    llvm: z.object({ version: z.string(), tools: z.record(z.string(), digestEntry) }).passthrough(),
    rust: z
      .object({ version: z.string(), semver: z.string(), llvmVersion: z.string(), rustc: digestEntry })
      .passthrough(),
    cross: z.object({ gccVersion: z.string(), libraries: z.record(z.string(), digestEntry) }).passthrough(),
    backend: z
      .object({
        sha256: hex64,
        library: z.string(),
        source: z.object({ package: z.string(), version: z.string() }).passthrough(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** The parts of manifest.json (build/programs.ts BuildManifest) the bundle reads. */
const buildSchema = z
  .object({
    schemaVersion: z.literal(1),
    cpu: z.string(),
    artifacts: z.array(
      z
        .object({
          name: z.string(),
          path: z.string().min(1),
          kind: z.enum(['executable', 'staticlib', 'object']),
          target: z.string().min(1),
          sha256: hex64,
          size: z.number().int().nonnegative(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

const archiveEntry = z.object({ archive: z.string().min(1), sha256: hex64, size: z.number().int().nonnegative() });

/** The parts of atomics.json (build/atomics.ts AtomicsManifest) the bundle reads. */
const atomicsSchema = archiveEntry
  .extend({ cpu: z.string(), nextstep: archiveEntry.passthrough().nullable() })
  .passthrough();

/** The parts of results.json (emulator/results.ts EmulatorTestReport) the bundle reads. */
const resultsSchema = z
  .object({
    cpu: z.string(),
    passed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    cases: z.array(z.object({ name: z.string(), passed: z.boolean() }).passthrough()),
  })
  .passthrough();

const packageSchema = z
  .object({ version: z.string().regex(/^\d+\.\d+\.\d+/, 'expected a SemVer version') })
  .passthrough();

/**
 * Reads and checks one JSON file: one another target wrote (toolchain/manifest.ts readJson, which names the target to
 * run), or, with `producedBy` null, a file of the repository (package.json).
 * @param shown workspace-relative path.
 * @throws BundleError when it is missing, not JSON or not of the schema's shape (naming the field).
 */
function readChecked<S extends z.ZodType>(
  root: string,
  shown: string,
  producedBy: string | null,
  schema: S,
): z.output<S> {
  const file = path.resolve(root, shown);
  try {
    if (producedBy) return readJson(file, producedBy, (f, text) => parseValidatedJson(f, text, schema));
    if (!fs.existsSync(file)) throw new Error(`${shown} not found in ${root}: the bundle takes its version from it`);
    return parseValidatedJson(shown, fs.readFileSync(file, 'utf8'), schema);
  } catch (e) {
    throw new BundleError((e as Error).message);
  }
}

/** Throws a BundleError naming the file and field unless a manifest's `cpu` is the bundle's. */
function checkCpu(shown: string, got: string, want: string): void {
  if (got !== want) throw new BundleError(`${shown}: field 'cpu': expected "${want}", got "${got}"`);
}

/** Output of a git command in the workspace, trimmed. @throws BundleError naming the workspace and the command. */
async function git(root: string, args: string[]): Promise<string> {
  const r = await runProcess('git', args, { cwd: root, timeoutMs: 60_000 });
  if (r.exitCode !== 0)
    throw new BundleError(
      `${root}: git ${args.join(' ')} failed (${(r.startError ?? r.stderr.trim()) || `exit ${r.exitCode}`}): the bundle is versioned by the git commit it is built from`,
    );
  return r.stdout.trim();
}

/**
 * The commit a bundle is built from, its time, whether tracked files differ from it, and the origin remote.
 * @throws BundleError when the workspace is not a git work tree with a commit.
 */
export async function gitInfo(workspaceRoot: string): Promise<GitInfo> {
  const commit = await git(workspaceRoot, ['rev-parse', 'HEAD']);
  const commitTime = Number(await git(workspaceRoot, ['log', '-1', '--format=%ct']));
  const dirty = (await git(workspaceRoot, ['status', '--porcelain', '--untracked-files=no'])) !== '';
  const remote = await runProcess('git', ['remote', 'get-url', 'origin'], { cwd: workspaceRoot, timeoutMs: 60_000 });
  return { commit, commitTime, dirty, origin: remote.exitCode === 0 ? remote.stdout.trim() || null : null };
}

/**
 * The bundle version: `<package.json version>+g<12 hex digits of the commit>[.dirty]`.
 * @param packageVersion the root package.json `version`.
 */
export function bundleVersion(packageVersion: string, info: Pick<GitInfo, 'commit' | 'dirty'>): string {
  return `${packageVersion}+g${info.commit.slice(0, 12)}${info.dirty ? '.dirty' : ''}`;
}

/** The tarball's file name (also its top folder, without `.tar.gz`). */
export function bundleName(version: string, cpu: string): string {
  return `nextrust-${version}-${cpu}`;
}

/** A file to pack: its path in the tarball (below the top folder), where it is, and the sha256 a manifest records. */
interface Source {
  member: string;
  file: string;
  /** Workspace-relative path shown in errors. */
  shown: string;
  executable: boolean;
  /** sha256 recorded by a manifest, and where (`file: field 'x'`), if any. */
  recorded?: { sha256: string; where: string };
}

/**
 * Everything the bundle packs, read and checked before anything is written.
 * @throws BundleError (module doc).
 */
function collectSources(o: BundleOptions): { sources: Source[]; toolchain: z.output<typeof toolchainSchema> } {
  const root = o.workspaceRoot;
  const cpu = o.cpu;
  const resultsFile = path.posix.join(o.testResultsDir, 'results.json');
  const junitFile = path.posix.join(o.testResultsDir, 'junit.xml');
  const results = readChecked(root, resultsFile, `emulator-tests:test:${cpu}`, resultsSchema);
  checkCpu(resultsFile, results.cpu, cpu);
  const failed = results.cases.filter((c) => !c.passed).map((c) => c.name);
  if (failed.length || results.failed > 0)
    throw new BundleError(
      `${resultsFile}: ${Math.max(failed.length, results.failed)} of ${results.cases.length} cases failed (${failed.join(', ') || `field 'failed' is ${results.failed}`}); only tested artifacts are published: fix them and run emulator-tests:test:${cpu} again`,
    );
  if (results.cases.length === 0)
    throw new BundleError(`${resultsFile}: field 'cases': no case ran; only tested artifacts are published`);
  const toolchain = readChecked(root, o.toolchainManifest, 'llvm-m68k:toolchain', toolchainSchema);
  const build = readChecked(root, o.buildManifest, `rust-target:build:${cpu}`, buildSchema);
  checkCpu(o.buildManifest, build.cpu, cpu);
  const atomics = readChecked(root, o.atomicsManifest, `llvm-m68k:atomics:${cpu}`, atomicsSchema);
  checkCpu(o.atomicsManifest, atomics.cpu, cpu);

  const sources: Source[] = [];
  const add = (member: string, shown: string, executable = false, recorded?: Source['recorded']) =>
    sources.push({ member, shown, file: path.resolve(root, shown), executable, recorded });
  const specs = new Set<string>();
  build.artifacts.forEach((a, i) => {
    const name = path.posix.basename(a.path);
    const layout = a.kind === 'executable' ? BUNDLE_LAYOUT.executable : BUNDLE_LAYOUT.library;
    add(layout.replace('<name>', name), a.path, a.kind === 'executable', {
      sha256: a.sha256,
      where: `${o.buildManifest}: field 'artifacts[${i}].sha256'`,
    });
    if (a.target !== HOSTED_TRIPLE) specs.add(a.target);
  });
  add(BUNDLE_LAYOUT.buildManifest, o.buildManifest);
  add(BUNDLE_LAYOUT.atomics.replace('<name>', path.posix.basename(atomics.archive)), atomics.archive, false, {
    sha256: atomics.sha256,
    where: `${o.atomicsManifest}: field 'sha256'`,
  });
  if (atomics.nextstep)
    add(
      BUNDLE_LAYOUT.atomicsNextstep.replace('<name>', path.posix.basename(atomics.nextstep.archive)),
      atomics.nextstep.archive,
      false,
      { sha256: atomics.nextstep.sha256, where: `${o.atomicsManifest}: field 'nextstep.sha256'` },
    );
  add(BUNDLE_LAYOUT.atomicsManifest, o.atomicsManifest);
  for (const t of [...specs].sort())
    add(BUNDLE_LAYOUT.targetSpec.replace('<target>', t), `${o.targetSpecsDir}/${t}.json`);
  add(BUNDLE_LAYOUT.toolchain, o.toolchainManifest);
  add(BUNDLE_LAYOUT.testResults, resultsFile);
  add(BUNDLE_LAYOUT.testJunit, junitFile);

  const seen = new Map<string, string>();
  for (const s of sources) {
    const other = seen.get(s.member);
    if (other)
      throw new BundleError(
        `${o.buildManifest}: ${other} and ${s.shown} would both be ${s.member} in the bundle; give them distinct file names`,
      );
    seen.set(s.member, s.shown);
    if (!fs.statSync(s.file, { throwIfNoEntry: false })?.isFile())
      throw new BundleError(
        s.member.startsWith('target-specs/')
          ? `${s.shown} not found: ${o.buildManifest} has artifacts for target '${path.basename(s.shown, '.json')}', whose target spec the bundle packs`
          : `${s.shown} not found: ${s.recorded ? s.recorded.where.split(':')[0] : 'the bundle'} names it; run the target that writes it again`,
      );
    if (s.recorded) {
      const actual = sha256File(s.file);
      if (actual !== s.recorded.sha256)
        throw new BundleError(
          `${s.shown}: sha256 ${actual}, but ${s.recorded.where} records ${s.recorded.sha256}: the file changed after it was built; run its target again`,
        );
    }
  }
  return { sources, toolchain };
}

/** Nx's version as installed for the workspace (or beside the plugin). */
function nxVersion(workspaceRoot: string): string {
  try {
    const file = require.resolve('nx/package.json', { paths: [workspaceRoot, __dirname] });
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The GitHub Actions run, from the variables every workflow step has, or null outside Actions. */
function githubRun(env: NodeJS.ProcessEnv): { url: string; attempt: string } | null {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  if (!server || !repo || !run) return null;
  return { url: `${server}/${repo}/actions/runs/${run}`, attempt: env.GITHUB_RUN_ATTEMPT ?? '1' };
}

/** An SLSA ResourceDescriptor (https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md). */
export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

/** provenance.json: an in-toto Statement v1 with a SLSA Provenance v1 predicate. */
export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof PROVENANCE_TYPE;
  predicate: {
    buildDefinition: {
      buildType: typeof BUILD_TYPE;
      externalParameters: { target: string; configuration: string };
      internalParameters: { nx: string; node: string; cpu: string; version: string };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string };
      /** RFC 3339 times. */
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

/** The provenance of one bundle (module doc); the resolved dependencies come from git and toolchain.json. */
function provenance(
  o: BundleOptions,
  tarballName: string,
  sha256: string,
  version: string,
  info: GitInfo,
  toolchain: z.output<typeof toolchainSchema>,
  startedOn: Date,
): ProvenanceStatement {
  const deps: ResourceDescriptor[] = [
    {
      uri: `git+${info.origin ?? path.basename(o.workspaceRoot)}`,
      digest: { gitCommit: info.commit },
      annotations: { dirty: info.dirty },
    },
  ];
  if (toolchain.backend)
    deps.push({
      name: path.basename(toolchain.backend.library),
      digest: { sha256: toolchain.backend.sha256 },
      annotations: {
        role: 'patched LLVM M68k backend',
        source: `${toolchain.backend.source.package} ${toolchain.backend.source.version}`,
      },
    });
  deps.push({
    name: 'rustc',
    digest: { sha256: toolchain.rust.rustc.sha256 },
    annotations: { version: toolchain.rust.version, llvmVersion: toolchain.rust.llvmVersion },
  });
  for (const [tool, e] of Object.entries(toolchain.llvm.tools).sort(([a], [b]) => a.localeCompare(b)))
    deps.push({ name: `llvm/${tool}`, digest: { sha256: e.sha256 }, annotations: { version: toolchain.llvm.version } });
  for (const [lib, e] of Object.entries(toolchain.cross.libraries).sort(([a], [b]) => a.localeCompare(b)))
    deps.push({
      name: `m68k-linux-gnu/${lib}`,
      digest: { sha256: e.sha256 },
      annotations: { role: lib === 'libgcc.a' ? `libgcc (gcc ${toolchain.cross.gccVersion})` : 'glibc' },
    });
  const env = o.env ?? process.env;
  const run = githubRun(env);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: tarballName, digest: { sha256 } }],
    predicateType: PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { target: o.target, configuration: o.configuration ?? o.cpu },
        internalParameters: { nx: nxVersion(o.workspaceRoot), node: process.version, cpu: o.cpu, version },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: run ? run.url : LOCAL_BUILDER_ID },
        metadata: {
          invocationId: run ? `${run.url}/attempts/${run.attempt}` : `urn:uuid:${crypto.randomUUID()}`,
          startedOn: startedOn.toISOString(),
          finishedOn: new Date().toISOString(),
        },
      },
    },
  };
}

/** Runs a command whose failure is the bundle's (tar, gzip). @throws BundleError with the command's output. */
async function mustRun(file: string, args: string[], cwd: string): Promise<void> {
  const r = await runProcess(file, args, { cwd, env: { LC_ALL: 'C', TAR_OPTIONS: '' }, timeoutMs: 10 * 60_000 });
  if (r.exitCode !== 0)
    throw new BundleError(
      `${file} ${args.join(' ')} failed (${r.startError ?? `exit ${r.exitCode}`}): ${r.all.trim() || 'no output'}`,
    );
}

/**
 * Makes the release bundle of one CPU (module doc) in `outputDir`, replacing the previous one only when complete.
 * @returns the version, the tarball's path, sha256 and size, and MANIFEST.json.
 * @throws BundleError naming the file and what was wrong (missing or failed test results, a missing or malformed
 *   manifest or package.json, a missing or changed file, not a git work tree, tar or gzip failing); the previous
 *   bundle is then untouched.
 */
export async function createBundle(o: BundleOptions): Promise<BundleResult> {
  const startedOn = new Date();
  const root = o.workspaceRoot;
  const pkg = readChecked(root, 'package.json', null, packageSchema);
  const info = await gitInfo(root);
  const version = bundleVersion(pkg.version, info);
  const { sources, toolchain } = collectSources(o);
  const top = bundleName(version, o.cpu);
  const tarballName = `${top}.tar.gz`;

  const outDir = path.resolve(root, o.outputDir);
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(outDir), `.${path.basename(outDir)}.tmp-`));
  try {
    const stage = path.join(work, 'stage');
    const members: BundleMember[] = [];
    for (const s of sources) {
      const dest = path.join(stage, top, s.member);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(s.file, dest);
      fs.chmodSync(dest, s.executable ? 0o755 : 0o644);
      members.push({ path: s.member, size: fs.statSync(dest).size, sha256: sha256File(dest) });
    }
    members.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const manifest: BundleManifest = {
      schemaVersion: 1,
      name: 'nextrust',
      version,
      cpu: o.cpu,
      commit: info.commit,
      members,
    };
    const manifestFile = path.join(stage, top, BUNDLE_LAYOUT.manifest);
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o644 });
    fs.chmodSync(manifestFile, 0o644);
    for (const dir of [stage, ...walkDirs(path.join(stage, top))]) fs.chmodSync(dir, 0o755);

    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const tar = path.join(out, `${top}.tar`);
    await mustRun(
      'tar',
      [
        '--sort=name',
        `--mtime=@${info.commitTime}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--format=gnu',
        '-C',
        stage,
        '-cf',
        tar,
        top,
      ],
      work,
    );
    await mustRun('gzip', ['-n', '-9', tar], work);
    const tarball = path.join(out, tarballName);
    const sha256 = sha256File(tarball);
    fs.writeFileSync(path.join(out, 'SHA256SUMS'), `${sha256}  ${tarballName}\n`);
    const statement = provenance(o, tarballName, sha256, version, info, toolchain, startedOn);
    fs.writeFileSync(path.join(out, 'provenance.json'), JSON.stringify(statement, null, 2) + '\n');

    // Into place: the previous bundle moves aside and is removed only once the new one is there.
    const old = path.join(work, 'previous');
    const hadPrevious = fs.existsSync(outDir);
    if (hadPrevious) fs.renameSync(outDir, old);
    try {
      fs.renameSync(out, outDir);
    } catch (e) {
      if (hadPrevious) fs.renameSync(old, outDir);
      throw new BundleError(`${o.outputDir}: cannot move the new bundle into place: ${(e as Error).message}`);
    }
    return {
      version,
      tarball: path.posix.join(o.outputDir, tarballName),
      sha256,
      size: fs.statSync(path.join(outDir, tarballName)).size,
      manifest,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `dir` and every folder below it, for fixing their modes. */
function walkDirs(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) out.push(...walkDirs(path.join(dir, e.name)));
  return out;
}
