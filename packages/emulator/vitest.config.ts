import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Property tests run thousands of cases; give them room on a busy two-core machine.
    testTimeout: 60_000,
  },
});
