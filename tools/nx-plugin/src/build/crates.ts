/**
 * Crates from Debian: programs depend on crates by version (`itoa = "1"`), and
 * cargo resolves them offline from the crate sources that Debian's
 * `librust-<crate>-dev` packages install under /usr/share/cargo/registry, a
 * cargo directory source replacing crates.io
 * (https://doc.rust-lang.org/cargo/reference/source-replacement.html;
 * Debian's Rust packaging: https://wiki.debian.org/Teams/RustPackaging).
 * A crate that is not there becomes one line naming it and the Debian package.
 */
import * as fs from 'node:fs';
import { runProcess } from '../util/exec';

/** Where Debian's librust-*-dev packages install crate sources (one folder `<name>-<version>` per crate). */
export const DEBIAN_CARGO_REGISTRY = '/usr/share/cargo/registry';

/**
 * Name of the directory source the `--config` arguments define: the name Debian's own cargo configuration
 * uses, and projects/rust-target/.cargo/config.toml too (cargo refuses two sources of one directory).
 */
const SOURCE_NAME = 'debian-packages';

/** The `--config` arguments that make cargo resolve crates.io dependencies from Debian's registry (offline). */
export function debianCrateConfigArgs(registry = DEBIAN_CARGO_REGISTRY): string[] {
  return [
    '--config',
    `source.crates-io.replace-with='${SOURCE_NAME}'`,
    '--config',
    `source.${SOURCE_NAME}.directory=${JSON.stringify(registry)}`,
  ];
}

/**
 * Debian's binary package of a crate's sources, by the Debian Rust team's naming rule
 * (`librust-<crate name, _ as ->-dev`; https://wiki.debian.org/Teams/RustPackaging/Policy).
 */
export function debianPackageOf(crate: string): string {
  return `librust-${crate.toLowerCase().replace(/_/g, '-')}-dev`;
}

/** One crate of the registry. */
export interface RegistryCrate {
  name: string;
  version: string;
}

/** The crates in a Debian registry folder, sorted by name then version ([] when the folder is missing). */
export function registryCrates(registry = DEBIAN_CARGO_REGISTRY): RegistryCrate[] {
  let names: string[];
  try {
    names = fs.readdirSync(registry);
  } catch {
    return [];
  }
  return names
    .map((d) => /^(.+)-(\d+\.\d+\.\d+.*)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1], version: m[2] }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }));
}

/** Whether apt knows a package (its lists have it), by `apt-cache show`; false when apt-cache is missing. */
export async function aptHasPackage(pkg: string): Promise<boolean> {
  const r = await runProcess('apt-cache', ['show', '--no-all-versions', pkg], { timeoutMs: 30_000 }).catch(() => null);
  return r !== null && r.exitCode === 0 && /^Package: /m.test(r.stdout);
}

/**
 * Reads cargo's output for a dependency that cannot be resolved offline and says it in one line:
 * the crate, who requires it, and the Debian package to install (or that Debian has none).
 * @param output cargo's combined output; @param registry the directory source in use.
 * @param hasPackage whether apt knows a package (injected for tests; default aptHasPackage).
 * @returns the line, or null when the failure is something else.
 */
export async function explainUnavailableCrate(
  output: string,
  registry = DEBIAN_CARGO_REGISTRY,
  hasPackage: (pkg: string) => Promise<boolean> = aptHasPackage,
): Promise<string | null> {
  const requiredBy = /required by package `([^`]+?) v[^`(]*\(([^)]+)\)`/.exec(output);
  const by = requiredBy ? ` (required by ${requiredBy[1]})` : '';
  // Cargo says it one of two ways, the second when it has names to suggest.
  const missing =
    /no matching package named `([^`]+)` found/.exec(output) ??
    /no matching package found\s*\nsearched package name: `([^`]+)`/.exec(output);
  if (missing) {
    const crate = missing[1];
    const pkg = debianPackageOf(crate);
    return (await hasPackage(pkg))
      ? `crate '${crate}'${by} is not available offline: install Debian's ${pkg} (apt-get install ${pkg}; add it to scripts/setup.sh so every machine has it)`
      : `crate '${crate}'${by} is not available offline and Debian has no ${pkg}: copy its source into projects/rust-target/crates/ and depend on it by path`;
  }
  const version =
    /failed to select a version for the requirement `([^ `]+) = "([^"]+)"`\s*\ncandidate versions found which didn't match: ([^\n]+)/.exec(
      output,
    );
  if (version) {
    const [, crate, req, found] = version;
    return `crate '${crate}' ${req}${by} is not available offline: Debian's ${debianPackageOf(crate)} provides ${found.trim()}; ask for a version it has (e.g. ${crate} = "${found.split(',')[0].trim()}")`;
  }
  if (/failed to read root of directory source/.test(output)) {
    return `no Debian crates are installed (${registry} does not exist): install the librust-<crate>-dev package of each crate the programs depend on`;
  }
  return null;
}
