// Builds the kafkajs client. kafkajs is unmaintained (last release 2023), so it stays behind
// ingest/record-log.ts: nothing outside ingest/kafka/ imports it.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Bound on one broker request; kafkajs' defaults would otherwise retry for minutes. */
  requestTimeoutMs: number;
  retries: number;
}

// kafkajs logs its own retries and restarts (a coordinator still loading after a broker start, a
// rebalance) as errors; our adapters log the consequences at the severity they deserve, so
// kafkajs' view is diagnostic and never above a warning.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(options: KafkaClientOptions, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
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
        log[LEVELS[level] ?? 'info'](extra, message);
      },
  });
}
