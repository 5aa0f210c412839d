// What an `nx` command costs in processes and in loaded code, in a scratch copy of the workspace with the plugin
// compiled (dist/, as setup leaves it). Two of Nx's costs are avoided by the workspace's layout, and each is checked
// here together with the layout that would bring it back, so the probe is shown to see it:
//  - plugin isolation (Nx's default: a worker process per plugin, more for a workspace-local one) is off through the
//    committed .env (NX_ISOLATE_PLUGINS=false);
//  - Nx loads TypeScript (about 0.4 s) on every run of a workspace-local executor when the workspace root has a
//    tsconfig.base.json or tsconfig.json, to read `customConditions` (resolveSchema → tryResolveFromSource in
//    https://github.com/nrwl/nx/blob/master/packages/nx/src/config/schema-utils.ts), so the workspace keeps its
//    tsconfig files under tools/.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../src/util/exec';
import { NX_TEST_ENV, ScratchWorkspace } from './scratch-workspace';

/** One Node process the probe saw exit: its script and first argument, and whether it had loaded TypeScript. */
interface ProbedProcess {
  argv: string[];
  typescript: boolean;
}

// Preloaded into every Node process of an nx command (NODE_OPTIONS=-r): appends one line per process at its exit.
const PROBE = `process.on('exit', () => {
  const typescript = Object.keys(require.cache).some((f) => /[\\\\/]node_modules[\\\\/]typescript[\\\\/]lib[\\\\/]typescript\\.js$/.test(f));
  require('node:fs').appendFileSync(process.env.NEXTRUST_PROBE_LOG, JSON.stringify({ argv: process.argv.slice(1, 3), typescript }) + '\\n');
});
`;

describe('an nx command in this workspace', () => {
  let ws: ScratchWorkspace;
  let probeDir: string;

  beforeAll(async () => {
    ws = ScratchWorkspace.create('nextrust-nx-overhead-');
    await ws.buildPlugin();
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-probe-'));
    fs.writeFileSync(path.join(probeDir, 'probe.js'), PROBE);
  });
  afterAll(() => {
    ws?.dispose();
    if (probeDir) fs.rmSync(probeDir, { recursive: true, force: true });
  });

  /**
   * Runs `nx run rust-target:build:m68040 --help` (project graph with the plugin loaded, then the executor's schema
   * resolved, no task run) with the probe in every Node process.
   */
  async function probedHelp(env: Record<string, string> = {}): Promise<ProbedProcess[]> {
    const log = path.join(probeDir, `log-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
    const r = await runProcess(ws.file('node_modules/.bin/nx'), ['run', 'rust-target:build:m68040', '--help'], {
      cwd: ws.root,
      env: {
        ...NX_TEST_ENV,
        NX_CACHE_DIRECTORY: ws.file('.nx/cache'),
        NX_WORKSPACE_DATA_DIRECTORY: ws.file('.nx/workspace-data'),
        NODE_OPTIONS: `-r ${path.join(probeDir, 'probe.js')}`,
        NEXTRUST_PROBE_LOG: log,
        ...env,
      },
      timeoutMs: 5 * 60_000,
    });
    expect(r.exitCode).toBe(0);
    // The help of the plugin's executor, read from its schema.json: the run did resolve it.
    expect(r.all).toContain('Executor:  @nextrust/nx-plugin:build');
    expect(r.all).toMatch(/--cpu\b/);
    return fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ProbedProcess);
  }

  const isWorker = (p: ProbedProcess) => /plugin-worker\.js$/.test(p.argv[0]);

  it('runs as one process, plugins in it, and never loads TypeScript', async () => {
    const processes = await probedHelp();
    expect(processes.filter(isWorker)).toEqual([]);
    expect(processes).toEqual([{ argv: [ws.file('node_modules/.bin/nx'), 'run'], typescript: false }]);
  });

  it("with Nx's default plugin isolation, plugin workers start (what .env turns off)", async () => {
    const processes = await probedHelp({ NX_ISOLATE_PLUGINS: 'true' });
    expect(processes.filter(isWorker).length).toBeGreaterThanOrEqual(1);
  });

  it('with a tsconfig.json at the workspace root, Nx loads TypeScript to resolve the executor (why tsconfig lives in tools/)', async () => {
    fs.writeFileSync(ws.file('tsconfig.json'), JSON.stringify({ extends: './tools/tsconfig.base.json' }));
    try {
      const processes = await probedHelp();
      expect(processes.filter(isWorker)).toEqual([]);
      expect(processes.map((p) => p.typescript)).toEqual([true]);
    } finally {
      fs.rmSync(ws.file('tsconfig.json'));
    }
  });
});
