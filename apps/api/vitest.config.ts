import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Integration tests start real servers on real ports; keep files from competing for the two cores.
    fileParallelism: false,
    // Every file builds its own servers, databases and Redis from the same modules: they load once, not
    // once a file (about 100 s of a 480 s suite).
    isolate: false,
    testTimeout: 30_000,
    // A suite's beforeAll starts a real server and often runs an experiment: on two loaded cores that can
    // take longer than vitest's 10 s.
    hookTimeout: 60_000,
  },
});
