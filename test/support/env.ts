// How tests find the shared Kafka broker that test/support/global-setup.ts provides.
//
//   import { testBrokers } from './env.ts';
//   const kafka = new Kafka({ clientId: 'my-test', brokers: testBrokers() });
//
// The global setup publishes the list twice: as the environment variable TEST_KAFKA_BROKERS
// (comma-separated; Vitest's fork workers are spawned after the global setup, so they inherit it,
// and so do child processes a test spawns) and through Vitest's provide/inject as 'kafkaBrokers'.
// Setting TEST_KAFKA_BROKERS before `npm test` points the tests at an existing broker instead.
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap list of the shared test broker, e.g. ['127.0.0.1:9092']. */
    kafkaBrokers: string[];
  }
}

/**
 * The SQL endpoint token of services the tests start (SQL_TOKEN), and what their SQL requests and
 * `npm run sql` send; a test of the token file itself leaves it out.
 */
export const TEST_SQL_TOKEN = 'test-sql-token-0123456789';

/** Headers of a request to a test service's SQL endpoint. */
export const sqlHeaders = (): Record<string, string> => ({ authorization: `Bearer ${TEST_SQL_TOKEN}` });

export function parseBrokerList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Bootstrap list of the shared Kafka broker for tests. */
export function testBrokers(): string[] {
  const fromEnv = parseBrokerList(process.env.TEST_KAFKA_BROKERS);
  if (fromEnv.length > 0) return fromEnv;
  const provided = inject('kafkaBrokers');
  if (provided && provided.length > 0) return [...provided];
  throw new Error(
    'No Kafka broker for tests: run them through Vitest with test/support/global-setup.ts, or set TEST_KAFKA_BROKERS.',
  );
}

/**
 * DECODE_THREADS for the services the tests start, from the test run's own environment, so the
 * same tests run with requests decoded on worker threads (the default) and on the main thread
 * (`DECODE_THREADS=0 npx vitest run ...`). A test that sets it itself wins.
 */
export const testDecodeThreads = (): Record<string, string> => (process.env.DECODE_THREADS ? { DECODE_THREADS: process.env.DECODE_THREADS } : {});
