// The GitHub workflows: each validates against GitHub's workflow schema with a real
// validator (@action-validator/cli), a broken one is refused, and each does what the
// pipeline needs (nx affected over the CPU matrix, caches, artifact hashes, checks from
// the real job status; slash commands without the comment body in any shell; rotation).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { WORKSPACE_ROOT } from './scratch-workspace';

const DIR = path.join(WORKSPACE_ROOT, '.github/workflows');
const VALIDATOR = path.join(WORKSPACE_ROOT, 'node_modules/.bin/action-validator');
const workflows = fs.readdirSync(DIR).filter((f) => f.endsWith('.yml'));
const load = (f: string) => parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
const runs = (wf: any): string[] =>
  Object.values(wf.jobs as Record<string, any>).flatMap((j) => (j.steps as any[]).map((s) => s.run).filter(Boolean));
const uses = (wf: any): string[] =>
  Object.values(wf.jobs as Record<string, any>).flatMap((j) => (j.steps as any[]).map((s) => s.uses).filter(Boolean));

/**
 * The validator's workflow schema (@action-validator/cli 0.6, the newest on npm) predates GitHub's `attestations`
 * permission, which the attest job needs (https://github.com/actions/attest-build-provenance#usage). A workflow is
 * validated with each `attestations: write` line of a job's `permissions` taken out; the test below fails once the
 * validator knows the permission, and then this goes.
 * @returns the workflow text to validate, and how many lines were taken out.
 */
function withoutAttestationsPermission(text: string): { text: string; removed: number } {
  const re = /^ {6}attestations: write\n/gm;
  return { text: text.replace(re, ''), removed: (text.match(re) ?? []).length };
}

