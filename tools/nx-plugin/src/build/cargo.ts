/**
 * Running cargo for the m68k targets: the environment (Debian's stable rustc
 * needs RUSTC_BOOTSTRAP=1 for -Z flags), offline crates through a source
 * replacement of crates-io (rust-src's vendored crates for build-std, Debian's
 * librust-*-dev crates for programs: build/crates.ts), and rustflags passed
 * as CARGO_ENCODED_RUSTFLAGS so that nothing from the caller's environment
 * (RUSTFLAGS, CARGO_BUILD_*) leaks into a cached build.
 */
import type { ToolchainManifest } from '../toolchain/locate';
import { debianCrateConfigArgs, explainUnavailableCrate } from './crates';
import { runTool, ToolError, type RunResult } from '../util/exec';

/** Environment variables removed before running cargo: they would change the build without being inputs. */
const LEAKY_ENV =
  /^(RUSTFLAGS|RUSTDOCFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_BUILD_.*|CARGO_TARGET_.*|CARGO_PROFILE_.*|RUSTC|RUSTC_WRAPPER|RUSTC_WORKSPACE_WRAPPER|CARGO_INCREMENTAL)$/;

/** Options of runCargo. */
export interface CargoOptions {
  toolchain: ToolchainManifest;
  /** Working directory (a cargo package or workspace). */
  cwd: string;
  /** cargo arguments, e.g. ['build', '--release', ...]. */
  args: string[];
  /** rustc flags for every crate compiled for the target. */
  rustflags: string[];
  /** CARGO_TARGET_DIR. */
  targetDir: string;
  /** Stream output as it comes (long builds); `stderr` with --message-format=json. */
  stream?: boolean | 'stderr';
  /** Workspace-relative target spec files in use, named in the error when cargo fails. */
  specFiles?: string[];
  /**
   * Where crates.io dependencies come from: `rust-src` (std's vendored dependencies, for build-std; the
   * default) or `debian` (the crates of Debian's librust-*-dev packages, for programs).
   */
  crates?: 'rust-src' | 'debian';
}

/** The `--config` arguments that make build-std use rust-src's vendored crates (offline). */
export function vendorConfigArgs(toolchain: ToolchainManifest): string[] {
  if (!toolchain.rust.vendorDir) return [];
  return [
    '--config',
    "source.crates-io.replace-with='nextrust-vendored-std'",
    '--config',
    `source.nextrust-vendored-std.directory=${JSON.stringify(toolchain.rust.vendorDir)}`,
  ];
}

/** The environment cargo runs in: the caller's, less LEAKY_ENV, plus the toolchain's. */
export function cargoEnv(toolchain: ToolchainManifest, rustflags: string[], targetDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !LEAKY_ENV.test(k)) env[k] = v;
  env.RUSTC = toolchain.rust.rustc.path;
  env.CARGO_ENCODED_RUSTFLAGS = rustflags.join('\x1f');
  env.CARGO_TARGET_DIR = targetDir;
  env.CARGO_TERM_COLOR = 'never';
  if (!toolchain.rust.nightly) env.RUSTC_BOOTSTRAP = '1';
  return env;
}

/**
 * Runs cargo with the toolchain's cargo and rustc.
 * @throws ToolError with cargo's output when it fails; for a dependency not available offline its message
 *   is the one line of explainUnavailableCrate.
 */
export async function runCargo(opts: CargoOptions): Promise<RunResult> {
  const debian = opts.crates === 'debian';
  const offline = debian || opts.toolchain.rust.vendorDir ? ['--offline'] : [];
  const sources = debian ? debianCrateConfigArgs() : vendorConfigArgs(opts.toolchain);
  try {
    return await runTool(opts.toolchain.rust.cargo.path, [...offline, ...sources, ...opts.args], {
      cwd: opts.cwd,
      env: cargoEnv(opts.toolchain, opts.rustflags, opts.targetDir),
      replaceEnv: true,
      stream: opts.stream,
    });
  } catch (e) {
    // A dependency that is not there offline: one line naming the crate and the Debian package.
    const unavailable = debian && e instanceof ToolError ? await explainUnavailableCrate(e.output) : null;
    if (unavailable && e instanceof ToolError)
      throw new ToolError(unavailable, e.command, e.exitCode, e.output, e.streamed);
    // rustc's message about a bad spec does not always name the file: say which spec was in use.
    if (e instanceof ToolError && opts.specFiles?.length) {
      throw new ToolError(
        `${e.message} (target spec in use: ${opts.specFiles.join(', ')})`,
        e.command,
        e.exitCode,
        e.output,
        e.streamed,
      );
    }
    throw e;
  }
}

/** One `compiler-artifact` message of `cargo --message-format=json`. */
export interface CargoArtifact {
  packageId: string;
  /** The package's name (from the package id). */
  packageName: string;
  /** Built as a test harness (`profile.test`). */
  test: boolean;
  /** Crate name, e.g. `core`. */
  name: string;
  kinds: string[];
  filenames: string[];
  executable: string | null;
}

/**
 * The package name in a cargo package id specification: `<source>#<name>@<version>`, or
 * `<source>#<version>` where the name is the source URL's last path segment
 * (https://doc.rust-lang.org/cargo/reference/pkgid-spec.html).
 */
export function packageNameOf(packageId: string): string {
  const [source, fragment = ''] = packageId.split('#');
  if (fragment.includes('@')) return fragment.slice(0, fragment.indexOf('@'));
  return source.replace(/\/+$/, '').split('/').pop() ?? '';
}

/**
 * Parses cargo's JSON messages (one per line; other lines ignored) into the artifacts built.
 * Format: https://doc.rust-lang.org/cargo/reference/external-tools.html#artifact-messages
 */
export function parseCargoArtifacts(stdout: string): CargoArtifact[] {
  const out: CargoArtifact[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let msg: {
      reason?: string;
      package_id?: string;
      target?: { name: string; kind: string[] };
      profile?: { test?: boolean };
      filenames?: string[];
      executable?: string | null;
    };
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    if (msg.reason !== 'compiler-artifact' || !msg.target) continue;
    out.push({
      packageId: msg.package_id ?? '',
      packageName: packageNameOf(msg.package_id ?? ''),
      test: msg.profile?.test === true,
      name: msg.target.name,
      kinds: msg.target.kind,
      filenames: msg.filenames ?? [],
      executable: msg.executable ?? null,
    });
  }
  return out;
}
