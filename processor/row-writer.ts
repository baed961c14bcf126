// Stores the rows of a flush, trying until they are stored: billing rows are never skipped, and
// nothing is committed before they are (the flush waits here). Reading what the table holds for an
// hour (before a rewrite after a restart) is tried the same way. While writes fail, reading stops,
// so state does not grow while nothing can be stored, and the processor is not ready.
//
// How a failure is retried follows from the sink's ServiceError:
//   retriable (the server is down, overloaded, ...): exponential backoff with jitter;
//   permanent (the table is missing, access is denied, ...): repeating soon cannot help and needs
//   someone to act, so it is repeated at the longest delay, which picks up the fix by itself.
// Either way it is counted per attempt by code, and logged once per failure until writes heal.
import type { Logger } from 'pino';
import { errorCode, errorMessage, isRetriable } from '../core/errors.ts';
import { withRetry } from '../core/retry.ts';
import type { ProcessorMetrics } from './metrics.ts';

/** What the table holds for one hour of a cluster: the keys with a live row, and their highest version. */
export interface StoredHour {
  keys: Set<string>;
  version: number;
}

export interface RowSink<Row> {
  /**
   * One batched insert; rejects when the rows are not stored, with a ServiceError saying why (its
   * code and whether it is retriable). Any other error counts as `internal`, permanent.
   */
  write(rows: Row[]): Promise<void>;
  /**
   * What the table holds for the given hours (epoch ms) of a cluster, by hour (an hour without live
   * rows may be left out); rejects like write(). Without it, nothing is taken as stored.
   */
  storedKeys?(tenant: string, cluster: string, hours: readonly number[]): Promise<ReadonlyMap<number, StoredHour>>;
}

/** Why writes fail at the moment. */
export interface WriteFailure {
  code: string;
  message: string;
  retriable: boolean;
}

export interface RowWriterOptions<Row> {
  sink: RowSink<Row>;
  /** Reading the record log, stopped while writes fail. */
  consumption: { pause(): void; resume(): void };
  metrics: ProcessorMetrics;
  log: Logger;
  /** Backoff of retriable failures: from this, doubling up to maxRetryDelayMs. */
  retryDelayMs: number;
  /** The longest delay: the ceiling of the backoff, and the delay of permanent failures. */
  maxRetryDelayMs: number;
}

export interface RowWriter<Row> {
  /** Resolves once the rows are stored. */
  write(rows: Row[]): Promise<void>;
  /** Resolves with what the table holds for the hours (tried like a write until it answers). */
  storedKeys(tenant: string, cluster: string, hours: readonly number[]): Promise<ReadonlyMap<number, StoredHour>>;
  /** The failure writes are stuck in (undefined: they succeed), for readiness. */
  failure(): WriteFailure | undefined;
}

export function createRowWriter<Row>(options: RowWriterOptions<Row>): RowWriter<Row> {
  const { sink, consumption, metrics, log } = options;
  let failure: WriteFailure | undefined;
  let paused = false;

  const failed = (err: unknown, what: string, rows: number, delayMs: number): void => {
    const next: WriteFailure = { code: errorCode(err), message: errorMessage(err), retriable: isRetriable(err) };
    metrics.writeFailures.inc({ code: next.code });
    // Once per failure: a new line only when the cause changes, not per attempt.
    if (failure?.code !== next.code) {
      const retry = next.retriable ? 'retrying with backoff' : `trying again every ${Math.round(delayMs / 1000)} s until it is fixed`;
      log.error({ err, code: next.code, rows, retriable: next.retriable }, `cannot ${what} ClickHouse (${next.code}): ${next.message}; nothing is committed meanwhile, ${retry}`);
    }
    failure = next;
    if (!paused) {
      consumption.pause();
      paused = true;
    }
  };

  const healed = (): void => {
    if (failure) log.info({ code: failure.code }, 'ClickHouse writes succeed again');
    failure = undefined;
    if (paused) {
      consumption.resume();
      paused = false;
    }
  };

  /** Runs `request` until it succeeds: reading the table fails and heals like writing to it. */
  const untilDone = async <T>(request: () => Promise<T>, what: string, rows: number): Promise<T> => {
    const result = await withRetry(request, {
      isRetriable,
      retryPermanent: true,
      initialDelayMs: options.retryDelayMs,
      maxDelayMs: options.maxRetryDelayMs,
      onRetry: (err, _attempt, delayMs) => failed(err, what, rows, delayMs),
    });
    healed();
    return result;
  };

  return {
    write: (rows) => untilDone(() => sink.write(rows), 'write rows to', rows.length),
    async storedKeys(tenant, cluster, hours) {
      const read = sink.storedKeys;
      if (!read) return new Map();
      return untilDone(() => read.call(sink, tenant, cluster, hours), 'read the rows stored in', 0);
    },
    failure: () => failure,
  };
}
