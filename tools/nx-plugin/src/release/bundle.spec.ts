// release/bundle.ts against a fixture workspace laid out like the real dist/ (a git repository with a package.json,
// an m68k executable compiled here by m68k-linux-gnu-gcc, archives made by m68k-linux-gnu-ar, manifests in the shapes
// the upstream targets write), checked with real tar, gzip, sha256sum and git; and the bundle executor through its
// module.
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import bundleExecutor from '../executors/bundle/executor';
import {
  BUILD_TYPE,
  BundleError,
  createBundle,
  LOCAL_BUILDER_ID,
  PROVENANCE_TYPE,
  STATEMENT_TYPE,
  type BundleManifest,
  type BundleOptions,
  type ProvenanceStatement,
} from './bundle';

const CPU = 'm68040';
const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');
const sha256Of = (file: string) => sha256(fs.readFileSync(file));
const GIT_ID = ['-c', 'user.email=test@nextrust.invalid', '-c', 'user.name=test'];

/** Temp folders made by the tests, removed at the end. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fixture workspace: a committed git repository with package.json, projects/ and a dist/ like the pipeline's. */
class Fixture {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bundle-'));

  constructor() {
    made.push(this.root);
    this.write('package.json', JSON.stringify({ name: 'fixture', version: '1.2.3' }) + '\n');
    this.write('.gitignore', 'dist/\nprojects/ci-status/status/\n');
    this.write(
      'projects/rust-target/target-specs/m68k-next-nextstep.json',
      JSON.stringify({ arch: 'm68k', os: 'nextstep' }) + '\n',
    );
    this.git('init', '-q', '-b', 'main');
    this.git('add', '-A');
    this.git(...GIT_ID, 'commit', '-qm', 'fixture');
    this.writeDist();
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.root, stdio: 'pipe' }).toString().trim();
  }

  path(rel: string): string {
    return path.join(this.root, rel);
  }

  write(rel: string, data: string | Buffer): void {
    fs.mkdirSync(path.dirname(this.path(rel)), { recursive: true });
    fs.writeFileSync(this.path(rel), data);
  }

  json(rel: string): any {
    return JSON.parse(fs.readFileSync(this.path(rel), 'utf8'));
  }

  writeJson(rel: string, value: unknown): void {
    this.write(rel, JSON.stringify(value, null, 2) + '\n');
  }

  /** Rewrites a JSON file through `edit`. */
  edit(rel: string, edit: (v: any) => void): void {
    const v = this.json(rel);
    edit(v);
    this.writeJson(rel, v);
  }

  private writeDist(): void {
    const src = this.path('work/hello.c');
    this.write('work/hello.c', '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    this.write('work/lib.c', 'int nextstep_hello(int x) { return x + 1; }\n');
    const exe = 'dist/rust-target/m68040/bin/hello';
    fs.mkdirSync(path.dirname(this.path(exe)), { recursive: true });
    execFileSync('m68k-linux-gnu-gcc', ['-O1', '-o', this.path(exe), src]);
    const obj = this.path('work/lib.o');
    execFileSync('m68k-linux-gnu-gcc', ['-O1', '-c', '-o', obj, this.path('work/lib.c')]);
    const lib = 'dist/rust-target/m68040/lib/libnextstep_hello.a';
    const atomicsElf = 'dist/llvm-m68k/m68040/libnextrust_atomics.a';
    const atomicsMacho = 'dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a';
    for (const a of [lib, atomicsElf, atomicsMacho]) {
      fs.mkdirSync(path.dirname(this.path(a)), { recursive: true });
      execFileSync('m68k-linux-gnu-ar', ['rcD', this.path(a), obj]);
    }
    // The Mach-O copy differs from the ELF one in the real pipeline; here a second member makes it differ too.
    execFileSync('m68k-linux-gnu-ar', ['rcD', this.path(atomicsMacho), src]);
    fs.rmSync(this.path('work'), { recursive: true });
    const artifact = (name: string, p: string, kind: string, target: string, flavor: string) => ({
      name,
      path: p,
      kind,
      target,
      cpu: CPU,
      sha256: sha256Of(this.path(p)),
      flavor,
      size: fs.statSync(this.path(p)).size,
    });
    this.writeJson('dist/rust-target/m68040/manifest.json', {
      schemaVersion: 1,
      project: 'rust-target',
      cpu: CPU,
      toolchainManifest: 'dist/llvm-m68k/toolchain/toolchain.json',
      m68kSysroot: '/usr/m68k-linux-gnu',
      backend: 'b'.repeat(64),
      programs: ['hello', 'nextstep-hello'],
      artifacts: [
        artifact('hello', exe, 'executable', 'm68k-unknown-linux-gnu', 'hosted'),
        artifact('nextstep-hello', lib, 'staticlib', 'm68k-next-nextstep', 'nextstep'),
      ],
    });
    const archive = (p: string) => ({
      archive: p,
      sha256: sha256Of(this.path(p)),
      size: fs.statSync(this.path(p)).size,
    });
    this.writeJson('dist/llvm-m68k/m68040/atomics.json', {
      cpu: CPU,
      ...archive(atomicsElf),
      symbols: ['__sync_synchronize'],
      clang: '22.1.8',
      backend: 'b'.repeat(64),
      cflags: ['-O2'],
      nextstep: { ...archive(atomicsMacho), symbols: ['__sync_synchronize'], triple: 'm68k-next-nextstep-macho' },
    });
    const tool = (p: string, digit: string) => ({ path: p, sha256: digit.repeat(64) });
    this.writeJson('dist/llvm-m68k/toolchain/toolchain.json', {
      schemaVersion: 1,
      provider: 'source',
      llvm: { version: '22.1.8', binDir: '/usr/lib/llvm-22/bin', tools: { clang: tool('bin/clang', '1') } },
      rust: {
        version: 'rustc 1.96.0',
        semver: '1.96.0',
        nightly: false,
        llvmVersion: '22.1.8',
        rustc: tool('bin/rustc', '2'),
        cargo: tool('/usr/bin/cargo', '3'),
      },
      cross: {
        prefix: 'm68k-linux-gnu-',
        gccVersion: '12.2.0',
        libraries: { 'libc.a': tool('/usr/m68k-linux-gnu/lib/libc.a', '4'), 'libgcc.a': tool('/x/libgcc.a', '5') },
      },
      qemu: { version: '7.2.22', qemuM68k: tool('/usr/bin/qemu-m68k', '6') },
      backend: {
        schemaVersion: 1,
        library: 'dist/llvm-m68k/backend/libnextrust-m68k-backend.so',
        sha256: '7'.repeat(64),
        size: 1,
        source: { package: 'llvm-toolchain-22', version: '1:22.1.8-1~deb12u1' },
      },
    });
    const cases = ['hello', 'nextstep-hello'].map((name) => ({ name, program: name, cpu: CPU, passed: true }));
    this.writeJson('dist/emulator-tests/m68040/results.json', {
      cpu: CPU,
      emulator: 'qemu',
      passed: 2,
      failed: 0,
      notApplicable: [],
      cases,
    });
    this.write('dist/emulator-tests/m68040/junit.xml', '<testsuites tests="2" failures="0"/>\n');
  }

  options(extra: Partial<BundleOptions> = {}): BundleOptions {
    return {
      workspaceRoot: this.root,
      cpu: CPU,
      buildManifest: 'dist/rust-target/m68040/manifest.json',
      atomicsManifest: 'dist/llvm-m68k/m68040/atomics.json',
      toolchainManifest: 'dist/llvm-m68k/toolchain/toolchain.json',
      testResultsDir: 'dist/emulator-tests/m68040',
      targetSpecsDir: 'projects/rust-target/target-specs',
      outputDir: 'dist/release/m68040',
      target: 'ci-status:bundle',
      env: {},
      ...extra,
    };
  }

  /** Every file of the output folder with its bytes. */
  snapshot(): Record<string, string> {
    const dir = this.path('dist/release/m68040');
    const out: Record<string, string> = {};
    for (const f of fs.readdirSync(dir)) out[f] = sha256Of(path.join(dir, f));
    return out;
  }
}

