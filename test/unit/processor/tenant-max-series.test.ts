// TENANT_MAX_SERIES: a tenant's active series in the processor's state are bounded; over the
// bound, new series are dropped and counted, and other tenants are not affected.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/hours.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor } from '../../../processor/processor.ts';
import { createFakeConsumer, inboundRecord } from '../../support/fake-consumer.ts';
import { metricValue } from '../../support/net.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;

async function start(maxSeriesPerTenant: number) {
  const consumer = createFakeConsumer();
  const stored: HourlyRow[] = [];
  const registry = new Registry();
  const processor = createProcessor<HourlyRow, HourlyRow>({
    consumer,
    sink: { write: async (rows) => void stored.push(...rows) },
    createModel: (admitSeries) => createCostModel({ admitSeries }),
    finishRow: (r) => r,
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 30 * MIN },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(registry),
    logger: pino({ level: 'silent' }),
    maxSeriesPerTenant,
    now: () => H0 + 20 * MIN,
  });
  await processor.start();
  return { consumer, processor, stored, registry };
}

/** One CPU allocation series per pod, three samples each. */
const pods = (...names: string[]) =>
  names.map((pod) => ({
    labels: { __name__: 'container_cpu_allocation', namespace: 'shop', pod, container: 'app', node: 'n1' },
    samples: [0, 1, 2].map((m) => ({ t: H0 + m * MIN, v: 1 })),
  }));

describe('TENANT_MAX_SERIES', () => {
  it('drops and counts the new series of a tenant over the bound, across partitions, and leaves other tenants alone', async () => {
    const { consumer, processor, stored, registry } = await start(3);
    await consumer.deliver(0, [inboundRecord(0n, pods('a', 'b'), { tenant: 'acme', cluster: 'eu' })]);
    await consumer.deliver(1, [inboundRecord(0n, pods('c', 'd'), { partition: 1, tenant: 'acme', cluster: 'us' })]);
    await consumer.deliver(2, [inboundRecord(0n, pods('x', 'y', 'z', 'w'), { partition: 2, tenant: 'other', cluster: 'eu' })]);
    // Series already held keep taking samples.
    await consumer.deliver(0, [inboundRecord(1n, [{ ...pods('a')[0], samples: [{ t: H0 + 3 * MIN, v: 1 }] }], { tenant: 'acme', cluster: 'eu' })]);
    await processor.flush();
    expect(stored.filter((r) => r.tenant_id === 'acme').map((r) => r.pod).sort()).toEqual(['a', 'b', 'c']);
    expect(stored.filter((r) => r.tenant_id === 'other').map((r) => r.pod).sort()).toEqual(['x', 'y', 'z']);
    const metrics = await registry.metrics();
    expect(metricValue(metrics, 'k8s_expenses_processor_series_dropped_total', { reason: 'tenant_max_series' })).toBe(2);
    expect(metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'over_limit' })).toBe(6);
    expect(metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'accepted' })).toBe(19);
    await processor.close();
  });

  it('frees the series of a revoked partition', async () => {
    const { consumer, processor, stored } = await start(2);
    await consumer.deliver(0, [inboundRecord(0n, pods('a', 'b'), { tenant: 'acme', cluster: 'eu' })]);
    consumer.revoke([0]);
    await processor.flush();
    await consumer.deliver(1, [inboundRecord(0n, pods('c', 'd'), { partition: 1, tenant: 'acme', cluster: 'us' })]);
    await processor.flush();
    expect(stored.map((r) => r.pod).sort()).toEqual(['c', 'd']);
    await processor.close();
  });

  it('is off at 0', async () => {
    const { consumer, processor, stored } = await start(0);
    await consumer.deliver(0, [inboundRecord(0n, pods('a', 'b', 'c'), { tenant: 'acme', cluster: 'eu' })]);
    await processor.flush();
    expect(stored).toHaveLength(3);
    await processor.close();
  });
});
