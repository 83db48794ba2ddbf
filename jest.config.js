// Jest runs the TypeScript tests in test/*.test.ts (and test/**/*.test.ts) with ts-jest,
// type-checked against tsconfig.test.json. Native C++ tests run before jest, from
// tools/run-native-tests.js (see `npm test`).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json', 'node'],
  testTimeout: 60000,
  // At least two workers: jest's default (cores - 1) is one on a 2-core machine, which ran the
  // suites that mostly wait on child compilers (amalgamation, mxnet: ~50 s each) one after another.
  maxWorkers: Math.max(2, require('os').cpus().length - 1),
  // Keep artefacts of other tools out of the haste map.
  modulePathIgnorePatterns: ['<rootDir>/build', '<rootDir>/build-.*', '<rootDir>/dist', '<rootDir>/prebuilds'],
};
