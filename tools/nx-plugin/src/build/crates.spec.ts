import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../util/exec';
import {
  aptHasPackage,
  DEBIAN_CARGO_REGISTRY,
  debianCrateConfigArgs,
  debianPackageOf,
  explainUnavailableCrate,
  registryCrates,
} from './crates';

/**
 * Runs the host's cargo on a one-package workspace with the given dependencies, resolving crates.io from a
 * directory source the way runCargo does for programs, and returns its output.
 */
async function cargoWith(
  deps: string,
  registry = DEBIAN_CARGO_REGISTRY,
): Promise<{ exitCode: number | null; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-crates-'));
  try {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(
      path.join(dir, 'Cargo.toml'),
      `[package]\nname = "user-program"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}\n`,
    );
    fs.writeFileSync(path.join(dir, 'src/main.rs'), 'fn main() {}\n');
    const r = await runProcess('cargo', ['--offline', ...debianCrateConfigArgs(registry), 'generate-lockfile'], {
      cwd: dir,
      env: { CARGO_TARGET_DIR: path.join(dir, 'target') },
      timeoutMs: 120_000,
    });
    return { exitCode: r.exitCode, output: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('crates from Debian (real cargo, real registry, real apt)', () => {
  it('resolves the crates the programs use from Debian packages', async () => {
    const have = registryCrates().map((c) => c.name);
    expect(have).toEqual(expect.arrayContaining(['itoa', 'memchr']));
    const r = await cargoWith('itoa = "1"\nmemchr = "2"');
    expect(r).toMatchObject({ exitCode: 0 });
  });

  it('names a crate that no Debian package provides, and who requires it', async () => {
    const r = await cargoWith('nextrust-no-such-crate = "1"');
    expect(r.exitCode).not.toBe(0);
    expect(await explainUnavailableCrate(r.output)).toBe(
      "crate 'nextrust-no-such-crate' (required by user-program) is not available offline and Debian has no librust-nextrust-no-such-crate-dev: copy its source into projects/rust-target/crates/ and depend on it by path",
    );
  });

  it('names the Debian package to install for a crate Debian has but this machine lacks', async () => {
    // A crate apt knows whose package is not installed here.
    const candidate = ['ryu', 'smallvec', 'bitflags', 'either', 'hex', 'base64'].find(
      (c) => !registryCrates().some((k) => k.name === c),
    );
    expect(candidate).toBeDefined();
    expect(await aptHasPackage(debianPackageOf(candidate!))).toBe(true);
    const r = await cargoWith(`${candidate} = "*"`);
    expect(r.exitCode).not.toBe(0);
    const pkg = debianPackageOf(candidate!);
    expect(await explainUnavailableCrate(r.output)).toBe(
      `crate '${candidate}' (required by user-program) is not available offline: install Debian's ${pkg} (apt-get install ${pkg}; add it to scripts/setup.sh so every machine has it)`,
    );
  });

  it('names the versions Debian has when the requirement asks for another', async () => {
    const itoa = registryCrates().filter((c) => c.name === 'itoa');
    const r = await cargoWith('itoa = "99"');
    expect(r.exitCode).not.toBe(0);
    expect(await explainUnavailableCrate(r.output)).toBe(
      `crate 'itoa' ^99 (required by user-program) is not available offline: Debian's librust-itoa-dev provides ${itoa.map((c) => c.version).join(', ')}; ask for a version it has (e.g. itoa = "${itoa[0].version}")`,
    );
  });

  it('says when no Debian crate is installed at all', async () => {
    const r = await cargoWith('itoa = "1"', '/nonexistent/registry');
    expect(r.exitCode).not.toBe(0);
    expect(await explainUnavailableCrate(r.output, '/nonexistent/registry')).toMatch(
      /^no Debian crates are installed \(\/nonexistent\/registry does not exist\)/,
    );
  });

  it("reads both of cargo's wordings of a missing crate", async () => {
    const suggesting =
      'error: no matching package found\nsearched package name: `nextrust-nope`\nperhaps you meant:      syn, log or rand\nlocation searched: directory source `/usr/share/cargo/registry` (which is replacing registry `crates-io`)\nrequired by package `user-program v0.1.0 (/tmp/x)`';
    expect(await explainUnavailableCrate(suggesting, DEBIAN_CARGO_REGISTRY, async () => false)).toMatch(
      /^crate 'nextrust-nope' \(required by user-program\) is not available offline and Debian has no librust-nextrust-nope-dev/,
    );
  });

  it('leaves other cargo failures alone', async () => {
    expect(await explainUnavailableCrate('error[E0308]: mismatched types\n --> src/main.rs:3:5')).toBeNull();
  });

  it("maps crate names to Debian's package names", () => {
    expect(debianPackageOf('rustc_version')).toBe('librust-rustc-version-dev');
    expect(debianPackageOf('itoa')).toBe('librust-itoa-dev');
  });
});
