/**
 * The entry Nx loads for this plugin (nx.json `plugins`): the compiled
 * JavaScript in dist/ when `npm run build` made it after the last source edit,
 * else index.ts compiled on the fly (bin/freshness.js decides). Pointing Nx at
 * a .js file spares every graph computation Nx's own TypeScript registration
 * (seconds on this 2-core machine); see index.ts for what the plugin exports.
 */
'use strict';
module.exports = require('./bin/freshness').loadPluginModule(['index']);
