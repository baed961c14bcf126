// Chooses what carries records from the receiver to the processor: Kafka when KAFKA_BROKERS is
// set, otherwise the embedded on-disk log under DATA_DIR/log (one process runs both roles then).
import path from 'node:path';
import type { Logger } from 'pino';
import { openEmbeddedLog } from '../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer, createEmbeddedPublisher } from '../ingest/embedded/embedded-transport.ts';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import { createPlatformaticConsumer } from '../ingest/kafka-platformatic/consumer.ts';
import { createPlatformaticPublisher } from '../ingest/kafka-platformatic/publisher.ts';
import type { RecordConsumer, RecordPublisher } from '../ingest/record-log.ts';
import { ConfigError, type Config } from './config.ts';
import { roleParts } from './roles.ts';

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

  const clientOptions = { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, requestTimeoutMs: Math.min(config.KAFKA_PRODUCE_TIMEOUT, 30_000), retries: config.KAFKA_RETRIES };
  const topic = { topic: config.KAFKA_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR };
  // Throwaway switch for the Kafka client comparison (bench/KAFKA-CLIENTS.md): not a configuration
  // variable, removed when one client is adopted.
  if (process.env.K8S_EXPENSES_KAFKA_CLIENT === 'platformatic') {
    const publisher = receives
      ? createPlatformaticPublisher(clientOptions, { ...topic, produceTimeoutMs: config.KAFKA_PRODUCE_TIMEOUT, compression: config.KAFKA_COMPRESSION, maxGroupBytes: 8 * 1024 * 1024 }, logger)
      : undefined;
    publisher?.start();
    const consumer = processes ? createPlatformaticConsumer(clientOptions, { ...topic, groupId: config.KAFKA_GROUP_ID }, logger) : undefined;
    return {
      description: `Kafka ${config.KAFKA_BROKERS.join(',')} topic ${config.KAFKA_TOPIC} (@platformatic/kafka)`,
      publisher,
      consumer,
      async close() {
        await publisher?.close();
      },
    };
  }

  const kafka = createKafka(clientOptions, logger);
  const publisher = receives
    ? createKafkaPublisher(
        kafka,
        {
          ...topic,
          produceTimeoutMs: config.KAFKA_PRODUCE_TIMEOUT,
          compression: config.KAFKA_COMPRESSION,
          maxGroupBytes: 8 * 1024 * 1024,
        },
        logger,
      )
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
