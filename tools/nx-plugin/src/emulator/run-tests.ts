/**
 * Runs the emulator tests of one CPU variant: every test case whose program
 * the build manifest lists for that CPU runs under qemu-m68k (or, with the
 * `previous` emulator, in NeXTSTEP on an emulated NeXT machine: previous.ts)
 * and is checked against its assertions. Writes `<outputDir>/results.json` and
 * `<outputDir>/junit.xml` (and, for `previous`, the run's `previous.cfg` and
 * Previous's log `previous.log`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildManifest } from '../build/programs';
import { cpuInfo } from '../toolchain/cpu';
import { readJson, readToolchainManifest, writeJson } from '../toolchain/manifest';
import { checkAssertion } from './assertions';
import { toJUnitXml } from './junit';
import { retryableFailure, type CaseResult, type EmulatorTestReport, type RetryableFailure } from './results';
import {
  executableFormat,
  previousSettings,
  runUnderPrevious,
  type GuestCase,
  type PreviousSettings,
} from './previous';
import { runUnderQemu } from './qemu';
import { readTestCases, type Assertion } from './test-manifest';

export {
  RETRYABLE_FAILURES,
  retryableFailure,
  type CaseResult,
  type EmulatorTestReport,
  type RetryableFailure,
} from './results';

/** Options of runEmulatorTests; paths workspace-relative unless absolute. */
export interface EmulatorTestOptions {
  workspaceRoot: string;
  cpu: string;
  emulator: 'qemu' | 'previous';
  testsDir: string;
  buildManifest: string;
  outputDir: string;
  /** Default per-case timeout, ms. */
  timeoutMs: number;
  /** Called as each case finishes (progress). */
  onCase?: (c: CaseResult) => void;
  /** Where the `previous` emulator's settings (NEXTRUST_PREVIOUS*) are read, and its environment; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What an emulator run of a case gives (qemu or Previous): the fields CaseResult copies. */
type CaseRun = Pick<CaseResult, 'command' | 'exitCode' | 'timedOut' | 'durationMs' | 'stdout' | 'stderr'>;

/** The result of a case that ran: passed when nothing stopped the run (`error` null) and every assertion holds. */
function ranCase(
  base: CaseResult,
  run: CaseRun,
  assertions: CaseResult['assertions'],
  error: string | null,
): CaseResult {
  const { command, exitCode, timedOut, durationMs, stdout, stderr } = run;
  const passed = !error && assertions.every((a) => a.passed);
  return { ...base, passed, command, exitCode, timedOut, durationMs, stdout, stderr, error, assertions };
}

/**
 * Runs the cases and writes the reports.
 * @throws Error when the build manifest or toolchain manifest is missing;
 *   PreviousSetupError, before anything runs, for the `previous` emulator
 *   without its ROM, disk image or executable, or on a CPU no NeXT machine has;
 *   ConfigError for a bad test manifest.
 */
export async function runEmulatorTests(o: EmulatorTestOptions): Promise<EmulatorTestReport> {
  const ws = o.workspaceRoot;
  cpuInfo(o.cpu);
  const env = o.env ?? process.env;
  const previous: PreviousSettings | null = o.emulator === 'previous' ? previousSettings(o.cpu, env, ws) : null;
  /** Cases for Previous, run together in one boot after the loop; `slot` is their place in `results`. */
  const forPrevious: { slot: number; base: CaseResult; guest: GuestCase; expect: Assertion[] }[] = [];
  let previousFiles: { config: string; log: string } | null = null;
  const build = readJson<BuildManifest>(path.resolve(ws, o.buildManifest), `rust-target:build:${o.cpu}`);
  const toolchain = readToolchainManifest(path.resolve(ws, build.toolchainManifest));
  const cases = readTestCases(path.resolve(ws, o.testsDir));
  const buildDir = path.dirname(o.buildManifest);
  const results: CaseResult[] = [];
  const notApplicable: string[] = [];
  for (const { file, testCase: tc } of cases) {
    const base: CaseResult = {
      name: tc.name,
      program: tc.program,
      cpu: o.cpu,
      passed: false,
      command: null,
      exitCode: null,
      timedOut: false,
      durationMs: 0,
      stdout: '',
      stderr: '',
      error: null,
      assertions: [],
    };
    if (build.programs && !build.programs.includes(tc.program)) {
      // A typo or a removed program: fail loudly instead of skipping the case.
      const where = path.join(o.testsDir, path.basename(file));
      results.push({
        ...base,
        error: `${where}: field 'program': no program '${tc.program}' in the build (its programs: ${build.programs.join(', ')})`,
      });
      continue;
    }
    if (tc.cpus && !tc.cpus.includes(o.cpu as never)) {
      notApplicable.push(tc.name);
      continue;
    }
    const artifact = build.artifacts.find((a) => a.name === tc.program && (tc.run ? a.kind === 'executable' : true));
    if (!artifact && !tc.cpus) {
      notApplicable.push(tc.name);
      continue;
    }
    let result: CaseResult;
    if (!artifact) {
      result = { ...base, error: `program '${tc.program}' is not in ${o.buildManifest}` };
    } else if (!tc.run) {
      const assertions = tc.expect.map((a) => checkAssertion(a, null, ws, { buildDir, testsDir: o.testsDir }));
      result = { ...base, passed: assertions.every((a) => a.passed), assertions };
    } else if (previous) {
      const program = path.resolve(ws, artifact.path);
      const format = executableFormat(program);
      if (!format || !previous.guestFormats.includes(format)) {
        result = {
          ...base,
          error: `${artifact.path} is ${format === 'elf' ? 'an m68k ELF (Linux) executable' : format === 'mach-o' ? 'a Mach-O executable' : 'no m68k executable this backend knows'}; the Previous guest runs ${previous.guestFormats.join(', ')} executables (NEXTRUST_PREVIOUS_GUEST_FORMATS)`,
        };
      } else {
        forPrevious.push({
          slot: results.length,
          base,
          expect: tc.expect,
          guest: { name: tc.name, program, args: tc.args, stdin: tc.stdin, timeoutMs: tc.timeoutMs ?? o.timeoutMs },
        });
        results.push(base); // replaced once the boot ran
        continue;
      }
    } else {
      const timeoutMs = tc.timeoutMs ?? o.timeoutMs;
      const attempt = async (): Promise<{ result: CaseResult; retryable: RetryableFailure | null }> => {
        const run = await runUnderQemu({
          qemu: toolchain.qemu.qemuM68k.path,
          m68kSysroot: build.m68kSysroot,
          cpu: o.cpu,
          program: path.resolve(ws, artifact.path),
          args: tc.args,
          stdin: tc.stdin,
          timeoutMs,
          cwd: ws,
        });
        const outcome = {
          exitCode: run.exitCode,
          stdout: run.stdout,
          stderr: run.stderr,
          all: run.all,
          timedOut: run.timedOut,
        };
        const assertions = tc.expect.map((a) => checkAssertion(a, outcome, ws, { buildDir, testsDir: o.testsDir }));
        const error = run.startError
          ? `cannot run ${toolchain.qemu.qemuM68k.path}: ${run.startError}`
          : run.timedOut
            ? `timed out after ${timeoutMs} ms (output so far kept)`
            : null;
        const result = ranCase(base, run, assertions, error);
        return { result, retryable: result.passed ? null : retryableFailure(run) };
      };
      const first = await attempt();
      result = first.result;
      if (first.retryable) {
        const again = await attempt();
        const { exitCode, timedOut, durationMs, error, stdout, stderr } = first.result;
        result = {
          ...again.result,
          retry: { class: first.retryable, first: { exitCode, timedOut, durationMs, error, stdout, stderr } },
        };
      }
    }
    results.push(result);
    o.onCase?.(result);
  }
  if (previous && forPrevious.length) {
    const ran = await runUnderPrevious({ settings: previous, cases: forPrevious.map((c) => c.guest), env });
    previousFiles = { config: ran.config, log: ran.log };
    forPrevious.forEach(({ slot, base, expect }, i) => {
      const run = ran.runs[i];
      const assertions = expect.map((a) => checkAssertion(a, run, ws, { buildDir, testsDir: o.testsDir }));
      const result = ranCase(base, run, assertions, run.error);
      results[slot] = result;
      o.onCase?.(result);
    });
  }
  const report: EmulatorTestReport = {
    cpu: o.cpu,
    emulator: o.emulator,
    passed: results.filter((r) => r.passed).length,
    failed: results.filter((r) => !r.passed).length,
    notApplicable,
    cases: results,
  };
  const outDir = path.resolve(ws, o.outputDir);
  await fs.promises.rm(outDir, { recursive: true, force: true });
  await writeJson(path.join(outDir, 'results.json'), report);
  await fs.promises.writeFile(path.join(outDir, 'junit.xml'), toJUnitXml(`emulator-tests.${o.cpu}`, results));
  if (previousFiles) {
    await fs.promises.writeFile(path.join(outDir, 'previous.cfg'), previousFiles.config);
    await fs.promises.writeFile(path.join(outDir, 'previous.log'), previousFiles.log);
  }
  return report;
}
