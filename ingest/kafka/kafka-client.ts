// Builds the kafkajs client. kafkajs is unmaintained (last release 2023), so it stays behind
// ingest/record-log.ts: nothing outside ingest/kafka/ imports it.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.ts';
import { createLogLimiter, warnLimited, type LogLimiter } from '../../core/log-limiter.ts';
import { withRetry } from '../../core/retry.ts';

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Bound on one broker request; kafkajs' defaults would otherwise retry for minutes. */
  requestTimeoutMs: number;
  retries: number;
}

/**
 * The kafkajs client plus one warning budget shared by kafkajs' own log and our publisher and
 * consumer: while the brokers are unreachable every part of the client fails at once, several
 * times a second, and an operator needs a handful of lines saying so, not hundreds.
 */
export type KafkaClient = Kafka & {
  readonly brokers: readonly string[];
  readonly warnings: LogLimiter;
};

// kafkajs logs its own retries and restarts (a coordinator still loading after a broker start, a
// rebalance) as errors; our adapters log the consequences at the severity they deserve, so
// kafkajs' view is diagnostic and never above a warning.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(options: KafkaClientOptions, logger: Logger): KafkaClient {
  const log = logger.child({ component: 'kafkajs' });
  const warnings = createLogLimiter();
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: Math.min(3000, options.requestTimeoutMs),
    requestTimeout: options.requestTimeoutMs,
    retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: Math.max(200, options.requestTimeoutMs / 4) },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry;
        const severity = LEVELS[level] ?? 'info';
        // The message is the cause: kafkajs puts what varies (retry counts, times) in the fields.
        if (severity === 'warn') warnLimited(log, warnings, `kafkajs: ${message}`, extra, message);
        else log[severity](extra, message);
      },
  });
  return Object.assign(kafka, { brokers: [...options.brokers], warnings });
}

/** "Kafka 10.0.0.1:9092,10.0.0.2:9092", for messages that tell an operator what is waited for. */
function describeBrokers(kafka: KafkaClient): string {
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
