// The route's own tests again, every request decoded on a worker thread: whatever the route
// answers, publishes, counts and logs must not depend on where the decoding ran.
import { Counter, Gauge, Registry } from 'prom-client';
import { afterAll, expect, vi } from 'vitest';
import type { RemoteWriteOptions } from '../../../receiver/remote-write-route.ts';
import type { RequestDecoder } from '../../../receiver/request-decode.ts';

const pools = vi.hoisted(() => [] as Promise<RequestDecoder>[]);
const decoded = vi.hoisted(() => ({ requests: 0 }));

vi.mock(import('../../../receiver/remote-write-route.ts'), async (importOriginal) => {
  const original = await importOriginal();
  const { startDecodePool } = await import('../../../receiver/decode-pool.ts');
  return {
    ...original,
    remoteWriteRoutes: async (app, options: RemoteWriteOptions) => {
      const registry = new Registry();
      const pool = startDecodePool({
        threads: 1,
        settings: { maxDecodedBytes: options.maxDecodedBytes, records: options.records },
        log: { debug() {}, info() {}, warn() {}, error() {} },
        metrics: {
          decodeThreads: new Gauge({ name: 'threads', help: '-', registers: [registry] }),
          decodeRequests: new Gauge({ name: 'requests', help: '-', labelNames: ['state'], registers: [registry] }),
          decodeWorkerRestarts: new Counter({ name: 'restarts', help: '-', registers: [registry] }),
        },
      });
      pools.push(pool);
      const decoder = await pool;
      app.addHook('onClose', async () => decoder.close());
      const counted: RequestDecoder = { ...decoder, decode: (...args) => (decoded.requests++, decoder.decode(...args)) };
      return original.remoteWriteRoutes(app, { ...options, decoder: counted });
    },
  };
});

afterAll(async () => {
  for (const pool of pools) await (await pool).close();
  // Not vacuous: the requests of those tests did go through the threads.
  expect(decoded.requests).toBeGreaterThan(10);
});

await import('./remote-write-route.test.ts');
