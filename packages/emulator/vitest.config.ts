import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Property tests run thousands of cases; give them room on a busy two-core machine.
    testTimeout: 60_000,
    // The emulator is pure (no module state a test could leave behind): its files share one import of it
    // instead of each loading and transforming it again, which was over half of the suite's time.
    isolate: false,
  },
});
