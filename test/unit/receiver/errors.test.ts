import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/config-fields.ts';
import { errorCode, isRetriable, ServiceError } from '../../../core/errors.ts';
import { PublishError } from '../../../ingest/record-log.ts';
import { UnsupportedMediaTypeError } from '../../../receiver/decode/index.ts';
import { ProtobufError } from '../../../receiver/decode/protobuf-wire.ts';
import { SnappyError } from '../../../receiver/decode/snappy.ts';
import { classifyError, RECEIVER_ERRORS, ReceiverError, type ReceiverErrorCode } from '../../../receiver/errors.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

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
    internal: 500,
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

  it.each(Object.entries(expected))('%s is a ServiceError under its own code, retriable exactly when it is a 503', (code, status) => {
    const err = new ReceiverError(code as ReceiverErrorCode);
    expect(err).toBeInstanceOf(ServiceError);
    expect(errorCode(err)).toBe(code);
    expect(isRetriable(err)).toBe(status === 503);
  });

  it('tells 503 senders when to come back, and lets the caller say it for a 429', () => {
    const retryAfter = Object.fromEntries(Object.keys(expected).map((code) => [code, new ReceiverError(code as ReceiverErrorCode).retryAfterSeconds]));
    expect(Object.entries(retryAfter).filter(([, s]) => s !== undefined)).toEqual([
      ['saturated', 1],
      ['log-unavailable', 1],
      ['log-timeout', 1],
      ['shutting-down', 5],
    ]);
    expect(new ReceiverError('rate-limited', 'retry in 7s', { retryAfterSeconds: 7 }).retryAfterSeconds).toBe(7);
  });
});

describe('classifyError', () => {
  const fastify = (code: string, message = code) => Object.assign(new Error(message), { code });
  const own = new ReceiverError('tenant-missing', 'send the header');
  const cases: Array<[string, unknown, ReceiverErrorCode, number]> = [
    ['our own refusal', own, 'tenant-missing', 400],
    ['a corrupt snappy body', new SnappyError('corrupt_snappy', 'snappy: truncated copy'), 'corrupt-snappy', 400],
    ['a snappy header over the limit', new SnappyError('too_large', 'snappy: too large', 1e9), 'decoded-too-large', 413],
    ['a malformed protobuf body', new ProtobufError('malformed', 'truncated varint', 3), 'corrupt-protobuf', 400],
    ['an invalid protobuf body', new ProtobufError('invalid', 'odd labels_refs', 3), 'corrupt-protobuf', 400],
    ['more series than the limits', new ProtobufError('too_large', 'more than 5 series', 3), 'decoded-too-large', 413],
    ['an unsupported Content-Type', new UnsupportedMediaTypeError('application/json', 'unsupported'), 'unsupported-media-type', 415],
    ['the record log down', new PublishError('Kafka is unreachable', 'unavailable'), 'log-unavailable', 503],
    ['the record log too slow', new PublishError('no ack within 10000 ms', 'timeout'), 'log-timeout', 503],
    ['the record log closed', new PublishError('the service is shutting down', 'closed'), 'shutting-down', 503],
    ["Fastify's body limit", fastify('FST_ERR_CTP_BODY_TOO_LARGE'), 'body-too-large', 413],
    ["Fastify's media type check", fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE'), 'unsupported-media-type', 415],
    // A client that goes away mid-body is not Kafka trouble.
    ['a client gone mid-body', fastify('ECONNRESET', 'aborted'), 'client-aborted', 400],
    ['a body shorter than its Content-Length', fastify('FST_ERR_CTP_INVALID_CONTENT_LENGTH'), 'corrupt-protobuf', 400],
    ['an empty body', fastify('FST_ERR_CTP_EMPTY_JSON_BODY'), 'corrupt-protobuf', 400],
    // Unexpected errors are defects: 500, never blamed on the record log.
    ['an unexpected error', new Error('socket hang up'), 'internal', 500],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'length')"), 'internal', 500],
    ["another component's ServiceError", new ConfigError('PORT: expected a number'), 'internal', 500],
    ['a thrown string', 'boom', 'internal', 500],
    ['a thrown undefined', undefined, 'internal', 500],
    ['a thrown null', null, 'internal', 500],
  ];

  it.each(cases)('maps %s to %s (%i)', (_what, input, code, status) => {
    const failure = classifyError(input);
    expect(failure).toBeInstanceOf(ReceiverError);
    expect(failure.code).toBe(code);
    expect(failure.status).toBe(status);
    expect(failure.retriable).toBe(status === 503);
    if (input !== own) expect(failure.cause).toBe(input);
  });

  it('returns our own refusals unchanged', () => {
    expect(classifyError(own)).toBe(own);
  });

  it('keeps what the decoder and the record log said, but tells the sender nothing about a defect', () => {
    expect(classifyError(new ProtobufError('malformed', 'truncated varint', 3)).message).toBe(`${RECEIVER_ERRORS['corrupt-protobuf'].summary}: truncated varint (at byte 3)`);
    expect(classifyError(new PublishError('Kafka is unreachable', 'unavailable')).message).toBe(`${RECEIVER_ERRORS['log-unavailable'].summary}: Kafka is unreachable`);
    expect(classifyError(new Error('secret internals')).message).toBe(RECEIVER_ERRORS.internal.summary);
  });

  it('asks for a retry after the record log fails, and none after a defect', () => {
    expect(classifyError(new PublishError('down', 'unavailable')).retryAfterSeconds).toBe(1);
    expect(classifyError(new PublishError('slow', 'timeout')).retryAfterSeconds).toBe(1);
    expect(classifyError(new PublishError('closing', 'closed')).retryAfterSeconds).toBe(5);
    expect(classifyError(new Error('socket hang up')).retryAfterSeconds).toBeUndefined();
  });
});

describe('the README status table', () => {
  /** Code → status from the rows of "Status codes and what the sender does" (codes are the kebab-case names in backticks). */
  function documentedCodes(): Map<string, number> {
    const start = readme.indexOf('### Status codes and what the sender does');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n#', start + 1));
    const documented = new Map<string, number>();
    for (const row of section.matchAll(/^\| (\d{3}) \| ([^|]*) \|/gm)) {
      for (const code of row[2].matchAll(/`([a-z]+(?:-[a-z]+)*)`/g)) {
        expect(documented.has(code[1]), `${code[1]} is listed twice`).toBe(false);
        documented.set(code[1], Number(row[1]));
      }
    }
    return documented;
  }

  it('lists every code of the registry with its status', () => {
    const documented = documentedCodes();
    for (const [code, spec] of Object.entries(RECEIVER_ERRORS)) expect(documented.get(code), code).toBe(spec.status);
  });

  it('lists no code the registry does not have, nor a status it does not give', () => {
    for (const [code, status] of documentedCodes()) {
      expect(code in RECEIVER_ERRORS, `${code} is not in RECEIVER_ERRORS`).toBe(true);
      expect(RECEIVER_ERRORS[code as ReceiverErrorCode].status, code).toBe(status);
    }
  });
});
