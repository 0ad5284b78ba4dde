import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  plugins: [svelte()],
  test: {
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Builds the dashboard once for every e2e suite (and clears test-output/).
    globalSetup: ['e2e/build-once.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // The end-to-end test builds the dashboard, starts a real API and a browser: keep files from competing for the two cores.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // The end-to-end test polls the page; under a full `npm test` (every workspace at once) a second is short.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