/** Files (not folders) listed by `tar tzf`. */
function tarFiles(tarball: string): string[] {
  return execFileSync('tar', ['tzf', tarball])
    .toString()
    .split('\n')
    .filter((l) => l && !l.endsWith('/'));
}

/** The tarball extracted into a new folder; returns its top folder. */
function extract(tarball: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-bundle-x-'));
  made.push(dir);
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  const [top] = fs.readdirSync(dir);
  return path.join(dir, top);
}

describe('createBundle', () => {
  let fx: Fixture;
  let out: string;
  let tarball: string;
  let manifest: BundleManifest;
  let commit: string;

  beforeAll(async () => {
    fx = new Fixture();
    commit = fx.git('rev-parse', 'HEAD');
    const r = await createBundle(fx.options());
    out = fx.path('dist/release/m68040');
    tarball = fx.path(r.tarball);
    manifest = r.manifest;
  });

  it('names the tarball nextrust-<package version>+g<12 hex>-<cpu>.tar.gz and writes three files', () => {
    const version = `1.2.3+g${commit.slice(0, 12)}`;
    expect(path.basename(tarball)).toBe(`nextrust-${version}-m68040.tar.gz`);
    expect(fs.readdirSync(out).sort()).toEqual([path.basename(tarball), 'SHA256SUMS', 'provenance.json'].sort());
    expect(manifest).toMatchObject({ schemaVersion: 1, name: 'nextrust', version, cpu: CPU, commit });
    // no temp folder is left beside the output
    expect(fs.readdirSync(fx.path('dist/release'))).toEqual(['m68040']);
  });

  it('packs the documented layout, and the archive listing is the members MANIFEST.json lists plus MANIFEST.json itself', () => {
    const top = path.basename(tarball, '.tar.gz');
    const listed = tarFiles(tarball);
    expect(listed.every((f) => f.startsWith(`${top}/`))).toBe(true);
    const inside = listed.map((f) => f.slice(top.length + 1)).sort();
    expect(inside).toEqual([...manifest.members.map((m) => m.path), 'MANIFEST.json'].sort());
    expect(manifest.members.map((m) => m.path)).toEqual([
      'atomics/atomics.json',
      'atomics/libnextrust_atomics.a',
      'atomics/nextstep/libnextrust_atomics.a',
      'bin/hello',
      'build/manifest.json',
      'lib/libnextstep_hello.a',
      'target-specs/m68k-next-nextstep.json',
      'tests/junit.xml',
      'tests/results.json',
      'toolchain.json',
    ]);
  });

  it('gives each member the bytes of its source, and the size and sha256 MANIFEST.json lists', () => {
    const dir = extract(tarball);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8'))).toEqual(manifest);
    const sources: Record<string, string> = {
      'atomics/atomics.json': 'dist/llvm-m68k/m68040/atomics.json',
      'atomics/libnextrust_atomics.a': 'dist/llvm-m68k/m68040/libnextrust_atomics.a',
      'atomics/nextstep/libnextrust_atomics.a': 'dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a',
      'bin/hello': 'dist/rust-target/m68040/bin/hello',
      'build/manifest.json': 'dist/rust-target/m68040/manifest.json',
      'lib/libnextstep_hello.a': 'dist/rust-target/m68040/lib/libnextstep_hello.a',
      'target-specs/m68k-next-nextstep.json': 'projects/rust-target/target-specs/m68k-next-nextstep.json',
      'tests/junit.xml': 'dist/emulator-tests/m68040/junit.xml',
      'tests/results.json': 'dist/emulator-tests/m68040/results.json',
      'toolchain.json': 'dist/llvm-m68k/toolchain/toolchain.json',
    };
    for (const m of manifest.members) {
      const packed = path.join(dir, m.path);
      expect({ path: m.path, sha256: sha256Of(packed) }).toEqual({
        path: m.path,
        sha256: sha256Of(fx.path(sources[m.path])),
      });
      expect(m.sha256).toBe(sha256Of(packed));
      expect(m.size).toBe(fs.statSync(packed).size);
    }
    // the two atomics archives are different files, each where the layout says
    expect(sha256Of(path.join(dir, 'atomics/libnextrust_atomics.a'))).not.toBe(
      sha256Of(path.join(dir, 'atomics/nextstep/libnextrust_atomics.a')),
    );
    expect(fs.statSync(path.join(dir, 'bin/hello')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(dir, 'toolchain.json')).mode & 0o777).toBe(0o644);
    // owner root, the commit's time on every entry
    const verbose = execFileSync('tar', ['tvzf', tarball, '--numeric-owner', '--full-time']).toString();
    const commitTime = Number(fx.git('log', '-1', '--format=%ct'));
    const stamp = new Date(commitTime * 1000).toISOString().replace('T', ' ').slice(0, 19);
    for (const line of verbose.trim().split('\n')) {
      expect(line).toContain(' 0/0 ');
      expect(line).toContain(stamp);
    }
  });

  it('writes a SHA256SUMS that sha256sum -c verifies, and that fails after one byte of the tarball flips', () => {
    expect(fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toBe(
      `${sha256Of(tarball)}  ${path.basename(tarball)}\n`,
    );
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-sums-'));
    made.push(copy);
    for (const f of fs.readdirSync(out)) fs.copyFileSync(path.join(out, f), path.join(copy, f));
    const ok = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: copy, encoding: 'utf8' });
    expect({ status: ok.status, out: ok.stdout }).toEqual({ status: 0, out: `${path.basename(tarball)}: OK\n` });
    const file = path.join(copy, path.basename(tarball));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x01;
    fs.writeFileSync(file, bytes);
    const bad = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: copy, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toBe(`${path.basename(tarball)}: FAILED\n`);
  });

  it('writes an in-toto Statement v1 with a SLSA v1 provenance whose subject is the tarball', () => {
    const p = JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8')) as ProvenanceStatement;
    expect(p._type).toBe(STATEMENT_TYPE);
    expect(STATEMENT_TYPE).toBe('https://in-toto.io/Statement/v1');
    expect(p.predicateType).toBe(PROVENANCE_TYPE);
    expect(PROVENANCE_TYPE).toBe('https://slsa.dev/provenance/v1');
    expect(p.subject).toEqual([{ name: path.basename(tarball), digest: { sha256: sha256Of(tarball) } }]);
    const def = p.predicate.buildDefinition;
    expect(def.buildType).toBe(BUILD_TYPE);
    expect(def.externalParameters).toEqual({ target: 'ci-status:bundle', configuration: CPU });
    expect(def.internalParameters).toEqual({
      nx: expect.stringMatching(/^\d+\.\d+\.\d+/),
      node: process.version,
      cpu: CPU,
      version: manifest.version,
    });
    const toolchain = fx.json('dist/llvm-m68k/toolchain/toolchain.json');
    expect(def.resolvedDependencies).toEqual([
      { uri: `git+${path.basename(fx.root)}`, digest: { gitCommit: commit }, annotations: { dirty: false } },
      {
        name: 'libnextrust-m68k-backend.so',
        digest: { sha256: toolchain.backend.sha256 },
        annotations: { role: 'patched LLVM M68k backend', source: 'llvm-toolchain-22 1:22.1.8-1~deb12u1' },
      },
      {
        name: 'rustc',
        digest: { sha256: toolchain.rust.rustc.sha256 },
        annotations: { version: 'rustc 1.96.0', llvmVersion: '22.1.8' },
      },
      { name: 'llvm/clang', digest: { sha256: toolchain.llvm.tools.clang.sha256 }, annotations: { version: '22.1.8' } },
      { name: 'm68k-linux-gnu/libc.a', digest: { sha256: '4'.repeat(64) }, annotations: { role: 'glibc' } },
      {
        name: 'm68k-linux-gnu/libgcc.a',
        digest: { sha256: '5'.repeat(64) },
        annotations: { role: 'libgcc (gcc 12.2.0)' },
      },
    ]);
    const run = p.predicate.runDetails;
    expect(run.builder.id).toBe(LOCAL_BUILDER_ID);
    expect(run.metadata.invocationId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
    expect(run.metadata.startedOn).toMatch(rfc3339);
    expect(run.metadata.finishedOn).toMatch(rfc3339);
    expect(Date.parse(run.metadata.finishedOn)).toBeGreaterThanOrEqual(Date.parse(run.metadata.startedOn));
  });
});

