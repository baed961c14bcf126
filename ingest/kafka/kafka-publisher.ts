// Publishes records to Kafka: an idempotent producer, acks from all in-sync replicas, bounded
// retries and a bounded wait, one send at a time with concurrent requests merged into it
// (ingest/group-commit.ts).
//
// One send at a time is not an optimisation here but a correctness rule: the client numbers a
// batch when it builds it and advances its sequence only when the answer arrives, so two sends in
// flight to one partition carry the same sequence number, and the broker drops the second as a
// duplicate while answering success (20 concurrent sends of one record each: 20 successes, 1 record
// stored). The same holds after a failed send, so a failed producer is replaced, never reused.
import { Admin, kOptions, Producer, type MessageToProduce } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { warnLimited } from '../../core/log-limiter.ts';
import { createGroupCommit } from '../group-commit.ts';
import type { OutboundRecord, RecordPublisher } from '../record-log.ts';
import { PublishError } from '../record-log.ts';
import { forceClose, retryUntilConnected, brokerErrorId, type KafkaClient } from './kafka-client.ts';
import { useGzipLevel, type Compression } from './compression.ts';
import { createRecordAddresses } from './record-address.ts';
import { ensureTopic, maxBatchBytes, type TopicOptions } from './topic.ts';

export interface KafkaPublisherOptions extends TopicOptions {
  produceTimeoutMs: number;
  compression: Compression;
  /** A merged send stops growing past this many uncompressed bytes (less when the topic allows less). */
  maxGroupBytes: number;
  /** How often readiness is re-checked against the cluster while idle. */
  probeIntervalMs?: number;
}

export interface KafkaPublisher extends RecordPublisher {
  /** Connects in the background, retrying until closed; readiness follows. */
  start(): void;
}

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type RecordProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

const MESSAGE_TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

