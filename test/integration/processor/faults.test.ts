// Faults around the processor, with the real broker and the real embedded engine:
// - a record that cannot be decoded is skipped with a log line naming its partition and offset and
//   a metric, and never blocks its partition (the service runs as a child process, so its JSON log
//   lines can be read);
// - ClickHouse unavailable: the real chdb-backed sink over a switch in front of the engine's client
//   that makes inserts fail as a refused connection does, while the real Kafka consumer and cost
//   model run. Nothing is
//   committed and the processor is not ready meanwhile; once writes pass again every row arrives,
//   equal to what the cost model computes from the same records, and offsets are committed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../../../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher, type KafkaPublisher } from '../../../ingest/kafka/kafka-publisher.ts';
import { decodeRecord, seriesKey, seriesLabels } from '../../../ingest/record-format.ts';
import type { OutboundRecord } from '../../../ingest/record-log.ts';
import { openClickHouse } from '../../../processor/clickhouse/client.ts';
import { toExpenseRow, type ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';
import { decodeRemoteWrite } from '../../../receiver/decode/index.ts';
import { prepareRecords } from '../../../receiver/cluster-records.ts';
import { testBrokers } from '../../support/env.ts';
import { kafkaAdmin, type KafkaAdmin } from '../../support/kafka.ts';
import { sqlRows } from '../../support/expenses.ts';
import { freePort, metricValue } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, type FixtureSeries } from '../../support/remote-write-fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const GIB = 2 ** 30;
const silent = pino({ level: 'silent' });

/** One node with prices and one pod on it, scraped at `t` (cluster `cluster`). */
function scrape(t: number, cluster: string, pod = 'api-0'): FixtureSeries[] {
  const s = (labels: Record<string, string>, v: number): FixtureSeries => ({ labels: { cluster_id: cluster, ...labels }, samples: [{ t, v }] });
  return [
    s({ __name__: 'node_cpu_hourly_cost', node: 'n1' }, 0.04),
    s({ __name__: 'node_ram_hourly_cost', node: 'n1' }, 0.005),
    s({ __name__: 'container_cpu_allocation', namespace: 'app', pod, container: 'api', node: 'n1' }, 0.5 + (t % 7) / 10),
    s({ __name__: 'container_memory_allocation_bytes', namespace: 'app', pod, container: 'api', node: 'n1' }, GIB + (t % 5) * 2 ** 20),
    s({ __name__: 'kube_pod_owner', namespace: 'app', pod, owner_kind: 'StatefulSet', owner_name: 'api' }, 1),
  ];
}

describe('a record that cannot be decoded', () => {
  const topic = uniqueTopic('processor-poison');
  const brokers = testBrokers();
  let service: ServiceProcess;
  let sqlUrl: string;
  let dataDir: string;
  let admin: KafkaAdmin;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'k8s-expenses-poison-'));
    admin = kafkaAdmin(brokers, 'processor-poison-test');
    await admin.createTopic(topic, 1);
    const sqlPort = await freePort();
    sqlUrl = `http://127.0.0.1:${sqlPort}`;
    service = await startServiceProcess({
      env: {
        ROLE: 'all',
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: `${topic}-group`,
        DATA_DIR: dataDir,
        SQL_PORT: String(sqlPort),
        FLUSH_INTERVAL: '300ms',
        HOUR_GRACE: '1m',
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await admin?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is skipped with a log line naming partition and offset and a metric, and does not block the partition', async () => {
    const [withHeaders] = await admin.produce(topic, [
      // What the receiver would publish, except that the value is not a record.
      { key: Buffer.from('acme\u0000prod'), value: Buffer.from([1, 200, 7, 7, 7]), headers: { tenant: 'acme', cluster: 'prod', 'format-version': '1' } },
    ]);
    const [withoutHeaders] = await admin.produce(topic, [{ value: Buffer.from('definitely not a record') }]);
    const poison = [withHeaders, withoutHeaders].map((m) => ({ partition: m.partition, offset: m.baseOffset! }));

    // Valid traffic after the poison: two scrapes through the receiver.
    const t = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    for (const at of [t + MIN, t + 2 * MIN]) {
      const res = await fetch(`${service.url}/api/v1/write`, { method: 'POST', headers: { ...RW1_HEADERS, 'cloud-account-id': 'acme' }, body: snappyCompress(writeRequestV1(scrape(at, 'prod'))) });
      expect(res.status).toBe(204);
    }

    for (const { partition, offset } of poison) {
      const line = await service.waitForLog(
        (l) => l.msg === 'skipping a record that cannot be decoded' && l.partition === partition && l.offset === offset,
        30_000,
        `the log line for partition ${partition} offset ${offset}`,
      );
      expect(line.level).toBeGreaterThanOrEqual(50);
    }
    await waitFor(async () => (await sqlRows(sqlUrl, "SELECT pod FROM k8s_expenses FINAL WHERE pod = 'api-0'")).length === 1, 30_000, 'the row of the valid records');
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, 'k8s_expenses_processor_poison_records_total')).toBe(2);
    expect(metricValue(metrics, 'k8s_expenses_processor_poison_records_total', { reason: 'RecordFormatError' })).toBe(1);

    // The partition moves on: the committed offset passes both poison records.
    await waitFor(
      async () => {
        const partitions = await admin.committedOffsets(`${topic}-group`, topic);
        return Number(partitions[0].offset) > Number(poison[1].offset);
      },
      30_000,
      'a commit past the poison records',
    );
  });
});

