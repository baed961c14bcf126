// Which ClickHouse failures are worth retrying, written once. Errors are classified by their
// ClickHouse code, never by class: the embedded engine's errors are not instances of the client's
// ClickHouseError (chdb loads its own copy), and a server's arrive parsed from the HTTP body.

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
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  [225, 'NO_ZOOKEEPER: Keeper unreachable; replicated tables recover when it returns'],
  [236, 'ABORTED'],
  [241, 'MEMORY_LIMIT_EXCEEDED: the server-wide limit under load; the same insert passes later'],
  [242, 'TABLE_IS_READ_ONLY: a replica lost its Keeper session and is reconnecting'],
  // Retried rather than dropped: an operator frees space and the hour still gets written.
  [243, 'NOT_ENOUGH_SPACE'],
  // ClickHouse's own advice for "too many parts" is to slow down while merges catch up.
  [252, 'TOO_MANY_PARTS'],
  [279, 'ALL_CONNECTION_TRIES_FAILED: replicas of a distributed table unreachable'],
  [285, 'TOO_FEW_LIVE_REPLICAS'],
  [319, 'UNKNOWN_STATUS_OF_INSERT: may or may not have been written; repeating is safe'],
  [373, 'SESSION_IS_LOCKED'],
  [394, 'QUERY_WAS_CANCELLED: typically a server shutting down'],
  [439, 'CANNOT_SCHEDULE_TASK: thread pool exhausted'],
  [999, 'KEEPER_EXCEPTION'],
  [1000, 'POCO_EXCEPTION: mostly network errors inside the server'],
]);

/**
 * Codes that never heal by waiting, listed for documentation (every code not in RETRIABLE_CODES is
 * treated as permanent): the request, the schema or the configuration has to change.
 */
export const PERMANENT_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT: a row the table cannot take'],
  [16, 'NO_SUCH_COLUMN_IN_TABLE: schema and code disagree; run the migrations'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED: malformed row'],
  [47, 'UNKNOWN_IDENTIFIER'],
  [53, 'TYPE_MISMATCH'],
  [60, 'UNKNOWN_TABLE: the migrations have not run'],
  [62, 'SYNTAX_ERROR'],
  [72, 'CANNOT_PARSE_NUMBER'],
  // The embedded engine's "Cannot lock file .../status": another process owns the data directory.
  // Misconfiguration (two processes, one DATA_DIR), not a transient state.
  [76, 'CANNOT_OPEN_FILE'],
  [81, 'UNKNOWN_DATABASE: the migrations have not run'],
  [117, 'INCORRECT_DATA'],
  [164, 'READONLY: the user may not write'],
  [192, 'UNKNOWN_USER'],
  [194, 'REQUIRED_PASSWORD'],
  [497, 'ACCESS_DENIED'],
  [516, 'AUTHENTICATION_FAILED'],
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
