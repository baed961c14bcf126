import type { Admin } from '@platformatic/kafka';
import { brokerErrorId } from './client.ts';

export interface TopicOptions {
  topic: string;
  partitions: number;
  /** -1 uses the broker's default.replication.factor. */
  replicationFactor: number;
}

/** Longest wait for the leaders of a topic just created (the client does not wait for them itself). */
const LEADERS_TIMEOUT_MS = 10_000;

/**
 * Creates the topic when it is missing, with max.message.bytes raised above the broker default
 * because the producer merges concurrent requests into one batch per partition (the same topic the
 * kafkajs adapter creates).
 */
export async function ensureTopic(admin: Admin, options: TopicOptions): Promise<'created' | 'exists'> {
  const existing = await admin.listTopics();
  if (existing.includes(options.topic)) return 'exists';
  try {
    await admin.createTopics({
      topics: [options.topic],
      partitions: options.partitions,
      replicas: options.replicationFactor,
      configs: [{ name: 'max.message.bytes', value: String(16 * 1024 * 1024) }],
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
