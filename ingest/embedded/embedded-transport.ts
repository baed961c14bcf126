// The embedded log behind the same interfaces as Kafka: the receiver publishes to it, the
// processor consumes from it with committed offsets, and neither knows the difference.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PublishError, type ConsumerHandlers, type InboundRecord, type RecordConsumer, type RecordPublisher } from '../record-log.ts';
import type { EmbeddedLog } from './embedded-log.ts';

export function createEmbeddedPublisher(log: EmbeddedLog): RecordPublisher {
  let closed = false;
  return {
    async publish(records) {
      if (closed) throw new PublishError('the service is shutting down', 'closed');
      const now = Date.now();
      try {
        await log.append(records.map((r) => ({ timestamp: now, tenant: r.tenant, cluster: r.cluster, value: r.value })));
      } catch (err) {
        throw new PublishError(`cannot append to the embedded log: ${(err as Error).message}`, 'unavailable', { cause: err });
      }
    },
    isReady: () => !closed,
    async close() {
      closed = true;
    },
  };
}

const PARTITION = 0;
/**
 * What one read hands the processor, which works through it without yielding: in the embedded mode
 * the processor shares the main thread with HTTP, the decode threads' answers and the log's appends,
 * so a read is also how long they may wait behind it. 8 MiB held the event loop for tens of
 * milliseconds; 1 MiB gave `npm start` about a quarter more; 64 KiB, with a turn of the event loop
 * before every read, about a seventh more again (`npm run bench:receiver -- --embedded`, 3 pairs
 * alternated: 467,152 to 498,056 samples/s, median 479,120, against 407,286 to 476,514, median
 * 419,898; the publish duration in /metrics 12 to 14 ms a request against 15 to 19), for about a
 * tenth less when the processor works through a backlog alone (`npm run bench:processor --
 * --embedded`: 1.19M samples/s per core against 1.29M to 1.47M).
 */
export const READ_BYTES = 64 * 1024;

export function createEmbeddedConsumer(log: EmbeddedLog, groupId: string, logger: Logger): RecordConsumer {
  const trace = logger.child({ component: 'embedded-consumer', group: groupId });
  let running = false;
  let paused = false;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let resumed: (() => void) | undefined;
  let stop!: () => void;
  const stopping = new Promise<void>((r) => (stop = r));

  const run = async (handlers: ConsumerHandlers): Promise<void> => {
    let next = log.committed(groupId)?.offset ?? 0n;
    while (!stopped) {
      if (paused) {
        await new Promise<void>((r) => (resumed = r));
        continue;
      }
      await Promise.race([log.waitFor(next), stopping]);
      // An append wakes this loop before its own callers resume, and the latest records are read
      // from memory without waiting for anything: without a turn of the event loop here the
      // processor would handle them ahead of their acknowledgement (and of every thread's answer
      // and HTTP read meanwhile), and a backlog would be handed over in one run of reads.
      await nextTurn();
      if (stopped) break;
      const { entries, next: after } = await log.read(next, READ_BYTES);
      // waitFor() resolves with nothing to read only once the log is closed (e.g. start-up failed
      // after the consumer started, and the transport was closed under it). Looping on would spin
      // on microtasks alone and starve the event loop, so the process could never exit.
      if (after === next) break;
      // Offsets a repair set aside (a gap) hold no record: the reader moves past them.
      next = after;
      if (entries.length === 0) continue;
      const records: InboundRecord[] = entries.map((e) => ({
        partition: PARTITION,
        offset: e.offset,
        tenant: e.record.tenant,
        cluster: e.record.cluster,
        // The log keeps no header: a value's first byte is its format version (records written
        // before format 2 are still in logs of earlier releases).
        formatVersion: e.record.value[0] ?? 0,
        value: e.record.value,
        timestamp: e.record.timestamp,
      }));
      await handlers.onRecords(PARTITION, records, log.end);
    }
  };

  return {
    async start(handlers) {
      running = true;
      loop = run(handlers)
        .catch((err: unknown) => trace.error({ err }, 'embedded consumer stopped'))
        .finally(() => (running = false));
    },
    async partitionStart(partition) {
      if (partition !== PARTITION) throw new Error(`the embedded log has one partition, not ${partition}`);
      const c = log.committed(groupId);
      return { committed: c?.offset, metadata: c?.metadata, end: log.end };
    },
    async commit(commits) {
      for (const c of commits) await log.commit(groupId, { offset: c.offset, metadata: c.metadata });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      resumed?.();
    },
    isReady: () => running,
    /** Stops delivering; the log itself is closed by its owner, after the publisher. */
    async close() {
      stopped = true;
      stop();
      resumed?.();
      await loop;
      running = false;
    },
  };
}
