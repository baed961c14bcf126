import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import { brokerErrorId } from './kafka-client.ts';

export interface TopicOptions {
  topic: string;
  partitions: number;
  /** -1 uses the broker's default.replication.factor. */
  replicationFactor: number;
}

/** Longest wait for the leaders of a topic just created (the client does not wait for them itself). */
const LEADERS_TIMEOUT_MS = 10_000;

/** The max.message.bytes the topic is created with: room for a merged send's batch per partition. */
export const TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Creates the topic when it is missing, with max.message.bytes raised above the broker default
 * (1 MiB) because the publisher merges concurrent requests into one batch per partition.
 */
export async function ensureTopic(admin: Admin, options: TopicOptions): Promise<'created' | 'exists'> {
  const existing = await admin.listTopics();
  if (existing.includes(options.topic)) return 'exists';
  try {
    await admin.createTopics({
      topics: [options.topic],
      partitions: options.partitions,
      replicas: options.replicationFactor,
      configs: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }],
    });
  } catch (err) {
    // Another process (a receiver and a processor starting together) created it first.
    if (brokerErrorId(err) === 'TOPIC_ALREADY_EXISTS') return 'exists';
    throw err;
  }
  await waitForLeaders(admin, options.topic);
  return 'created';
}

async function waitForLeaders(admin: Admin, topic: string): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    const partitions = metadata?.topics.get(topic)?.partitions;
    if (partitions && partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Room left in a batch for the record batch header and each record's key, headers and lengths. */
const BATCH_OVERHEAD_BYTES = 64 * 1024;

/**
 * The largest merged send (uncompressed record bytes) that fits the topic's batch limit for one
 * partition, max.message.bytes (the topic's, or the broker default it inherits). Compression only
 * makes a batch smaller, so a send of at most this many bytes is never refused as too large.
 */
export async function maxBatchBytes(admin: Admin, topic: string): Promise<number> {
  const [description] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['max.message.bytes'] }] });
  const value = Number(description?.configs.find((c) => c.name === 'max.message.bytes')?.value);
  if (!Number.isFinite(value) || value <= 0) return TOPIC_MAX_MESSAGE_BYTES - BATCH_OVERHEAD_BYTES;
  return Math.max(value - BATCH_OVERHEAD_BYTES, Math.floor(value / 2));
}
