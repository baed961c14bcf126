import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALLOCATION_ERRORS, AllocationError, classifyQueryFailure, errorAnswer } from '../../../../query/allocation/errors.ts';
import { ServiceError } from '../../../../core/errors.ts';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Allocation API (OpenCost-compatible)'), readme.indexOf('## Operations'));

describe('allocation errors', () => {
  it('are ServiceErrors with a stable code, each in the README with its status', () => {
    for (const [code, { status }] of Object.entries(ALLOCATION_ERRORS)) {
      const err = new AllocationError(code as keyof typeof ALLOCATION_ERRORS, 'x');
      expect(err).toBeInstanceOf(ServiceError);
      expect(err.status).toBe(status);
      expect(section, code).toContain(`| \`${code}\` | ${status} |`);
    }
  });

  it.each([
    [{ code: '396', message: 'Limit for result exceeded' }, 'too-large', 400],
    [Object.assign(new Error('Query memory limit exceeded: would use 9 GiB'), { code: '241' }), 'too-large', 400],
    // The server's total memory is load, not the request's size.
    [Object.assign(new Error('Memory limit (total) exceeded'), { code: '241' }), 'clickhouse-unavailable', 503],
    [{ cause: { clickhouseCode: 159 }, message: 'Timeout exceeded' }, 'query-timeout', 503],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'clickhouse-unavailable', 503],
    [new Error('Code: 62. DB::Exception: Syntax error'), 'internal', 500],
    [new TypeError('undefined is not a function'), 'internal', 500],
  ])('classifies %o as %s', (failure, code, status) => {
    const err = classifyQueryFailure(failure);
    expect([err.code, err.status]).toEqual([code, status]);
  });

  it('keeps the cause of a 5xx out of the answer (hosts, paths, our SQL)', () => {
    for (const failure of [Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8123'), { code: 'ECONNREFUSED' }), new Error('Code: 47. Unknown identifier p_x in SELECT ... FROM k8s.k8s_expenses')]) {
      const answer = errorAnswer(classifyQueryFailure(failure));
      expect(answer.message).not.toMatch(/10\.1\.2\.3|k8s_expenses|p_x/);
    }
  });

  it("answers the tenant resolver's errors with their own 4xx status, hides anything else", () => {
    expect(errorAnswer(Object.assign(new Error('credentials are required'), { status: 401, code: 'auth-missing' }))).toEqual({ status: 401, code: 'auth-missing', message: 'credentials are required' });
    expect(errorAnswer(Object.assign(new Error('boom'), { status: 502 }))).toEqual({ status: 500, code: 'internal', message: 'internal error' });
    expect(errorAnswer(new Error('/secret/path'))).toEqual({ status: 500, code: 'internal', message: 'internal error' });
  });
});
