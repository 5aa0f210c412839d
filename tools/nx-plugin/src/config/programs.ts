/**
 * Program discovery: every folder `<projectRoot>/<programsDir>/<name>/` of a
 * rust-target project is a program, a Cargo package whose `Cargo.toml` says
 * how it is built in `[package.metadata.nextrust]`
 * (https://doc.rust-lang.org/cargo/reference/manifest.html#the-metadata-table):
 *
 * ```toml
 * [package.metadata.nextrust]
 * flavor = "hosted"        # std (default) | hosted | freestanding | nextstep
 * cpus = ["m68000"]        # default: every CPU variant that can run the flavour
 * link-atomics = false     # default: true
 * ```
 *
 * The project's nextrust.json may override these per program (`programs`,
 * keyed by package name). The Cargo workspace lists the folder by glob
 * (`members = ["programs/*"]`), so adding a program is adding a folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { CPU_NAMES, type CpuVariant } from '../toolchain/cpu';
import { formatConfigError, programCpus, type ProgramConfig, type ProgramOverride } from './project-config';

/** Flavour of a program whose Cargo.toml and overrides name none. */
export const DEFAULT_FLAVOR: ProgramConfig['flavor'] = 'std';

/** Flavours and what each can use, in the words used by errors and the generator. */
export const FLAVORS: ProgramConfig['flavor'][] = ['std', 'hosted', 'freestanding', 'nextstep'];

const metadataSchema = z
  .object({
    flavor: z.enum(FLAVORS as [ProgramConfig['flavor'], ...ProgramConfig['flavor'][]]).optional(),
    cpus: z
      .array(z.enum(CPU_NAMES as [CpuVariant, ...CpuVariant[]]))
      .min(1)
      .optional(),
    'link-atomics': z.boolean().optional(),
  })
  .strict();

const manifestSchema = z.object({
  package: z.object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'expected a Cargo package name'),
    metadata: z.object({ nextrust: metadataSchema.optional() }).passthrough().optional(),
  }),
});

/** A discovered program: its config with the CPU variants resolved. */
export type DiscoveredProgram = ProgramConfig & { cpus: CpuVariant[] };

/** Result of discoverPrograms. */
export interface ProgramDiscovery {
  /** Valid programs, sorted by name; `path` is relative to the project root. */
  programs: DiscoveredProgram[];
  /**
   * One line per problem (`FILE: what is wrong: the fix`), in folder order; a folder with a problem is not in
   * `programs`.
   */
  problems: string[];
}

/** Error thrown by requirePrograms; `message` is the problem lines. */
export class ProgramDiscoveryError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ProgramDiscoveryError';
  }
}

/**
 * Finds the programs of a rust-target project.
 * @param workspaceRoot absolute workspace root; @param projectRoot workspace-relative project folder.
 * @param programsDir programs folder relative to the project root (`programs`).
 * @param overrides nextrust.json `programs`, by package name (win over Cargo.toml metadata).
 * @param configFile workspace-relative nextrust.json, named in errors about overrides.
 * Never throws for bad program folders: they are reported in `problems`.
 */
export function discoverPrograms(
  workspaceRoot: string,
  projectRoot: string,
  programsDir: string,
  overrides: Record<string, ProgramOverride> = {},
  configFile = `${projectRoot}/nextrust.json`,
): ProgramDiscovery {
  const dirRel = path.posix.join(projectRoot, programsDir);
  const dirAbs = path.join(workspaceRoot, dirRel);
  const programs: DiscoveredProgram[] = [];
  const problems: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dirAbs, { withFileTypes: true });
  } catch {
    problems.push(
      `${dirRel}: no such folder: a rust-target project keeps its programs there (create one with \`npx nx g ./tools/nx-plugin:program <name>\`)`,
    );
    return { programs, problems };
  }
  const seen = new Map<string, string>();
  for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = `${dirRel}/${e.name}`;
    const file = `${folder}/Cargo.toml`;
    let text: string;
    try {
      text = fs.readFileSync(path.join(workspaceRoot, file), 'utf8');
    } catch {
      problems.push(
        `${folder}: no Cargo.toml: every folder in ${dirRel} is a program (the Cargo workspace lists them by glob); ` +
          `create it with \`npx nx g ./tools/nx-plugin:program ${e.name}\` or move the folder out`,
      );
      continue;
    }
    let raw: unknown;
    try {
      raw = parseToml(text);
    } catch (err) {
      const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : '';
      problems.push(`${file}: not valid TOML${where}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(formatConfigError(file, parsed.error));
      continue;
    }
    const name = parsed.data.package.name;
    if (seen.has(name)) {
      problems.push(
        `${file}: field 'package.name': '${name}' is also the package of ${seen.get(name)}: package names must be unique`,
      );
      continue;
    }
    seen.set(name, folder);
    const meta = parsed.data.package.metadata?.nextrust ?? {};
    const over = overrides[name] ?? {};
    const config: ProgramConfig = {
      name,
      path: `${programsDir}/${e.name}`,
      flavor: over.flavor ?? meta.flavor ?? DEFAULT_FLAVOR,
      ...((over.cpus ?? meta.cpus) ? { cpus: over.cpus ?? meta.cpus } : {}),
      linkAtomics: over.linkAtomics ?? meta['link-atomics'] ?? true,
    };
    programs.push({ ...config, cpus: programCpus(config) });
  }
  for (const name of Object.keys(overrides)) {
    if (!seen.has(name)) {
      problems.push(
        `${configFile}: field 'programs.${name}': no program '${name}' in ${dirRel} (its programs: ${[...seen.keys()].sort().join(', ') || 'none'}); ` +
          `remove the override or add the program`,
      );
    }
  }
  programs.sort((a, b) => a.name.localeCompare(b.name));
  return { programs, problems };
}

/**
 * discoverPrograms, for a build: every problem is fatal.
 * @throws ProgramDiscoveryError with one line per problem (before anything is built or removed).
 */
export function requirePrograms(...args: Parameters<typeof discoverPrograms>): DiscoveredProgram[] {
  const d = discoverPrograms(...args);
  if (d.problems.length) throw new ProgramDiscoveryError(d.problems);
  return d.programs;
}
