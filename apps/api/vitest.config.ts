import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Integration tests start real servers on real ports; keep files from competing for the two cores.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
