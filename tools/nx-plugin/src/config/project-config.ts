/**
 * The project config file, `projects/<name>/nextrust.json`: the one file the
 * plugin's createNodes reads to infer a project's targets.
 *
 * One schema per project kind (the `kind` field discriminates):
 *  - `llvm-toolchain`: the LLVM M68k toolchain and the spinlock atomics;
 *  - `rust-target`: target specs, sysroots and the Rust programs;
 *  - `emulator-tests`: test manifests run under emulation;
 *  - `ci-status`: the pipeline's status files and the release bundle (what it packs).
 * Validated with zod; every error names the file, the field and what was
 * expected (formatConfigError).
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { CPU_NAMES, CPU_VARIANTS, CpuVariant, DEFAULT_CPU } from '../toolchain/cpu';

const cpuVariant = z.enum(CPU_NAMES as [CpuVariant, ...CpuVariant[]]);
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: 'expected a path relative to the project root, without ".."',
  });
const crateName = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a crate name (lowercase letters, digits, - or _)');

/**
 * The LLVM source the patched backend is built from when a config names none:
 * Debian bookworm's llvm-toolchain-22 22.1.8, the source of the libLLVM.so.22.1
 * that rustc-web 1.96 and clang-22 link (`apt-cache showsrc llvm-toolchain-22`,
 * field Checksums-Sha256).
 */
export const DEFAULT_BACKEND_SOURCE = {
  package: 'llvm-toolchain-22',
  version: '1:22.1.8-1~deb12u1',
  tarball: 'llvm-toolchain-22_22.1.8.orig.tar.xz',
  sha256: 'b49b9277aef97616320b2da259e1f8174c65b0ce2fbe2e8629644a97693402fe',
};

/** Config of the `llvm-toolchain` kind (projects/llvm-m68k). */
export const llvmToolchainConfigSchema = z
  .object({
    kind: z.literal('llvm-toolchain'),
    /**
     * Where the M68k backend comes from: `source` (default) builds LLVM's M68k target from Debian's
     * LLVM source with the patch series and runs rustc/clang/llc with it; `system` uses the installed
     * backend as it is (it miscompiles ordinary code: docs/toolchain-bugs.md).
     */
    provider: z.enum(['system', 'source']).default('source'),
    /** Oldest LLVM accepted: rustc needs >= 19.1.5 to build core for m68k; LLVM 14 aborts on m68k cmpxchg. */
    minLlvmVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'expected a version like 19.1.5')
      .default('19.1.5'),
    /** The patched backend (provider `source`). */
    backend: z
      .object({
        /** The Debian source package of the LLVM that rustc and clang link (`apt-cache policy libllvm22`). */
        source: z
          .object({
            package: z.string().regex(/^[a-z0-9][a-z0-9.+-]+$/, 'expected a Debian source package name'),
            version: z.string().min(1),
            tarball: z
              .string()
              .regex(/\.orig\.tar\.(xz|gz|bz2)$/, 'expected an orig tarball file name (*.orig.tar.xz)'),
            sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
          })
          .strict(),
        /** Patch series folder, relative to the project root (applied in file-name order). */
        patches: relPath.default('patches'),
        /** The Makefile that builds the target, relative to the project root. */
        makefile: relPath.default('backend/Makefile'),
        /** llvm-config of the LLVM whose libLLVM the backend replaces. */
        llvmConfig: z.string().min(1).default('llvm-config-22'),
      })
      .strict()
      .default({
        source: DEFAULT_BACKEND_SOURCE,
        patches: 'patches',
        makefile: 'backend/Makefile',
        llvmConfig: 'llvm-config-22',
      }),
    atomics: z
      .object({
        /** C sources of the spinlock atomics, relative to the project root. */
        sources: z.array(relPath).min(1),
        /** Include directories, relative to the project root. */
        includeDirs: z.array(relPath).default([]),
        /** Extra clang flags (the CPU and target triple are added per configuration). */
        cflags: z.array(z.string()).default(['-O2']),
        /** Archive file name. */
        archive: z
          .string()
          .regex(/^lib[A-Za-z0-9_]+\.a$/, 'expected an archive name like libfoo.a')
          .default('libnextrust_atomics.a'),
      })
      .strict(),
  })
  .strict()
  .strict();

