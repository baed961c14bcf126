import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`): real brokers, processes killed and restarted. Its files
 * mostly wait (a killed consumer's session to expire, a broker to start), so they run side by side
 * with their own --maxWorkers rather than one after the other with the rest.
 */
const FAULTS = [
  'test/integration/faults/**/*.test.ts',
  'test/integration/processor/replay.test.ts',
  'test/integration/processor/faults.test.ts',
  'test/integration/ingest/kafka-outage.test.ts',
];

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
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], exclude: FAULTS, globalSetup: ['test/support/build-setup.ts', 'test/support/global-setup.ts'] },
      },
      { extends: true, test: { name: 'faults', include: FAULTS, globalSetup: ['test/support/build-setup.ts', 'test/support/global-setup.ts'] } },
    ],
  },
});
