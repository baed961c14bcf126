// What the @platformatic/kafka admin, producer and consumer share: their options, one warning
// budget, and the connect loop. The package stays behind ingest/record-log.ts: nothing outside
// ingest/kafka/ imports it (bench/KAFKA-CLIENTS.md says why this client, and what it lacks).
import type { BaseOptions } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { createLogLimiter, warnLimited, type LogLimiter } from '../../core/log-limiter.ts';
import { backoffDelay, withRetry } from '../../core/retry.ts';

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Bound on one broker request and on the broker's wait for replica acknowledgements. */
  requestTimeoutMs: number;
  /** Retries of one operation; the client's idempotent producer would otherwise retry for ever. */
  retries: number;
}

/**
 * The settings every admin, producer and consumer of this process is built from, plus one warning
 * budget shared by the publisher and the consumer: while the brokers are unreachable every part
 * fails at once, several times a second, and an operator needs a handful of lines saying so, not
 * hundreds.
 */
export interface KafkaClient {
  readonly brokers: readonly string[];
  readonly retries: number;
  readonly warnings: LogLimiter;
  /** Options for a new admin, producer or consumer. */
  options(): BaseOptions;
}

export function createKafka(options: KafkaClientOptions): KafkaClient {
  const maxDelayMs = Math.max(200, options.requestTimeoutMs / 4);
  const brokers = [...options.brokers];
  return {
    brokers,
    retries: options.retries,
    warnings: createLogLimiter(),
    options: () => ({
      clientId: options.clientId,
      bootstrapBrokers: [...brokers],
      connectTimeout: Math.min(3000, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      timeout: options.requestTimeoutMs,
      retries: options.retries,
      retryDelay: (_client, _operation, attempt) => backoffDelay(attempt, 100, maxDelayMs, Math.random),
      autocreateTopics: false,
    }),
  };
}

/** "Kafka 10.0.0.1:9092,10.0.0.2:9092 (KAFKA_BROKERS)", for messages that tell an operator what is waited for. */
export function describeBrokers(kafka: KafkaClient): string {
  return `Kafka ${kafka.brokers.join(',')} (KAFKA_BROKERS)`;
}

/**
 * Repeats `attempt` with backoff (up to 5 s apart) until it succeeds or `signal` aborts (a close),
 * warning within the client's budget: "cannot <doing> Kafka 10.0.0.1:9092 (KAFKA_BROKERS) yet: ...".
 * Never rejects: only success or a close ends it.
 */
export async function retryUntilConnected(
  kafka: KafkaClient,
  log: Logger,
  what: { doing: string; meanwhile?: string },
  attempt: () => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const meanwhile = what.meanwhile ? ` (${what.meanwhile})` : '';
  await withRetry(attempt, {
    isRetriable: () => !signal.aborted,
    initialDelayMs: 250,
    maxDelayMs: 5000,
    signal,
    onRetry: (err, n, delayMs) =>
      warnLimited(
        log,
        kafka.warnings,
        `${what.doing}: ${errorMessage(err)}`,
        { error: errorMessage(err), attempt: n, retryInMs: delayMs },
        `cannot ${what.doing} ${describeBrokers(kafka)} yet: ${errorMessage(err)}; retrying${meanwhile}`,
      ),
  }).catch(() => undefined);
}

/** The broker's error name inside a client error (e.g. TOPIC_ALREADY_EXISTS), when it carries one. */
export function brokerErrorId(err: unknown): string | undefined {
  const found = (err as { findBy?: (property: string, value: unknown) => { apiId?: string } | null }).findBy;
  if (typeof found !== 'function') return (err as { apiId?: string }).apiId;
  for (const id of BROKER_ERRORS) if (found.call(err, 'apiId', id)) return id;
  return undefined;
}

const BROKER_ERRORS = ['TOPIC_ALREADY_EXISTS', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'] as const;

/** A producer or consumer, whatever its serialised types. */
interface Closable {
  close(force: boolean, callback: (err?: Error | null) => void): void;
  readonly connections: { close(callback: () => void): void };
}

/**
 * Closes a producer or consumer even while it has streams or sends open; never rejects. A consumer
 * that cannot leave its group (the broker is gone) stays open in the client: its connections are
 * then closed directly, so nothing keeps retrying or holds the process.
 */
export function forceClose(client: Closable): Promise<void> {
  return new Promise((resolve) =>
    client.close(true, (err) => {
      if (err) client.connections.close(() => resolve());
      else resolve();
    }),
  );
}
