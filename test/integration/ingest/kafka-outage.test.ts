// Kafka down: the receiver answers 503 with Retry-After and acknowledges nothing; once the broker
// is back, the sender's retry of the same body is accepted and consumed exactly as sent.
// This file owns its broker, so stopping it does not disturb other test files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { startBroker, type BrokerHandle } from '../../support/kafka-broker.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, type FixtureSeries } from '../../support/remote-write-fixtures.ts';
import { consumeAll, startTestService, uniqueTopic, waitFor, waitReady } from '../../support/service.ts';
import { decodeMessage } from '../../support/records.ts';

// Relative to now: samples further than MAX_SAMPLE_FUTURE ahead would be refused.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;

describe('Kafka outage', () => {
  let broker: BrokerHandle;
  let service: RunningService;
  const topic = uniqueTopic('outage');

  beforeAll(async () => {
    broker = await startBroker({ port: 19392, fresh: true });
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: broker.brokers.join(','), KAFKA_TOPIC: topic, KAFKA_PRODUCE_TIMEOUT: '3s', KAFKA_TOPIC_PARTITIONS: '1' });
    await waitReady(service);
  });
  afterAll(async () => {
    await service?.stop();
    await broker?.stop();
  });

  const post = (body: Uint8Array<ArrayBuffer>) =>
    fetch(`${service.url}/api/v1/write`, { method: 'POST', headers: { ...RW1_HEADERS, 'cloud-account-id': 'tenant-a' }, body });

  it('answers 503 while the broker is down and accepts the identical retry after it is back', async () => {
    const before: FixtureSeries[] = [{ labels: { __name__: 'node_ram_hourly_cost', node: 'n1', cluster_id: 'c1' }, samples: [{ t: T0, v: 0.004 }] }];
    expect((await post(snappyCompress(writeRequestV1(before)))).status).toBe(204);

    await broker.stop();
    const during: FixtureSeries[] = [
      { labels: { __name__: 'container_memory_allocation_bytes', namespace: 'db', pod: 'pg-0', cluster_id: 'c1' }, samples: [{ t: T0 + 60_000, v: 2 ** 31 }, { t: T0 + 120_000, v: 2 ** 32 }] },
    ];
    const body = snappyCompress(writeRequestV1(during));
    const started = Date.now();
    const refused = await post(body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.text()).toMatch(/Kafka/);
    // Bounded: the produce timeout (3 s) plus scheduling, never a client's unbounded retries.
    expect(Date.now() - started).toBeLessThan(15_000);
    await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 503, 20_000, 'readiness to turn false');
    // While down, further requests are refused fast rather than queued.
    expect((await post(body)).status).toBe(503);

    await broker.start();
    await waitReady(service, 90_000);
    // The sender retries the byte-identical body.
    expect((await post(body)).status).toBe(204);

    const messages = (await consumeAll(broker.brokers, topic, 2)).map(decodeMessage);
    const samples = messages.flatMap((m) => m.series.flatMap((s) => s.samples.map((x) => ({ pod: s.labels.pod, ...x }))));
    // The first request, then the retried one exactly as sent. A 503 may still have reached the log
    // (the processor de-duplicates), but nothing else may appear and nothing may be altered.
    expect(samples[0]).toEqual({ pod: undefined, t: T0, v: 0.004 });
    const retried = samples.slice(1);
    expect(retried.length % 2).toBe(0);
    for (let i = 0; i < retried.length; i += 2) {
      expect(retried.slice(i, i + 2)).toEqual([
        { pod: 'pg-0', t: T0 + 60_000, v: 2 ** 31 },
        { pod: 'pg-0', t: T0 + 120_000, v: 2 ** 32 },
      ]);
    }
    for (const m of messages) expect(m.key).toEqual({ tenant: 'tenant-a', cluster: 'c1' });
  });
});
