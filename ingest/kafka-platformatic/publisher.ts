// Publishes records with @platformatic/kafka: an idempotent producer, acks from all in-sync
// replicas, bounded retries and a bounded wait, one send at a time with concurrent requests merged
// into it (ingest/group-commit.ts).
//
// One send at a time is not an optimisation here but a correctness rule: the client numbers a
// batch when it builds it and advances its sequence only when the answer arrives, so two sends in
// flight to one partition carry the same sequence number, and the broker drops the second as a
// duplicate while answering success (20 concurrent sends of one record each: 20 successes, 1 record
// stored). The same holds after a failed send, so a failed producer is replaced, never reused.
import { Admin, compatibilityPartitioner, kOptions, Producer, stringSerializer, type MessageToProduce } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { withRetry } from '../../core/retry.ts';
import { createMergedSends, kafkaMessageOf, publishWithin } from '../kafka-sends.ts';
import { PublishError, type RecordPublisher } from '../record-log.ts';
import { brokerErrorId, clientOptions, forceClose, type PlatformaticClientOptions } from './client.ts';
import { useGzipLevel, type Compression } from './compression.ts';
import { ensureTopic, type TopicOptions } from './topic.ts';

export interface PlatformaticPublisherOptions extends TopicOptions {
  produceTimeoutMs: number;
  compression: Compression;
  /** A merged send stops growing past this many uncompressed bytes. */
  maxGroupBytes: number;
  /** How often readiness is re-checked against the cluster while idle. */
  probeIntervalMs?: number;
}

export interface PlatformaticPublisher extends RecordPublisher {
  /** Connects in the background, retrying until closed; readiness follows. */
  start(): void;
}

type Message = MessageToProduce<Buffer, Buffer, string, string>;

export function createPlatformaticPublisher(client: PlatformaticClientOptions, options: PlatformaticPublisherOptions, logger: Logger): PlatformaticPublisher {
  const log = logger.child({ component: 'kafka-publisher', client: 'platformatic', topic: options.topic });
  if (options.compression === 'gzip') useGzipLevel();
  const admin = new Admin(clientOptions(client));
  let producer: Producer<Buffer, Buffer, string, string> | undefined;
  let connected = false;
  let healthy = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  /** Ends the wait between connection attempts at close. */
  const stopConnecting = new AbortController();

  const newProducer = () => {
    const created = new Producer<Buffer, Buffer, string, string>({
      ...clientOptions(client),
      idempotent: true,
      acks: -1,
      compression: options.compression,
      // Java's (and kafkajs') key hashing: a cluster's records land on the same partition whichever
      // client wrote them. The client's default hashes differently for half of all keys.
      partitioner: compatibilityPartitioner,
      serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
    });
    // An idempotent producer built with 0 or 1 retries is given unlimited ones by the client: put
    // back the bound asked for, so a send to a dead broker ends.
    created[kOptions].retries = client.retries;
    return created;
  };

  const send = async (messages: Message[]): Promise<void> => {
    if (!producer || !connected) throw new PublishError('Kafka is not connected', 'unavailable');
    await producer.send({ messages });
  };

  const resetProducer = (err: unknown): void => {
    if (closed) return;
    healthy = false;
    connected = false;
    log.warn({ err }, 'Kafka send failed; reconnecting with a new producer');
    const old = producer;
    producer = undefined;
    if (old) void forceClose(old);
    connect();
  };

  const group = createMergedSends<Message>({
    maxGroupBytes: options.maxGroupBytes,
    toMessage: (record) => ({ topic: options.topic, ...kafkaMessageOf(record) }),
    send,
    brokerError: brokerErrorId,
    onSendFailure: resetProducer,
    onSent: () => void (healthy = true),
    log,
  });

  const probe = async (): Promise<void> => {
    if (!connected) return;
    try {
      const metadata = await admin.metadata({ topics: [options.topic], forceUpdate: true });
      healthy = metadata.topics.has(options.topic);
    } catch (err) {
      if (healthy) log.warn({ err }, 'Kafka readiness probe failed');
      healthy = false;
    }
  };

  const connectOnce = async (): Promise<void> => {
    const topic = await ensureTopic(admin, options);
    if (topic === 'created') log.info({ partitions: options.partitions }, 'created Kafka topic');
    const next = newProducer();
    try {
      // Asks the broker for a producer id now, so readiness means a send can go out.
      await next.initIdempotentProducer({});
    } catch (err) {
      await forceClose(next);
      throw err;
    }
    producer = next;
    connected = true;
    healthy = true;
    log.info('connected to Kafka');
  };

  function connect(): void {
    if (connecting || closed) return;
    connecting = withRetry(() => (closed ? Promise.resolve() : connectOnce()), {
      isRetriable: () => !closed,
      initialDelayMs: 500,
      maxDelayMs: 5000,
      signal: stopConnecting.signal,
      onRetry: (err, _attempt, retryInMs) => log.warn({ err, retryInMs }, 'cannot reach Kafka yet'),
    })
      .catch(() => undefined)
      .finally(() => {
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
      if (probeTimer) clearInterval(probeTimer);
      stopConnecting.abort();
      await connecting;
      await Promise.allSettled([producer && forceClose(producer), admin.close()]);
      connected = false;
    },
  };
}
