// Chooses what carries records from the receiver to the processor: Kafka when KAFKA_BROKERS is
// set, otherwise the embedded on-disk log under DATA_DIR/log (one process runs both roles then).
import path from 'node:path';
import type { Logger } from 'pino';
import { openEmbeddedLog } from '../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer, createEmbeddedPublisher } from '../ingest/embedded/embedded-transport.ts';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import type { RecordConsumer, RecordPublisher } from '../ingest/record-log.ts';
import { ConfigError, type Config } from './config.ts';
import { roleParts } from './roles.ts';

/**
 * Uncompressed bytes one Kafka send may merge from concurrent requests (about 14 requests of 2,000
 * kubecost samples): under the topic's batch limit (16 MiB when the service creates it; the
 * publisher lowers it for a topic that allows less) and far under the broker's request limit
 * (socket.request.max.bytes, 100 MiB by default).
 */
const MAX_MERGED_BYTES = 8 * 1024 * 1024;

export interface Transport {
  /** For the start-up line, e.g. "Kafka 10.0.0.1:9092 topic prometheus-remote-write". */
  readonly description: string;
  readonly publisher?: RecordPublisher;
  readonly consumer?: RecordConsumer;
  close(): Promise<void>;
}

export async function openTransport(config: Config, logger: Logger): Promise<Transport> {
  const { receives, processes } = roleParts(config.ROLE);
  // The read side alone carries no records.
  if (!receives && !processes) return { description: 'none (read side only)', close: async () => undefined };

  if (!config.KAFKA_BROKERS) {
    if (config.ROLE !== 'all') {
      throw new ConfigError(
        `ROLE=${config.ROLE} needs KAFKA_BROKERS: the embedded log (used when KAFKA_BROKERS is unset) only works with ROLE=all, where one process runs receiver and processor`,
      );
    }
    const dir = path.resolve(config.DATA_DIR, 'log');
    const log = await openEmbeddedLog({ dir, segmentBytes: config.LOG_SEGMENT_BYTES, logger });
    const publisher = createEmbeddedPublisher(log);
    const consumer = createEmbeddedConsumer(log, config.KAFKA_GROUP_ID, logger);
    return {
      description: `embedded log at ${dir}`,
      publisher,
      consumer,
      async close() {
        await publisher.close();
        await log.close();
      },
    };
  }

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, requestTimeoutMs: Math.min(config.KAFKA_PRODUCE_TIMEOUT, 30_000), retries: config.KAFKA_RETRIES });
  const topic = { topic: config.KAFKA_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR };
  const publisher = receives
    ? createKafkaPublisher(kafka, { ...topic, produceTimeoutMs: config.KAFKA_PRODUCE_TIMEOUT, compression: config.KAFKA_COMPRESSION, maxGroupBytes: MAX_MERGED_BYTES }, logger)
    : undefined;
  publisher?.start();
  const consumer = processes ? createKafkaConsumer(kafka, { ...topic, groupId: config.KAFKA_GROUP_ID }, logger) : undefined;
  return {
    description: `Kafka ${config.KAFKA_BROKERS.join(',')} topic ${config.KAFKA_TOPIC}`,
    publisher,
    consumer,
    async close() {
      await publisher?.close();
    },
  };
}
