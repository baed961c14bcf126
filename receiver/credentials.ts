// The tenant of a request when a tenants file is configured: the credential decides it, so a
// Prometheus that cannot send custom headers (2.42 from Debian) still works, and a tenant header
// that disagrees with the credential is refused.
import { ReceiverError } from './errors.ts';
import { tenantFromHeader, type HeaderValue } from './tenant.ts';
import type { TenantDirectory } from './tenants-file.ts';

export function tenantFromCredentials(
  directory: TenantDirectory,
  authorization: HeaderValue,
  tenantHeader: HeaderValue,
  tenantHeaderName: string,
): string {
  if (authorization === undefined || authorization === '') {
    throw new ReceiverError('auth-missing', 'send Authorization: Bearer <token> or Basic credentials from the tenants file');
  }
  if (Array.isArray(authorization)) throw new ReceiverError('auth-invalid', 'Authorization was sent more than once');
  const space = authorization.indexOf(' ');
  const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
  const secret = space < 0 ? '' : authorization.slice(space + 1).trim();
  let tenant: string | undefined;
  if (scheme === 'bearer') {
    tenant = directory.tenantForToken(secret);
  } else if (scheme === 'basic') {
    const decoded = Buffer.from(secret, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) tenant = directory.tenantForBasic(decoded.slice(0, colon), decoded.slice(colon + 1));
  } else {
    throw new ReceiverError('auth-invalid', `unsupported scheme "${scheme}"; use Bearer or Basic`);
  }
  if (tenant === undefined) throw new ReceiverError('auth-invalid', 'unknown token or username/password');

  if (tenantHeader !== undefined && tenantHeader !== '') {
    const claimed = tenantFromHeader(tenantHeader, tenantHeaderName);
    if (claimed !== tenant) throw new ReceiverError('tenant-mismatch', `${tenantHeaderName} names "${claimed}" but the credentials belong to another tenant`);
  }
  return tenant;
}
