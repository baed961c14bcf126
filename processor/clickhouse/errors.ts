// Which ClickHouse failures are worth retrying, and the stable code each is reported under, written
// once. Errors are classified by their ClickHouse code, never by class: the embedded engine's errors
// are not instances of the client's ClickHouseError (chdb loads its own copy), and a server's
// arrive parsed from the HTTP body.
import { errorMessage, ServiceError } from '../../core/errors.ts';

/**
 * Codes that describe a passing condition: the same request succeeds later. Writes of
 * k8s_expenses are idempotent (same key and version replace each other), so repeating one that may
 * or may not have landed is safe.
 */
export const RETRIABLE_CODES: ReadonlyMap<number, string> = new Map([
  [3, 'UNEXPECTED_END_OF_FILE: the connection was cut while the body was read'],
  [32, 'ATTEMPT_TO_READ_AFTER_EOF: the connection was cut mid-request'],
  [159, 'TIMEOUT_EXCEEDED: the server is overloaded'],
  [160, 'TOO_SLOW: the server is overloaded'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES: max_concurrent_queries reached; a slot frees up'],
  [203, 'NO_FREE_CONNECTION: connection pool exhausted'],
  [209, 'SOCKET_TIMEOUT: the connection timed out'],
  [210, 'NETWORK_ERROR: the network between the service and the server failed'],
  [225, 'NO_ZOOKEEPER: Keeper unreachable; replicated tables recover when it returns'],
  [236, 'ABORTED: the server aborted the request'],
  [241, 'MEMORY_LIMIT_EXCEEDED: the server-wide limit under load; the same insert passes later'],
  [242, 'TABLE_IS_READ_ONLY: a replica lost its Keeper session and is reconnecting'],
  // Retried rather than dropped: an operator frees space and the hour still gets written.
  [243, "NOT_ENOUGH_SPACE: the server's disk is full: free space"],
  // ClickHouse's own advice for "too many parts" is to slow down while merges catch up.
  [252, 'TOO_MANY_PARTS: merges lag behind inserts and catch up'],
  [279, 'ALL_CONNECTION_TRIES_FAILED: replicas of a distributed table unreachable'],
  [285, 'TOO_FEW_LIVE_REPLICAS: replicas are down; they come back'],
  [319, 'UNKNOWN_STATUS_OF_INSERT: may or may not have been written; repeating is safe'],
  [373, 'SESSION_IS_LOCKED: another request holds the session'],
  [394, 'QUERY_WAS_CANCELLED: typically a server shutting down'],
  [439, 'CANNOT_SCHEDULE_TASK: thread pool exhausted'],
  [999, 'KEEPER_EXCEPTION: Keeper failed; replicated tables recover when it answers'],
  [1000, 'POCO_EXCEPTION: mostly network errors inside the server'],
]);

/**
 * Codes that never heal by waiting, listed for documentation and for the stable code and the advice
 * a failure is reported with (every code not in RETRIABLE_CODES is treated as permanent): the
 * request, the schema or the configuration has to change. After the colon: what it means and what
 * an operator does about it.
 */
export const PERMANENT_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT: a row the table cannot take; the table is older than this release: run `npm run migrate`'],
  [16, 'NO_SUCH_COLUMN_IN_TABLE: the table is older than this release: run `npm run migrate`'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED: a malformed row; the table is older than this release: run `npm run migrate`'],
  [47, 'UNKNOWN_IDENTIFIER: the query names a column the table does not have'],
  [53, 'TYPE_MISMATCH: a row the table cannot take; the table is older than this release: run `npm run migrate`'],
  [60, 'UNKNOWN_TABLE: the table does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE'],
  [62, 'SYNTAX_ERROR: the query is not valid ClickHouse SQL'],
  [72, 'CANNOT_PARSE_NUMBER: a row the table cannot take; the table is older than this release: run `npm run migrate`'],
  // The embedded engine's "Cannot lock file .../status": another process owns the data directory.
  // Misconfiguration (two processes, one DATA_DIR), not a transient state.
  [76, 'CANNOT_OPEN_FILE: another process uses the embedded engine: give each process its own DATA_DIR'],
  [81, 'UNKNOWN_DATABASE: the database does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE'],
  [117, 'INCORRECT_DATA: a row the table cannot take; the table is older than this release: run `npm run migrate`'],
  [164, 'READONLY: the user may not write: grant CLICKHOUSE_USER INSERT on CLICKHOUSE_DATABASE, or use a user that has it'],
  [192, 'UNKNOWN_USER: check CLICKHOUSE_USER'],
  [194, 'REQUIRED_PASSWORD: set CLICKHOUSE_PASSWORD'],
  [497, 'ACCESS_DENIED: grant CLICKHOUSE_USER INSERT and SELECT on CLICKHOUSE_DATABASE'],
  [516, 'AUTHENTICATION_FAILED: check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD'],
]);

