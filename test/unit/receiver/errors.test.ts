import { describe, expect, it } from 'vitest';
import { classifyError, RECEIVER_ERRORS, ReceiverError, type ReceiverErrorCode } from '../../../receiver/errors.ts';

describe('receiver errors', () => {
  // The sender's behaviour per status (see README "Status codes"): the table pins every code.
  const expected: Record<ReceiverErrorCode, number> = {
    'tenant-missing': 400,
    'tenant-invalid': 400,
    'corrupt-snappy': 400,
    'corrupt-protobuf': 400,
    'invalid-series': 400,
    'client-aborted': 400,
    'auth-missing': 401,
    'auth-invalid': 401,
    'tenant-mismatch': 403,
    'body-too-large': 413,
    'decoded-too-large': 413,
    'unsupported-media-type': 415,
    'unsupported-encoding': 415,
    'rate-limited': 429,
    saturated: 503,
    'log-unavailable': 503,
    'log-timeout': 503,
    'shutting-down': 503,
  };

  it.each(Object.entries(expected))('%s answers %i', (code, status) => {
    const err = new ReceiverError(code as ReceiverErrorCode, 'detail');
    expect(err.status).toBe(status);
    expect(err.message).toBe(`${RECEIVER_ERRORS[code as ReceiverErrorCode].summary}: detail`);
  });

  it('has no code missing from the table above', () => {
    expect(Object.keys(RECEIVER_ERRORS).sort()).toEqual(Object.keys(expected).sort());
  });

  it('maps Fastify body errors to 413 and 415, and anything unknown to a retriable 503, never 2xx', () => {
    expect(classifyError(Object.assign(new Error('big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' })).status).toBe(413);
    expect(classifyError(Object.assign(new Error('type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })).status).toBe(415);
    // A client that goes away mid-body is not Kafka trouble.
    expect(classifyError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })).code).toBe('client-aborted');
    const unknown = classifyError(new Error('socket hang up'));
    expect(unknown.status).toBe(503);
    expect(unknown.retryAfterSeconds).toBe(1);
  });
});
