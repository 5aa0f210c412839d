/**
 * @nextrust/nx-plugin: the NeXTRust pipeline as Nx targets.
 * Nx loads this file for the `plugins` entry in nx.json:
 *  - createNodes (v2 API; also exported as createNodesV2): projects and targets
 *    inferred from every nextrust.json;
 *  - preTasksExecution: rejects an unknown CPU configuration before tasks run.
 */
import type { PreTasksExecution } from '@nx/devkit';
import { createNodes } from './src/graph/create-nodes';
import { checkRequestedConfigurations } from './src/graph/configuration-check';

export { createNodes };
/** The same function under its Nx 20-era name, for Nx versions that look for it. */
export const createNodesV2 = createNodes;

/** Runs before Nx runs any task; throws to stop the run. */
export const preTasksExecution: PreTasksExecution = (_options, context) => {
  checkRequestedConfigurations(context.argv);
};
