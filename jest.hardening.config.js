/**
 * `npm run test:hardening`: the measured hardening suite (forged identities, CSRF, bad
 * input, load, crashes, lost dependencies). It runs one file at a time so measurements
 * do not compete, records each figure with its bound, and prints a summary table.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/tests/hardening/**/*.hardening.ts'],
  testTimeout: 240000,
  maxWorkers: 1,
  globalSetup: '<rootDir>/tests/hardening/global-setup.js',
  reporters: ['default', '<rootDir>/tests/hardening/summary-reporter.js'],
};
