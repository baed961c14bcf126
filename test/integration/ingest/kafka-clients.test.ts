// The record-log contract, checked against the real broker for each Kafka client's adapter
// (ingest/kafka/ with kafkajs, ingest/kafka-platformatic/ with @platformatic/kafka): what the
// receiver and the processor rely on, beyond what the service-level tests reach.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsumer, createPublisher, KAFKA_CLIENTS, whenReady, type AdapterSettings, type KafkaClientName } from '../../../bench/kafka-client-adapters.ts';
import type { InboundRecord, OutboundRecord, RecordConsumer, RecordPublisher } from '../../../ingest/record-log.ts';
import { testBrokers } from '../../support/env.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';

const logger = pino({ level: 'silent' });

function record(tenant: string, cluster: string, text: string): OutboundRecord {
  return { tenant, cluster, value: Buffer.from(text), samples: 1 };
}

interface Member {
  consumer: RecordConsumer;
  records: InboundRecord[];
  revoked: number[];
  /** Partitions this member received records of, since its last revocation. */
  partitions(): Set<number>;
}

describe.each(KAFKA_CLIENTS)('record log over Kafka with %s', (client: KafkaClientName) => {
  const open: (RecordPublisher | RecordConsumer)[] = [];
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
  });

  const settings = (partitions: number): AdapterSettings => ({ brokers: testBrokers(), topic: uniqueTopic(`clients-${client}`), partitions, produceTimeoutMs: 10_000 });

  const publisherFor = async (s: AdapterSettings) => {
    const publisher = createPublisher(client, s, logger);
    open.push(publisher);
    publisher.start();
    await whenReady(publisher);
    return publisher;
  };

  const member = async (s: AdapterSettings, groupId: string): Promise<Member> => {
    const consumer = createConsumer(client, s, groupId, logger);
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
      expect({ tenant: r.tenant, cluster: r.cluster, formatVersion: r.formatVersion }).toEqual({ tenant: 'acme', cluster: `c${i % 3}`, formatVersion: 1 });
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

describe('Kafka clients side by side', () => {
  it('put the records of one tenant and cluster on the same partition', async () => {
    const s: AdapterSettings = { brokers: testBrokers(), topic: uniqueTopic('clients-partitioning'), partitions: 6 };
    const keys = Array.from({ length: 60 }, () => randomUUID().slice(0, 8 + Math.floor(Math.random() * 20)));
    const placement = new Map<KafkaClientName, Map<string, number>>();
    for (const client of KAFKA_CLIENTS) {
      const publisher = createPublisher(client, s, logger);
      publisher.start();
      await whenReady(publisher);
      await publisher.publish(keys.map((k) => record('tenant', k, client)));
      await publisher.close();
    }
    const reader = createConsumer('kafkajs', s, `${s.topic}-read`, logger);
    const seen: InboundRecord[] = [];
    await reader.start({ onRecords: async (_p, records) => void seen.push(...records), onRevoked: () => undefined });
    try {
      await waitFor(() => seen.length >= keys.length * KAFKA_CLIENTS.length, 30_000, 'every record');
    } finally {
      await reader.close();
    }
    for (const r of seen) {
      const client = r.value.toString() as KafkaClientName;
      if (!placement.has(client)) placement.set(client, new Map());
      placement.get(client)!.set(r.cluster, r.partition);
    }
    expect(new Set(placement.get('kafkajs')!.values()).size).toBeGreaterThan(3);
    expect(placement.get('platformatic')).toEqual(placement.get('kafkajs'));
  });
});