describe('GitHub workflows', () => {
  it.each(workflows)('%s validates against the GitHub workflow schema', (f) => {
    const { text, removed } = withoutAttestationsPermission(fs.readFileSync(path.join(DIR, f), 'utf8'));
    expect(removed).toBe(f === 'ci.yml' ? 1 : 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wf-'));
    try {
      fs.writeFileSync(path.join(dir, f), text);
      const r = spawnSync(VALIDATOR, [path.join(dir, f)], { encoding: 'utf8', cwd: WORKSPACE_ROOT });
      expect({ file: f, status: r.status, output: r.stdout + r.stderr }).toEqual({ file: f, status: 0, output: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the validator refuses a broken workflow', () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wf-')), 'bad.yml');
    fs.writeFileSync(
      bad,
      fs.readFileSync(path.join(DIR, 'ci.yml'), 'utf8').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'),
    );
    const r = spawnSync(VALIDATOR, [bad], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("Additional property 'runs_on' is not allowed");
  });

  it('CI runs nx affected over m68030 and m68040 with caches, artifacts, hashes and a real check conclusion', () => {
    const wf = load('ci.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
    expect(wf.jobs.affected.strategy.matrix.cpu).toEqual(['m68030', 'm68040']);
    expect(uses(wf)).toEqual(
      expect.arrayContaining(['nrwl/nx-set-shas@v4', 'actions/cache@v4', 'actions/upload-artifact@v4']),
    );
    const all = runs(wf).join('\n');
    expect(all).toContain('npx nx affected -t build test --configuration=${{ matrix.cpu }}');
    expect(all).toContain('npx nextrust record-artifacts');
    expect(all).toContain(
      'npx nextrust github-check --name "NeXTRust (${CPU_VARIANT})" --job-status "${{ job.status }}"',
    );
    expect(all).not.toMatch(/conclusion.*success/);
    // Matrix jobs write separate status directories.
    expect(wf.jobs.affected.env.NEXTRUST_STATUS_DIR).toContain('${{ matrix.cpu }}');
    expect(wf.jobs.affected.env.CPU_VARIANT).toBe('${{ matrix.cpu }}');
  });

  it('CI caches the Nx cache with its database, Debian packages and npm, installs no test-only tools for the pipeline, and runs the quality gates and the plugin unit tests', () => {
    const wf = load('ci.yml');
    const steps = (job: string) =>
      wf.jobs[job].steps as { name?: string; uses?: string; run?: string; with?: Record<string, string> }[];
    const cached = (job: string) =>
      steps(job)
        .filter((s) => s.uses === 'actions/cache@v4')
        .map((s) =>
          s
            .with!.path.trim()
            .split('\n')
            .map((p) => p.trim()),
        );
    // The Nx cache and its database are one cache entry, in the folders the job points Nx at.
    expect(cached('affected')).toContainEqual(['.nx/cache', '.nx/workspace-data']);
    expect(wf.jobs.affected.env.NX_CACHE_DIRECTORY).toBe('${{ github.workspace }}/.nx/cache');
    expect(wf.jobs.affected.env.NX_WORKSPACE_DATA_DIRECTORY).toBe('${{ github.workspace }}/.nx/workspace-data');
    const nxKey = steps('affected').find((s) => s.name === 'Nx cache')!.with!.key;
    expect(nxKey).not.toContain('package-lock.json');
    for (const job of ['affected', 'plugin']) {
      expect(cached(job)).toContainEqual(['/var/cache/apt/archives']);
      expect(cached(job)).toContainEqual(['~/.npm']);
      // The container's apt deletes downloaded packages unless told not to.
      expect(steps(job)[0].run).toContain('rm -f /etc/apt/apt.conf.d/docker-clean');
    }
    const affectedRuns = steps('affected')
      .map((s) => s.run ?? '')
      .join('\n');
    expect(affectedRuns).toContain('bash scripts/setup.sh --no-main-job --no-test-tools');
    const pluginRuns = steps('plugin')
      .map((s) => s.run ?? '')
      .join('\n');
    expect(pluginRuns).toContain('npm run check');
    expect(pluginRuns).toContain('npx jest tools/nx-plugin/src');
    // The remote cache secrets are the ones docs/remote-cache.md tells users to create.
    const docs = fs.readFileSync(path.join(WORKSPACE_ROOT, 'docs/remote-cache.md'), 'utf8');
    for (const secret of new Set(JSON.stringify(wf.jobs.affected.env).match(/secrets\.NX_[A-Z_]+/g)!))
      expect(docs).toContain(secret.replace('secrets.', ''));
  });

  it('CI bundles each CPU after its tests, checks and uploads dist/release/<cpu>, and attests the tarball in a job of its own', () => {
    const wf = load('ci.yml');
    const steps = (job: string) =>
      wf.jobs[job].steps as {
        name?: string;
        uses?: string;
        run?: string;
        if?: string;
        with?: Record<string, string>;
      }[];
    const affected = steps('affected');
    const at = (pred: (s: (typeof affected)[number]) => boolean) => affected.findIndex(pred);
    const tests = at((s) => !!s.run?.includes('npx nx affected -t build test'));
    const bundle = at(
      (s) => s.run === 'npx nx run ci-status:bundle --configuration=${{ matrix.cpu }} --output-style=static',
    );
    const check = at((s) => s.run === 'cd "dist/release/${CPU_VARIANT}" && sha256sum -c SHA256SUMS');
    const upload = at(
      (s) => s.uses === 'actions/upload-artifact@v4' && s.with?.path === 'dist/release/${{ matrix.cpu }}',
    );
    expect(tests).toBeGreaterThanOrEqual(0);
    expect([bundle > tests, check > bundle, upload > check]).toEqual([true, true, true]);
    // a failed bundle fails the job: no `if: always()`, and an empty upload is an error
    expect([affected[bundle].if, affected[upload].if]).toEqual([undefined, undefined]);
    expect(affected[upload].with?.['if-no-files-found']).toBe('error');

    const attest = wf.jobs.attest;
    expect(attest.needs).toBe('affected');
    expect(attest.strategy.matrix.cpu).toEqual(wf.jobs.affected.strategy.matrix.cpu);
    // least privilege: exactly what attest-build-provenance documents, never write-all
    expect(attest.permissions).toEqual({ 'id-token': 'write', attestations: 'write', contents: 'read' });
    expect(wf.permissions).not.toBe('write-all');
    const attestSteps = steps('attest');
    expect(attestSteps.map((s) => s.uses ?? s.run)).toEqual([
      'actions/download-artifact@v4',
      'cd release && sha256sum -c SHA256SUMS',
      'actions/attest-build-provenance@v2',
    ]);
    expect(attestSteps[0].with?.name).toBe(affected[upload].with?.name);
    expect(attestSteps[2].with?.['subject-path']).toBe(`${attestSteps[0].with?.path}/*.tar.gz`);
    // the job runs no repository code: no checkout, no npm
    expect(JSON.stringify(attestSteps)).not.toMatch(/checkout|npx|npm /);
  });

  it('the validator has no `attestations` permission (why withoutAttestationsPermission exists)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wf-'));
    try {
      const named = path.join(dir, 'named.yml');
      const text = fs.readFileSync(path.join(DIR, 'ci.yml'), 'utf8');
      expect(text).toContain('      attestations: write\n');
      fs.writeFileSync(named, text);
      const r = spawnSync(VALIDATOR, [named], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toContain("Additional property 'attestations' is not allowed");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setup.sh --no-test-tools leaves out chromium and jq and keeps the toolchain', () => {
    const listed = (testTools: boolean) => {
      const r = spawnSync('bash', ['scripts/setup.sh', '--list-packages', ...(testTools ? [] : ['--no-test-tools'])], {
        encoding: 'utf8',
        cwd: WORKSPACE_ROOT,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      return r.stdout.trim().split('\n');
    };
    expect(listed(true)).toEqual(expect.arrayContaining(['chromium', 'jq', 'qemu-user', 'rustc-web']));
    expect(listed(false)).toEqual(expect.arrayContaining(['qemu-user', 'rustc-web', 'gcc-m68k-linux-gnu']));
    expect(listed(false)).not.toContain('chromium');
    expect(listed(false)).not.toContain('jq');
  });

  it('slash commands read the payload file and never put the comment body into a shell', () => {
    const wf = load('slash-commands.yml');
    expect(wf.on.issue_comment.types).toEqual(['created']);
    const all = runs(wf).join('\n');
    expect(all).toContain('npx nextrust slash --event "$GITHUB_EVENT_PATH"');
    for (const f of workflows) {
      for (const r of runs(load(f))) expect(r).not.toMatch(/github\.event\.(comment|issue|pull_request)\.(body|title)/);
    }
  });

  it('maintenance rotates the status weekly', () => {
    const wf = load('maintenance.yml');
    expect(wf.on.schedule).toEqual([{ cron: '0 0 * * 0' }]);
    expect(runs(wf).join('\n')).toContain('npx nextrust rotate-status --days 30');
  });
});
