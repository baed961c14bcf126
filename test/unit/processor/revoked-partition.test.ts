// Partitions taken away by a rebalance: their state goes, and nothing of theirs is committed by
// this process any more (the new owner commits them), even for a batch that was on its way.
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/hours.ts';
import { createFakeConsumer, inboundRecord } from '../../support/fake-consumer.ts';
import { startSummingProcessor, type StoredRow } from './summing-model.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;

async function start() {
  const consumer = createFakeConsumer();
  const stored: StoredRow[] = [];
  const processor = await startSummingProcessor(consumer, { now: () => H0 + 3 * HOUR_MS, stored });
  return { consumer, processor, stored };
}

/** Record `offset` of `partition`: a sample of hour 0 and one of hour 2 (which settles hour 0, so its records can be committed). */
const record = (partition: number, offset: number) =>
  inboundRecord(BigInt(offset), [{ labels: { __name__: 'm', pod: `p${offset}` }, samples: [{ t: H0 + MIN, v: 1 }, { t: H0 + 2 * HOUR_MS + 10 * MIN, v: 1 }] }], {
    partition,
    cluster: `c${partition}`,
    timestamp: H0 + 3 * HOUR_MS,
  });

describe('a revoked partition', () => {
  // Regression: a batch that waited for its partition's start (a broker round trip) while the
  // partition was revoked created the partition's state after the revocation, so the next flush
  // committed offsets for a partition this process no longer owned.
  it('takes no batch that was on its way when the partition was revoked, and commits nothing for it', async () => {
    const { consumer, processor, stored } = await start();
    await consumer.deliver(1, [record(1, 0)]);
    const release = consumer.holdPartitionStart();
    const late = consumer.deliver(0, [record(0, 0), record(0, 1)]);
    consumer.revoke([0]);
    release();
    await late;
    await processor.flush();
    expect([...new Set(stored.map((r) => r.cluster))]).toEqual(['c1']);
    expect(consumer.commitCalls.map((c) => c.partition)).toEqual([1]);
    await processor.close();
  });

  it('is taken up again from its committed offset when it is assigned again', async () => {
    const { consumer, processor, stored } = await start();
    await consumer.deliver(0, [record(0, 0)]);
    await processor.flush();
    consumer.revoke([0]);
    await consumer.deliver(0, [record(0, 0), record(0, 1)]);
    await processor.flush();
    expect(stored.filter((r) => r.hour === H0).map((r) => r.sum)).toEqual([1, 2]);
    expect(consumer.commits.get(0)?.offset).toBe(0n);
    await processor.close();
  });
});