describe('ClickHouse unavailable, then back', () => {
  const topic = uniqueTopic('processor-outage');
  const groupId = `${topic}-group`;
  const brokers = testBrokers();
  const TENANT = 'globex';
  const CLUSTERS = ['eu-1', 'us-1'];
  /** Three whole past hours and a little of a fourth, scraped every minute. */
  const H0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
  const SCRAPES = 3 * 60 + 20;
  const OUTAGE = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });

  let dataDir: string;
  let client: ClickHouseClient;
  let admin: KafkaAdmin;
  let publisher: KafkaPublisher;
  let processor: Processor;
  const registry = new Registry();
  const outage = { on: true, attempts: 0 };
  const published: OutboundRecord[] = [];

  /** The receiver's own path from a remote-write body to records. */
  const recordsOf = (series: FixtureSeries[]): OutboundRecord[] => {
    const { write } = decodeRemoteWrite(snappyCompress(writeRequestV1(series)), RW1_HEADERS['content-type'], 64 * 2 ** 20);
    return prepareRecords(write, TENANT, Date.now(), {
      clusterLabel: 'cluster_id',
      maxSampleFutureMs: 10 * MIN,
      maxRecordBytes: 900 * 1024,
      maxLabelsPerSeries: 40,
      maxLabelNameBytes: 1024,
      maxLabelValueBytes: 4096,
    }).records;
  };

  const publishScrapes = async (from: number, to: number): Promise<void> => {
    for (let k = from; k < to; k++) {
      const records = CLUSTERS.flatMap((cluster) => recordsOf(scrape(H0 + k * MIN, cluster)));
      await publisher.publish(records);
      published.push(...records);
    }
  };

  const committed = () => admin.committedOffsets(groupId, topic);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'k8s-expenses-outage-'));
    client = await openClickHouse({ DATA_DIR: dataDir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' }, silent);
    await migrate(client, { database: 'default' });
    const kafka = createKafka({ brokers, clientId: 'processor-outage-test', requestTimeoutMs: 10_000, retries: 3 });
    admin = kafkaAdmin(brokers, 'processor-outage-test');
    await admin.createTopic(topic, 2);
    publisher = createKafkaPublisher(kafka, { topic, partitions: 2, replicationFactor: 1, produceTimeoutMs: 10_000, compression: 'none', maxGroupBytes: 8 * 2 ** 20 }, silent);
    publisher.start();
    await waitFor(() => publisher.isReady(), 30_000, 'the publisher');

    // Fault injection in front of the real engine: while on, an insert fails as a refused connection does.
    const sink = createExpenseSink(
      {
        insert: async (params) => {
          if (outage.on) {
            outage.attempts++;
            throw OUTAGE;
          }
          return client.insert(params);
        },
        ping: (params) => client.ping(params),
        query: (params) => client.query(params),
      },
      { database: 'default' },
    );
    processor = createProcessor<HourlyRow, ExpenseRow>({
      consumer: createKafkaConsumer(kafka, { topic, partitions: 2, replicationFactor: 1, groupId }, silent),
      sink,
      createModel: () => createCostModel(),
      finishRow: toExpenseRow,
      // Hours close 1 min after their end and settle 10 min later (event time), so several settle.
      rules: { graceMs: MIN, lateWindowMs: 10 * MIN, idleFinalizeMs: HOUR },
      flushIntervalMs: 300,
      metrics: createProcessorMetrics(registry),
      logger: silent,
      retryDelayMs: 100,
      maxRetryDelayMs: 400,
    });
  });

  afterAll(async () => {
    outage.on = false;
    await processor?.close();
    await publisher?.close();
    await admin?.close();
    await client?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('retries, commits nothing and is not ready meanwhile, then stores every row and commits', async () => {
    await publishScrapes(0, 120);
    await processor.start();
    await waitFor(() => outage.attempts >= 3, 30_000, 'writes to fail a few times');
    expect(processor.isReady()).toBe(false);
    // More traffic during the outage: the consumer is paused, the records wait in Kafka.
    await publishScrapes(120, SCRAPES);
    await new Promise((r) => setTimeout(r, 1500));
    expect(processor.isReady()).toBe(false);
    expect((await committed()).map((p) => p.offset)).toEqual(['-1', '-1']);
    expect(await sqlCount(client)).toBe(0);
    const failures = metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total');
    expect(failures).toBeGreaterThanOrEqual(3);
    // Counted under the code of a server that cannot be reached, which is retried with backoff.
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unavailable' })).toBe(failures);

    outage.on = false;
    await waitFor(() => processor.isReady(), 30_000, 'the processor to be ready again');

    // Every row arrives, equal to what the model computes from all published records.
    const expected = referenceRows(published);
    await waitFor(async () => {
      const stored = await storedRows(client);
      return stored.size === expected.size && [...expected].every(([key, total]) => Math.abs((stored.get(key) ?? NaN) - total) <= 1e-9 * Math.abs(total));
    }, 60_000, 'every row to be stored');
    expect(expected.size).toBe(CLUSTERS.length * 4);

    // Offsets are committed once the hours settle, with the floor in the metadata: hours H0 .. H0+2h
    // settled (the watermark H0+3h19m is past H0+2h + 1h + HOUR_GRACE + LATE_WINDOW), H0+3h is open.
    const used = (await admin.partitionEnds(topic)).filter((p) => Number(p.high) > 0).map((p) => p.partition);
    await waitFor(async () => (await committed()).filter((p) => used.includes(p.partition)).every((p) => Number(p.offset) > 0), 30_000, 'offsets to be committed');
    for (const p of (await committed()).filter((c) => used.includes(c.partition))) {
      const floor = (JSON.parse(p.metadata ?? '{}') as { floor?: number }).floor;
      expect(floor, `partition ${p.partition}`).toBe(H0 + 3 * HOUR);
    }

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/k8s_expenses_processor_consumer_lag_records\{partition="\d+"\} 0/);
    expect(metricValue(metrics, 'k8s_expenses_processor_open_hours')).toBe(CLUSTERS.length);
    expect(metricValue(metrics, 'k8s_expenses_processor_state_bytes')).toBeGreaterThan(0);
    for (const cluster of CLUSTERS) {
      // The newest sample is H0+3h19m: its age in seconds.
      const age = metricValue(metrics, 'k8s_expenses_processor_newest_sample_age_seconds', { tenant: TENANT, cluster });
      expect(age).toBeGreaterThan((Date.now() - (H0 + (SCRAPES - 1) * MIN)) / 1000 - 60);
    }
    expect(metricValue(metrics, 'k8s_expenses_processor_rows_written_total', { final: 'true' })).toBeGreaterThanOrEqual(CLUSTERS.length * 3);
    expect(metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'accepted' })).toBe(published.length * 5);
    expect(metricValue(metrics, 'k8s_expenses_processor_records_total')).toBe(published.length);
  });
});

