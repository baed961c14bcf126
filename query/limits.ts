// The limits every read runs under, and the SETTINGS clause that carries them to ClickHouse.
//
// The clause is appended to each query's text, after the guard has checked what the user wrote
// (the guard refuses a SETTINGS clause of the user's own): it holds for that query alone. Session
// settings would not do: the embedded engine keeps them for every later query of the connection,
// and a server client sends them with every request.
import type { QueryConfig } from './config.ts';

export interface ReadLimits {
  /** QUERY_TIMEOUT, whole seconds in milliseconds. */
  timeoutMs: number;
  /** QUERY_MAX_MEMORY in bytes. */
  maxMemoryBytes: number;
  /** QUERY_MAX_RESULT_ROWS. */
  maxResultRows: number;
  /** QUERY_CONCURRENCY. */
  concurrency: number;
}

export function readLimits(config: Pick<QueryConfig, 'QUERY_TIMEOUT' | 'QUERY_MAX_MEMORY' | 'QUERY_MAX_RESULT_ROWS' | 'QUERY_CONCURRENCY'>): ReadLimits {
  return {
    timeoutMs: config.QUERY_TIMEOUT,
    maxMemoryBytes: config.QUERY_MAX_MEMORY,
    maxResultRows: config.QUERY_MAX_RESULT_ROWS,
    concurrency: config.QUERY_CONCURRENCY,
  };
}

/** How a refusal names each limit, with its value as configured: "QUERY_TIMEOUT=30s". */
export function limitName(limits: ReadLimits, limit: 'timeout' | 'memory' | 'rows' | 'concurrency'): string {
  switch (limit) {
    case 'timeout':
      return `QUERY_TIMEOUT=${limits.timeoutMs / 1000}s`;
    case 'memory':
      return `QUERY_MAX_MEMORY=${bytes(limits.maxMemoryBytes)}`;
    case 'rows':
      return `QUERY_MAX_RESULT_ROWS=${limits.maxResultRows}`;
    case 'concurrency':
      return `QUERY_CONCURRENCY=${limits.concurrency}`;
  }
}

function bytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

/**
 * The SETTINGS clause of one read. `resultRows`: also refuse an answer of more than
 * QUERY_MAX_RESULT_ROWS rows, or more bytes than QUERY_MAX_MEMORY (the engine holds the whole
 * answer in memory); a query that bounds its answer itself (LIMIT) leaves it out.
 */
export function limitSettings(limits: ReadLimits, options: { resultRows: boolean }): string {
  const settings = [
    `max_execution_time = ${positiveInteger(Math.ceil(limits.timeoutMs / 1000), 'timeout')}`,
    `max_memory_usage = ${positiveInteger(limits.maxMemoryBytes, 'maxMemoryBytes')}`,
  ];
  if (options.resultRows) {
    settings.push(
      `max_result_rows = ${positiveInteger(limits.maxResultRows, 'maxResultRows')}`,
      `max_result_bytes = ${limits.maxMemoryBytes}`,
      "result_overflow_mode = 'throw'",
    );
  }
  return `SETTINGS ${settings.join(', ')}`;
}
