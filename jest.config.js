/** Jest: TypeScript through ts-jest (CommonJS). Real toolchain tests run serially (2 cores). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tools'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tools/tsconfig.json' }] },
  testTimeout: 600000,
  maxWorkers: 1,
};