describe('createBundle runs', () => {
  it('are byte-identical for the same inputs and commit, whatever the files’ times; a changed input changes the digest', async () => {
    const fx = new Fixture();
    const first = await createBundle(fx.options());
    const bytes = fs.readFileSync(fx.path(first.tarball));
    const future = new Date(Date.now() + 3600_000);
    for (const f of ['dist/rust-target/m68040/bin/hello', 'dist/llvm-m68k/toolchain/toolchain.json'])
      fs.utimesSync(fx.path(f), future, future);
    const second = await createBundle(fx.options());
    expect(second.tarball).toBe(first.tarball);
    expect(fs.readFileSync(fx.path(second.tarball)).equals(bytes)).toBe(true);
    expect(second.sha256).toBe(first.sha256);

    // one more byte in the test results: a new tarball digest
    fx.write('dist/emulator-tests/m68040/junit.xml', '<testsuites tests="2" failures="0"/>\n\n');
    const third = await createBundle(fx.options());
    expect(third.tarball).toBe(first.tarball);
    expect(third.sha256).not.toBe(first.sha256);
    expect(third.manifest.members.find((m) => m.path === 'tests/junit.xml')?.sha256).toBe(
      sha256Of(fx.path('dist/emulator-tests/m68040/junit.xml')),
    );
  });

  it('mark the version .dirty when a tracked file differs from the commit (not for untracked files), and record the origin remote and the GitHub run', async () => {
    const fx = new Fixture();
    const commit = fx.git('rev-parse', 'HEAD');
    fx.write('notes.txt', 'untracked\n');
    expect((await createBundle(fx.options())).version).toBe(`1.2.3+g${commit.slice(0, 12)}`);
    fx.write('package.json', JSON.stringify({ name: 'fixture', version: '1.2.3', description: 'edited' }) + '\n');
    fx.git('remote', 'add', 'origin', 'https://github.com/example/nextrust.git');
    const env = {
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'example/nextrust',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
    };
    const dirty = await createBundle(fx.options({ env, configuration: 'm68040', target: 'ci-status:publish' }));
    expect(dirty.version).toBe(`1.2.3+g${commit.slice(0, 12)}.dirty`);
    expect(path.basename(dirty.tarball)).toBe(`nextrust-1.2.3+g${commit.slice(0, 12)}.dirty-m68040.tar.gz`);
    // the previous bundle's tarball (another name) is gone: the folder holds one bundle
    expect(fs.readdirSync(fx.path('dist/release/m68040')).filter((f) => f.endsWith('.tar.gz'))).toEqual([
      path.basename(dirty.tarball),
    ]);
    const p = fx.json('dist/release/m68040/provenance.json') as ProvenanceStatement;
    expect(p.predicate.buildDefinition.resolvedDependencies[0]).toEqual({
      uri: 'git+https://github.com/example/nextrust.git',
      digest: { gitCommit: commit },
      annotations: { dirty: true },
    });
    expect(p.predicate.buildDefinition.externalParameters.target).toBe('ci-status:publish');
    expect(p.predicate.runDetails.builder.id).toBe('https://github.com/example/nextrust/actions/runs/42');
    expect(p.predicate.runDetails.metadata.invocationId).toBe(
      'https://github.com/example/nextrust/actions/runs/42/attempts/2',
    );
  });
});