export function createKafkaPublisher(kafka: KafkaClient, options: KafkaPublisherOptions, logger: Logger): KafkaPublisher {
  const log = logger.child({ component: 'kafka-publisher', topic: options.topic });
  if (options.compression === 'gzip') useGzipLevel();
  const admin = new Admin(kafka.options());
  const addresses = createRecordAddresses();
  let producer: RecordProducer | undefined;
  let connected = false;
  let healthy = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  /** What one merged send may hold: the option, or less when the topic's batch limit is lower. */
  let groupBytes = options.maxGroupBytes;
  /** Ends the wait between connection attempts at close. */
  const closing = new AbortController();

  const newProducer = (): RecordProducer => {
    const created = new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...kafka.options(),
      idempotent: true,
      acks: -1,
      compression: options.compression,
    });
    // An idempotent producer built with 0 or 1 retries is given unlimited ones by the client: put
    // back the bound asked for, so a send to a dead broker ends.
    created[kOptions].retries = kafka.retries;
    return created;
  };

  const toMessage = (record: OutboundRecord): Message => {
    // Key, headers and partition are computed once per (tenant, cluster), not once per record.
    const address = addresses.of(record.tenant, record.cluster);
    return { topic: options.topic, key: address.key, value: record.value, headers: address.headers, partition: address.partition };
  };

  const send = async (messages: Message[]): Promise<void> => {
    if (!producer || !connected) throw new PublishError('Kafka is not connected', 'unavailable');
    await producer.send({ messages });
  };

  const resetProducer = (err: unknown): void => {
    if (closed) return;
    healthy = false;
    connected = false;
    warnLimited(log, kafka.warnings, `send failed: ${errorMessage(err)}`, { err }, 'Kafka send failed; reconnecting with a new producer');
    const old = producer;
    producer = undefined;
    if (old) void forceClose(old);
    connect();
  };

  const group = createGroupCommit<readonly OutboundRecord[]>({
    // Read at every merge: the topic's limit is only known once connected.
    get maxGroupBytes() {
      return groupBytes;
    },
    sizeOf: (records) => {
      let n = 0;
      for (const r of records) n += r.value.length;
      return n;
    },
    async write(batches) {
      const messages: Message[] = [];
      for (const records of batches) for (const r of records) messages.push(toMessage(r));
      try {
        await send(messages);
      } catch (err) {
        const id = brokerErrorId(err);
        if (id && MESSAGE_TOO_LARGE.has(id) && messages.length > 1) {
          // The merged batch exceeds the topic's limit for one partition: one record per send.
          log.warn({ records: messages.length }, 'merged batch too large for the topic; sending records one by one');
          for (const m of messages) await send([m]);
        } else {
          if (!(err instanceof PublishError)) resetProducer(err);
          throw err;
        }
      }
      healthy = true;
    },
  });

  const probe = async (): Promise<void> => {
    if (!connected) return;
    try {
      const metadata = await admin.metadata({ topics: [options.topic], forceUpdate: true });
      healthy = metadata.topics.has(options.topic);
    } catch (err) {
      if (healthy) warnLimited(log, kafka.warnings, `probe failed: ${errorMessage(err)}`, { err }, 'Kafka readiness probe failed');
      healthy = false;
    }
  };

  const connectOnce = async (): Promise<void> => {
    const topic = await ensureTopic(admin, options);
    if (topic === 'created') log.info({ partitions: options.partitions }, 'created Kafka topic');
    // Without the right to read the topic's configuration, the fallback below still applies.
    const limit = await maxBatchBytes(admin, options.topic).catch(() => options.maxGroupBytes);
    groupBytes = Math.max(1, Math.min(options.maxGroupBytes, limit));
    if (groupBytes < options.maxGroupBytes) {
      log.warn(
        { topicMaxMessageBytes: limit, mergedBytes: groupBytes },
        `topic ${options.topic} takes batches of at most ${limit} bytes (max.message.bytes): concurrent requests are merged into smaller sends; raise it to ${options.maxGroupBytes} or more for full batches`,
      );
    }
    const next = newProducer();
    try {
      // Asks the broker for a producer id now, so readiness means a send can go out.
      await next.initIdempotentProducer({});
    } catch (err) {
      await forceClose(next);
      throw err;
    }
    if (closed) {
      // Closed while this attempt was under way: close() already let go of what it could see.
      await forceClose(next);
      return;
    }
    producer = next;
    connected = true;
    healthy = true;
    log.info('connected to Kafka');
  };

  function connect(): void {
    if (connecting || closed) return;
    const what = { doing: 'reach', meanwhile: 'remote-write requests get 503 meanwhile' };
    connecting = retryUntilConnected(kafka, log, what, () => (closed ? Promise.resolve() : connectOnce()), closing.signal).finally(() => {
      connecting = undefined;
    });
  }

  return {
    start() {
      connect();
      probeTimer = setInterval(() => void probe(), options.probeIntervalMs ?? 5000);
      probeTimer.unref();
    },

    async publish(records) {
      if (closed) throw new PublishError('the service is shutting down', 'closed');
      if (!connected) throw new PublishError('Kafka is unreachable', 'unavailable');
      if (records.length === 0) return;
      const deadline = AbortSignal.timeout(options.produceTimeoutMs);
      try {
        await group.submit(records, deadline);
      } catch (err) {
        if (err instanceof PublishError) throw err;
        if (deadline.aborted) throw new PublishError(`Kafka did not acknowledge within ${options.produceTimeoutMs} ms`, 'timeout', { cause: err });
        throw new PublishError(`Kafka rejected the records: ${errorMessage(err)}`, 'unavailable', { cause: err });
      }
    },

    isReady() {
      return connected && healthy && !closed;
    },

    async close() {
      await group.drain();
      closed = true;
      if (probeTimer) clearInterval(probeTimer);
      closing.abort();
      await connecting;
      await Promise.allSettled([producer && forceClose(producer), admin.close()]);
      connected = false;
    },
  };
}
