/**
 * The entry Nx loads for this plugin (nx.json `plugins`): the compiled
 * JavaScript in dist/ when `npm run build` made it after the last source edit,
 * else index.ts compiled on the fly (bin/freshness.js decides). Pointing Nx at
 * a .js file spares every graph computation Nx's own TypeScript registration
 * (seconds on a 2-core machine); see index.ts for what the plugin exports.
 *
 * The workspace's .env turns Nx's plugin isolation off, so Nx loads this
 * module into its own process, and the daemon keeps it for its whole life.
 * Each call therefore checks first whether the plugin's code changed since it
 * was loaded (the dist/ build stamp and the newest source mtime) and, if so,
 * loads it again, so that an edit to the plugin is seen by the next graph
 * computation as it is with a fresh worker per command.
 */
'use strict';
const { codeVersion, forgetPluginModules, loadPluginModule } = require('./bin/freshness');

let loaded;
let loadedVersion;

/** index.ts's exports, loaded again when the plugin's code changed since the last load. */
function current() {
  const version = codeVersion(__dirname);
  if (loaded === undefined || version !== loadedVersion) {
    if (loaded !== undefined) forgetPluginModules(__dirname);
    loaded = loadPluginModule(['index']);
    loadedVersion = version;
  }
  return loaded;
}

const [glob] = current().createNodesV2;
/** Nx's createNodes (v2 API): `[glob, (configFiles, options, context) => results]`. */
const createNodes = [glob, (files, options, context) => current().createNodesV2[1](files, options, context)];

module.exports = {
  createNodes,
  createNodesV2: createNodes,
  preTasksExecution: (options, context) => current().preTasksExecution(options, context),
  postTasksExecution: (options, context) => current().postTasksExecution(options, context),
};
