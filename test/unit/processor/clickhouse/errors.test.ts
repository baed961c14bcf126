import { describe, expect, it } from 'vitest';
import { clickHouseErrorCode, isRetriable, PERMANENT_CODES, RETRIABLE_CODES } from '../../../../processor/clickhouse/errors.ts';
import { queryErrorStatus } from '../../../../query/sql-endpoint.ts';

/** Shaped like the client's ClickHouseError (code as a string). */
const clickHouseError = (code: number) => Object.assign(new Error(`Code: ${code}. DB::Exception: boom`), { code: String(code), type: 'X' });
const nodeError = (code: string) => Object.assign(new Error(code), { code });

describe('clickHouseErrorCode', () => {
  it.each([
    ['the client error code', clickHouseError(252), 252],
    ['a numeric code', { code: 60 }, 60],
    ["chdb's clickhouseCode", Object.assign(new Error('x'), { code: 'CHDB_QUERY', clickhouseCode: 62 }), 62],
    [
      'a chdb connection error (message only)',
      Object.assign(new Error("Failed to create connection for path '/d'Code: 76. DB::Exception: Cannot lock file /d/status. (CANNOT_OPEN_FILE)"), {
        code: 'CHDB_CONNECTION',
      }),
      76,
    ],
    ['a cause', new Error('wrapped', { cause: clickHouseError(241) }), 241],
    ['a Node.js error', nodeError('ECONNREFUSED'), undefined],
    ['a string', 'Code: 1.', undefined],
    ['null', null, undefined],
  ])('%s', (_what, err, code) => {
    expect(clickHouseErrorCode(err)).toBe(code);
  });

  it('does not loop on a cyclic cause chain', () => {
    const err: Error & { cause?: unknown } = new Error('a');
    err.cause = err;
    expect(clickHouseErrorCode(err)).toBeUndefined();
  });
});

describe('isRetriable', () => {
  it.each([...RETRIABLE_CODES.keys()])('retries ClickHouse code %i', (code) => {
    expect(isRetriable(clickHouseError(code))).toBe(true);
  });

  it.each([...PERMANENT_CODES.keys()])('does not retry ClickHouse code %i', (code) => {
    expect(isRetriable(clickHouseError(code))).toBe(false);
  });

  it('lists no code as both', () => {
    expect([...RETRIABLE_CODES.keys()].filter((c) => PERMANENT_CODES.has(c))).toEqual([]);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH'])('retries %s', (code) => {
    expect(isRetriable(nodeError(code))).toBe(true);
    expect(isRetriable(new TypeError('fetch failed', { cause: nodeError(code) }))).toBe(true);
  });

  it.each([
    ["the client's request timeout", new Error('Timeout error.'), true],
    ['an unknown code', clickHouseError(123456), false],
    ['an error without a code', new Error('something else'), false],
    ['the embedded engine directory locked by another process', new Error('Code: 76. DB::Exception: Cannot lock file'), false],
    ['a closed chdb connection', new Error('ChdbConnection is closed'), false],
    ['an aborted request', new Error('The user aborted a request.'), false],
    ['a retriable code in a permanent wrapper', new Error('insert failed', { cause: clickHouseError(252) }), true],
  ])('%s: %s', (_what, err, retriable) => {
    expect(isRetriable(err)).toBe(retriable);
  });
});

describe('queryErrorStatus (SQL endpoint)', () => {
  it.each([
    ['a query error', clickHouseError(47), { status: 400, error: 'query_failed' }],
    ['a syntax error', clickHouseError(62), { status: 400, error: 'query_failed' }],
    ['an overloaded server', clickHouseError(202), { status: 503, error: 'clickhouse_unavailable' }],
    ['a refused connection', nodeError('ECONNREFUSED'), { status: 503, error: 'clickhouse_unavailable' }],
    ['anything else', new Error('bug'), { status: 500, error: 'internal' }],
  ])('%s', (_what, err, expected) => {
    expect(queryErrorStatus(err)).toEqual(expected);
  });
});
