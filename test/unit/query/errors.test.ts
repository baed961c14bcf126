import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../core/errors.ts';
import { classifyReadFailure, errorAnswer, READ_ERRORS, ReadError, type ReadErrorCode } from '../../../query/errors.ts';
import type { ReadLimits } from '../../../query/limits.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const HEADING = '### Errors and limits of the read side';
const section = readme.slice(readme.indexOf(HEADING), readme.indexOf('\n## ', readme.indexOf(HEADING)));
const LIMITS: ReadLimits = { timeoutMs: 30_000, maxMemoryBytes: 2 * 1024 ** 3, maxResultRows: 1_000_000, concurrency: 4 };

/** Shaped like the client's ClickHouseError (code as a string). */
const chError = (code: number, message = `Code: ${code}. DB::Exception: boom`) => Object.assign(new Error(message), { code: String(code), type: 'X' });
const nodeError = (code: string) => Object.assign(new Error(code), { code });

describe('read errors', () => {
  it('are ServiceErrors with a stable code and status', () => {
    for (const [code, { status }] of Object.entries(READ_ERRORS)) {
      const err = new ReadError(code as ReadErrorCode, 'x');
      expect(err).toBeInstanceOf(ServiceError);
      expect([err.code, err.status]).toEqual([code, status]);
    }
  });

  it("match the README's table both ways", () => {
    expect(section).toContain(HEADING);
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows.sort()).toEqual(Object.entries(READ_ERRORS).map(([code, { status }]) => [code, status]).sort());
  });

  it.each([
    [chError(396, 'Limit for result exceeded, max rows: 1.00 million'), 'too-large', 400, 'the answer has more rows than QUERY_MAX_RESULT_ROWS=1000000: aggregate more, or add a LIMIT'],
    [chError(396, 'Limit for result exceeded, max bytes: 2.00 GiB'), 'too-large', 400, 'the answer is larger than QUERY_MAX_MEMORY=2GiB: ask for fewer rows or columns'],
    [chError(241, 'Query memory limit exceeded: would use 9 GiB'), 'memory-limit', 400, 'the query needs more memory than QUERY_MAX_MEMORY=2GiB: ask for less (a shorter window, fewer groups)'],
    // The server's total memory is load, not the request's size.
    [chError(241, 'Memory limit (total) exceeded'), 'clickhouse-unavailable', 503, 'ClickHouse is unavailable or overloaded: retry later'],
    [{ cause: { clickhouseCode: 159 }, message: 'Timeout exceeded' }, 'query-timeout', 503, 'the query ran longer than QUERY_TIMEOUT=30s: ask for less (a shorter window, fewer rows), or retry later'],
    [nodeError('ECONNRESET'), 'clickhouse-unavailable', 503, 'ClickHouse is unavailable or overloaded: retry later'],
    [chError(62, 'Code: 62. DB::Exception: Syntax error'), 'internal', 500, 'internal error'],
    [new TypeError('undefined is not a function'), 'internal', 500, 'internal error'],
  ])('classifies a failure of our SQL: %o', (failure, code, status, message) => {
    const err = classifyReadFailure(failure, LIMITS, { userSql: false });
    expect([err.code, err.status, err.message]).toEqual([code, status, message]);
  });

  // Moved from the SQL endpoint's own mapping (queryErrorStatus), with the registry's codes.
  it.each([
    ['a query error', chError(47), 'query-failed', 400],
    ['a syntax error', chError(62), 'query-failed', 400],
    ['an overloaded server', chError(202), 'clickhouse-unavailable', 503],
    ['a refused connection', nodeError('ECONNREFUSED'), 'clickhouse-unavailable', 503],
    ['anything else', new Error('bug'), 'internal', 500],
  ])("classifies a failure of a user's SQL: %s", (_what, failure, code, status) => {
    const err = classifyReadFailure(failure, LIMITS, { userSql: true });
    expect([err.code, err.status]).toEqual([code, status]);
  });

  it("passes on ClickHouse's words about a user's SQL, and keeps the cause of a 5xx out of the answer", () => {
    expect(errorAnswer(classifyReadFailure(chError(47, 'Unknown identifier no_such_column'), LIMITS, { userSql: true })).message).toBe('Unknown identifier no_such_column');
    for (const failure of [nodeError('connect ECONNREFUSED 10.1.2.3:8123'), new Error('Code: 47. Unknown identifier p_x in SELECT ... FROM k8s.k8s_expenses')]) {
      const answer = errorAnswer(classifyReadFailure(failure, LIMITS, { userSql: false }));
      expect(answer.message).not.toMatch(/10\.1\.2\.3|k8s_expenses|p_x/);
    }
  });

  it("answers the tenant resolver's errors with their own 4xx status, hides anything else", () => {
    expect(errorAnswer(Object.assign(new Error('credentials are required'), { status: 401, code: 'auth-missing' }))).toEqual({ status: 401, code: 'auth-missing', message: 'credentials are required' });
    expect(errorAnswer(Object.assign(new Error('boom'), { status: 502 }))).toEqual({ status: 500, code: 'internal', message: 'internal error' });
    expect(errorAnswer(new Error('/secret/path'))).toEqual({ status: 500, code: 'internal', message: 'internal error' });
  });

  it('carries Retry-After for a refusal that passes soon', () => {
    expect(errorAnswer(new ReadError('too-many-queries', 'busy', { retryAfterSeconds: 1 }))).toMatchObject({ status: 503, retryAfterSeconds: 1 });
  });
});
