import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests that run servers, containers and namespaces share 2 cores; keep parallelism modest.
    maxWorkers: 2,
  },
});