describe('createBundle refuses', () => {
  let fx: Fixture;
  let before: Record<string, string>;

  beforeAll(async () => {
    fx = new Fixture();
    await createBundle(fx.options());
    before = fx.snapshot();
  });

  const R = 'dist/emulator-tests/m68040/results.json';
  const B = 'dist/rust-target/m68040/manifest.json';
  const A = 'dist/llvm-m68k/m68040/atomics.json';
  const T = 'dist/llvm-m68k/toolchain/toolchain.json';
  const cases: [string, (fx: Fixture) => void, string][] = [
    ['missing emulator results', (f) => fs.rmSync(f.path(R)), `${R} not found: run emulator-tests:test:m68040 first`],
    [
      'emulator results with a failed case',
      (f) =>
        f.edit(R, (r) => {
          r.cases[1].passed = false;
          r.passed = 1;
          r.failed = 1;
        }),
      `${R}: 1 of 2 cases failed (nextstep-hello); only tested artifacts are published: fix them and run emulator-tests:test:m68040 again`,
    ],
    [
      'emulator results of another CPU',
      (f) => f.edit(R, (r) => (r.cpu = 'm68030')),
      `${R}: field 'cpu': expected "m68040", got "m68030"`,
    ],
    ['emulator results without cases', (f) => f.edit(R, (r) => delete r.cases), `${R}: field 'cases': `],
    [
      'a missing JUnit report',
      (f) => fs.rmSync(f.path('dist/emulator-tests/m68040/junit.xml')),
      'dist/emulator-tests/m68040/junit.xml not found: the bundle names it; run the target that writes it again',
    ],
    ['a missing build manifest', (f) => fs.rmSync(f.path(B)), `${B} not found: run rust-target:build:m68040 first`],
    ['a build manifest that is not JSON', (f) => f.write(B, '{"schemaVersion": 1,'), `${B}: not valid JSON: `],
    [
      'a build manifest with a malformed sha256',
      (f) => f.edit(B, (m) => (m.artifacts[0].sha256 = 'xyz')),
      `${B}: field 'artifacts[0].sha256': expected a sha256 (64 lowercase hex digits) (written by rust-target:build:m68040; run it again)`,
    ],
    [
      'a toolchain manifest of another schema version',
      (f) => f.edit(T, (m) => (m.schemaVersion = 2)),
      `${T}: field 'schemaVersion': `,
    ],
    [
      'atomics of another CPU',
      (f) => f.edit(A, (m) => (m.cpu = 'm68000')),
      `${A}: field 'cpu': expected "m68040", got "m68000"`,
    ],
    [
      'a built program that is gone',
      (f) => fs.rmSync(f.path('dist/rust-target/m68040/bin/hello')),
      `dist/rust-target/m68040/bin/hello not found: ${B} names it; run the target that writes it again`,
    ],
    [
      'a built program changed after the build',
      (f) => fs.appendFileSync(f.path('dist/rust-target/m68040/bin/hello'), 'x'),
      `but ${B}: field 'artifacts[0].sha256' records `,
    ],
    [
      'a Mach-O atomics archive that is gone',
      (f) => fs.rmSync(f.path('dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a')),
      `dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a not found: ${A} names it`,
    ],
    [
      'a missing target spec',
      (f) => fs.rmSync(f.path('projects/rust-target/target-specs/m68k-next-nextstep.json')),
      `projects/rust-target/target-specs/m68k-next-nextstep.json not found: ${B} has artifacts for target 'm68k-next-nextstep'`,
    ],
  ];

  it.each(cases)('%s, naming the file, and leaves the previous bundle as it was', async (_what, breakIt, message) => {
    const saved = new Map<string, Buffer>();
    for (const f of [
      R,
      B,
      A,
      T,
      'dist/emulator-tests/m68040/junit.xml',
      'dist/rust-target/m68040/bin/hello',
      'dist/llvm-m68k/m68040/nextstep/libnextrust_atomics.a',
      'projects/rust-target/target-specs/m68k-next-nextstep.json',
    ])
      saved.set(f, fs.readFileSync(fx.path(f)));
    breakIt(fx);
    try {
      const run = createBundle(fx.options());
      await expect(run).rejects.toBeInstanceOf(BundleError);
      const err = await run.then(
        () => '',
        (e: Error) => e.message,
      );
      expect(err).toContain(message);
      expect(err.split('\n')).toHaveLength(1);
      expect(fx.snapshot()).toEqual(before);
      expect(fs.readdirSync(fx.path('dist/release'))).toEqual(['m68040']);
    } finally {
      for (const [f, data] of saved) fx.write(f, data);
    }
  });

  it('a package.json without a SemVer version, naming the file and field', async () => {
    const fx2 = new Fixture();
    fx2.write('package.json', JSON.stringify({ name: 'fixture', version: 'next' }) + '\n');
    await expect(createBundle(fx2.options())).rejects.toThrow(
      new BundleError(`package.json: field 'version': expected a SemVer version`),
    );
    expect(fs.existsSync(fx2.path('dist/release'))).toBe(false);
  });

  it('a workspace that is not a git work tree, naming it', async () => {
    const fx2 = new Fixture();
    fs.rmSync(fx2.path('.git'), { recursive: true });
    await expect(createBundle(fx2.options())).rejects.toThrow(
      new RegExp(`^${fx2.root}: git rev-parse HEAD failed \\(.*\\): the bundle is versioned by the git commit`),
    );
    expect(fs.existsSync(fx2.path('dist/release'))).toBe(false);
  });
});

