// The credentials of one tenant of the tenants file by name, for the tenants CLI: a token's name,
// or a basic user's username. Unnamed tokens (a bare digest, as older files hold) have none, so they
// can be listed and counted but not rotated or revoked one by one.
import type { TenantsFile, TokenEntry } from '../receiver/tenants-file.ts';

type Tenant = TenantsFile['tenants'][number];

export interface FoundCredential {
  /** "read token "grafana"", for messages. */
  readonly describe: string;
  readonly basic: boolean;
  remove(): void;
  /** Puts a new secret's hex digest in place of the old one, keeping the name. */
  replace(digestHex: string): void;
}

const tokenName = (entry: TokenEntry): string | undefined => (typeof entry === 'string' ? undefined : entry.name);

/** Every name the tenant's credentials carry, writing and reading. */
export function allNames(tenant: Tenant): string[] {
  const tokens = [...tenant.tokens_sha256, ...tenant.read_tokens_sha256].flatMap((e) => tokenName(e) ?? []);
  return [...tokens, ...tenant.basic.map((b) => b.username), ...tenant.read_basic.map((b) => b.username)];
}

/** The first of `<prefix>-1`, `<prefix>-2`, ... the tenant does not use yet. */
export function unusedName(tenant: Tenant, prefix: string): string {
  const used = new Set(allNames(tenant));
  for (let n = 1; ; n++) if (!used.has(`${prefix}-${n}`)) return `${prefix}-${n}`;
}

/** What `list` shows: names only, basic users marked, unnamed tokens as <unnamed>. */
export function listedNames(tenant: Tenant): { write: string[]; read: string[] } {
  const shown = (tokens: TokenEntry[], basic: Tenant['basic']) => [...tokens.map((e) => tokenName(e) ?? '<unnamed>'), ...basic.map((b) => `${b.username}(basic)`)];
  return { write: shown(tenant.tokens_sha256, tenant.basic), read: shown(tenant.read_tokens_sha256, tenant.read_basic) };
}

export function findCredential(tenant: Tenant, name: string): FoundCredential | undefined {
  for (const [use, tokens] of [['write', tenant.tokens_sha256], ['read', tenant.read_tokens_sha256]] as const) {
    const i = tokens.findIndex((e) => tokenName(e) === name);
    if (i >= 0) {
      return {
        describe: `${use} token "${name}"`,
        basic: false,
        remove: () => void tokens.splice(i, 1),
        replace: (digestHex) => void (tokens[i] = { name, sha256: digestHex }),
      };
    }
  }
  for (const [use, users] of [['write', tenant.basic], ['read', tenant.read_basic]] as const) {
    const i = users.findIndex((b) => b.username === name);
    if (i >= 0) {
      return {
        describe: `${use} basic user "${name}"`,
        basic: true,
        remove: () => void users.splice(i, 1),
        replace: (digestHex) => void (users[i] = { username: name, password_sha256: digestHex }),
      };
    }
  }
  return undefined;
}
