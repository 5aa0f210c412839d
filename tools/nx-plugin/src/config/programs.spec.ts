import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverPrograms, ProgramDiscoveryError, requirePrograms } from './programs';

let ws: string;
const PROJECT = 'projects/rust';

/** Writes a file under the test project, creating folders. */
function put(rel: string, text: string): void {
  const file = path.join(ws, PROJECT, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** A Cargo.toml with the given package name and extra text. */
const manifest = (name: string, extra = '') =>
  `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n${extra}`;

beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-programs-'));
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

describe('discoverPrograms', () => {
  it('finds every folder with a Cargo.toml, std by default, with the CPUs that can run its flavour', () => {
    put('programs/zeta/Cargo.toml', manifest('zeta'));
    put('programs/alpha/Cargo.toml', manifest('alpha', '\n[package.metadata.nextrust]\nflavor = "nextstep"\n'));
    put(
      'programs/bare/Cargo.toml',
      manifest(
        'bare-metal',
        '[package.metadata.nextrust]\nflavor = "freestanding"\ncpus = ["m68000"]\nlink-atomics = false\n',
      ),
    );
    put('programs/README.md', 'files are not programs');
    const d = discoverPrograms(ws, PROJECT, 'programs');
    expect(d.problems).toEqual([]);
    expect(d.programs).toEqual([
      {
        name: 'alpha',
        path: 'programs/alpha',
        flavor: 'nextstep',
        linkAtomics: true,
        cpus: ['m68000', 'm68030', 'm68040', 'm68060'],
      },
      // the package name, not the folder name
      { name: 'bare-metal', path: 'programs/bare', flavor: 'freestanding', linkAtomics: false, cpus: ['m68000'] },
      { name: 'zeta', path: 'programs/zeta', flavor: 'std', linkAtomics: true, cpus: ['m68030', 'm68040'] },
    ]);
  });

  it('lets nextrust.json override the metadata, field by field', () => {
    put('programs/a/Cargo.toml', manifest('a', '[package.metadata.nextrust]\nflavor = "hosted"\ncpus = ["m68030"]\n'));
    const d = discoverPrograms(ws, PROJECT, 'programs', { a: { cpus: ['m68040'], linkAtomics: false } });
    expect(d.programs).toEqual([
      { name: 'a', path: 'programs/a', flavor: 'hosted', linkAtomics: false, cpus: ['m68040'] },
    ]);
  });

  it('reports each bad folder in one line naming the file and the fix, and keeps the good programs', () => {
    put('programs/good/Cargo.toml', manifest('good'));
    fs.mkdirSync(path.join(ws, PROJECT, 'programs/empty/src'), { recursive: true });
    put('programs/broken/Cargo.toml', '[package]\nname = "broken"\nversion = \n');
    put('programs/flavour/Cargo.toml', manifest('flavour', '[package.metadata.nextrust]\nflavor = "windows"\n'));
    put('programs/typo/Cargo.toml', manifest('typo', '[package.metadata.nextrust]\ncpu = ["m68040"]\n'));
    put('programs/noname/Cargo.toml', '[package]\nversion = "0.1.0"\n');
    put('programs/twin/Cargo.toml', manifest('good'));
    const d = discoverPrograms(ws, PROJECT, 'programs', { ghost: { flavor: 'std' } });
    expect(d.programs.map((p) => p.name)).toEqual(['good']);
    expect(d.problems).toEqual([
      expect.stringMatching(/^projects\/rust\/programs\/broken\/Cargo\.toml: not valid TOML \(line 3, column \d+\): /),
      `projects/rust/programs/empty: no Cargo.toml: every folder in projects/rust/programs is a program (the Cargo workspace lists them by glob); create it with \`npx nx g ./tools/nx-plugin:program empty\` or move the folder out`,
      `projects/rust/programs/flavour/Cargo.toml: field 'package.metadata.nextrust.flavor': Invalid option: expected one of "std"|"hosted"|"freestanding"|"nextstep"`,
      `projects/rust/programs/noname/Cargo.toml: field 'package.name': Invalid input: expected string, received undefined`,
      `projects/rust/programs/twin/Cargo.toml: field 'package.name': 'good' is also the package of projects/rust/programs/good: package names must be unique`,
      `projects/rust/programs/typo/Cargo.toml: field 'package.metadata.nextrust': Unrecognized key: "cpu"`,
      `projects/rust/nextrust.json: field 'programs.ghost': no program 'ghost' in projects/rust/programs (its programs: good); remove the override or add the program`,
    ]);
  });

  it('reports a missing programs folder', () => {
    const d = discoverPrograms(ws, PROJECT, 'apps');
    expect(d).toEqual({
      programs: [],
      problems: [expect.stringMatching(/^projects\/rust\/apps: no such folder: .*nx g \.\/tools\/nx-plugin:program/)],
    });
  });

  it('finds the committed programs of this repository with their declared flavours', () => {
    const repo = path.resolve(__dirname, '../../../..');
    const d = discoverPrograms(repo, 'projects/rust-target', 'programs');
    expect(d.problems).toEqual([]);
    const byName = Object.fromEntries(d.programs.map((p) => [p.name, p]));
    expect(byName['std-hello']).toMatchObject({ flavor: 'std', cpus: ['m68030', 'm68040'] });
    expect(byName['hello']).toMatchObject({ flavor: 'hosted' });
    expect(byName['freestanding']).toMatchObject({ flavor: 'freestanding', cpus: ['m68000'] });
    expect(byName['nextstep-hello']).toMatchObject({
      flavor: 'nextstep',
      cpus: ['m68000', 'm68030', 'm68040', 'm68060'],
    });
  });
});

describe('requirePrograms', () => {
  it('throws every problem at once', () => {
    put('programs/a/Cargo.toml', 'not toml at all [');
    fs.mkdirSync(path.join(ws, PROJECT, 'programs/b'), { recursive: true });
    let thrown: unknown;
    try {
      requirePrograms(ws, PROJECT, 'programs');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ProgramDiscoveryError);
    expect((thrown as ProgramDiscoveryError).problems).toHaveLength(2);
    expect((thrown as Error).message.split('\n')).toEqual([
      expect.stringContaining('programs/a/Cargo.toml: not valid TOML'),
      expect.stringContaining('programs/b: no Cargo.toml'),
    ]);
  });

  it('returns the programs when there is no problem', () => {
    put('programs/a/Cargo.toml', manifest('a'));
    expect(requirePrograms(ws, PROJECT, 'programs').map((p) => p.name)).toEqual(['a']);
  });
});
