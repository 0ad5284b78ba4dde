import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Integration tests start real servers on real ports; keep files from competing for the two cores.
    fileParallelism: false,
    testTimeout: 30_000,
    // A suite's beforeAll starts a real server and often runs an experiment: on two loaded cores that can
    // take longer than vitest's 10 s.
    hookTimeout: 60_000,
  },
});