async function sqlCount(client: ClickHouseClient): Promise<number> {
  const result = await client.query({ query: 'SELECT count() AS n FROM k8s_expenses', format: 'JSONEachRow' });
  return Number((await result.json<{ n: string }>())[0].n);
}

/** total_cost per (cluster, hour, pod) of the latest rows. */
async function storedRows(client: ClickHouseClient): Promise<Map<string, number>> {
  const result = await client.query({ query: 'SELECT cluster, toUnixTimestamp(hour) * 1000 AS hour, pod, total_cost FROM k8s_expenses FINAL', format: 'JSONEachRow' });
  const rows = await result.json<{ cluster: string; hour: string | number; pod: string; total_cost: number }>();
  return new Map(rows.map((r) => [`${r.cluster}/${Number(r.hour)}/${r.pod}`, r.total_cost]));
}

/** What the cost model computes from the records, without Kafka, the processor or ClickHouse. */
function referenceRows(records: readonly OutboundRecord[]): Map<string, number> {
  const model = createCostModel();
  for (const r of records) {
    const rec = decodeRecord(r.value);
    for (let s = 0; s < rec.seriesCount; s++) {
      const from = rec.sampleStart[s];
      const to = rec.sampleStart[s + 1];
      model.addSeries(r.tenant, r.cluster, seriesKey(rec, s), () => seriesLabels(rec, s), rec.timestamps.subarray(from, to), rec.values.subarray(from, to), rec.stale.subarray(from, to));
    }
  }
  const out = new Map<string, number>();
  for (const { tenant, cluster, hourStartMs } of model.hours()) {
    for (const row of model.rows(tenant, cluster, hourStartMs)) out.set(`${row.cluster}/${row.hour}/${row.pod}`, row.total_cost);
  }
  return out;
}
