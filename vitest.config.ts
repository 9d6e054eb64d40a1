import { defineConfig } from 'vitest/config';

// Suites that drive real services (dockerd, Prometheus) are slow to start and share one dockerd:
// run files in parallel (2 cores in CI) but give slow service tests generous timeouts.
export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'projections/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
