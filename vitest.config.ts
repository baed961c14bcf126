import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One process per test file: the embedded ClickHouse engine allows one data directory per process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        // Integration tests run the compiled service (built here when stale) and share one real Kafka
        // broker, started here when none is running.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/build-setup.ts', 'test/support/global-setup.ts'] },
      },
    ],
  },
});
