/**
 * Executor implementations for executors.json (`./executors.js#<name>`), each
 * loaded on first use from dist/ when fresh, else from its TypeScript source
 * (bin/freshness.js), so running a target does not make Nx compile TypeScript.
 * The executors themselves are src/executors/<name>/executor.ts.
 */
'use strict';
const { loadPluginModule } = require('./bin/freshness');

for (const name of ['backend', 'toolchain', 'atomics', 'sysroot', 'build', 'emulator-test', 'cargo-test', 'bundle']) {
  Object.defineProperty(exports, name, {
    enumerable: true,
    get: () => loadPluginModule(['src', 'executors', name, 'executor']).default,
  });
}
