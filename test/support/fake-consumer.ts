// A record consumer the test drives by hand: it delivers the batches the test gives it, when the
// test says, revokes partitions, and keeps what the processor commits (a restart's partitionStart
// reads it back). It can hold partitionStart open, the way a broker round trip does, so a test can
// revoke a partition while a batch waits for its start.
import { encodeRecords } from '../../ingest/record-encode.ts';
import { FORMAT_VERSION } from '../../ingest/record-format.ts';
import type { ConsumerHandlers, InboundRecord, PartitionStart, RecordConsumer } from '../../ingest/record-log.ts';
import { buildDecodedWrite, type PlainSeries } from './decoded-write-builder.ts';

export interface StoredCommit {
  offset: bigint;
  metadata: string;
}

export interface FakeConsumer extends RecordConsumer {
  /** Commits by partition: shared by the consumers of one "group" (pass it to the next one). */
  readonly commits: Map<number, StoredCommit>;
  /** What partitionStart reports as each partition's end (default 0: no backlog to replay). */
  readonly ends: Map<number, bigint>;
  /** Every commit call, in order. */
  readonly commitCalls: { partition: number; offset: bigint; metadata: string }[];
  /** Delivers one batch of a partition, as the log does (resolves when the processor took it). */
  deliver(partition: number, records: InboundRecord[], end?: bigint): Promise<void>;
  /** Revokes partitions, as a rebalance does. */
  revoke(partitions: number[]): void;
  /** Holds partitionStart of the next partition started until the returned function is called. */
  holdPartitionStart(): () => void;
}

export function createFakeConsumer(commits = new Map<number, StoredCommit>()): FakeConsumer {
  let handlers: ConsumerHandlers | undefined;
  const commitCalls: FakeConsumer['commitCalls'] = [];
  const ends = new Map<number, bigint>();
  let hold: Promise<void> | undefined;
  return {
    commits,
    ends,
    commitCalls,
    async start(h) {
      handlers = h;
    },
    async partitionStart(partition): Promise<PartitionStart> {
      const gate = hold;
      hold = undefined;
      if (gate) await gate;
      const c = commits.get(partition);
      return { committed: c?.offset, metadata: c?.metadata, end: ends.get(partition) ?? 0n };
    },
    async commit(list) {
      for (const c of list) {
        commitCalls.push(c);
        commits.set(c.partition, { offset: c.offset, metadata: c.metadata });
      }
    },
    pause() {},
    resume() {},
    isReady: () => handlers !== undefined,
    async close() {},
    async deliver(partition, records, end) {
      if (!handlers) throw new Error('the consumer was not started');
      const last = records.at(-1);
      await handlers.onRecords(partition, records, end ?? (last ? last.offset + 1n : 0n));
    },
    revoke(partitions) {
      handlers?.onRevoked(partitions);
    },
    holdPartitionStart() {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return release;
    },
  };
}

/** One record of the given series for a (tenant, cluster), at `offset` of `partition`. */
export function inboundRecord(offset: bigint, series: PlainSeries[], options: { partition?: number; tenant?: string; cluster?: string; timestamp?: number } = {}): InboundRecord {
  const value = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 1 << 24)[0];
  return {
    partition: options.partition ?? 0,
    offset,
    tenant: options.tenant ?? 't1',
    cluster: options.cluster ?? 'c1',
    formatVersion: FORMAT_VERSION,
    value,
    timestamp: options.timestamp ?? 0,
  };
}