/** Node.js socket and DNS errors: the server (or its Service name) is not reachable yet. */
const RETRIABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // A Kubernetes Service name that does not resolve yet during a rollout.
  'ENOTFOUND',
]);

/** The client's own request timeout (request_timeout) has this message and no code. */
const CLIENT_TIMEOUT_MESSAGE = 'Timeout error.';

const MAX_CAUSE_DEPTH = 5;

function* causeChain(err: unknown): Generator<Record<string, unknown>> {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
    const e = current as Record<string, unknown>;
    yield e;
    current = e.cause;
  }
}

/**
 * The ClickHouse error code of `err` or of one of its causes: the client's `code` ("252"), chdb's
 * `clickhouseCode`, or "Code: N." in the message (chdb connection errors carry only that).
 */
export function clickHouseErrorCode(err: unknown): number | undefined {
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
    if (typeof e.code === 'number' && Number.isInteger(e.code)) return e.code;
    if (typeof e.clickhouseCode === 'number') return e.clickhouseCode;
    const m = typeof e.message === 'string' ? /\bCode: (\d+)\./.exec(e.message) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Whether repeating the same request later may succeed. Unknown errors are not retried. */
export function isRetriable(err: unknown): boolean {
  const code = clickHouseErrorCode(err);
  if (code !== undefined) return RETRIABLE_CODES.has(code);
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && RETRIABLE_NETWORK_CODES.has(e.code)) return true;
    if (e.message === CLIENT_TIMEOUT_MESSAGE) return true;
  }
  return false;
}

/** Network errors and the client's own timeout: the server cannot be reached (retriable). */
const UNAVAILABLE = 'clickhouse-unavailable';
/** A failure no table names: a ClickHouse code not listed, or an error without a code (permanent). */
const UNCLASSIFIED = 'clickhouse-error';

/** The stable code of a listed ClickHouse error: its name in kebab case, e.g. UNKNOWN_TABLE -> clickhouse-unknown-table. */
function failureCodeOf(description: string): string {
  return `clickhouse-${description.split(':', 1)[0].toLowerCase().replaceAll('_', '-')}`;
}

/** Every code clickHouseFailure() can give, with whether it is retried with backoff. */
export function failureCodes(): { code: string; retriable: boolean }[] {
  return [
    { code: UNAVAILABLE, retriable: true },
    ...[...RETRIABLE_CODES.values()].map((d) => ({ code: failureCodeOf(d), retriable: true })),
    ...[...PERMANENT_CODES.values()].map((d) => ({ code: failureCodeOf(d), retriable: false })),
    { code: UNCLASSIFIED, retriable: false },
  ];
}

const MAX_DETAIL_CHARS = 300;

/** The first line of the original message, bounded: chdb's messages carry a stack trace. */
function detailOf(err: unknown): string {
  const line = errorMessage(err).split('\n', 1)[0].trim();
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}...` : line;
}

/**
 * A failed ClickHouse request as a ServiceError: a stable code (failureCodes()), `retriable` from the
 * tables, and a message saying what it means and what to do, with ClickHouse's own words after it.
 */
export function clickHouseFailure(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  const retriable = isRetriable(err);
  const code = clickHouseErrorCode(err);
  const listed = code === undefined ? undefined : (RETRIABLE_CODES.get(code) ?? PERMANENT_CODES.get(code));
  if (listed !== undefined) {
    const meaning = listed.slice(listed.indexOf(':') + 1).trim();
    return new ServiceError(failureCodeOf(listed), `${meaning} (ClickHouse code ${code}: ${detailOf(err)})`, { retriable, cause: err });
  }
  if (code === undefined && retriable) {
    return new ServiceError(UNAVAILABLE, `ClickHouse cannot be reached: check CLICKHOUSE_URL and the server (${detailOf(err)})`, { retriable, cause: err });
  }
  const what = code === undefined ? 'ClickHouse request failed' : `ClickHouse code ${code}`;
  return new ServiceError(UNCLASSIFIED, `${what}: ${detailOf(err)}`, { retriable, cause: err });
}
