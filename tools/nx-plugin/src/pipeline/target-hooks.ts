/**
 * The post-target hooks every nextrust executor runs (through runTarget):
 * before the work, phase alignment; after it, a status activity and, when the
 * target failed, failure analysis whose diagnosis is printed right under the
 * error, with design escalation (src/ai) for unknown failures. Hook problems (a locked or unwritable status dir, an invalid
 * database) are printed as warnings and never change the target's result.
 *
 * Backoff counting and design escalation are automation for CI: they run when
 * automationWanted() says so (CI=true, or NEXTRUST_ESCALATE=1 on a developer's
 * machine), and never for a user error (failure-analysis.ts).
 */
import { designEscalation } from '../ai/services';
import { analyzeFailure, type AnalysisOptions, type FailureAnalysis } from './failure-analysis';
import { checkPhaseAlignment } from './phases';
import { resolveStatusDir, StatusStore } from './status-store';

/** One run of a target, as the hooks see it. */
export interface TargetRun {
  workspaceRoot: string;
  project: string;
  target: string;
  configuration?: string;
  /** CPU variant (the configuration, for CPU-dependent targets). */
  cpu?: string;
}

/** Values of CI and NEXTRUST_ESCALATE that mean yes / no (case-insensitive). */
const YES = /^(1|true|yes|on)$/i;
const NO = /^(0|false|no|off)$/i;

/**
 * Whether a failed target's failure counts for backoff and an unknown one goes to design escalation:
 * NEXTRUST_ESCALATE=1 (or true, yes, on) asks for it anywhere, NEXTRUST_ESCALATE=0 (false, no, off) turns it off
 * anywhere; otherwise in CI only, as CI=true says (set by GitHub Actions, GitLab CI and most others:
 * https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables).
 */
export function automationWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const asked = env.NEXTRUST_ESCALATE?.trim() ?? '';
  if (YES.test(asked)) return true;
  if (NO.test(asked)) return false;
  return YES.test(env.CI?.trim() ?? '');
}

/** `project:target[:configuration]`. */
export function taskName(run: TargetRun): string {
  return `${run.project}:${run.target}${run.configuration ? ':' + run.configuration : ''}`;
}

function storeFor(run: TargetRun): StatusStore {
  return new StatusStore(resolveStatusDir(undefined, run.workspaceRoot));
}

/**
 * Phase alignment: warns (and records `phase_misaligned`) when the target
 * belongs to a later phase than the current one.
 * @returns the warning printed, if any.
 */
export async function beforeTarget(run: TargetRun, print: (line: string) => void): Promise<string | undefined> {
  try {
    const store = storeFor(run);
    const { phases } = store.loadPhases();
    if (!phases) return undefined;
    const { state } = store.readState();
    const alignment = checkPhaseAlignment(phases, state.current_phase?.id, run.project, run.target);
    if (alignment.aligned) return undefined;
    const warning = `nextrust: phase alignment: ${alignment.reason}`;
    print(warning);
    await store.append('phase_misaligned', {
      task: taskName(run),
      target_phase: alignment.targetPhase?.id,
      current_phase: alignment.currentPhase?.id,
      message: alignment.reason,
    });
    return warning;
  } catch (e) {
    print(`nextrust: warning: phase alignment not checked: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * Records the outcome; on failure analyses `log` and prints the diagnosis.
 * @param log the failure's output (tool output and error message).
 */
export async function afterTarget(
  run: TargetRun,
  outcome: { success: boolean; durationMs: number; log?: string },
  print: (line: string) => void,
  options: AnalysisOptions = {},
): Promise<FailureAnalysis | undefined> {
  const store = storeFor(run);
  const task = taskName(run);
  if (outcome.success) {
    try {
      await store.append('target_succeeded', {
        task,
        ...(run.cpu ? { cpu: run.cpu } : {}),
        duration_ms: outcome.durationMs,
      });
    } catch (e) {
      print(`nextrust: warning: status not recorded: ${(e as Error).message}`);
    }
    return undefined;
  }
  try {
    const analysis = await analyzeFailure(
      store,
      {
        task,
        project: run.project,
        target: run.target,
        cpu: run.cpu,
        logText: outcome.log ?? '',
        durationMs: outcome.durationMs,
        workspaceRoot: run.workspaceRoot,
      },
      // Unknown failures go to design escalation (skipped, with the reason, without a key or budget), in CI or when asked.
      { escalate: designEscalation(store), automation: automationWanted(options.env ?? process.env), ...options },
    );
    print(analysis.diagnosis);
    return analysis;
  } catch (e) {
    print(`nextrust: warning: failure analysis did not run: ${(e as Error).message}`);
    return undefined;
  }
}
