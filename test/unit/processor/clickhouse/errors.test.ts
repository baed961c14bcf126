import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../../core/errors.ts';
import { clickHouseErrorCode, clickHouseFailure, failureCodes, isRetriable, PERMANENT_CODES, RETRIABLE_CODES } from '../../../../processor/clickhouse/errors.ts';

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

describe('clickHouseFailure', () => {
  it.each<[string, unknown, string, boolean, RegExp]>([
    ['a dropped table', clickHouseError(60), 'clickhouse-unknown-table', false, /^the table does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE \(ClickHouse code 60: Code: 60\. DB::Exception: boom\)$/],
    ['a missing database', clickHouseError(81), 'clickhouse-unknown-database', false, /run `npm run migrate`/],
    ['a user without the right to write', clickHouseError(497), 'clickhouse-access-denied', false, /grant CLICKHOUSE_USER INSERT/],
    ['too many parts', clickHouseError(252), 'clickhouse-too-many-parts', true, /merges lag behind/],
    ['a full disk', clickHouseError(243), 'clickhouse-not-enough-space', true, /free space/],
    ['a refused connection', nodeError('ECONNREFUSED'), 'clickhouse-unavailable', true, /^ClickHouse cannot be reached: check CLICKHOUSE_URL/],
    ['a DNS failure under a fetch error', new TypeError('fetch failed', { cause: nodeError('ENOTFOUND') }), 'clickhouse-unavailable', true, /fetch failed/],
    ["the client's request timeout", new Error('Timeout error.'), 'clickhouse-unavailable', true, /Timeout error/],
    ['a code no table lists', clickHouseError(123456), 'clickhouse-error', false, /^ClickHouse code 123456: /],
    ['an error without a code', new Error('ChdbConnection is closed'), 'clickhouse-error', false, /ChdbConnection is closed/],
  ])('%s', (_what, err, code, retriable, message) => {
    const failure = clickHouseFailure(err);
    expect(failure).toBeInstanceOf(ServiceError);
    expect({ code: failure.code, retriable: failure.retriable }).toEqual({ code, retriable });
    expect(failure.message).toMatch(message);
    expect(failure.cause).toBe(err);
  });

  it('keeps the first line of a long message, bounded', () => {
    const failure = clickHouseFailure(new Error(`Code: 60. ${'x'.repeat(1000)}\n    at stack frames`));
    expect(failure.message).not.toContain('stack frames');
    expect(failure.message.length).toBeLessThan(500);
  });

  it('passes a ServiceError through', () => {
    const err = new ServiceError('clickhouse-unavailable', 'down', { retriable: true });
    expect(clickHouseFailure(err)).toBe(err);
  });

  it('gives every listed code its own stable code, retriable as its table says', () => {
    const codes = failureCodes();
    expect(new Set(codes.map((c) => c.code)).size).toBe(codes.length);
    for (const { code } of codes) expect(code).toMatch(/^clickhouse-[a-z]+(-[a-z]+)*$/);
    for (const n of RETRIABLE_CODES.keys()) expect(clickHouseFailure(clickHouseError(n)).retriable).toBe(true);
    for (const n of PERMANENT_CODES.keys()) expect(clickHouseFailure(clickHouseError(n)).retriable).toBe(false);
  });

  it('has every code documented in the README', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    for (const { code } of failureCodes()) expect(readme, code).toContain(`\`${code}\``);
  });
});
