// Options shared by the @platformatic/kafka admin, producer and consumer. The package stays behind
// ingest/record-log.ts: nothing outside ingest/kafka-platformatic/ imports it.
import type { BaseOptions, Consumer, Producer } from '@platformatic/kafka';
import { backoffDelay } from '../../core/retry.ts';

export interface PlatformaticClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Bound on one broker request and on the broker's wait for replica acknowledgements. */
  requestTimeoutMs: number;
  /** Retries of one operation; the client's idempotent producer would otherwise retry for ever. */
  retries: number;
}

export function clientOptions(options: PlatformaticClientOptions): BaseOptions {
  const maxDelayMs = Math.max(200, options.requestTimeoutMs / 4);
  return {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: Math.min(3000, options.requestTimeoutMs),
    requestTimeout: options.requestTimeoutMs,
    timeout: options.requestTimeoutMs,
    retries: options.retries,
    retryDelay: (_client, _operation, attempt) => backoffDelay(attempt, 100, maxDelayMs, Math.random),
    autocreateTopics: false,
  };
}

/** The broker's error name inside a client error (e.g. TOPIC_ALREADY_EXISTS), when it carries one. */
export function brokerErrorId(err: unknown): string | undefined {
  const found = (err as { findBy?: (property: string, value: unknown) => { apiId?: string } | null }).findBy;
  if (typeof found !== 'function') return (err as { apiId?: string }).apiId;
  for (const id of BROKER_ERRORS) if (found.call(err, 'apiId', id)) return id;
  return undefined;
}

const BROKER_ERRORS = ['TOPIC_ALREADY_EXISTS', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'] as const;

/**
 * Closes a producer or consumer even while it has streams or sends open; never rejects. A consumer
 * that cannot leave its group (the broker is gone) stays open in the client: its connections are
 * then closed directly, so nothing keeps retrying or holds the process.
 */
export function forceClose(client: Producer<Buffer, Buffer, string, string> | Consumer<Buffer, Buffer, string, string>): Promise<void> {
  return new Promise((resolve) =>
    client.close(true, (err) => {
      if (err) client.connections.close(() => resolve());
      else resolve();
    }),
  );
}
