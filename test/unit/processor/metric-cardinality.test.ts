// The processor's metrics labelled by tenant and cluster stay bounded whatever the traffic: a
// sender inventing cluster names must not grow /metrics without limit.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createFakeConsumer, inboundRecord } from '../../support/fake-consumer.ts';
import { startSummingProcessor } from './summing-model.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;

/** The label sets of newest_sample_age_seconds, with their values. */
function ageSeries(exposition: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of exposition.matchAll(/^k8s_expenses_processor_newest_sample_age_seconds\{([^}]*)\} (\S+)$/gm)) out.set(m[1], Number(m[2]));
  return out;
}

describe('metrics by tenant and cluster', () => {
  it('keep their own series for the first 500 clusters, report the others together, and forget revoked ones', async () => {
    const consumer = createFakeConsumer();
    const registry = new Registry();
    const now = H0 + 30 * MIN;
    const processor = await startSummingProcessor(consumer, { now: () => now, registry });
    // 600 clusters; cluster i's newest sample is i seconds after H0 (the last ones are the freshest).
    const records = Array.from({ length: 600 }, (_, i) =>
      inboundRecord(BigInt(i), [{ labels: { __name__: 'm', pod: 'p' }, samples: [{ t: H0 + i * 1000, v: 1 }] }], { cluster: `c${i}`, timestamp: now }),
    );
    await consumer.deliver(0, records);
    await processor.flush();
    const series = ageSeries(await registry.metrics());
    expect(series.size).toBe(501);
    expect(series.get('tenant="t1",cluster="c0"')).toBe(30 * 60);
    expect(series.has('tenant="t1",cluster="c500"')).toBe(false);
    // The others together: the oldest newest sample among them, so an alert on it still fires.
    expect(series.get('tenant="other",cluster="other"')).toBe(30 * 60 - 500);

    consumer.revoke([0]);
    await processor.flush();
    expect(ageSeries(await registry.metrics()).size).toBe(0);
    await processor.close();
  });
});
