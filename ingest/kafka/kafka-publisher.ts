// Publishes records to Kafka with an idempotent producer, acks from all in-sync replicas, bounded
// retries and a bounded wait, merging concurrent requests into one sendBatch.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs, { CompressionTypes, type Admin, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { warnLimited } from '../../core/log-limiter.ts';
import { createMergedSends, kafkaMessageOf, publishWithin } from '../kafka-sends.ts';
import { PublishError, type RecordPublisher } from '../record-log.ts';
import { retryUntilConnected, type KafkaClient } from './kafka-client.ts';
import { ensureTopic, type TopicOptions } from './topic.ts';

export interface KafkaPublisherOptions extends TopicOptions {
  produceTimeoutMs: number;
  compression: 'none' | 'gzip';
  /** A merged send stops growing past this many uncompressed bytes. */
  maxGroupBytes: number;
  /** How often readiness is re-checked against the cluster while idle. */
  probeIntervalMs?: number;
}

export interface KafkaPublisher extends RecordPublisher {
  /** Connects in the background, retrying until closed; readiness follows. */
  start(): void;
}

/**
 * zlib level of produced GZIP batches. kafkajs' own GZIP codec uses zlib's default, level 6,
 * which on kubecost records costs about 1.5 CPU-seconds per million samples (on the thread pool)
 * for a ratio of ~14; level 3 costs about 0.6 for a ratio of ~12.6 (measured with
 * npm run bench:receiver). Batches stay ordinary GZIP: consumers read them exactly as before.
 */
export const GZIP_LEVEL = 3;
const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);
const gzipCodec = {
  compress: (encoder: { buffer: Buffer }): Promise<Buffer> => gzip(encoder.buffer, { level: GZIP_LEVEL }),
  decompress: (buffer: Buffer): Promise<Buffer> => unzip(buffer),
};

/** Replaces kafkajs' GZIP codec (a process-wide registry) with the one above; decompression is the same zlib.unzip. */
function useGzipCodec(): void {
  // Through the default export: Node's CommonJS named-export detection does not find this one.
  kafkajs.CompressionCodecs[CompressionTypes.GZIP] = () => gzipCodec;
}

export function createKafkaPublisher(kafka: KafkaClient, options: KafkaPublisherOptions, logger: Logger): KafkaPublisher {
  const log = logger.child({ component: 'kafka-publisher', topic: options.topic });
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  if (compression === CompressionTypes.GZIP) useGzipCodec();
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let connected = false;
  let healthy = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  // Ends the connect loop's wait on close, so a process that never reached Kafka stops at once.
  const closing = new AbortController();
  let probeTimer: NodeJS.Timeout | undefined;

  const newProducer = (): Producer =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 3 },
    });

  const send = async (messages: Message[]): Promise<void> => {
    if (!producer || !connected) throw new PublishError('Kafka is not connected', 'unavailable');
    await producer.sendBatch({ topicMessages: [{ topic: options.topic, messages }], acks: -1, timeout: options.produceTimeoutMs, compression });
  };

  /**
   * After a failed send the idempotent producer must not be reused: kafkajs keeps the sequence
   * numbers of a send that may have reached the log, and the broker would then take the next,
   * different batch with those numbers for a duplicate and drop it while answering success.
   */
  const resetProducer = (err: unknown): void => {
    if (closed) return;
    healthy = false;
    connected = false;
    warnLimited(log, kafka.warnings, `send failed: ${errorMessage(err)}`, { err }, 'Kafka send failed; reconnecting with a new producer');
    const old = producer;
    producer = undefined;
    void old?.disconnect().catch(() => undefined);
    connect();
  };

  const group = createMergedSends<Message>({
    maxGroupBytes: options.maxGroupBytes,
    toMessage: kafkaMessageOf,
    send,
    brokerError: (err) => (err as { type?: string }).type,
    onSendFailure: resetProducer,
    onSent: () => void (healthy = true),
    log,
  });

  const probe = async (): Promise<void> => {
    if (!admin || !connected) return;
    try {
      await admin.describeCluster();
      const offsets = await admin.fetchTopicMetadata({ topics: [options.topic] });
      healthy = offsets.topics.length === 1;
    } catch (err) {
      if (healthy) warnLimited(log, kafka.warnings, `probe failed: ${errorMessage(err)}`, { err }, 'Kafka readiness probe failed');
      healthy = false;
    }
  };

  const connectOnce = async (): Promise<void> => {
    if (!admin) {
      admin = kafka.admin();
    }
    await admin.connect();
    const topic = await ensureTopic(admin, options);
    if (topic === 'created') log.info({ partitions: options.partitions }, 'created Kafka topic');
    producer = newProducer();
    await producer.connect();
    if (closed) {
      // Closed while this attempt was under way: close() already let go of what it could see.
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      return;
    }
    connected = true;
    healthy = true;
    log.info('connected to Kafka');
  };

  function connect(): void {
    if (connecting || closed) return;
    const what = { doing: 'reach', meanwhile: 'remote-write requests get 503 meanwhile' };
    connecting = retryUntilConnected(kafka, log, what, connectOnce, closing.signal).finally(() => {
      connecting = undefined;
    });
  }

  return {
    start() {
      connect();
      probeTimer = setInterval(() => void probe(), options.probeIntervalMs ?? 5000);
      probeTimer.unref();
    },

    publish(records) {
      return publishWithin(group, records, options.produceTimeoutMs, { closed, connected });
    },

    isReady() {
      return connected && healthy && !closed;
    },

    async close() {
      await group.drain();
      closed = true;
      closing.abort();
      if (probeTimer) clearInterval(probeTimer);
      await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
      connected = false;
    },
  };
}
