// The record-log adapters of each Kafka client under comparison, built the same way (the service's
// settings), for the benchmark (bench/kafka-clients.ts) and the adapter contract tests.
import type { Logger } from 'pino';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import { compressionAvailable, type Compression } from '../ingest/kafka-platformatic/compression.ts';
import { createPlatformaticConsumer } from '../ingest/kafka-platformatic/consumer.ts';
import { createPlatformaticPublisher } from '../ingest/kafka-platformatic/publisher.ts';
import type { RecordConsumer, RecordPublisher } from '../ingest/record-log.ts';

export type KafkaClientName = 'kafkajs' | 'platformatic';
export const KAFKA_CLIENTS: readonly KafkaClientName[] = ['kafkajs', 'platformatic'];

export interface AdapterSettings {
  brokers: readonly string[];
  topic: string;
  partitions: number;
  produceTimeoutMs?: number;
  retries?: number;
  compression?: Compression;
}

export interface StartedPublisher extends RecordPublisher {
  start(): void;
}

/** Codecs a client can produce with, as the adapters stand (kafkajs: GZIP only without codec packages). */
export function compressions(client: KafkaClientName): Compression[] {
  if (client === 'kafkajs') return ['none', 'gzip'];
  return (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).filter(compressionAvailable);
}

function clientOptions(settings: AdapterSettings, clientId: string) {
  const produceTimeoutMs = settings.produceTimeoutMs ?? 10_000;
  return { brokers: settings.brokers, clientId, requestTimeoutMs: Math.min(produceTimeoutMs, 30_000), retries: settings.retries ?? 3 };
}

export function createPublisher(client: KafkaClientName, settings: AdapterSettings, logger: Logger): StartedPublisher {
  const topic = { topic: settings.topic, partitions: settings.partitions, replicationFactor: -1 };
  const produceTimeoutMs = settings.produceTimeoutMs ?? 10_000;
  const compression = settings.compression ?? 'gzip';
  const options = clientOptions(settings, `${client}-publisher`);
  if (client === 'platformatic') return createPlatformaticPublisher(options, { ...topic, produceTimeoutMs, compression, maxGroupBytes: 8 * 2 ** 20 }, logger);
  if (compression !== 'none' && compression !== 'gzip') throw new Error(`kafkajs has no ${compression} codec built in`);
  return createKafkaPublisher(createKafka(options, logger), { ...topic, produceTimeoutMs, compression, maxGroupBytes: 8 * 2 ** 20 }, logger);
}

export function createConsumer(client: KafkaClientName, settings: AdapterSettings, groupId: string, logger: Logger): RecordConsumer {
  const topic = { topic: settings.topic, partitions: settings.partitions, replicationFactor: -1, groupId };
  const options = clientOptions(settings, `${client}-consumer`);
  if (client === 'platformatic') return createPlatformaticConsumer(options, topic, logger);
  return createKafkaConsumer(createKafka(options, logger), topic, logger);
}

/** Resolves once `publisher` is ready, or rejects after `timeoutMs`. */
export async function whenReady(publisher: RecordPublisher, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!publisher.isReady()) {
    if (Date.now() > deadline) throw new Error(`the publisher was not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
