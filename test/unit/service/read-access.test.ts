// Who may read which tenant: read credentials of the tenants file decide it, write credentials
// cannot read, a tenant header may only agree; without the file the header selects the tenant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../receiver/tenants-file.ts';
import { createReadAccess } from '../../../service/read-access.ts';

const hex = (s: string) => sha256(s).toString('hex');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const HEADER = 'cloud-account-id';
const logger = pino({ level: 'silent' });
const request = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

const dir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-read-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, tenants: unknown[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ tenants }));
  return file;
}

const TENANTS = [
  {
    id: 'acme',
    tokens_sha256: [hex('acme-writes')],
    basic: [{ username: 'prom-acme', password_sha256: hex('acme-write-password') }],
    read_tokens_sha256: [{ name: 'grafana', sha256: hex('acme-reads') }],
    read_basic: [{ username: 'finops-acme', password_sha256: hex('acme-read-password') }],
  },
  { id: 'globex', tokens_sha256: [{ name: 'write-1', sha256: hex('globex-writes') }], read_tokens_sha256: [hex('globex-reads')] },
];

function outcome(fn: () => string): string {
  try {
    return fn();
  } catch (err) {
    const e = err as { status?: number; code?: string };
    return `${e.status} ${e.code}`;
  }
}

describe('read access with a tenants file', () => {
  const file = writeFile('tenants.json', TENANTS);
  const access = createReadAccess({ TENANTS_FILE: file, TENANT_HEADER: HEADER }, logger);
  const tenantOf = (headers: Record<string, string>) => outcome(() => access.tenantFromRequest(request(headers)));

  it('a read credential decides the tenant, named or not, bearer or basic', () => {
    expect(tenantOf({ authorization: 'Bearer acme-reads' })).toBe('acme');
    expect(tenantOf({ authorization: basic('finops-acme', 'acme-read-password') })).toBe('acme');
    expect(tenantOf({ authorization: 'Bearer globex-reads' })).toBe('globex');
  });

  it('a write credential cannot read: 403 not-a-read-credential', () => {
    expect(tenantOf({ authorization: 'Bearer acme-writes' })).toBe('403 not-a-read-credential');
    expect(tenantOf({ authorization: 'Bearer globex-writes' })).toBe('403 not-a-read-credential');
    expect(tenantOf({ authorization: basic('prom-acme', 'acme-write-password') })).toBe('403 not-a-read-credential');
  });

  it('a tenant header naming another tenant is refused, not followed', () => {
    expect(tenantOf({ authorization: 'Bearer acme-reads', [HEADER]: 'globex' })).toBe('403 tenant-mismatch');
    expect(tenantOf({ authorization: 'Bearer acme-reads', [HEADER]: 'acme' })).toBe('acme');
  });

  it.each([
    ['no credentials, only the header', { [HEADER]: 'acme' }, '401 auth-missing'],
    ['an unknown token', { authorization: 'Bearer nope' }, '401 auth-invalid'],
    ['a read user with a write password', { authorization: basic('finops-acme', 'acme-write-password') }, '401 auth-invalid'],
  ])('refuses %s', (_what, headers, expected) => {
    expect(tenantOf(headers)).toBe(expected);
  });

  it('reload takes a rotated token, and keeps the previous credentials when the file is broken', () => {
    const rotated = [{ ...TENANTS[0], read_tokens_sha256: [{ name: 'grafana', sha256: hex('acme-reads-2') }] }, TENANTS[1]];
    writeFileSync(file, JSON.stringify({ tenants: rotated }));
    expect(tenantOf({ authorization: 'Bearer acme-reads' })).toBe('acme');
    access.reload();
    expect(tenantOf({ authorization: 'Bearer acme-reads' })).toBe('401 auth-invalid');
    expect(tenantOf({ authorization: 'Bearer acme-reads-2' })).toBe('acme');
    writeFileSync(file, '{');
    access.reload();
    expect(tenantOf({ authorization: 'Bearer acme-reads-2' })).toBe('acme');
  });
});

describe('read access without a tenants file (local mode)', () => {
  const access = createReadAccess({ TENANTS_FILE: undefined, TENANT_HEADER: HEADER }, logger);
  const tenantOf = (headers: Record<string, string>) => outcome(() => access.tenantFromRequest(request(headers)));

  it('the tenant header selects the tenant', () => {
    expect(tenantOf({ [HEADER]: 'globex' })).toBe('globex');
    expect(tenantOf({})).toBe('400 tenant-missing');
    expect(tenantOf({ [HEADER]: "acme' OR 1=1" })).toBe('400 tenant-invalid');
  });
});
