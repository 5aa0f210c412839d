// Every target `nx affected -t build test` can pick in this workspace is cacheable and declares its outputs
// (https://nx.dev/docs/concepts/how-caching-works): the project graph as `nx graph --file` writes it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');

interface GraphTarget {
  executor?: string;
  cache?: boolean;
  outputs?: string[];
  inputs?: unknown[];
}

/** The workspace's project graph: project name to its targets. */
function projectTargets(): Record<string, Record<string, GraphTarget>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-graph-'));
  try {
    const file = path.join(dir, 'graph.json');
    const r = spawnSync('npx', ['nx', 'graph', `--file=${file}`], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    if (r.status !== 0) throw new Error(`nx graph failed (${r.status}): ${r.stderr}`);
    const graph = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      graph: { nodes: Record<string, { data: { targets?: Record<string, GraphTarget> } }> };
    };
    return Object.fromEntries(Object.entries(graph.graph.nodes).map(([name, n]) => [name, n.data.targets ?? {}]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('targets of `nx affected -t build test`', () => {
  const projects = projectTargets();

  it('the graph has the pipeline projects and the plugin package', () => {
    expect(Object.keys(projects)).toEqual(
      expect.arrayContaining(['llvm-m68k', 'rust-target', 'emulator-tests', '@nextrust/nx-plugin']),
    );
  });

  it.each(['build', 'test'])('every `%s` target is cached and declares outputs', (name) => {
    const found = Object.entries(projects).filter(([, targets]) => targets[name]);
    expect(found.length).toBeGreaterThan(0);
    for (const [project, targets] of found) {
      const t = targets[name];
      expect({ project, cache: t.cache }).toEqual({ project, cache: true });
      expect({ project, outputs: (t.outputs ?? []).length > 0 }).toEqual({ project, outputs: true });
    }
  });

  it("the plugin package's build (tsc and the hook client) hashes its sources, compiler and CC, not its tests", () => {
    const build = projects['@nextrust/nx-plugin'].build;
    expect(build.outputs).toEqual(['{projectRoot}/dist']);
    expect(build.inputs).toEqual(
      expect.arrayContaining([
        '{projectRoot}/src/**/*',
        '!{projectRoot}/src/**/*.spec.ts',
        '{projectRoot}/native/**/*',
        { env: 'CC' },
        { externalDependencies: ['typescript'] },
      ]),
    );
  });
});
