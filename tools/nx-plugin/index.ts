/**
 * @nextrust/nx-plugin: the NeXTRust pipeline as Nx targets.
 * Nx loads this file for the `plugins` entry in nx.json:
 *  - createNodes (v2 API; also exported as createNodesV2): projects and targets
 *    inferred from every nextrust.json, kept between runs in Nx's workspace
 *    data directory (src/graph/targets-cache.ts);
 *  - preTasksExecution: rejects an unknown CPU configuration of a nextrust
 *    project before tasks run (other projects' configurations pass);
 *  - postTasksExecution: records the run (every task's status, cache hit,
 *    duration) in the status log, from which the metrics are computed.
 * Nx loads this module on every project-graph computation: it imports only the
 * graph modules that load nothing heavy (no @nx/devkit index, no zod); the rest
 * is imported when a hook needs it.
 */
import type { PostTasksExecution, PreTasksExecution } from '@nx/devkit';
import { createNodes } from './src/graph/create-nodes';
import { checkRequestedConfigurations } from './src/graph/configuration-check';

export { createNodes };
/** The same function under its Nx 20-era name, for Nx versions that look for it. */
export const createNodesV2 = createNodes;

/** Runs before Nx runs any task; throws to stop the run, prints warnings otherwise. */
export const preTasksExecution: PreTasksExecution = (_options, context) => {
  for (const w of checkRequestedConfigurations(context.argv)) console.warn(`nextrust: warning: ${w}`);
};

/** Runs after Nx ran the tasks; never fails the run (problems are printed as warnings). */
export const postTasksExecution: PostTasksExecution = async (_options, context) => {
  try {
    const { recordNxRun } = await import('./src/pipeline/run-record');
    await recordNxRun(context.workspaceRoot, context.taskResults as never);
  } catch (e) {
    console.warn(`nextrust: warning: run not recorded: ${(e as Error).message}`);
  }
};
