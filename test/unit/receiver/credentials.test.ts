import { describe, expect, it } from 'vitest';
import { tenantFromCredentials } from '../../../receiver/credentials.ts';
import { ReceiverError } from '../../../receiver/errors.ts';
import { createTenantDirectory, parseTenantsFile, sha256, TenantsFileError } from '../../../receiver/tenants-file.ts';

const hex = (s: string) => sha256(s).toString('hex');
const file = parseTenantsFile(
  JSON.stringify({
    tenants: [
      { id: 'acme', tokens_sha256: [hex('acme-token-1'), hex('acme-token-2').toUpperCase()], basic: [{ username: 'prom-acme', password_sha256: hex('s3cret:with:colons') }] },
      { id: '0b6f3c9e-8f1a-4c52-9d1e-2a7b6c5d4e3f', tokens_sha256: [hex('other')] },
    ],
  }),
  'test',
);
const dir = createTenantDirectory(file);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReceiverError) return `${err.status} ${err.code}`;
    throw err;
  }
  return undefined;
}

describe('tenant from credentials', () => {
  it('lets a bearer token decide the tenant, whatever the samples say', () => {
    expect(tenantFromCredentials(dir, 'Bearer acme-token-1', undefined, 'Cloud-Account-Id')).toBe('acme');
    expect(tenantFromCredentials(dir, 'bearer acme-token-2', undefined, 'Cloud-Account-Id')).toBe('acme');
    expect(tenantFromCredentials(dir, 'Bearer other', undefined, 'Cloud-Account-Id')).toBe('0b6f3c9e-8f1a-4c52-9d1e-2a7b6c5d4e3f');
  });

  it('accepts basic auth, passwords containing colons included', () => {
    expect(tenantFromCredentials(dir, basic('prom-acme', 's3cret:with:colons'), undefined, 'Cloud-Account-Id')).toBe('acme');
  });

  it('accepts a tenant header that agrees and refuses one that disagrees with 403', () => {
    expect(tenantFromCredentials(dir, 'Bearer acme-token-1', 'acme', 'Cloud-Account-Id')).toBe('acme');
    expect(codeOf(() => tenantFromCredentials(dir, 'Bearer acme-token-1', '0b6f3c9e-8f1a-4c52-9d1e-2a7b6c5d4e3f', 'Cloud-Account-Id'))).toBe('403 tenant-mismatch');
  });

  it.each([
    ['no header', undefined, '401 auth-missing'],
    ['empty', '', '401 auth-missing'],
    ['an unknown token', 'Bearer nope', '401 auth-invalid'],
    ['an empty token', 'Bearer ', '401 auth-invalid'],
    ['a wrong password', basic('prom-acme', 'wrong'), '401 auth-invalid'],
    ['an unknown user', basic('nobody', 's3cret:with:colons'), '401 auth-invalid'],
    ['basic without a colon', `Basic ${Buffer.from('prom-acme').toString('base64')}`, '401 auth-invalid'],
    ['another scheme', 'Digest abc', '401 auth-invalid'],
    ['the token hash itself', `Bearer ${hex('acme-token-1')}`, '401 auth-invalid'],
  ])('refuses %s', (_what, header, expected) => {
    expect(codeOf(() => tenantFromCredentials(dir, header, undefined, 'Cloud-Account-Id'))).toBe(expected);
  });
});

describe('tenants file: read credentials', () => {
  const both = parseTenantsFile(
    JSON.stringify({
      tenants: [
        { id: 'acme', tokens_sha256: [{ name: 'write-1', sha256: hex('w') }], read_tokens_sha256: [{ name: 'read-1', sha256: hex('r') }, hex('r2')], read_basic: [{ username: 'reader', password_sha256: hex('p') }] },
      ],
    }),
    'test',
  );

  it('a directory holds the credentials of one use only: writes do not read, reads do not write', () => {
    const writes = createTenantDirectory(both, 'write');
    const reads = createTenantDirectory(both, 'read');
    expect([writes.tenantForToken('w'), writes.tenantForToken('r'), writes.tenantForToken('r2'), writes.tenantForBasic('reader', 'p')]).toEqual(['acme', undefined, undefined, undefined]);
    expect([reads.tenantForToken('w'), reads.tenantForToken('r'), reads.tenantForToken('r2'), reads.tenantForBasic('reader', 'p')]).toEqual([undefined, 'acme', 'acme', 'acme']);
    expect(createTenantDirectory(both).tenantForToken('w')).toBe('acme');
  });
});

describe('tenants file', () => {
  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['no tenants array', '{}', /tenants/],
    ['a bad hash', JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: ['abc'] }] }), /tenants\.0\.tokens_sha256\.0: expected 64 hex/],
    ['a bad id', JSON.stringify({ tenants: [{ id: 'a b' }] }), /tenants\.0\.id/],
    ['a duplicate tenant', JSON.stringify({ tenants: [{ id: 'a' }, { id: 'a' }] }), /listed twice/],
    ['a shared token', JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: [hex('x')] }, { id: 'b', tokens_sha256: [hex('x')] }] }), /two tenants/],
    [
      "a username containing ':'",
      JSON.stringify({ tenants: [{ id: 'a', basic: [{ username: 'ops', password_sha256: hex('p') }, { username: 'billing:eu', password_sha256: hex('q') }] }] }),
      /TENANTS_FILE t\.json: tenant "a": username "billing:eu" contains ':'/,
    ],
    ['a shared user', JSON.stringify({ tenants: [{ id: 'a', basic: [{ username: 'u', password_sha256: hex('p') }] }, { id: 'b', basic: [{ username: 'u', password_sha256: hex('q') }] }] }), /two tenants/],
    ['a token that writes and reads', JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: [hex('x')], read_tokens_sha256: [{ name: 'r', sha256: hex('x') }] }] }), /both writes and reads/],
    ['a user who writes and reads', JSON.stringify({ tenants: [{ id: 'a', basic: [{ username: 'u', password_sha256: hex('p') }], read_basic: [{ username: 'u', password_sha256: hex('q') }] }] }), /both writes and reads/],
    ['two tokens of one name', JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: [{ name: 'n', sha256: hex('x') }], read_tokens_sha256: [{ name: 'n', sha256: hex('y') }] }] }), /two tokens named "n"/],
    ['a bad token name', JSON.stringify({ tenants: [{ id: 'a', read_tokens_sha256: [{ name: 'a b', sha256: hex('x') }] }] }), /tenants\.0\.read_tokens_sha256\.0\.name: expected 1 to 64 letters/],
    ['a bad read hash', JSON.stringify({ tenants: [{ id: 'a', read_tokens_sha256: [{ name: 'r', sha256: 'abc' }] }] }), /read_tokens_sha256\.0\.sha256: expected 64 hex/],
  ])('refuses %s with a message naming the problem', (_what, text, message) => {
    expect(() => parseTenantsFile(text, 'TENANTS_FILE t.json')).toThrow(TenantsFileError);
    expect(() => parseTenantsFile(text, 'TENANTS_FILE t.json')).toThrow(message);
  });
});
