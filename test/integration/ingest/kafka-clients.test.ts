// The record-log contract of the Kafka adapter (ingest/kafka/, @platformatic/kafka), checked
// against the real broker: what the receiver and the processor rely on, beyond what the
// service-level tests reach. It pins what the adapter adds to the client (bench/KAFKA-CLIENTS.md):
// concurrent publishes all stored (one send at a time), commits that carry their metadata, Java's
// partitioning; a client upgrade must pass it.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../../../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher, type KafkaPublisher } from '../../../ingest/kafka/kafka-publisher.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';
import type { InboundRecord, OutboundRecord, RecordConsumer, RecordPublisher } from '../../../ingest/record-log.ts';
import { testBrokers } from '../../support/env.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';

const logger = pino({ level: 'silent' });

function record(tenant: string, cluster: string, text: string): OutboundRecord {
  return { tenant, cluster, value: Buffer.from(text), samples: 1 };
}

interface AdapterSettings {
  brokers: readonly string[];
  topic: string;
  partitions: number;
}

/** The service's settings (service/transport.ts), with a shorter produce timeout. */
function createPublisher(s: AdapterSettings): KafkaPublisher {
  const kafka = createKafka({ brokers: s.brokers, clientId: 'contract-publisher', requestTimeoutMs: 10_000, retries: 3 });
  return createKafkaPublisher(kafka, { topic: s.topic, partitions: s.partitions, replicationFactor: -1, produceTimeoutMs: 10_000, compression: 'lz4', maxGroupBytes: 8 * 2 ** 20 }, logger);
}

function createConsumer(s: AdapterSettings, groupId: string): RecordConsumer {
  const kafka = createKafka({ brokers: s.brokers, clientId: 'contract-consumer', requestTimeoutMs: 10_000, retries: 3 });
  return createKafkaConsumer(kafka, { topic: s.topic, partitions: s.partitions, replicationFactor: -1, groupId }, logger);
}

async function whenReady(publisher: RecordPublisher, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => publisher.isReady(), timeoutMs, 'the publisher to be ready');
}

interface Member {
  consumer: RecordConsumer;
  records: InboundRecord[];
  revoked: number[];
  /** Partitions this member received records of, since its last revocation. */
  partitions(): Set<number>;
}

describe('record log over Kafka', () => {
  const open: (RecordPublisher | RecordConsumer)[] = [];
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
  });

  const settings = (partitions: number): AdapterSettings => ({ brokers: testBrokers(), topic: uniqueTopic('clients'), partitions });

  const publisherFor = async (s: AdapterSettings) => {
    const publisher = createPublisher(s);
    open.push(publisher);
    publisher.start();
    await whenReady(publisher);
    return publisher;
  };

  const member = async (s: AdapterSettings, groupId: string): Promise<Member> => {
    const consumer = createConsumer(s, groupId);
    open.push(consumer);
    const m: Member = {
      consumer,
      records: [],
      revoked: [],
      partitions: () => new Set(m.records.map((r) => r.partition)),
    };
    await consumer.start({
      async onRecords(_partition, records) {
        m.records.push(...records);
      },
      onRevoked(partitions) {
        m.revoked.push(...partitions);
        m.records = m.records.filter((r) => !partitions.includes(r.partition));
      },
    });
    return m;
  };

  it('stores every record of concurrent publishes once, with key, headers and value as sent', async () => {
    const s = settings(1);
    const publisher = await publisherFor(s);
    // Concurrent requests, as the receiver makes them: every acknowledged record must be in the log.
    const sent = Array.from({ length: 40 }, (_, i) => record('acme', `c${i % 3}`, `value-${i}`));
    await Promise.all(sent.map((r) => publisher.publish([r])));
    const reader = await member(s, `${s.topic}-read`);
    await waitFor(() => reader.records.length >= sent.length, 30_000, `${sent.length} records`);
    await new Promise((r) => setTimeout(r, 500));
    expect(reader.records.map((r) => r.value.toString()).sort()).toEqual(sent.map((r) => r.value.toString()).sort());
    for (const r of reader.records) {
      const i = Number(r.value.toString().slice('value-'.length));
      expect({ tenant: r.tenant, cluster: r.cluster, formatVersion: r.formatVersion }).toEqual({ tenant: 'acme', cluster: `c${i % 3}`, formatVersion: FORMAT_VERSION });
    }
    expect(reader.records.map((r) => r.offset)).toEqual(sent.map((_, i) => BigInt(i)));
  });

  it('commits offsets with metadata, reads them back with the partition end, and resumes after them', async () => {
    const s = settings(1);
    const publisher = await publisherFor(s);
    for (let i = 0; i < 6; i++) await publisher.publish([record('acme', 'prod', `r${i}`)]);
    const group = `${s.topic}-group`;
    const first = await member(s, group);
    await waitFor(() => first.records.length === 6, 30_000, 'the first 6 records');
    expect(await first.consumer.partitionStart(0)).toEqual({ committed: undefined, metadata: undefined, end: 6n });

    const floor = JSON.stringify({ floor: 1_700_000_000_000, clusters: { 'acme\u0000prod': 1_700_003_600_000 } });
    await first.consumer.commit([{ partition: 0, offset: 4n, metadata: floor }]);
    expect(await first.consumer.partitionStart(0)).toEqual({ committed: 4n, metadata: floor, end: 6n });
    // The same offset again with new metadata (the processor refreshes its floors that way).
    await first.consumer.commit([{ partition: 0, offset: 4n, metadata: 'refreshed' }]);
    expect(await first.consumer.partitionStart(0)).toEqual({ committed: 4n, metadata: 'refreshed', end: 6n });
    await first.consumer.close();

    const second = await member(s, group);
    await waitFor(() => second.records.length === 2, 30_000, 'the 2 records after the commit');
    expect(second.records.map((r) => [r.offset, r.value.toString()])).toEqual([
      [4n, 'r4'],
      [5n, 'r5'],
    ]);
  });

  it('delivers nothing while paused and everything after resume', async () => {
    const s = settings(1);
    const publisher = await publisherFor(s);
    await publisher.publish([record('acme', 'prod', 'before')]);
    const m = await member(s, `${s.topic}-group`);
    await waitFor(() => m.records.length === 1, 30_000, 'the first record');
    m.consumer.pause();
    await publisher.publish([record('acme', 'prod', 'during-1'), record('acme', 'prod', 'during-2')]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(m.records.map((r) => r.value.toString())).toEqual(['before']);
    m.consumer.resume();
    await waitFor(() => m.records.length === 3, 30_000, 'the records published while paused');
    expect(m.records.map((r) => r.value.toString())).toEqual(['before', 'during-1', 'during-2']);
  });

  it('revokes partitions from a member when another one joins the group, and the two share them', async () => {
    const s = settings(4);
    const publisher = await publisherFor(s);
    const group = `${s.topic}-group`;
    const a = await member(s, group);
    // Keys spread over the 4 partitions.
    const publishRound = (round: number) => publisher.publish(Array.from({ length: 40 }, (_, i) => record('acme', `cluster-${i}`, `${round}-${i}`)));
    await publishRound(0);
    await waitFor(() => a.partitions().size === 4, 30_000, 'the first member to read all 4 partitions');

    const b = await member(s, group);
    await waitFor(() => a.revoked.length > 0, 60_000, 'a revocation on the first member');
    // Records published after the rebalance reach both members, each partition one of them.
    await waitFor(
      async () => {
        await publishRound(1);
        return a.partitions().size + b.partitions().size === 4;
      },
      60_000,
      'both members to read after the rebalance',
    );
    expect([...a.partitions()].filter((p) => b.partitions().has(p))).toEqual([]);
    expect(a.partitions().size).toBeGreaterThan(0);
    expect(b.partitions().size).toBeGreaterThan(0);
    expect(a.revoked.every((p) => b.partitions().has(p) || !a.partitions().has(p))).toBe(true);
  }, 120_000);
});

