import { describe, expect, it } from 'vitest';
import { ReceiverError } from '../../../receiver/errors.ts';
import { isValidTenant, tenantFromHeader } from '../../../receiver/tenant.ts';

describe('tenant from the header', () => {
  it.each(['acme', 'a', 'Cloud.Account_1-2', '0b6f3c9e-8f1a-4c52-9d1e-2a7b6c5d4e3f', 'x'.repeat(150)])('accepts %s', (tenant) => {
    expect(tenantFromHeader(tenant, 'Cloud-Account-Id')).toBe(tenant);
  });

  it.each([
    ['missing', undefined, 'tenant-missing'],
    ['empty', '', 'tenant-missing'],
    ['too long', 'x'.repeat(151), 'tenant-invalid'],
    ['a slash', 'a/b', 'tenant-invalid'],
    ['a space inside', 'a b', 'tenant-invalid'],
    ['unicode', 'tenänt', 'tenant-invalid'],
    ['dot', '.', 'tenant-invalid'],
    ['dot dot', '..', 'tenant-invalid'],
    ['sent twice', ['a', 'b'], 'tenant-invalid'],
  ] as const)('refuses %s with 400', (_what, value, code) => {
    let caught: unknown;
    try {
      tenantFromHeader(value as string | string[] | undefined, 'Cloud-Account-Id');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ReceiverError);
    expect((caught as ReceiverError).code).toBe(code);
    expect((caught as ReceiverError).status).toBe(400);
    expect((caught as ReceiverError).message).toContain('Cloud-Account-Id');
  });

  it('trims surrounding whitespace a proxy may add', () => {
    expect(tenantFromHeader('  acme ', 'X')).toBe('acme');
    expect(isValidTenant(' acme')).toBe(false);
  });
});
