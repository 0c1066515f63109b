// Jest runs the TypeScript sources through ts-jest; type checking is done once by `npm run typecheck`.
// One switch picks the database for the whole suite: TEST_DATABASE_URL=postgres://… runs every test file
// on PostgreSQL (a fresh database per file) and adds the PostgreSQL-only files under test/postgres/.
const onPostgres = /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL ?? '');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(onPostgres ? [] : ['<rootDir>/test/postgres/'])],
  globalSetup: '<rootDir>/test/helpers/databaseRun.ts',
  globalTeardown: '<rootDir>/test/helpers/databaseRun.ts',
  transform: {
    '^.+\\.ts$': 'ts-jest',
    // jose 6 ships only ES modules; Jest's CommonJS runtime needs them transpiled.
    '^.+/node_modules/jose/dist/webapi/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/dist/webapi/)'],
  testTimeout: 30000,
  maxWorkers: 2,
};
