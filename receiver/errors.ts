// Every way a remote-write request can fail, its stable code and its HTTP status, in one place.
// The status decides what the sender does next (see the README, "Status codes"): 4xx drops the
// batch for good, 5xx makes Prometheus retry the same body until it succeeds. So a permanent
// problem must never be a 5xx, and a 2xx only means every accepted sample is durably stored.
import { ServiceError } from '../core/errors.ts';
import { PublishError } from '../ingest/record-log.ts';
import { DecodeError } from './decode/decode-error.ts';

interface ErrorSpec {
  status: number;
  /** Shown to the sender (Prometheus logs it) after the code. */
  summary: string;
  /** Sent as Retry-After, so senders of a busy or recovering receiver spread their retries. */
  retryAfterSeconds?: number;
}

export const RECEIVER_ERRORS = {
  // 400: the request itself is wrong; retrying the same bytes can never succeed.
  'tenant-missing': { status: 400, summary: 'the tenant header is missing' },
  'tenant-invalid': { status: 400, summary: 'the tenant is not well-formed' },
  'corrupt-snappy': { status: 400, summary: 'the body is not valid snappy block-compressed data' },
  'corrupt-protobuf': { status: 400, summary: 'the body is not a valid remote-write protobuf message' },
  'invalid-series': { status: 400, summary: 'some series were invalid and dropped; the rest were stored' },
  // Nobody reads this answer; the code keeps a dropped connection from being counted as Kafka trouble.
  'client-aborted': { status: 400, summary: 'the client closed the connection before the body was complete' },
  // 401/403: credentials (only with a tenants file).
  'auth-missing': { status: 401, summary: 'credentials are required' },
  'auth-invalid': { status: 401, summary: 'the credentials are not valid' },
  'tenant-mismatch': { status: 403, summary: 'the tenant header disagrees with the tenant of the credentials' },
  // 413/415: limits and formats the sender must change.
  'body-too-large': { status: 413, summary: 'the compressed body exceeds the request size limit' },
  'decoded-too-large': { status: 413, summary: 'the decompressed body exceeds the decoded size limit' },
  'unsupported-media-type': { status: 415, summary: 'unsupported Content-Type' },
  'unsupported-encoding': { status: 415, summary: 'unsupported Content-Encoding' },
  // 429: opt-in, because Prometheus drops 429s unless retry_on_http_429 is set.
  'rate-limited': { status: 429, summary: 'the tenant is over its sample rate limit' },
  // 500: a defect on our side, not the sender's and not the record log's. The batch was not
  // acknowledged and the sender retries 5xx, which is what a batch we failed to handle deserves.
  internal: { status: 500, summary: 'the receiver failed unexpectedly' },
  // 503: temporary; the sender retries the same body, which is harmless downstream.
  saturated: { status: 503, summary: 'the receiver is at its in-flight limit', retryAfterSeconds: 1 },
  'log-unavailable': { status: 503, summary: 'the record log (Kafka) is unavailable', retryAfterSeconds: 1 },
  'log-timeout': { status: 503, summary: 'the record log (Kafka) did not acknowledge in time', retryAfterSeconds: 1 },
  'shutting-down': { status: 503, summary: 'the receiver is shutting down', retryAfterSeconds: 5 },
} as const satisfies Record<string, ErrorSpec>;

export type ReceiverErrorCode = keyof typeof RECEIVER_ERRORS;

/** A refused request: its code is a key of RECEIVER_ERRORS, and only the 503s are worth retrying. */
export class ReceiverError extends ServiceError {
  override name = 'ReceiverError';
  declare readonly code: ReceiverErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ReceiverErrorCode, detail?: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    const spec: ErrorSpec = RECEIVER_ERRORS[code];
    super(code, detail ? `${spec.summary}: ${detail}` : spec.summary, { cause: options.cause, retriable: spec.status === 503 });
    this.status = spec.status;
    this.retryAfterSeconds = options.retryAfterSeconds ?? spec.retryAfterSeconds;
  }
}

/** What the record log's failures tell the sender: wait and retry, here or (when closing) elsewhere. */
const PUBLISH_FAILURES = {
  unavailable: 'log-unavailable',
  timeout: 'log-timeout',
  closed: 'shutting-down',
} as const satisfies Record<PublishError['reason'], ReceiverErrorCode>;

/**
 * Maps whatever failed to the answer: our own refusals as they are, decode and record-log failures
 * to their codes, Fastify's and Node's body errors to 4xx, and anything else to `internal` (500):
 * an error nobody planned for is a defect, never a reason to blame Kafka or the sender.
 */
export function classifyError(err: unknown): ReceiverError {
  if (err instanceof ReceiverError) return err;
  if (err instanceof DecodeError) return new ReceiverError(err.code, err.message, { cause: err });
  if (err instanceof PublishError) {
    return new ReceiverError(PUBLISH_FAILURES[err.reason], err.reason === 'closed' ? undefined : err.message, { cause: err });
  }
  // Fastify's own body errors, raised before our handler runs.
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : undefined;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ReceiverError('body-too-large', undefined, { cause: err });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ReceiverError('unsupported-media-type', undefined, { cause: err });
  // The request stream fails with ECONNRESET ("aborted") when the client goes away mid-body.
  if (code === 'ECONNRESET') return new ReceiverError('client-aborted', message, { cause: err });
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new ReceiverError('corrupt-protobuf', message, { cause: err });
  }
  return new ReceiverError('internal', undefined, { cause: err });
}
