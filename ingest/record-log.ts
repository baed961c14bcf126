// The narrow interfaces between the receiver, the processor and whatever carries records between
// them (Kafka, or the embedded on-disk log). Nothing outside ingest/ knows which one is in use.
import { ServiceError } from '../core/errors.ts';

/** One record as the receiver publishes it: the series of one (tenant, cluster) from one request. */
export interface OutboundRecord {
  readonly tenant: string;
  readonly cluster: string;
  /** The record format (ingest/record-format.ts). */
  readonly value: Buffer;
  /** Samples inside, for metrics. */
  readonly samples: number;
}

export interface RecordPublisher {
  /**
   * Resolves once every record is durably stored (acknowledged by all in-sync replicas, or
   * fsynced); rejects with a PublishError otherwise, in which case some records may still have
   * been stored: the sender retries and the processor de-duplicates.
   */
  publish(records: readonly OutboundRecord[]): Promise<void>;
  /** False while the log cannot accept records (broker unreachable, topic missing). */
  isReady(): boolean;
  /** Flushes what is in flight, then releases connections. */
  close(): Promise<void>;
}

type PublishFailure = 'unavailable' | 'timeout' | 'closed';

/**
 * Why records were not stored. Code `log-<reason>`; the log being down or slow is worth retrying
 * later, a publisher closed for shutdown is not (another instance takes the retry).
 */
export class PublishError extends ServiceError {
  override name = 'PublishError';
  readonly reason: PublishFailure;
  constructor(message: string, reason: PublishFailure, options?: { cause?: unknown }) {
    super(`log-${reason}`, message, { cause: options?.cause, retriable: reason !== 'closed' });
    this.reason = reason;
  }
}

/** One record as the processor consumes it. */
export interface InboundRecord {
  readonly partition: number;
  /** Position in its partition; committing `offset + 1` means this record is done. */
  readonly offset: bigint;
  readonly tenant: string;
  readonly cluster: string;
  /** The record format of `value` (ingest/record-format.ts), as the log says it. */
  readonly formatVersion: number;
  readonly value: Buffer;
  /** When the log stored it, ms since the epoch. */
  readonly timestamp: number;
}

/** Record key: tenant and cluster joined by a NUL byte, so one cluster's records stay on one partition, in order. */
export function recordKey(tenant: string, cluster: string): Buffer {
  return Buffer.from(`${tenant}\u0000${cluster}`, 'utf8');
}

export function parseRecordKey(key: Buffer | Uint8Array): { tenant: string; cluster: string } | undefined {
  const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
  const nul = text.indexOf('\u0000');
  if (nul < 0) return undefined;
  return { tenant: text.slice(0, nul), cluster: text.slice(nul + 1) };
}

/** Where a partition's consumption starts, read when this process first sees the partition. */
export interface PartitionStart {
  /** The committed position (next record to read), or undefined for a new group. */
  committed: bigint | undefined;
  /** Opaque text stored with the last commit (the processor keeps its replay floor there). */
  metadata: string | undefined;
  /** The partition's end when assigned: records before it are a replay of work done before. */
  end: bigint;
}

export interface ConsumerHandlers {
  /** Records of one partition in offset order; the next call for that partition waits for this one. */
  onRecords(partition: number, records: InboundRecord[], end: bigint): Promise<void>;
  /** Partitions taken away by a rebalance: forget their state, another consumer rebuilds it. */
  onRevoked(partitions: number[]): void;
}

export interface RecordConsumer {
  start(handlers: ConsumerHandlers): Promise<void>;
  partitionStart(partition: number): Promise<PartitionStart>;
  /** Commits `offset` (the next record to read) with metadata, per partition. */
  commit(commits: { partition: number; offset: bigint; metadata: string }[]): Promise<void>;
  /** Stops fetching (e.g. while the sink is failing), so memory stays bounded. */
  pause(): void;
  resume(): void;
  isReady(): boolean;
  close(): Promise<void>;
}
