/**
 * The pipeline's phases, `projects/ci-status/phases.json`, and phase
 * alignment: which phase each Nx target belongs to, and whether a target run
 * fits the current phase.
 *
 * Five phases: environment setup, LLVM backend, Rust target, emulation
 * testing, integration. Each phase lists the targets (`project:target`, `*` allowed
 * for the target) that do its work.
 *
 * Alignment rule: a target of a later phase than the current one is flagged
 * (work ahead of the plan); targets of the
 * current or earlier phases are aligned, because Nx runs earlier phases'
 * targets as dependencies of later ones.
 */
import { z } from 'zod';

/** One phase. */
export const phaseSchema = z
  .object({
    /** Stable id, e.g. `rust-target`. */
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'expected a kebab-case id'),
    /** Position in the pipeline, 1-based. */
    number: z.number().int().min(1),
    name: z.string().min(1),
    expected_duration_days: z.number().positive().optional(),
    deliverables: z.array(z.string()).default([]),
    success_criteria: z.array(z.string()).default([]),
    /** Targets that do this phase's work: `project:target` or `project:*`. */
    targets: z
      .array(z.string().regex(/^[a-z0-9_-]+:([a-z0-9_-]+|\*)$/, "expected 'project:target' or 'project:*'"))
      .default([]),
  })
  .strict();

/** The phases file. */
export const phasesFileSchema = z
  .object({
    $schema: z.string().optional(),
    schema_version: z.literal('1.0'),
    phases: z
      .array(phaseSchema)
      .min(1, 'expected at least one phase')
      .superRefine((phases, ctx) => {
        const ids = new Set<string>();
        phases.forEach((p, i) => {
          if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate phase id '${p.id}'` });
          ids.add(p.id);
          if (p.number !== i + 1)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'number'],
              message: `expected ${i + 1} (phases are listed in order)`,
            });
        });
      }),
  })
  .strict();

/** One phase as validated. */
export type Phase = z.output<typeof phaseSchema>;
/** The validated phases file. */
export type PhasesFile = z.output<typeof phasesFileSchema>;

/** File name in the status directory. */
export const PHASES_FILE = 'phases.json';

/**
 * Finds a phase by id (`rust-target`) or by number (`3` or `phase-3`).
 * @returns undefined when there is none.
 */
export function findPhase(phases: PhasesFile, ref: string): Phase | undefined {
  const n = /^(?:phase-)?(\d+)$/.exec(ref);
  return phases.phases.find((p) => p.id === ref || (n !== null && p.number === Number(n[1])));
}

/** The phase whose `targets` list the given project and target, or undefined. */
export function phaseOfTarget(phases: PhasesFile, project: string, target: string): Phase | undefined {
  return phases.phases.find((p) => p.targets.some((t) => t === `${project}:${target}` || t === `${project}:*`));
}

/** Result of a phase alignment check. */
export interface PhaseAlignment {
  aligned: boolean;
  /** Phase of the target, when the phases file names it. */
  targetPhase?: Phase;
  /** Current phase, when one is set. */
  currentPhase?: Phase;
  /** Why it is not aligned (for a warning). */
  reason?: string;
}

/**
 * Checks a target run against the current phase (rule in the module doc).
 * A target no phase lists, or no current phase, is aligned.
 */
export function checkPhaseAlignment(
  phases: PhasesFile,
  currentPhaseId: string | undefined,
  project: string,
  target: string,
): PhaseAlignment {
  const targetPhase = phaseOfTarget(phases, project, target);
  const currentPhase = currentPhaseId ? findPhase(phases, currentPhaseId) : undefined;
  if (!targetPhase || !currentPhase) return { aligned: true, targetPhase, currentPhase };
  if (targetPhase.number <= currentPhase.number) return { aligned: true, targetPhase, currentPhase };
  return {
    aligned: false,
    targetPhase,
    currentPhase,
    reason: `${project}:${target} belongs to phase ${targetPhase.number} (${targetPhase.name}) but the pipeline is in phase ${currentPhase.number} (${currentPhase.name}); finish the current phase or run \`nextrust set-phase ${targetPhase.id}\``,
  };
}
