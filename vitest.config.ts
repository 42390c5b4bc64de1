import { defineConfig } from 'vitest/config';

// VITEST_JSON (set by .ci/run) adds a JSON report whose counts CI prints as its closing line.
const json = process.env.VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/broker-global.ts', 'test/setup/browser-global.ts', 'test/setup/xs32-global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
