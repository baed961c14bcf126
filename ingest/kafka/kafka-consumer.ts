// Consumes the topic with a @platformatic/kafka consumer group. Offsets are committed only by the
// processor (never automatically), after the rows they fed are stored.
//
// The client delivers one message at a time on a stream; messages that arrive together are handed
// on as one batch per partition, in offset order, one batch at a time, with the stream paused
// meanwhile (so fetching stops while the processor is busy and memory stays bounded). A stream or
// group failure ends the session: every partition is revoked (the processor rebuilds them from
// their commits) and a new member joins after a pause.
import { Admin, Consumer, stringDeserializer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { warnLimited } from '../../core/log-limiter.ts';
import { parseRecordKey, type ConsumerHandlers, type InboundRecord, type RecordConsumer } from '../record-log.ts';
import { forceClose, retryUntilConnected, type KafkaClient } from './kafka-client.ts';
import { commitWithMetadata, readPartitionStart } from './offsets.ts';
import { ensureTopic, type TopicOptions } from './topic.ts';

export interface KafkaConsumerOptions extends TopicOptions {
  groupId: string;
}

type GroupConsumer = Consumer<Buffer, Buffer, string, string>;
type Inbound = Message<Buffer, Buffer, string, string>;

/** How often partition ends (for the lag the processor reports) are refreshed while consuming. */
const END_REFRESH_MS = 5000;
/** A member that stops heartbeating leaves the group after this (a crashed processor's partitions move on). */
const SESSION_TIMEOUT_MS = 30_000;
/**
 * How long the coordinator waits for every member to rejoin in a rebalance. It holds a JoinGroup
 * request that long (a new member joining while another is dead or frozen waits for its session to
 * expire and the rebalance to end), so the member's requests may take longer than that before they
 * count as timed out: with the client's ordinary request timeout, every join was abandoned and
 * retried by a new member, and a restarted processor never got its partitions back.
 */
const REBALANCE_TIMEOUT_MS = 60_000;
const GROUP_REQUEST_TIMEOUT_MS = REBALANCE_TIMEOUT_MS + 15_000;

function toRecord(m: Inbound): InboundRecord {
  const key = m.key ? parseRecordKey(m.key) : undefined;
  return {
    partition: m.partition,
    offset: m.offset,
    tenant: m.headers.get('tenant') ?? key?.tenant ?? '',
    cluster: m.headers.get('cluster') ?? key?.cluster ?? '',
    formatVersion: Number(m.headers.get('format-version') ?? 0),
    value: m.value ?? Buffer.alloc(0),
    timestamp: Number(m.timestamp),
  };
}

export function createKafkaConsumer(kafka: KafkaClient, options: KafkaConsumerOptions, logger: Logger): RecordConsumer {
  const log = logger.child({ component: 'kafka-consumer', topic: options.topic, group: options.groupId });
  const admin = new Admin(kafka.options());
  let consumer: GroupConsumer | undefined;
  let stream: MessagesStream<Buffer, Buffer, string, string> | undefined;
  let handlers: ConsumerHandlers | undefined;
  let assigned = new Set<number>();
  const ends = new Map<number, bigint>();
  let pending: Inbound[] = [];
  let delivering: Promise<void> | undefined;
  let paused = false;
  let running = false;
  let closing = false;
  let session: Promise<void> | undefined;
  let endTimer: NodeJS.Timeout | undefined;
  /** Ends the wait between memberships at close. */
  const stopJoining = new AbortController();

  /** The stream flows unless the processor paused it or a batch is being handed on. */
  const updateFlow = (): void => {
    if (!stream || stream.destroyed) return;
    if (paused || delivering) stream.pause();
    else stream.resume();
  };

  const deliver = async (): Promise<void> => {
    while (pending.length > 0 && handlers) {
      const messages = pending;
      pending = [];
      const byPartition = new Map<number, InboundRecord[]>();
      for (const m of messages) {
        // A fetch answered just before a rebalance may still carry a partition this member lost.
        if (!assigned.has(m.partition)) continue;
        let records = byPartition.get(m.partition);
        if (!records) byPartition.set(m.partition, (records = []));
        records.push(toRecord(m));
      }
      for (const [partition, records] of byPartition) {
        const next = records[records.length - 1].offset + 1n;
        const end = ends.get(partition) ?? 0n;
        if (next > end) ends.set(partition, next);
        await handlers.onRecords(partition, records, end > next ? end : next);
      }
    }
  };

  const scheduleDelivery = (): void => {
    if (delivering) return;
    delivering = new Promise<void>((r) => setImmediate(r))
      .then(deliver)
      .catch((err: unknown) => log.error({ err }, 'handling consumed records failed'))
      .finally(() => {
        delivering = undefined;
        if (pending.length > 0) scheduleDelivery();
        else updateFlow();
      });
    updateFlow();
  };

  const refreshEnds = async (): Promise<void> => {
    if (!consumer || assigned.size === 0) return;
    try {
      const offsets = await consumer.listOffsets({ topics: [options.topic], isolationLevel: 0 });
      for (const [partition, end] of (offsets.get(options.topic) ?? []).entries()) {
        if (end > (ends.get(partition) ?? -1n)) ends.set(partition, end);
      }
    } catch (err) {
      log.debug({ err }, 'cannot read partition ends');
    }
  };

  const revokeAll = (): void => {
    const revoked = [...assigned];
    assigned = new Set();
    if (revoked.length > 0) handlers?.onRevoked(revoked);
  };

  /** One membership: joins, streams until the stream or the group fails, then leaves. */
  const runSession = async (): Promise<void> => {
    await ensureTopic(admin, options);
    if (closing) return;
    const member: GroupConsumer = new Consumer<Buffer, Buffer, string, string>({
      ...kafka.options(),
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      requestTimeout: GROUP_REQUEST_TIMEOUT_MS,
      heartbeatInterval: 3_000,
      // Large fetches keep the per-record overhead low; the broker returns at least one batch even when larger.
      maxBytes: 32 * 1024 * 1024,
      maxBytesPerPartition: 8 * 1024 * 1024,
      deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer },
    });
    const failed = new Promise<Error>((resolve) => {
      member.on('error', resolve);
      member.on('consumer:group:join', (event) => {
        const now = new Set<number>(event.assignments?.find((a) => a.topic === options.topic)?.partitions ?? []);
        const revoked = [...assigned].filter((p) => !now.has(p));
        assigned = now;
        log.info({ partitions: [...now], revoked }, 'partitions assigned');
        if (revoked.length > 0) handlers?.onRevoked(revoked);
      });
      member.on('consumer:heartbeat:error', (event) =>
        warnLimited(log, kafka.warnings, `heartbeat: ${errorMessage(event.error)}`, { err: event.error }, 'consumer group heartbeat failed'),
      );
    });
    consumer = member;
    try {
      const messages = await member.consume({ topics: [options.topic], autocommit: false, mode: 'committed', fallbackMode: 'earliest' });
      // Closed while joining: close() found no member to close, so this session does it (finally).
      if (closing) return;
      stream = messages;
      const ended = new Promise<Error>((resolve) => {
        messages.on('data', (m: Inbound) => {
          pending.push(m);
          scheduleDelivery();
        });
        messages.on('error', resolve);
        messages.on('close', () => resolve(new Error('the message stream closed')));
      });
      running = true;
      updateFlow();
      const err = await Promise.race([failed, ended]);
      if (!closing) throw err;
    } finally {
      running = false;
      stream = undefined;
      await delivering;
      await forceClose(member);
      if (consumer === member) consumer = undefined;
      revokeAll();
    }
  };

  return {
    async start(h) {
      handlers = h;
      endTimer = setInterval(() => void refreshEnds(), END_REFRESH_MS);
      endTimer.unref();
      // A session ends only with an error (or at close): each failure is a warning within the
      // client's budget, then a new member joins.
      const what = { doing: 'consume from', meanwhile: 'joining the consumer group again' };
      session = retryUntilConnected(kafka, log, what, async () => (closing ? undefined : runSession()), stopJoining.signal);
    },

    partitionStart(partition) {
      return readPartitionStart(admin, options.groupId, options.topic, partition);
    },

    async commit(commits) {
      if (commits.length === 0) return;
      if (!consumer) throw new Error('the consumer is not connected to Kafka');
      await commitWithMetadata(consumer, options.topic, commits);
    },

    pause() {
      paused = true;
      updateFlow();
    },
    resume() {
      paused = false;
      updateFlow();
    },
    isReady() {
      return running && !!consumer?.isActive();
    },
    async close() {
      closing = true;
      stopJoining.abort();
      if (endTimer) clearInterval(endTimer);
      const member = consumer;
      // Closing the member leaves the group and ends the stream, which ends the session.
      if (member) await forceClose(member);
      await session;
      await admin.close();
      consumer = undefined;
    },
  };
}
