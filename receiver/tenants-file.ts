// The tenants file: which credentials belong to which tenant. Only hashes are stored.
//
//   {"tenants":[{"id":"<tenant>","tokens_sha256":["<hex sha256 of a bearer token>"],
//                "basic":[{"username":"<user>","password_sha256":"<hex>"}],
//                "read_tokens_sha256":[{"name":"<name>","sha256":"<hex>"}],
//                "read_basic":[{"username":"<user>","password_sha256":"<hex>"}]}]}
//
// tokens_sha256 and basic write (remote write), read_tokens_sha256 and read_basic read (the
// allocation API): a credential does one or the other. A token is its digest, or a named digest,
// so that an operator can tell tokens apart, revoke or rotate one.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ServiceError } from '../core/errors.ts';
import { isValidTenant } from './tenant.ts';

const sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hex characters (a SHA-256 digest)' });

const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const isValidTokenName = (name: string): boolean => TOKEN_NAME.test(name);

const tokenEntry = z.union([sha256Hex, z.object({ name: z.string().refine(isValidTokenName, { message: "expected 1 to 64 letters, digits, '.', '_' or '-'" }), sha256: sha256Hex }).strict()], {
  error: 'expected 64 hex characters (a SHA-256 digest), or {"name": "<1 to 64 of letters, digits, . _ ->", "sha256": "<64 hex characters>"}',
});
export type TokenEntry = z.infer<typeof tokenEntry>;

const tenantsFileSchema = z.object({
  tenants: z.array(
    z.object({
      id: z.string().refine(isValidTenant, { message: "expected 1 to 150 characters of letters, digits, '.', '_' or '-'" }),
      tokens_sha256: z.array(tokenEntry).default([]),
      basic: z.array(z.object({ username: z.string().min(1), password_sha256: sha256Hex })).default([]),
      read_tokens_sha256: z.array(tokenEntry).default([]),
      read_basic: z.array(z.object({ username: z.string().min(1), password_sha256: sha256Hex })).default([]),
    }),
  ),
});

export type TenantsFile = z.infer<typeof tenantsFileSchema>;

/**
 * What makes a basic-auth username unusable, or undefined. Basic credentials are "user:password"
 * and the password starts after the first ':', so a username containing one could never log in.
 */
export function basicUsernameProblem(username: string): string | undefined {
  if (username.includes(':')) return `username "${username}" contains ':', which basic auth cannot carry in a username (the password starts after the first ':'); choose another`;
  return undefined;
}

/** The hex digest of a token entry. */
export function tokenDigest(entry: TokenEntry): string {
  return (typeof entry === 'string' ? entry : entry.sha256).toLowerCase();
}

/** What a credential may do: write (remote write) or read (the allocation API). */
export type CredentialUse = 'write' | 'read';

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
    // A credential that both wrote and read, or read for two tenants, would be ambiguous.
    for (const b of [...t.basic, ...t.read_basic]) {
      const problem = basicUsernameProblem(b.username);
      if (problem) throw new TenantsFileError(`${source}: tenant "${t.id}": ${problem}`);
      if (users.has(b.username)) throw new TenantsFileError(`${source}: username "${b.username}" belongs to two tenants, or both writes and reads`);
      users.add(b.username);
    }
    const names = new Set<string>();
    for (const entry of [...t.tokens_sha256, ...t.read_tokens_sha256]) {
      const h = tokenDigest(entry);
      if (tokens.has(h)) throw new TenantsFileError(`${source}: a token hash belongs to two tenants, or both writes and reads`);
      tokens.add(h);
      if (typeof entry === 'string') continue;
      if (names.has(entry.name)) throw new TenantsFileError(`${source}: tenant "${t.id}" has two tokens named "${entry.name}"`);
      names.add(entry.name);
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

/** The credentials of one use: `write` (the default) for remote write, `read` for the allocation API. */
export function createTenantDirectory(file: TenantsFile, use: CredentialUse = 'write'): TenantDirectory {
  // Tokens are found by their digest: the map is keyed by the digest of a secret, so lookup timing
  // says nothing usable about the secret; the final check is still a constant-time comparison.
  const byTokenDigest = new Map<string, Entry>();
  const byUser = new Map<string, Entry>();
  for (const t of file.tenants) {
    for (const entry of use === 'write' ? t.tokens_sha256 : t.read_tokens_sha256) {
      const h = tokenDigest(entry);
      byTokenDigest.set(h, { tenant: t.id, digest: Buffer.from(h, 'hex') });
    }
    for (const b of use === 'write' ? t.basic : t.read_basic) byUser.set(b.username, { tenant: t.id, digest: Buffer.from(b.password_sha256, 'hex') });
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