const flavorSchema = z.enum(['std', 'hosted', 'freestanding', 'nextstep']);

/**
 * One Rust program (a cargo package) built per CPU variant, as discovered from
 * its folder (config/programs.ts).
 */
export const programSchema = z
  .object({
    /** Cargo package name; also the artifact name. */
    name: crateName,
    /** Cargo package folder, relative to the project root. */
    path: relPath,
    /**
     * How it is built and run:
     *  - `std`: m68k-unknown-linux-gnu with Rust's std (panic = abort), linked against glibc (68020+);
     *  - `hosted`: m68k-unknown-linux-gnu, no_std (core, alloc), linked against glibc (runs under qemu-m68k, 68020+);
     *  - `freestanding`: m68k-unknown-linux-gnu without libc (`_start`, Linux `trap #0` system calls): runs on every 680x0;
     *  - `nextstep`: the m68k-next-nextstep target spec; a staticlib (ELF objects: upstream LLVM has no m68k Mach-O).
     */
    flavor: flavorSchema,
    /** CPU variants it is built for (default: all that can run it: std and hosted need glibc, 68030/68040). */
    cpus: z.array(cpuVariant).optional(),
    /** Link the spinlock atomics archive (needed where atomics become __sync_* libcalls). */
    linkAtomics: z.boolean().default(true),
  })
  .strict();

/** nextrust.json override of one discovered program's `[package.metadata.nextrust]`. */
export const programOverrideSchema = z
  .object({
    flavor: flavorSchema.optional(),
    cpus: z.array(cpuVariant).min(1).optional(),
    linkAtomics: z.boolean().optional(),
  })
  .strict();

/** Config of the `rust-target` kind (projects/rust-target). */
export const rustTargetConfigSchema = z
  .object({
    kind: z.literal('rust-target'),
    /** Project holding the toolchain and atomics targets. */
    toolchainProject: z.string().default('llvm-m68k'),
    /** Target spec files, relative to the project root, by target name. */
    targetSpecs: z.record(
      z.string().regex(/^[a-z0-9_-]+$/, 'expected a target name (lowercase letters, digits, - or _)'),
      relPath,
    ),
    /** Cargo profile for programs and the sysroot. */
    profile: z.enum(['release', 'dev']).default('release'),
    /** Extra rustc flags for programs and sysroot (the CPU is added per configuration). */
    rustflags: z.array(z.string()).default([]),
    /** Folder of the programs, relative to the project root: each sub-folder with a Cargo.toml is one. */
    programsDir: relPath.default('programs'),
    /**
     * Crates of Debian's registry (/usr/share/cargo/registry) whose own test suites rust-target:test
     * builds and runs on the 68k beside the programs' tests (their dev-dependencies must be packaged).
     */
    crateTests: z.array(crateName).default([]),
    /**
     * Overrides of programs' `[package.metadata.nextrust]`, by Cargo package name (a name that is no
     * program's is reported by the build, listing the programs).
     */
    programs: z.record(z.string(), programOverrideSchema).default({}),
  })
  .strict();

/** Config of the `emulator-tests` kind (projects/emulator-tests). */
export const emulatorTestsConfigSchema = z
  .object({
    kind: z.literal('emulator-tests'),
    /** Project whose build target's manifest.json lists the programs to run. */
    buildProject: z.string().default('rust-target'),
    /** Folder of test manifests (*.json), relative to the project root. */
    testsDir: relPath.default('tests'),
    /** Emulator: qemu-m68k user mode, or the Previous NeXT emulator (needs a user-supplied ROM). */
    emulator: z.enum(['qemu', 'previous']).default('qemu'),
    /** Default per-case timeout in ms. */
    timeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();

/** Config of the `ci-status` kind (projects/ci-status). */
export const ciStatusConfigSchema = z
  .object({
    kind: z.literal('ci-status'),
    /** Project whose build target's manifest.json lists the programs the release bundle packs. */
    buildProject: z.string().default('rust-target'),
    /** Project whose toolchain and atomics targets the bundle packs. */
    toolchainProject: z.string().default('llvm-m68k'),
    /** Project whose test target must pass before the bundle packs anything (its results are packed too). */
    testsProject: z.string().default('emulator-tests'),
    /** Workspace-relative folder of the build project's target specs (`<target>.json`). */
    targetSpecsDir: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
        message: 'expected a path relative to the workspace root, without ".."',
      })
      .default('projects/rust-target/target-specs'),
  })
  .strict();

