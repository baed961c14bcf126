// Every way a read (the allocation API, the SQL endpoint) can be refused or fail: its stable code and
// HTTP status, decided here only. The README's table "Errors and limits of the read side" lists the
// same codes (a test compares them both ways); `k8s_expenses_query_refused_total{reason}` counts
// refusals under them. A refusal caused by a limit names the limit and its value.
import { ServiceError, errorMessage } from '../core/errors.ts';
import { clickHouseErrorCode, isRetriable } from '../processor/clickhouse/errors.ts';
import { limitName, type ReadLimits } from './limits.ts';

export interface ReadErrorSpec {
  status: number;
  retriable: boolean;
}

export const READ_ERRORS = {
  // 400: the request must change.
  'bad-parameter': { status: 400, retriable: false },
  'query-refused': { status: 400, retriable: false },
  'query-failed': { status: 400, retriable: false },
  'too-large': { status: 400, retriable: false },
  'memory-limit': { status: 400, retriable: false },
  'tenant-missing': { status: 400, retriable: false },
  'tenant-invalid': { status: 400, retriable: false },
  // 401/403: who is asking.
  'auth-missing': { status: 401, retriable: false },
  'auth-invalid': { status: 401, retriable: false },
  'tenant-mismatch': { status: 403, retriable: false },
  'not-a-read-credential': { status: 403, retriable: false },
  'host-refused': { status: 403, retriable: false },
  'cross-origin': { status: 403, retriable: false },
  // Never answered: nobody is left to read it. Counted, and the query is stopped.
  'client-gone': { status: 499, retriable: false },
  // 503: the same request may pass later.
  'query-timeout': { status: 503, retriable: true },
  'too-many-queries': { status: 503, retriable: true },
  'clickhouse-unavailable': { status: 503, retriable: true },
  // 500: a defect of ours.
  internal: { status: 500, retriable: false },
} as const satisfies Record<string, ReadErrorSpec>;

export type ReadErrorCode = keyof typeof READ_ERRORS;

export class ReadError extends ServiceError {
  override name = 'ReadError';
  readonly status: number;
  /** Sent as Retry-After with a 503 the client should repeat soon. */
  readonly retryAfterSeconds?: number;

  constructor(code: ReadErrorCode, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(code, message, { retriable: READ_ERRORS[code].retriable, cause: options.cause });
    this.status = READ_ERRORS[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A 400 naming the parameter: `window: "x" is not a window: use ...`. */
export function badParameter(parameter: string, why: string): ReadError {
  return new ReadError('bad-parameter', `${parameter}: ${why}`);
}

export function timeoutError(limits: ReadLimits, cause?: unknown): ReadError {
  return new ReadError('query-timeout', `the query ran longer than ${limitName(limits, 'timeout')}: ask for less (a shorter window, fewer rows), or retry later`, { cause });
}

const TOO_MANY_ROWS_OR_BYTES = 396;
const MEMORY_LIMIT_EXCEEDED = 241;
const TIMEOUT_CODES: ReadonlySet<number> = new Set([159, 160]);

/**
 * What a failed ClickHouse query means for the requester. `userSql`: the SQL is the user's own (the
 * SQL endpoint), so ClickHouse's refusal of it is the user's to fix and is passed on; otherwise the
 * SQL is ours, and its failure a defect whose cause goes to the log only (it may name hosts,
 * paths or our SQL).
 */
export function classifyReadFailure(err: unknown, limits: ReadLimits, options: { userSql: boolean }): ReadError {
  if (err instanceof ReadError) return err;
  const code = clickHouseErrorCode(err);
  const message = errorMessage(err).trim();
  if (code === TOO_MANY_ROWS_OR_BYTES) {
    return /max bytes/i.test(message)
      ? new ReadError('too-large', `the answer is larger than ${limitName(limits, 'memory')}: ask for fewer rows or columns`, { cause: err })
      : new ReadError('too-large', `the answer has more rows than ${limitName(limits, 'rows')}: aggregate more, or add a LIMIT`, { cause: err });
  }
  // The per-query limit ("Query memory limit exceeded") is the request's size; the server's total is load.
  if (code === MEMORY_LIMIT_EXCEEDED && /query memory limit/i.test(message)) {
    return new ReadError('memory-limit', `the query needs more memory than ${limitName(limits, 'memory')}: ask for less (a shorter window, fewer groups)`, { cause: err });
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) return timeoutError(limits, err);
  if (isRetriable(err)) return new ReadError('clickhouse-unavailable', 'ClickHouse is unavailable or overloaded: retry later', { cause: err });
  if (options.userSql && code !== undefined) return new ReadError('query-failed', message, { cause: err });
  return new ReadError('internal', 'internal error', { cause: err });
}

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/**
 * The answer to any error: ours by the registry; a credentials error by its own 4xx `status` and
 * `code`; anything else is a 500 that says nothing of its cause.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof ReadError) return { status: err.status, code: err.code, message: err.message, retryAfterSeconds: err.retryAfterSeconds };
  const status = (err as { status?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: typeof code === 'string' ? code : 'rejected', message: errorMessage(err) };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}
