// Who sent a request. The tenant comes from the request (a header, or credentials when a tenants
// file is configured) and never from a label inside the samples.
import { ReceiverError } from './errors.ts';

/** Letters, digits, '.', '_' and '-', 1 to 150 characters (UUIDs fit); '.' and '..' are refused as path-like. */
const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,150}$/;

export function isValidTenant(tenant: string): boolean {
  return TENANT_PATTERN.test(tenant) && tenant !== '.' && tenant !== '..';
}

export type HeaderValue = string | string[] | undefined;

/** The tenant named by the tenant header, or a 400 saying what is wrong with it. */
export function tenantFromHeader(value: HeaderValue, headerName: string): string {
  if (value === undefined || value === '') throw new ReceiverError('tenant-missing', `send the ${headerName} header`);
  if (Array.isArray(value)) throw new ReceiverError('tenant-invalid', `${headerName} was sent ${value.length} times`);
  const tenant = value.trim();
  if (!isValidTenant(tenant)) {
    const shown = tenant.length > 40 ? `${tenant.slice(0, 40)}...` : tenant;
    throw new ReceiverError('tenant-invalid', `${headerName} "${shown}" must be 1 to 150 characters of letters, digits, '.', '_' or '-'`);
  }
  return tenant;
}
