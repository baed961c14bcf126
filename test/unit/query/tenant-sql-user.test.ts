import { describe, expect, it } from 'vitest';
import { readLimits } from '../../../query/limits.ts';
import { tenantSqlUserStatements, type TenantSqlUser } from '../../../query/tenant-sql-user.ts';

const HASH = 'ab'.repeat(32);
const limits = readLimits({ QUERY_TIMEOUT: 30_000, QUERY_MAX_MEMORY: 2 * 1024 ** 3, QUERY_MAX_RESULT_ROWS: 1_000_000, QUERY_CONCURRENCY: 4 });
const spec: TenantSqlUser = { tenant: 'acme.eu-1', user: 'acme_reader', passwordSha256: HASH.toUpperCase(), database: 'costs', limits };

describe('tenantSqlUserStatements', () => {
  it('a read-only user under the QUERY_* limits, its grants, the row policies and a quota', () => {
    expect(tenantSqlUserStatements(spec)).toEqual([
      `CREATE USER OR REPLACE \`acme_reader\` IDENTIFIED WITH sha256_hash BY '${HASH}' DEFAULT DATABASE \`costs\` SETTINGS readonly = 2 CONST, allow_ddl = 0 CONST, ` +
        'max_execution_time = 30 MAX 30, max_memory_usage = 2147483648 MAX 2147483648, max_result_rows = 1000000 MAX 1000000, max_concurrent_queries_for_user = 4 MAX 4',
      'GRANT SELECT ON `costs`.`k8s_expenses` TO `acme_reader`',
      'GRANT SELECT ON `costs`.`k8s_expenses_final` TO `acme_reader`',
      'CREATE ROW POLICY OR REPLACE `k8s_expenses_visible` ON `costs`.`k8s_expenses` USING 1 AS PERMISSIVE TO ALL',
      "CREATE ROW POLICY OR REPLACE `k8s_expenses_acme_reader` ON `costs`.`k8s_expenses` USING tenant_id = 'acme.eu-1' AS RESTRICTIVE TO `acme_reader`",
      'CREATE QUOTA OR REPLACE `k8s_expenses_acme_reader` FOR INTERVAL 1 hour MAX queries = 3600, execution_time = 3600 TO `acme_reader`',
    ]);
  });

  it.each([
    ['a quote in the tenant', { tenant: "acme' OR 1 --" }, /tenant/],
    ['a backslash in the tenant', { tenant: 'acme\\' }, /tenant/],
    ['a backquote in the user', { user: 'a`b' }, /user/],
    ['a space in the user', { user: 'a b' }, /user/],
    ['a password instead of its hash', { passwordSha256: 'hunter2' }, /password hash/],
    ['a database that is not an identifier', { database: 'x`; DROP' }, /database/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => tenantSqlUserStatements({ ...spec, ...change })).toThrow(message);
  });
});
