import type { Admin } from 'kafkajs';

export interface TopicOptions {
  topic: string;
  partitions: number;
  /** -1 uses the broker's default.replication.factor. */
  replicationFactor: number;
}

/**
 * Creates the topic when it is missing. Its max.message.bytes is raised above the broker default
 * because the producer merges concurrent requests into one batch per partition; records
 * themselves stay under KAFKA_MAX_RECORD_BYTES, so an existing topic with default limits still works.
 */
export async function ensureTopic(admin: Admin, options: TopicOptions): Promise<'created' | 'exists'> {
  const existing = await admin.listTopics();
  if (existing.includes(options.topic)) return 'exists';
  let created: boolean;
  try {
    created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: options.topic,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor,
        configEntries: [{ name: 'max.message.bytes', value: String(16 * 1024 * 1024) }],
      },
    ],
    });
  } catch (err) {
    // Another process (a receiver and a processor starting together) created it first.
    if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return 'exists';
    throw err;
  }
  // false means another process created it between listTopics and createTopics.
  return created ? 'created' : 'exists';
}
