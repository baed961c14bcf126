// Every way a remote-write request can fail, its stable code and its HTTP status, in one place.
// The status decides what the sender does next (see the README, "Status codes"): 4xx drops the
// batch for good, 5xx makes Prometheus retry the same body until it succeeds. So a permanent
// problem must never be a 5xx, and a 2xx only means every accepted sample is durably stored.

export interface ErrorSpec {
  status: number;
  /** Shown to the sender (Prometheus logs it) after the code. */
  summary: string;
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
  // 503: temporary; the sender retries the same body, which is harmless downstream.
  saturated: { status: 503, summary: 'the receiver is at its in-flight limit' },
  'log-unavailable': { status: 503, summary: 'the record log (Kafka) is unavailable' },
  'log-timeout': { status: 503, summary: 'the record log (Kafka) did not acknowledge in time' },
  'shutting-down': { status: 503, summary: 'the receiver is shutting down' },
} as const satisfies Record<string, ErrorSpec>;

export type ReceiverErrorCode = keyof typeof RECEIVER_ERRORS;

export class ReceiverError extends Error {
  override readonly name = 'ReceiverError';
  readonly status: number;
  constructor(
    readonly code: ReceiverErrorCode,
    detail?: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    const spec = RECEIVER_ERRORS[code];
    super(detail ? `${spec.summary}: ${detail}` : spec.summary, options);
    this.status = spec.status;
  }
}

/** Maps an error to the receiver's code: unknown errors are treated as log trouble (503), never as a 2xx. */
export function classifyError(err: unknown): ReceiverError {
  if (err instanceof ReceiverError) return err;
  // Fastify's own body errors, raised before our handler runs.
  const code = (err as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ReceiverError('body-too-large', undefined, undefined, { cause: err });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ReceiverError('unsupported-media-type', undefined, undefined, { cause: err });
  // The request stream fails with ECONNRESET ("aborted") when the client goes away mid-body.
  if (code === 'ECONNRESET') return new ReceiverError('client-aborted', (err as Error).message, undefined, { cause: err });
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return new ReceiverError('corrupt-protobuf', (err as Error).message, undefined, { cause: err });
  return new ReceiverError('log-unavailable', (err as Error)?.message, 1, { cause: err });
}
