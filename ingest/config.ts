// The record log's configuration slice: Kafka, or the embedded on-disk log when KAFKA_BROKERS is unset.
import { z } from 'zod';
import { duration, int, optionalText, size, type ConfigOf } from '../core/config-fields.ts';

/** host:port, as Kafka clients take bootstrap servers: no scheme, no path. */
const BROKER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const brokerList = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const brokers = v
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const bad = brokers.filter((b) => !BROKER.test(b));
  if (bad.length > 0 || brokers.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated host:port pairs such as kafka-0:9092,kafka-1:9092 (no scheme), got ${bad.map((b) => JSON.stringify(b)).join(', ') || 'nothing'}` });
    return z.NEVER;
  }
  return brokers;
});

export const ingestConfigShape = {
  KAFKA_BROKERS: brokerList.describe('Comma-separated Kafka bootstrap brokers (host:port); unset selects the embedded log'),
  KAFKA_TOPIC: z.string().min(1).default('prometheus-remote-write').describe('Topic carrying remote-write records'),
  KAFKA_GROUP_ID: z.string().min(1).default('k8s-expenses').describe('Consumer group of the processor'),
  KAFKA_CLIENT_ID: z.string().min(1).default('k8s-expenses').describe('Kafka client id'),
  KAFKA_TOPIC_PARTITIONS: int(6, 1, 10_000).describe('Partitions when the topic is created at start-up'),
  KAFKA_REPLICATION_FACTOR: int(-1, -1, 32).describe('Replication factor when the topic is created (-1: the broker default)'),
  KAFKA_PRODUCE_TIMEOUT: duration('10s').describe('Longest a request waits for Kafka acknowledgements before answering 503'),
  KAFKA_RETRIES: int(3, 0, 100).describe('Producer retries within the produce timeout'),
  KAFKA_COMPRESSION: z
    .enum(['none', 'gzip', 'snappy', 'lz4'], { message: 'expected none, gzip, snappy or lz4' })
    .default('lz4')
    .describe('Compression codec of produced batches (see "Kafka client" in the README for the trade-off)'),
  LOG_SEGMENT_BYTES: size('64MiB').describe('Segment size of the embedded log (DATA_DIR/log); fully committed segments are deleted'),
  KAFKA_MAX_RECORD_BYTES: size('900KiB').describe('Largest record value; bigger requests are split (keep under the broker message.max.bytes)'),
};

export type IngestConfig = ConfigOf<typeof ingestConfigShape>;
