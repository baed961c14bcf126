// The tenants file: which credentials belong to which tenant. Only hashes are stored.
//
//   {"tenants":[{"id":"<tenant>","tokens_sha256":["<hex sha256 of a bearer token>"],
//                "basic":[{"username":"<user>","password_sha256":"<hex>"}]}]}
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ServiceError } from '../core/errors.ts';
import { isValidTenant } from './tenant.ts';

const sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hex characters (a SHA-256 digest)' });

const tenantsFileSchema = z.object({
  tenants: z.array(
    z.object({
      id: z.string().refine(isValidTenant, { message: "expected 1 to 150 characters of letters, digits, '.', '_' or '-'" }),
      tokens_sha256: z.array(sha256Hex).default([]),
      basic: z.array(z.object({ username: z.string().min(1), password_sha256: sha256Hex })).default([]),
    }),
  ),
});

export type TenantsFile = z.infer<typeof tenantsFileSchema>;

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Credentials of all tenants, indexed for lookup; every secret comparison is constant-time. */
export interface TenantDirectory {
  readonly tenantCount: number;
  /** The tenant owning this bearer token, or undefined. */
  tenantForToken(token: string): string | undefined;
  /** The tenant owning this username and password, or undefined. */
  tenantForBasic(username: string, password: string): string | undefined;
}

/** The tenants file cannot be used as it is: start-up stops, a reload keeps the previous credentials. */
export class TenantsFileError extends ServiceError {
  override name = 'TenantsFileError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('tenants-file', message, options);
  }
}

export function parseTenantsFile(text: string, source: string): TenantsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TenantsFileError(`${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = tenantsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TenantsFileError(`${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const ids = new Set<string>();
  const users = new Set<string>();
  const tokens = new Set<string>();
  for (const t of parsed.data.tenants) {
    if (ids.has(t.id)) throw new TenantsFileError(`${source}: tenant "${t.id}" is listed twice`);
    ids.add(t.id);
    for (const b of t.basic) {
      if (users.has(b.username)) throw new TenantsFileError(`${source}: username "${b.username}" belongs to two tenants`);
      users.add(b.username);
    }
    for (const h of t.tokens_sha256) {
      if (tokens.has(h.toLowerCase())) throw new TenantsFileError(`${source}: a token hash belongs to two tenants`);
      tokens.add(h.toLowerCase());
    }
  }
  return parsed.data;
}

export function readTenantsFile(path: string): TenantsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TenantsFileError(`cannot read TENANTS_FILE ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseTenantsFile(text, `TENANTS_FILE ${path}`);
}

interface Entry {
  tenant: string;
  digest: Buffer;
}

export function createTenantDirectory(file: TenantsFile): TenantDirectory {
  // Tokens are found by their digest: the map is keyed by the digest of a secret, so lookup timing
  // says nothing usable about the secret; the final check is still a constant-time comparison.
  const byTokenDigest = new Map<string, Entry>();
  const byUser = new Map<string, Entry>();
  for (const t of file.tenants) {
    for (const h of t.tokens_sha256) byTokenDigest.set(h.toLowerCase(), { tenant: t.id, digest: Buffer.from(h, 'hex') });
    for (const b of t.basic) byUser.set(b.username, { tenant: t.id, digest: Buffer.from(b.password_sha256, 'hex') });
  }
  const decoy = sha256('decoy');
  return {
    tenantCount: file.tenants.length,
    tenantForToken(token) {
      const digest = sha256(token);
      const entry = byTokenDigest.get(digest.toString('hex'));
      const ok = timingSafeEqual(digest, entry?.digest ?? decoy) && entry !== undefined;
      return ok ? entry.tenant : undefined;
    },
    tenantForBasic(username, password) {
      const digest = sha256(password);
      const entry = byUser.get(username);
      // Unknown users cost the same comparison as known ones.
      const ok = timingSafeEqual(digest, entry?.digest ?? decoy) && entry !== undefined;
      return ok ? entry.tenant : undefined;
    },
  };
}
