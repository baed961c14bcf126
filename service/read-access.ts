// Who may read which tenant's rows through the allocation API.
//
// With TENANTS_FILE, a read credential of the file decides the tenant (read_tokens_sha256,
// read_basic); a write credential is refused (403), and a tenant header may only agree with the
// credential. Without the file (local mode), the tenant header selects the tenant. SIGHUP re-reads
// the file with the receiver's credentials; a broken file keeps the previous ones.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ReadError } from '../query/errors.ts';
import { tenantFromCredentials } from '../receiver/credentials.ts';
import { ReceiverError } from '../receiver/errors.ts';
import { tenantFromHeader } from '../receiver/tenant.ts';
import { createTenantDirectory, readTenantsFile, type TenantDirectory } from '../receiver/tenants-file.ts';
import type { Config } from './config.ts';

export interface ReadAccess {
  /** The tenant the request may read, or a thrown 4xx error (ReceiverError or ReadError). */
  tenantFromRequest(request: FastifyRequest): string;
  reload(): void;
}

type Directories = { read: TenantDirectory; write: TenantDirectory };

function load(file: string): Directories {
  const parsed = readTenantsFile(file);
  return { read: createTenantDirectory(parsed, 'read'), write: createTenantDirectory(parsed, 'write') };
}

/** `receiverWarned`: the receiver in the same process already warned that authentication is off. */
export function createReadAccess(config: Pick<Config, 'TENANTS_FILE' | 'TENANT_HEADER'>, logger: Logger, receiverWarned = false): ReadAccess {
  const header = config.TENANT_HEADER;
  const file = config.TENANTS_FILE;
  if (!file) {
    // One warning per cause: with the receiver in the process, this one only adds what reads do.
    logger[receiverWarned ? 'info' : 'warn']({ header }, `reads are not authenticated: the ${header} header selects the tenant whose costs are read (set TENANTS_FILE to require read credentials)`);
    return { tenantFromRequest: (request) => tenantFromHeader(request.headers[header], header), reload() {} };
  }
  let directories = load(file);
  return {
    tenantFromRequest(request) {
      const { authorization } = request.headers;
      try {
        return tenantFromCredentials(directories.read, authorization, request.headers[header], header);
      } catch (err) {
        if (err instanceof ReceiverError && err.code === 'auth-invalid' && isWriteCredential(directories.write, authorization)) {
          throw new ReadError('not-a-read-credential', 'this credential writes (remote write) and cannot read: use a read token (npm run -s tenants -- add-reader <tenant>)');
        }
        throw err;
      }
    },
    reload() {
      try {
        directories = load(file);
      } catch (err) {
        logger.error({ err }, 'cannot reload the tenants file for reads; keeping the previous read credentials');
      }
    },
  };
}

function isWriteCredential(write: TenantDirectory, authorization: string | string[] | undefined): boolean {
  try {
    tenantFromCredentials(write, authorization, undefined, '');
    return true;
  } catch {
    return false;
  }
}
