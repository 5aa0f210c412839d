/**
 * Test helper: a scratch copy of this workspace (tracked and untracked,
 * non-ignored files; node_modules symlinked; its own git repository, Nx cache
 * and dist), and `nx` runs in it whose output is parsed for cache hits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { sha256File, type ToolchainManifest } from '../src/toolchain/locate';
import { readToolchainManifest } from '../src/toolchain/manifest';
import { runProcess, type ProcessResult } from '../src/util/exec';

/** The real workspace root. */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

/** A finished `nx` run. */
export interface NxRun extends ProcessResult {
  /** Task ids (`project:target[:config]`) restored from the cache. */
  cached: string[];
  /** Task ids that ran. */
  ran: string[];
}

/** Environment for nx runs in tests: no daemon, no cloud, no colour (CI=true makes Nx colour its output). */
export const NX_TEST_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', NO_COLOR: '1' };

/**
 * Runs `nx run llvm-m68k:toolchain` in this workspace (a cache hit after setup) and reads its manifest:
 * the patched toolchain's wrappers for tests that compile with it.
 * @throws Error with nx's output when the target fails.
 */
export async function workspaceToolchain(): Promise<ToolchainManifest> {
  const r = await runProcess(
    path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'),
    ['run', 'llvm-m68k:toolchain', '--output-style=static'],
    {
      cwd: WORKSPACE_ROOT,
      env: NX_TEST_ENV,
      timeoutMs: 20 * 60_000,
    },
  );
  if (r.exitCode !== 0) throw new Error(`nx run llvm-m68k:toolchain failed:\n${r.all}`);
  return readToolchainManifest(path.join(WORKSPACE_ROOT, 'dist/llvm-m68k/toolchain/toolchain.json'));
}

/** Parses `> nx run project:target[:config]  [local cache]` lines (`--output-style=static`; colour codes ignored). */
export function parseTaskLines(output: string): { cached: string[]; ran: string[] } {
  const cached: string[] = [];
  const ran: string[] = [];
  for (const m of stripVTControlCharacters(output).matchAll(/^> nx run (\S+)(.*)$/gm)) {
    (/\[(local|remote) cache\]/.test(m[2]) ? cached : ran).push(m[1]);
  }
  return { cached, ran };
}

/** A scratch workspace. */
export class ScratchWorkspace {
  private constructor(readonly root: string) {}

  /** Copies the workspace into a new temp folder and commits it (branch main). */
  static create(prefix = 'nextrust-ws-'): ScratchWorkspace {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: WORKSPACE_ROOT })
      .toString()
      .split('\0')
      .filter((f) => f && fs.existsSync(path.join(WORKSPACE_ROOT, f)));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.copyFileSync(path.join(WORKSPACE_ROOT, f), path.join(root, f));
    }
    fs.symlinkSync(path.join(WORKSPACE_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=test@nextrust.invalid', '-c', 'user.name=test', 'add', '-A');
    git('-c', 'user.email=test@nextrust.invalid', '-c', 'user.name=test', 'commit', '-qm', 'scratch');
    return new ScratchWorkspace(root);
  }

  /**
   * Compiles the plugin into the copy's tools/nx-plugin/dist and stamps it, as `npm run build` does for setup, so that
   * Nx loads the compiled JavaScript (bin/freshness.js) and not the TypeScript through @swc-node/register.
   * @throws Error with tsc's output when it fails.
   */
  async buildPlugin(): Promise<void> {
    const r = await runProcess(this.file('node_modules/.bin/tsc'), ['-p', 'tools/nx-plugin/tsconfig.build.json'], {
      cwd: this.root,
      timeoutMs: 10 * 60_000,
    });
    if (r.exitCode !== 0) throw new Error(`tsc -p tools/nx-plugin/tsconfig.build.json failed:\n${r.all.slice(-3000)}`);
    fs.writeFileSync(this.file('tools/nx-plugin/dist/.build-stamp'), '');
  }

  /** Adds the project `bench-noop` with one cached `nx:noop` target `noop` (no inputs, no outputs): a baseline task. */
  addNoopProject(): void {
    fs.mkdirSync(this.file('projects/bench-noop'), { recursive: true });
    fs.writeFileSync(
      this.file('projects/bench-noop/project.json'),
      JSON.stringify({
        name: 'bench-noop',
        targets: { noop: { executor: 'nx:noop', cache: true, inputs: [], outputs: [] } },
      }),
    );
  }

  /** Absolute path of a workspace-relative file. */
  file(rel: string): string {
    return path.join(this.root, rel);
  }

  /**
   * Rewrites a file through `edit`. Throws when the edit changes nothing (a `replace` whose text is no longer
   * in the file), so a test cannot go on to assert on an unedited workspace.
   */
  edit(rel: string, edit: (text: string) => string): void {
    const before = fs.readFileSync(this.file(rel), 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`ScratchWorkspace.edit: the edit of ${rel} changed nothing`);
    fs.writeFileSync(this.file(rel), after);
  }

  /** Runs `nx ...args` (no daemon, static output) with extra environment. */
  async nx(args: string[], env: Record<string, string> = {}): Promise<NxRun> {
    const r = await runProcess(path.join(this.root, 'node_modules/.bin/nx'), [...args, '--output-style=static'], {
      cwd: this.root,
      // Nx 24 keeps its local cache in ~/.nx/<repository id>/, shared by every checkout of a
      // repository (and scratch copies made in the same second share an id): keep it inside the copy.
      env: {
        ...NX_TEST_ENV,
        NX_CACHE_DIRECTORY: this.file('.nx/cache'),
        NX_WORKSPACE_DATA_DIRECTORY: this.file('.nx/workspace-data'),
        ...env,
      },
      timeoutMs: 15 * 60_000,
    });
    return { ...r, ...parseTaskLines(r.all) };
  }

  /** sha256 of every file under a workspace-relative folder, by relative path. */
  digest(rel: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else out[path.relative(this.root, p)] = sha256File(p);
      }
    };
    walk(this.file(rel));
    return out;
  }

  /** Deletes the scratch folder. */
  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
