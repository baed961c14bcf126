// What both Kafka publishers (kafka/ with kafkajs, kafka-platformatic/ for the client comparison)
// do around their client's send, written once: concurrent publishes merged into one send; a
// merged send the topic refuses as too large sent again record by record; a publish that waits at
// most the produce timeout and tells its failure as the PublishError the receiver answers by.
import type { Logger } from 'pino';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import { FORMAT_VERSION } from './record-format.ts';
import { PublishError, recordKey, type OutboundRecord } from './record-log.ts';

/** The broker's names for a batch over the topic's max.message.bytes. */
const MESSAGE_TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** A record's Kafka key, value and headers. */
export function kafkaMessageOf(record: OutboundRecord): { key: Buffer; value: Buffer; headers: Record<string, string> } {
  return {
    key: recordKey(record.tenant, record.cluster),
    value: record.value,
    headers: { tenant: record.tenant, cluster: record.cluster, 'format-version': String(FORMAT_VERSION) },
  };
}

export interface MergedSendOptions<M> {
  /** A merged send stops growing past this many uncompressed bytes. */
  maxGroupBytes: number;
  toMessage(record: OutboundRecord): M;
  /** The client's send: resolves once all in-sync replicas acknowledged. */
  send(messages: M[]): Promise<void>;
  /** The broker's error name carried by a failed send, if any. */
  brokerError(err: unknown): string | undefined;
  /** A send failed for another reason than a missing connection: its producer must not be reused. */
  onSendFailure(err: unknown): void;
  onSent(): void;
  log: Logger;
}

export function createMergedSends<M>(options: MergedSendOptions<M>): GroupCommit<OutboundRecord[]> {
  return createGroupCommit<OutboundRecord[]>({
    maxGroupBytes: options.maxGroupBytes,
    sizeOf: (records) => records.reduce((n, r) => n + r.value.length, 0),
    async write(batches) {
      const messages = batches.flat().map((record) => options.toMessage(record));
      try {
        await options.send(messages);
      } catch (err) {
        const name = options.brokerError(err);
        if (name && MESSAGE_TOO_LARGE.has(name) && messages.length > 1) {
          // The merged batch exceeds the topic's limit for one partition: one record per send.
          options.log.warn({ records: messages.length }, 'merged batch too large for the topic; sending records one by one');
          for (const m of messages) await options.send([m]);
        } else {
          if (!(err instanceof PublishError)) options.onSendFailure(err);
          throw err;
        }
      }
      options.onSent();
    },
  });
}

/**
 * Publishes through the merged sends, refusing at once while closed or not connected, and waiting
 * at most `produceTimeoutMs`: a client retrying on its own never holds a request longer.
 */
export async function publishWithin(
  sends: GroupCommit<OutboundRecord[]>,
  records: readonly OutboundRecord[],
  produceTimeoutMs: number,
  state: { closed: boolean; connected: boolean },
): Promise<void> {
  if (state.closed) throw new PublishError('the service is shutting down', 'closed');
  if (!state.connected) throw new PublishError('Kafka is unreachable', 'unavailable');
  if (records.length === 0) return;
  const deadline = AbortSignal.timeout(produceTimeoutMs);
  try {
    await sends.submit([...records], deadline);
  } catch (err) {
    if (err instanceof PublishError) throw err;
    if (deadline.aborted) throw new PublishError(`Kafka did not acknowledge within ${produceTimeoutMs} ms`, 'timeout', { cause: err });
    throw new PublishError(`Kafka rejected the records: ${(err as Error).message}`, 'unavailable', { cause: err });
  }
}
