/**
 * The generators' logic on an Nx Tree (https://nx.dev/extending-nx/recipes/local-generators):
 * a new program folder in a rust-target project and an emulator test case in
 * an emulator-tests project, each checked against what is already there.
 * The generator entry points (program/, emulator-test/) only call these.
 */
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { parse as parseToml } from 'smol-toml';
import {
  parseProjectConfig,
  PROJECT_CONFIG_FILE,
  type ProgramConfig,
  type ProjectConfig,
} from '../config/project-config';
import { DEFAULT_FLAVOR, FLAVORS } from '../config/programs';
import { emulatorTestCase, PROGRAM_NAME, programFiles } from './templates';

/** Error for bad generator input; `message` is the one line to show. */
export class GeneratorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GeneratorError';
  }
}

/** Options of the program generator (schema.json). */
export interface ProgramGeneratorOptions {
  /** Cargo package name of the new program. */
  name: string;
  flavor?: ProgramConfig['flavor'];
  /** The rust-target project (default rust-target). */
  project?: string;
  /** The emulator-tests project that gets the test case (default emulator-tests). */
  testsProject?: string;
  /** Do not write an emulator test case. */
  skipTest?: boolean;
}

/** Options of the emulator-test generator (schema.json). */
export interface EmulatorTestGeneratorOptions {
  /** Package name of an existing program. */
  program: string;
  /** The emulator-tests project (default emulator-tests). */
  project?: string;
  /** Test case name (default: the program's name). */
  name?: string;
  /** Text the program's stdout must contain (default: the greeting a generated program prints). */
  expectOutput?: string;
}

/**
 * The root and config of a project of one kind, found by its folder name under the tree's projects.
 * @throws GeneratorError when no such project or it is of another kind.
 */
function projectOfKind<K extends ProjectConfig['kind']>(
  tree: Tree,
  name: string,
  kind: K,
  flag: string,
): { root: string; config: Extract<ProjectConfig, { kind: K }> } {
  const candidates = [`projects/${name}`, name];
  const root = candidates.find((r) => tree.exists(`${r}/${PROJECT_CONFIG_FILE}`));
  if (!root)
    throw new GeneratorError(
      `${flag} '${name}': no ${PROJECT_CONFIG_FILE} in ${candidates.join(' or ')}; name a ${kind} project`,
    );
  const file = `${root}/${PROJECT_CONFIG_FILE}`;
  const config = parseProjectConfig(file, tree.read(file, 'utf-8') ?? '');
  if (config.kind !== kind)
    throw new GeneratorError(`${flag} '${name}': ${file} is a '${config.kind}' project; expected '${kind}'`);
  return { root, config: config as Extract<ProjectConfig, { kind: K }> };
}

/** Programs of a rust-target project in the tree (including files written earlier in this generator run). */
function programsInTree(
  tree: Tree,
  programsRoot: string,
  overrides: Record<string, { flavor?: ProgramConfig['flavor'] }>,
): Map<string, { folder: string; flavor: ProgramConfig['flavor'] }> {
  const out = new Map<string, { folder: string; flavor: ProgramConfig['flavor'] }>();
  if (!tree.exists(programsRoot)) return out;
  for (const child of tree.children(programsRoot)) {
    const file = `${programsRoot}/${child}/Cargo.toml`;
    if (!tree.isFile(file)) continue;
    try {
      const toml = parseToml(tree.read(file, 'utf-8') ?? '') as {
        package?: { name?: string; metadata?: { nextrust?: { flavor?: ProgramConfig['flavor'] } } };
      };
      const name = toml.package?.name;
      if (name)
        out.set(name, {
          folder: `${programsRoot}/${child}`,
          flavor: overrides[name]?.flavor ?? toml.package?.metadata?.nextrust?.flavor ?? DEFAULT_FLAVOR,
        });
    } catch {
      // A broken program folder is the build's to report; it is no program to generate tests for.
    }
  }
  return out;
}

/**
 * Writes a new program folder (and, unless skipTest, its emulator test case).
 * @returns the workspace-relative paths written.
 * @throws GeneratorError for a bad name or flavour, an unknown project, or a program or folder that exists.
 */
export function generateProgram(tree: Tree, options: ProgramGeneratorOptions): string[] {
  const { name } = options;
  const flavor = options.flavor ?? DEFAULT_FLAVOR;
  if (!PROGRAM_NAME.test(name ?? ''))
    throw new GeneratorError(
      `name '${name ?? ''}': expected a Cargo package name (lowercase letters, digits, - or _, starting with a letter)`,
    );
  if (!FLAVORS.includes(flavor))
    throw new GeneratorError(`--flavor '${flavor}': expected one of ${FLAVORS.join(', ')}`);
  const { root, config } = projectOfKind(tree, options.project ?? 'rust-target', 'rust-target', '--project');
  const programsRoot = `${root}/${config.programsDir}`;
  const folder = `${programsRoot}/${name}`;
  if (tree.exists(folder))
    throw new GeneratorError(`${folder} already exists: choose another name or remove the folder`);
  const existing = programsInTree(tree, programsRoot, config.programs).get(name);
  if (existing) throw new GeneratorError(`name '${name}': ${existing.folder}/Cargo.toml already has that package name`);
  const rtPath = path.posix.relative(folder, `${root}/crates/nextrust-rt`);
  const written: string[] = [];
  for (const f of programFiles(name, flavor, rtPath)) {
    tree.write(`${folder}/${f.path}`, f.content);
    written.push(`${folder}/${f.path}`);
  }
  if (!options.skipTest)
    written.push(
      ...generateEmulatorTest(
        tree,
        { program: name, project: options.testsProject },
        { flavor, buildProjectRoot: root },
      ),
    );
  return written;
}

/**
 * Writes an emulator test case for an existing program.
 * @param known the program's flavour when the caller has just written it.
 * @returns the workspace-relative path written.
 * @throws GeneratorError for an unknown project or program (listing the programs), or a test case that exists.
 */
export function generateEmulatorTest(
  tree: Tree,
  options: EmulatorTestGeneratorOptions,
  known?: { flavor: ProgramConfig['flavor']; buildProjectRoot: string },
): string[] {
  const { root, config } = projectOfKind(tree, options.project ?? 'emulator-tests', 'emulator-tests', '--project');
  let flavor = known?.flavor;
  if (!flavor) {
    const build = projectOfKind(
      tree,
      config.buildProject,
      'rust-target',
      `${root}/${PROJECT_CONFIG_FILE} buildProject`,
    );
    const programsRoot = `${build.root}/${build.config.programsDir}`;
    const programs = programsInTree(tree, programsRoot, build.config.programs);
    const found = programs.get(options.program);
    if (!found) {
      throw new GeneratorError(
        `program '${options.program}': no such program in ${programsRoot} (its programs: ${[...programs.keys()].sort().join(', ') || 'none'}); ` +
          `create it with \`npx nx g ./tools/nx-plugin:program ${options.program}\``,
      );
    }
    flavor = found.flavor;
  }
  const name = options.name ?? options.program;
  if (!PROGRAM_NAME.test(name))
    throw new GeneratorError(`--name '${name}': expected a lowercase test name (letters, digits, - or _)`);
  const file = `${root}/${config.testsDir}/${name}.json`;
  if (tree.exists(file)) throw new GeneratorError(`${file} already exists: give the test another --name`);
  tree.write(file, `${JSON.stringify(emulatorTestCase(options.program, flavor, options.expectOutput), null, 2)}\n`);
  return [file];
}
