/**
 * @nextrust/nx-plugin: the NeXTRust pipeline as Nx targets.
 * Nx loads this file for the `plugins` entry in nx.json (v2 createNodes API).
 */
import { createNodes } from './src/graph/create-nodes';

export { createNodes };
/** The same function under its Nx 20-era name, for Nx versions that look for it. */
export const createNodesV2 = createNodes;
