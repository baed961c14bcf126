// The statements that give one tenant a read-only SQL user of a ClickHouse server, restricted to its
// own rows: what the embedded engine's SQL endpoint cannot offer a tenant (it answers the operator,
// for every tenant), a server enforces itself.
//
// - The user is read-only (readonly = 2, fixed; no DDL) and its limits are the read side's (the
//   QUERY_* values), each a MAX constraint it cannot raise with SET.
// - Row policies: a restrictive policy `tenant_id = '<tenant>'` for the user, and once per table a
//   permissive `USING 1 TO ALL`. Without the latter, the first policy on the table would hide every
//   row from every user it does not name (the processor's, Grafana's, the operator's). The tenant's
//   user is named in its policy, not through a role, so `SET ROLE` cannot shed it.
// - Views (k8s_expenses_final) run with the rights of the reader (SQL SECURITY INVOKER, ClickHouse's
//   default for plain views), so the policy on k8s_expenses holds through them.
// - A quota bounds the user's queries and query time per hour.
import { checkIdentifier } from '../processor/clickhouse/identifier.ts';
import type { ReadLimits } from './limits.ts';

export interface TenantSqlUser {
  tenant: string;
  /** The ClickHouse user name: letters, digits and '_', 1 to 64 characters. */
  user: string;
  /** Hex SHA-256 of the user's password (the password itself never appears in the statements). */
  passwordSha256: string;
  /** CLICKHOUSE_DATABASE. */
  database: string;
  limits: ReadLimits;
}

/** The tables a tenant user may read; row policies go on the base table. */
const BASE_TABLE = 'k8s_expenses';
const VIEWS = ['k8s_expenses_final'];
/** Quota per hour: queries, and seconds of query time. */
const QUOTA_QUERIES = 3600;
const QUOTA_SECONDS = 3600;

const TENANT = /^[A-Za-z0-9._-]{1,150}$/;
const USER = /^[A-Za-z0-9_]{1,64}$/;
const HEX = /^[0-9a-fA-F]{64}$/;

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new TypeError(`${what} ${JSON.stringify(value)} must match ${pattern.source}`);
  return value;
}

export function tenantSqlUserStatements(spec: TenantSqlUser): string[] {
  // Every name and value is checked against a pattern that holds no quote, backquote or backslash.
  const tenant = checked(spec.tenant, TENANT, 'tenant');
  const user = `\`${checked(spec.user, USER, 'user')}\``;
  const hash = checked(spec.passwordSha256, HEX, 'password hash').toLowerCase();
  const db = `\`${checkIdentifier(spec.database, 'database')}\``;
  const { limits } = spec;
  const seconds = Math.ceil(limits.timeoutMs / 1000);
  const settings = [
    'readonly = 2 CONST',
    'allow_ddl = 0 CONST',
    `max_execution_time = ${seconds} MAX ${seconds}`,
    `max_memory_usage = ${limits.maxMemoryBytes} MAX ${limits.maxMemoryBytes}`,
    `max_result_rows = ${limits.maxResultRows} MAX ${limits.maxResultRows}`,
    `max_concurrent_queries_for_user = ${limits.concurrency} MAX ${limits.concurrency}`,
  ];
  const table = `${db}.\`${BASE_TABLE}\``;
  return [
    `CREATE USER OR REPLACE ${user} IDENTIFIED WITH sha256_hash BY '${hash}' DEFAULT DATABASE ${db} SETTINGS ${settings.join(', ')}`,
    ...[BASE_TABLE, ...VIEWS].map((name) => `GRANT SELECT ON ${db}.\`${name}\` TO ${user}`),
    `CREATE ROW POLICY OR REPLACE \`${BASE_TABLE}_visible\` ON ${table} USING 1 AS PERMISSIVE TO ALL`,
    `CREATE ROW POLICY OR REPLACE \`${BASE_TABLE}_${spec.user}\` ON ${table} USING tenant_id = '${tenant}' AS RESTRICTIVE TO ${user}`,
    `CREATE QUOTA OR REPLACE \`${BASE_TABLE}_${spec.user}\` FOR INTERVAL 1 hour MAX queries = ${QUOTA_QUERIES}, execution_time = ${QUOTA_SECONDS} TO ${user}`,
  ];
}
