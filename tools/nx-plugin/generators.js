/**
 * Generator implementations for generators.json (`./generators.js#<name>`), each
 * loaded on first use from dist/ when fresh, else from its TypeScript source
 * (bin/freshness.js), as executors.js does for the executors. Nx itself can
 * load a generator written in TypeScript only through a tsconfig at the
 * workspace root, which this workspace keeps under tools/ (README, "Two of Nx's
 * own costs"). The generators themselves are src/generators/<name>/generator.ts.
 */
'use strict';
const { loadPluginModule } = require('./bin/freshness');

for (const name of ['program', 'emulator-test']) {
  Object.defineProperty(exports, name, {
    enumerable: true,
    get: () => loadPluginModule(['src', 'generators', name, 'generator']).default,
  });
}