describe('Kafka partitioning', () => {
  // Partitions of 6 that Java's default partitioner (murmur2 of the key, sign bit cleared, modulo
  // the count) gives these keys, computed with kafkajs' partitioner, whose murmur2 matches Java's
  // test vectors ("21" -> -973932308, "foobar" -> -790332482). @platformatic/kafka's own default
  // (murmur2 >>> 0) would move 8 of these 12 keys; records written before the client changed, or
  // by another client, must stay on their cluster's partition.
  const JAVA_PARTITIONS: [tenant: string, cluster: string, partition: number][] = [
    ['acme', 'prod', 3],
    ['acme', 'staging', 2],
    ['globex', 'eu-1', 5],
    ['globex', 'us-1', 2],
    ['initech', 'cluster-a', 3],
    ['tenant-1', 'prod-us-east-1-bqxz', 2],
    ['tenant-2', 'dev-eu-west-1-7k2c', 5],
    ['umbrella', 'c1', 0],
    ['umbrella', 'c2', 3],
    ['umbrella', 'c3', 4],
    ['umbrella', 'c4', 1],
    ['umbrella', 'c5', 3],
  ];

  it("puts the records of one tenant and cluster on the partition Java's partitioner chooses", async () => {
    const s: AdapterSettings = { brokers: testBrokers(), topic: uniqueTopic('clients-partitioning'), partitions: 6 };
    const publisher = createPublisher(s);
    publisher.start();
    try {
      await whenReady(publisher);
      // Twice, in one merged send and one by one: the placement is the key's, not the send's.
      await publisher.publish(JAVA_PARTITIONS.map(([tenant, cluster]) => record(tenant, cluster, 'merged')));
      for (const [tenant, cluster] of JAVA_PARTITIONS) await publisher.publish([record(tenant, cluster, 'alone')]);
    } finally {
      await publisher.close();
    }
    const reader = createConsumer(s, `${s.topic}-read`);
    const seen: InboundRecord[] = [];
    await reader.start({ onRecords: async (_p, records) => void seen.push(...records), onRevoked: () => undefined });
    try {
      await waitFor(() => seen.length >= 2 * JAVA_PARTITIONS.length, 30_000, 'every record');
    } finally {
      await reader.close();
    }
    const placed = (text: string) => seen.filter((r) => r.value.toString() === text).map((r) => [r.tenant, r.cluster, r.partition]);
    const byKey = (a: unknown[], b: unknown[]) => String(a).localeCompare(String(b));
    expect(placed('merged').sort(byKey)).toEqual([...JAVA_PARTITIONS].sort(byKey));
    expect(placed('alone').sort(byKey)).toEqual([...JAVA_PARTITIONS].sort(byKey));
  });
});
