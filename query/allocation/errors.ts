// Every way an allocation query can fail, its stable code and HTTP status, decided here only.
// Answers have OpenCost's error shape: {"code": <status>, "message": "..."}.
import { ServiceError, errorMessage } from '../../core/errors.ts';
import { clickHouseErrorCode, isRetriable } from '../../processor/clickhouse/errors.ts';

export const ALLOCATION_ERRORS = {
  // 400: the request must change; the message names the parameter and why.
  'bad-parameter': { status: 400, retriable: false },
  // 400: the answer would exceed the result or memory limit; a coarser request passes.
  'too-large': { status: 400, retriable: false },
  // 503: the same request may pass later.
  'query-timeout': { status: 503, retriable: true },
  'clickhouse-unavailable': { status: 503, retriable: true },
  // 500: a defect of ours (the SQL is ours: a request cannot make it invalid).
  internal: { status: 500, retriable: false },
} as const;

export type AllocationErrorCode = keyof typeof ALLOCATION_ERRORS;

export class AllocationError extends ServiceError {
  override name = 'AllocationError';
  readonly status: number;

  constructor(code: AllocationErrorCode, message: string, cause?: unknown) {
    super(code, message, { retriable: ALLOCATION_ERRORS[code].retriable, cause });
    this.status = ALLOCATION_ERRORS[code].status;
  }
}

/** A 400 naming the parameter: `window: "x" is not a window: use ...`. */
export function badParameter(parameter: string, why: string): AllocationError {
  return new AllocationError('bad-parameter', `${parameter}: ${why}`);
}

const TOO_MANY_ROWS = 396;
const MEMORY_LIMIT_EXCEEDED = 241;
const TIMEOUT_CODES = new Set([159, 160]);

/** What a failed ClickHouse query means for the requester. */
export function classifyQueryFailure(err: unknown): AllocationError {
  if (err instanceof AllocationError) return err;
  const code = clickHouseErrorCode(err);
  const message = errorMessage(err).trim();
  if (code === TOO_MANY_ROWS) {
    return new AllocationError('too-large', 'the answer has more allocations than allowed: aggregate more coarsely (aggregate), use a longer step, or accumulate=true', err);
  }
  // The per-query limit ("Query memory limit exceeded") is the request's size; the server's total is load.
  if (code === MEMORY_LIMIT_EXCEEDED && /query memory limit/i.test(message)) {
    return new AllocationError('too-large', 'the query needs more memory than allowed: shorten the window or aggregate more coarsely', err);
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new AllocationError('query-timeout', 'the query took longer than allowed: retry later, or shorten the window', err);
  }
  // The cause goes to the log only: it may name hosts, paths or our SQL.
  if (isRetriable(err)) return new AllocationError('clickhouse-unavailable', 'ClickHouse is unavailable or overloaded: retry later', err);
  return new AllocationError('internal', 'internal error', err);
}

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/**
 * The answer to any error: ours by their registry; the tenant resolver's by their own `status`
 * (401/403 from credentials); anything else is a 500.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof AllocationError) return { status: err.status, code: err.code, message: err.message };
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: typeof code === 'string' ? code : 'rejected', message: errorMessage(err) };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}