describe('the bundle executor', () => {
  function context(root: string): ExecutorContext {
    const configurations = { m68040: { cpu: 'm68040' } };
    const target = {
      executor: '@nextrust/nx-plugin:bundle',
      configurations,
      inputs: [{ dependentTasksOutputFiles: '**/toolchain.json', transitive: true }, { externalDependencies: ['zod'] }],
    };
    return {
      root,
      cwd: root,
      isVerbose: false,
      projectName: 'ci-status',
      targetName: 'bundle',
      configurationName: 'm68040',
      target,
      projectsConfigurations: {
        version: 2,
        projects: { 'ci-status': { root: 'projects/ci-status', name: 'ci-status', targets: { bundle: target } } },
      },
      nxJsonConfiguration: {},
      projectGraph: { nodes: {}, dependencies: {} },
    };
  }

  it('refuses to run when the inputs Nx hashes lack the toolchain manifest (results of two toolchains would share a cache entry)', async () => {
    const fx = new Fixture();
    const { workspaceRoot: _w, target: _t, env: _e, ...options } = fx.options();
    const ctx = context(fx.root);
    const bundle = ctx.projectsConfigurations.projects['ci-status'].targets!.bundle;
    bundle.inputs = [{ externalDependencies: ['zod'] }];
    const saved = process.env.NEXTRUST_STATUS_DIR;
    process.env.NEXTRUST_STATUS_DIR = fx.path('status');
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(bundleExecutor(options, ctx)).resolves.toEqual({ success: false });
      expect(error.mock.calls.flat().join('\n')).toContain(
        'ci-status:bundle: its inputs lack {"dependentTasksOutputFiles":"**/toolchain.json","transitive":true}',
      );
      expect(fs.existsSync(fx.path('dist/release'))).toBe(false);
    } finally {
      error.mockRestore();
      if (saved === undefined) delete process.env.NEXTRUST_STATUS_DIR;
      else process.env.NEXTRUST_STATUS_DIR = saved;
    }
  });

  it('makes the bundle through createBundle and reports success; fails (success false) when the tests failed', async () => {
    const fx = new Fixture();
    const { workspaceRoot: _w, target: _t, env: _e, ...options } = fx.options();
    const status = fx.path('status');
    const saved = process.env.NEXTRUST_STATUS_DIR;
    process.env.NEXTRUST_STATUS_DIR = status;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(bundleExecutor(options, context(fx.root))).resolves.toEqual({ success: true });
      const tarball = fs.readdirSync(fx.path('dist/release/m68040')).find((f) => f.endsWith('.tar.gz'))!;
      expect(log.mock.calls.flat().join('\n')).toContain(
        `dist/release/m68040/${tarball}: 10 files, ${fs.statSync(fx.path(`dist/release/m68040/${tarball}`)).size} bytes, sha256 ${sha256Of(fx.path(`dist/release/m68040/${tarball}`))}`,
      );
      const p = fx.json('dist/release/m68040/provenance.json') as ProvenanceStatement;
      expect(p.predicate.buildDefinition.externalParameters).toEqual({
        target: 'ci-status:bundle',
        configuration: 'm68040',
      });

      fx.edit('dist/emulator-tests/m68040/results.json', (r) => (r.cases[0].passed = false));
      await expect(bundleExecutor(options, context(fx.root))).resolves.toEqual({ success: false });
      expect(error.mock.calls.flat().join('\n')).toContain(
        'nextrust: ci-status:bundle:m68040 failed: dist/emulator-tests/m68040/results.json: 1 of 2 cases failed (hello)',
      );
    } finally {
      log.mockRestore();
      error.mockRestore();
      if (saved === undefined) delete process.env.NEXTRUST_STATUS_DIR;
      else process.env.NEXTRUST_STATUS_DIR = saved;
    }
  });
});
