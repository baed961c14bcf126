// Consumes the topic with a kafkajs consumer group. Offsets are committed only by the processor
// (never automatically), after the rows they fed are stored.
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { warnLimited } from '../../core/log-limiter.ts';
import { retryUntilConnected, type KafkaClient } from './kafka-client.ts';
import { ensureTopic, type TopicOptions } from './topic.ts';
import { parseRecordKey, type ConsumerHandlers, type InboundRecord, type PartitionStart, type RecordConsumer } from '../record-log.ts';

export interface KafkaConsumerOptions extends TopicOptions {
  groupId: string;
}

export function createKafkaConsumer(kafka: KafkaClient, options: KafkaConsumerOptions, logger: Logger): RecordConsumer {
  const log = logger.child({ component: 'kafka-consumer', topic: options.topic, group: options.groupId });
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    // Large batches keep the per-record overhead low; the broker returns at least one batch even when larger.
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  const admin: Admin = kafka.admin();
  let assigned = new Set<number>();
  let running = false;
  let crashed = false;
  // pause() before run() would throw in kafkajs: remembered, and applied once consuming starts.
  let pauseWanted = false;
  const closed = new AbortController();
  let starting: Promise<void> | undefined;

  const toRecords = (batch: EachBatchPayload['batch']): InboundRecord[] =>
    batch.messages.map((m) => {
      const key = m.key ? parseRecordKey(m.key) : undefined;
      const header = (name: string) => {
        const v = m.headers?.[name];
        return v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v);
      };
      return {
        partition: batch.partition,
        offset: BigInt(m.offset),
        tenant: header('tenant') ?? key?.tenant ?? '',
        cluster: header('cluster') ?? key?.cluster ?? '',
        formatVersion: Number(header('format-version') ?? 0),
        value: m.value ?? Buffer.alloc(0),
        timestamp: Number(m.timestamp),
      };
    });

  return {
    /** Connects and starts consuming in the background, retrying while Kafka is unreachable. */
    async start(handlers: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const now = new Set<number>(event.payload.memberAssignment[options.topic] ?? []);
        const revoked = [...assigned].filter((p) => !now.has(p));
        assigned = now;
        log.info({ partitions: [...now], revoked }, 'partitions assigned');
        if (revoked.length > 0) handlers.onRevoked(revoked);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        crashed = true;
        // kafkajs restarts the consumer itself after a retriable crash: only a final one is an error.
        const { error, restart } = event.payload;
        if (restart) warnLimited(log, kafka.warnings, `crash: ${errorMessage(error)}`, { err: error, restart }, 'consumer crashed; kafkajs restarts it');
        else log.error({ err: error, restart }, 'consumer crashed and will not restart');
      });
      consumer.on(consumer.events.FETCH_START, () => {
        crashed = false;
      });
      const startOnce = async () => {
        await admin.connect();
        // A processor may start before any receiver created the topic; subscribing to a missing topic fails.
        await ensureTopic(admin, options);
        await consumer.connect();
        await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          partitionsConsumedConcurrently: 1,
          eachBatch: async ({ batch }) => {
            if (batch.messages.length === 0) return;
            await handlers.onRecords(batch.partition, toRecords(batch), BigInt(batch.highWatermark));
          },
        });
        running = true;
        if (pauseWanted) consumer.pause([{ topic: options.topic }]);
      };
      starting = retryUntilConnected(kafka, log, { doing: 'start consuming from' }, startOnce, closed.signal);
    },

    async partitionStart(partition) {
      const [committed] = await admin.fetchOffsets({ groupId: options.groupId, topics: [options.topic] });
      const entry = committed?.partitions.find((p) => p.partition === partition);
      const ends = await admin.fetchTopicOffsets(options.topic);
      const end = ends.find((p) => p.partition === partition);
      const offset = entry && entry.offset !== '-1' ? BigInt(entry.offset) : undefined;
      return { committed: offset, metadata: entry?.metadata ?? undefined, end: BigInt(end?.high ?? end?.offset ?? '0') };
    },

    async commit(commits) {
      if (commits.length === 0) return;
      await consumer.commitOffsets(commits.map((c) => ({ topic: options.topic, partition: c.partition, offset: c.offset.toString(), metadata: c.metadata })));
    },

    pause() {
      pauseWanted = true;
      if (running) consumer.pause([{ topic: options.topic }]);
    },
    resume() {
      pauseWanted = false;
      if (running) consumer.resume([{ topic: options.topic }]);
    },
    isReady() {
      return running && !crashed;
    },
    async close() {
      closed.abort();
      await starting;
      await consumer.disconnect();
      await admin.disconnect();
      running = false;
    },
  };
}
