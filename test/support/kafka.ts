// Direct access to the test broker for what tests check from outside the service: topics created
// up front, committed offsets and partition ends, raw messages produced (poison records) and every
// message of a topic read from the beginning. Built on the same client the service uses
// (@platformatic/kafka), without the service's adapter, so tests see what is really in Kafka.
import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes, Consumer, FetchIsolationLevels, FindCoordinatorKeyTypes, ListOffsetTimestamps, MessagesStreamModes, Producer, stringSerializer, type Message, type MessagesStream } from '@platformatic/kafka';

/** A consumed message as plain data. */
export interface TopicMessage {
  readonly partition: number;
  /** As a decimal string, as logs and metrics name it. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/** A group's committed position in one partition: offset '-1' when it has committed nothing. */
export interface CommittedOffset {
  partition: number;
  offset: string;
  metadata: string | null;
}

export interface PartitionEnd {
  partition: number;
  /** The high watermark: offset of the next message written. */
  high: string;
}

/** Where a partition lives: its leader, replicas and in-sync replicas (broker ids). */
export interface PartitionPlacement {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface KafkaAdmin {
  listTopics(): Promise<string[]>;
  /** The partitions of `topic` as the cluster's metadata has them now. */
  partitions(topic: string): Promise<PartitionPlacement[]>;
  /** The broker coordinating consumer group `groupId` (the client leaves internal topics such as __consumer_offsets out of its metadata). */
  groupCoordinator(groupId: string): Promise<number>;
  /** A configuration value of `topic` (its own, or the broker default it inherits). */
  topicConfig(topic: string, name: string): Promise<string | null | undefined>;
  /** Creates the topic and waits until every partition has a leader. */
  createTopic(topic: string, partitions: number): Promise<void>;
  committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]>;
  partitionEnds(topic: string): Promise<PartitionEnd[]>;
  /** Sends messages as they are (no adapter, no record format); returns where each batch landed. */
  produce(topic: string, messages: { key?: Buffer; value: Buffer; headers?: Record<string, string> }[]): Promise<{ partition: number; baseOffset: string }[]>;
  close(): Promise<void>;
}

export function options(brokers: readonly string[], clientId: string) {
  return { clientId, bootstrapBrokers: [...brokers], retries: 8, retryDelay: 200 };
}

export function kafkaAdmin(brokers: readonly string[], clientId = 'test-admin'): KafkaAdmin {
  const admin = new Admin(options(brokers, clientId));
  let producer: Producer<Buffer, Buffer, string, string> | undefined;

  const partitionCount = async (topic: string): Promise<number> => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    return metadata.topics.get(topic)?.partitionsCount ?? 0;
  };

  return {
    listTopics: () => admin.listTopics(),

    async partitions(topic) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const found = metadata.topics.get(topic)?.partitions ?? [];
      return found.map((p, partition) => ({ partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }));
    },

    async groupCoordinator(groupId) {
      const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
      if (!found || found.nodeId < 0) throw new Error(`no coordinator for group ${groupId}`);
      return found.nodeId;
    },

    async topicConfig(topic, name) {
      const [description] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [name] }] });
      return description?.configs.find((c) => c.name === name)?.value;
    },

    async createTopic(topic, partitions) {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
        const found = metadata?.topics.get(topic)?.partitions;
        if (found && found.length === partitions && found.every((p) => p.leader >= 0)) return;
        if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after 30 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },

    async committedOffsets(groupId, topic) {
      const partitions = Array.from({ length: await partitionCount(topic) }, (_, i) => i);
      const [group] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }] });
      const found = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
      return partitions.map((partition) => {
        const p = found.find((x) => x.partitionIndex === partition);
        const committed = p && p.committedOffset >= 0n;
        return { partition, offset: committed ? p.committedOffset.toString() : '-1', metadata: committed ? (p.metadata ?? null) : null };
      });
    },

    async partitionEnds(topic) {
      const partitions = Array.from({ length: await partitionCount(topic) }, (_, i) => ({ partitionIndex: i, timestamp: ListOffsetTimestamps.LATEST }));
      const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions }], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
      return (listed?.partitions ?? []).map((p) => ({ partition: p.partitionIndex, high: p.offset.toString() })).sort((a, b) => a.partition - b.partition);
    },

    async produce(topic, messages) {
      producer ??= new Producer<Buffer, Buffer, string, string>({ ...options(brokers, `${clientId}-producer`), serializers: { headerKey: stringSerializer, headerValue: stringSerializer } });
      const out: { partition: number; baseOffset: string }[] = [];
      // One send per message: each gets its own base offset back.
      for (const m of messages) {
        const result = await producer.send({ messages: [{ topic, key: m.key, value: m.value, headers: m.headers }] });
        const [first] = result.offsets ?? [];
        out.push({ partition: first.partition, baseOffset: first.offset.toString() });
      }
      return out;
    },

    async close() {
      if (producer) await new Promise<void>((resolve) => producer!.close(true, () => resolve()));
      await admin.close().catch(() => undefined);
    },
  };
}

/**
 * Reads `topic` from the beginning, in a group of its own that never commits, calling `onMessage`
 * for every message until stopped.
 */
export async function readTopic(brokers: readonly string[], topic: string, onMessage: (m: TopicMessage) => void): Promise<{ stop(): Promise<void> }> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...options(brokers, 'test-reader'), groupId: `test-reader-${randomUUID()}`, autocommit: false, maxWaitTime: 100 });
  const stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, maxWaitTime: 100 });
  stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
    onMessage({ partition: m.partition, offset: m.offset.toString(), key: m.key ?? null, value: m.value ?? null, headers });
  });
  return {
    async stop() {
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
    },
  };
}