/** Any project config; `kind` selects the schema. */
export const projectConfigSchema = z.discriminatedUnion('kind', [
  llvmToolchainConfigSchema,
  rustTargetConfigSchema,
  emulatorTestsConfigSchema,
  ciStatusConfigSchema,
]);

export type LlvmToolchainConfig = z.infer<typeof llvmToolchainConfigSchema>;
export type RustTargetConfig = z.infer<typeof rustTargetConfigSchema>;
export type ProgramConfig = z.infer<typeof programSchema>;
export type ProgramOverride = z.infer<typeof programOverrideSchema>;
export type EmulatorTestsConfig = z.infer<typeof emulatorTestsConfigSchema>;
export type CiStatusConfig = z.infer<typeof ciStatusConfigSchema>;
export type ProjectConfig = z.infer<typeof projectConfigSchema>;

/** File name of the project config, looked for in every project folder. */
export const PROJECT_CONFIG_FILE = 'nextrust.json';

/** Error thrown for a config file that cannot be read, parsed or validated; `message` is the one line to show. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Formats zod issues as `FILE: field a.b[2]: message` lines.
 * @param file path shown to the user (workspace-relative where possible).
 */
export function formatConfigError(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length
        ? issue.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '')
        : '(root)';
      return `${file}: field '${field}': ${issue.message}`;
    })
    .join('\n');
}

/**
 * Parses JSON text and validates it with a zod schema (every validated JSON
 * file of the project goes through here).
 * @param file path used in error messages.
 * @throws ConfigError `FILE: not valid JSON: …` or `FILE: field 'a[0].b': …` lines.
 */
export function parseValidatedJson<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `${file}: not valid JSON: ${(e as Error).message}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatConfigError(file, result.error));
  return result.data;
}

/**
 * Parses and validates a project config from its text.
 * @param file path used in error messages.
 * @throws ConfigError naming the file, the field and what was expected.
 */
export function parseProjectConfig(file: string, text: string): ProjectConfig {
  return parseValidatedJson(file, text, projectConfigSchema);
}

/**
 * Reads and validates a project config file.
 * @param absPath absolute path of the file; @param shownPath path shown in errors.
 * @throws ConfigError when the file is missing, not JSON or invalid.
 */
export function readProjectConfig(absPath: string, shownPath = absPath): ProjectConfig {
  let text: string;
  try {
    text = fs.readFileSync(absPath, 'utf8');
  } catch (e) {
    throw new ConfigError(shownPath, `${shownPath}: cannot read: ${(e as Error).message}`);
  }
  return parseProjectConfig(shownPath, text);
}

/**
 * Reads a project config and checks its kind.
 * @throws ConfigError when the file is invalid or of another kind.
 */
export function readProjectConfigOfKind<K extends ProjectConfig['kind']>(
  absPath: string,
  kind: K,
  shownPath = absPath,
): Extract<ProjectConfig, { kind: K }> {
  const config = readProjectConfig(absPath, shownPath);
  if (config.kind !== kind) {
    throw new ConfigError(shownPath, `${shownPath}: field 'kind': expected '${kind}', got '${config.kind}'`);
  }
  return config as Extract<ProjectConfig, { kind: K }>;
}

/** CPU variants a program is built for: its `cpus`, or all that can run its flavour. */
export function programCpus(program: ProgramConfig): CpuVariant[] {
  if (program.cpus) return program.cpus;
  return program.flavor === 'hosted' || program.flavor === 'std'
    ? CPU_VARIANTS.filter((c) => c.runsGlibc).map((c) => c.name)
    : [...CPU_NAMES];
}

export { DEFAULT_CPU };
