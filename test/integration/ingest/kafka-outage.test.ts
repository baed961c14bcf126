// Kafka down: the receiver answers 503 with Retry-After and acknowledges nothing; once the broker
// is back it accepts writes again by itself.
// - One request: the sender's retry of the same body is accepted and consumed exactly as sent.
// - Under load: the broker is restarted while a sender streams kubecost traffic and retries every
//   refusal, as Prometheus does; every acknowledged sample ends up in ClickHouse exactly once
//   (the rows equal what the pure cost model computes from the acknowledged requests).
// This file owns its broker, so stopping it does not disturb other test files.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUrl, tempDataDir } from '../../support/embedded.ts';
import { diffPodHours, totalsByCluster } from '../../support/expenses.ts';
import { modelPodHours } from '../../support/expected-rows.ts';
import { startBroker, type BrokerHandle } from '../../support/kafka-broker.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { finalRows } from '../../support/process-logs.ts';
import { FAULT_HOURS_ENV } from '../../support/processor-runs.ts';
import { decodeMessage } from '../../support/records.ts';
import { faultFigures, formatFigures, startSender } from '../../support/remote-write-sender.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, type FixtureSeries } from '../../support/remote-write-fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { consumeAll, uniqueTopic, waitFor } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
// Relative to now: samples further than MAX_SAMPLE_FUTURE ahead would be refused.
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

const readiness = async (service: ServiceProcess): Promise<number> => (await fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(5_000) })).status;

describe('Kafka outage', () => {
  let broker: BrokerHandle;
  const services: ServiceProcess[] = [];
  const dataDir = tempDataDir('kafka-outage');

  const start = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const service = await startServiceProcess({ env: { KAFKA_BROKERS: broker.brokers.join(','), KAFKA_PRODUCE_TIMEOUT: '3s', PORT: '0', ...env }, readyTimeoutMs: 90_000 });
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    broker = await startBroker({ port: 19392, fresh: true });
  });
  afterAll(async () => {
    for (const service of services) await service.stop();
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while the broker is down and accepts the identical retry after it is back', async () => {
    const topic = uniqueTopic('outage');
    const service = await start({ ROLE: 'receiver', KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1' });
    const post = (body: Uint8Array<ArrayBuffer>) =>
      fetch(`${service.url}/api/v1/write`, { method: 'POST', headers: { ...RW1_HEADERS, 'cloud-account-id': 'tenant-a' }, body });

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
    await waitFor(async () => (await readiness(service)) === 503, 20_000, 'readiness to turn false');
    // While down, further requests are refused fast rather than queued.
    expect((await post(body)).status).toBe(503);

    await broker.start();
    await waitFor(async () => (await readiness(service)) === 200, 90_000, 'the receiver to be ready again');
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
  }, 240_000);

  it('loses nothing acknowledged when the broker restarts under load, and recovers by itself', async () => {
    const topic = uniqueTopic('outage-load');
    // Receiver and processor in one process, with the fault tests' hour window.
    const service = await start({
      ROLE: 'all',
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-group`,
      KAFKA_TOPIC_PARTITIONS: '3',
      DATA_DIR: dataDir,
      SQL_PORT: '0',
      ...FAULT_HOURS_ENV,
    });
    // 2 h 20 min of scrapes of three clusters from half past an hour 4 hours ago, over about 40 s.
    const requests = kubecostStream({ tenants: ['acme', 'acme', 'globex'], startMs: T0 - 2 * HOUR + 30 * MIN, scrapes: 140 });
    const sender = startSender({ url: service.url, requests, ratePerSecond: 10 });
    await waitFor(() => sender.acknowledged.length >= requests.length / 4, 120_000, 'a quarter of the stream to be acknowledged');

    const stopAt = Date.now();
    await broker.stop();
    const stoppedAt = Date.now();
    await waitFor(async () => (await readiness(service)) === 503, 20_000, 'readiness to turn false');
    // Down for a while under load: every request in that time is refused, none is acknowledged.
    await new Promise((r) => setTimeout(r, 8_000));
    const acknowledgedWhileDown = sender.attempts.filter((a) => a.sentAt > stoppedAt && a.status === 204).length;
    const startAt = Date.now();
    await broker.start();
    const upAt = Date.now();
    await waitFor(async () => (await readiness(service)) === 200, 90_000, 'the service to be ready again by itself');
    const readyAt = Date.now();
    await sender.done;

    const down = faultFigures(sender.attempts, stopAt, startAt);
    const back = faultFigures(sender.attempts, upAt);
    const firstAcknowledged = sender.attempts.find((a) => a.sentAt >= upAt && a.status === 204);
    // The values are the point here: an hour closed during the outage may stay provisional.
    const stored = await finalRows('kafka-outage', [service], sqlUrl(service), 180_000, false);
    const expected = modelPodHours(sender.acknowledged);
    console.info(
      [
        `broker restart under load: stopped ${((stopAt - sender.attempts[0].sentAt) / 1000).toFixed(0)} s into the stream (clean shutdown took ${((stoppedAt - stopAt) / 1000).toFixed(1)} s), started again after ${((startAt - stopAt) / 1000).toFixed(1)} s, serving ${((upAt - startAt) / 1000).toFixed(1)} s later`,
        `  while down: ${formatFigures(down)}`,
        `  after it was back: first acknowledgement ${firstAcknowledged ? `${((firstAcknowledged.answeredAt - upAt) / 1000).toFixed(1)} s` : 'never'} after the broker served again, /ready 200 after ${((readyAt - upAt) / 1000).toFixed(1)} s; ${formatFigures(back)}`,
        `  ${requests.length} requests acknowledged; stored ${stored.size} pod-hours, expected ${expected.size}`,
      ].join('\n'),
    );

    expect(acknowledgedWhileDown, 'requests acknowledged while the broker was down').toBe(0);
    expect(down.refused, 'requests refused while the broker was down').toBeGreaterThan(0);
    expect(diffPodHours(expected, stored).slice(0, 20), `expected ${JSON.stringify(totalsByCluster(expected))}\nstored ${JSON.stringify(totalsByCluster(stored))}`).toEqual([]);
    expect(new Set([...stored.values()].map((r) => `${r.tenant_id}/${r.cluster}/${r.hour}`)).size).toBe(3 * 3);
  }, 480_000);
});
