// How Nx itself resolves the release bundle target in a scratch copy of this workspace (nothing is built: `nx run
// --graph=<file>` writes the task graph and stops, https://nx.dev/nx-api/nx/documents/run): `ci-status:bundle:<cpu>`
// runs after the emulator tests of the same CPU and everything upstream of them, under the default name and under
// the name the `bundleTargetName` plugin option gives it; `nx show project ci-status --json` shows its inputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScratchWorkspace } from './scratch-workspace';

/** The task graph `nx run <task> --graph=<file>` writes: each task's dependencies, by task id. */
async function taskDependencies(ws: ScratchWorkspace, task: string): Promise<Record<string, string[]>> {
  const file = ws.file('task-graph.json');
  const r = await ws.nx(['run', task, `--graph=${file}`]);
  if (r.exitCode !== 0) throw new Error(`nx run ${task} --graph failed:\n${r.all}`);
  const graph = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    tasks: { dependencies: Record<string, { id: string }[] | string[]> };
  };
  fs.rmSync(file);
  return Object.fromEntries(
    Object.entries(graph.tasks.dependencies).map(([id, deps]) => [
      id,
      deps.map((d) => (typeof d === 'string' ? d : d.id)).sort(),
    ]),
  );
}

describe('ci-status:bundle in the task graph Nx computes', () => {
  let ws: ScratchWorkspace;

  beforeAll(() => {
    ws = ScratchWorkspace.create('nextrust-bundle-graph-');
  });

  afterAll(() => ws?.dispose());

  it.each(['m68040', 'm68030'])(
    'nx run ci-status:bundle:%s runs after emulator-tests:test of that CPU and the whole pipeline upstream',
    async (cpu) => {
      expect(await taskDependencies(ws, `ci-status:bundle:${cpu}`)).toEqual({
        [`ci-status:bundle:${cpu}`]: [`emulator-tests:test:${cpu}`],
        [`emulator-tests:test:${cpu}`]: [`rust-target:build:${cpu}`],
        [`rust-target:build:${cpu}`]: [`llvm-m68k:atomics:${cpu}`, `rust-target:sysroot:${cpu}`],
        [`rust-target:sysroot:${cpu}`]: ['llvm-m68k:toolchain'],
        [`llvm-m68k:atomics:${cpu}`]: ['llvm-m68k:toolchain'],
        'llvm-m68k:toolchain': ['llvm-m68k:backend'],
        'llvm-m68k:backend': [],
      });
    },
  );

  it('nx show project ci-status --json: the bundle target with its inputs, outputs and configurations', async () => {
    const r = await ws.nx(['show', 'project', 'ci-status', '--json']);
    expect(r.exitCode).toBe(0);
    const bundle = JSON.parse(r.stdout).targets.bundle;
    expect(bundle).toMatchObject({
      executor: '@nextrust/nx-plugin:bundle',
      cache: true,
      dependsOn: [{ projects: ['emulator-tests'], target: 'test' }],
      outputs: ['{workspaceRoot}/dist/release/{options.cpu}'],
      defaultConfiguration: 'm68040',
    });
    expect(Object.keys(bundle.configurations)).toEqual(['m68000', 'm68030', 'm68040', 'm68060']);
    expect(bundle.inputs).toEqual(
      expect.arrayContaining([
        { dependentTasksOutputFiles: '**/toolchain.json', transitive: true },
        { runtime: 'git rev-parse HEAD' },
        '{workspaceRoot}/tools/nx-plugin/src/release/bundle.ts',
      ]),
    );
  });

  it('a program edit affects ci-status, so `nx affected -t bundle` bundles again; an edit to its status data does not affect the pipeline', async () => {
    const main = 'projects/rust-target/programs/hello/src/main.rs';
    const original = fs.readFileSync(ws.file(main), 'utf8');
    ws.edit(main, (t) => `${t}\n// edited\n`);
    try {
      const r = await ws.nx(['show', 'projects', '--affected', '--base=main', '--json']);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!).sort()).toEqual([
        'ci-status',
        'emulator-tests',
        'rust-target',
      ]);
    } finally {
      fs.writeFileSync(ws.file(main), original);
    }
    ws.edit('projects/ci-status/phases.json', (t) =>
      t.replace('"CI pipeline validation"', '"CI pipeline validation (edited)"'),
    );
    const r = await ws.nx(['show', 'projects', '--affected', '--base=main', '--json']);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).sort()).toEqual(['ci-status']);
  });

  it('under the name bundleTargetName gives it, after the renamed test target', async () => {
    ws.edit('nx.json', (text) =>
      text.replace(
        '"plugins": ["./tools/nx-plugin/plugin.js"]',
        '"plugins": [{ "plugin": "./tools/nx-plugin/plugin.js", "options": { "bundleTargetName": "publish", "testTargetName": "check" } }]',
      ),
    );
    expect(fs.readFileSync(path.join(ws.root, 'nx.json'), 'utf8')).toContain('"bundleTargetName": "publish"');
    const deps = await taskDependencies(ws, 'ci-status:publish:m68030');
    expect(deps['ci-status:publish:m68030']).toEqual(['emulator-tests:check:m68030']);
    expect(deps['emulator-tests:check:m68030']).toEqual(['rust-target:build:m68030']);
  });
});
