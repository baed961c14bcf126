// `npm run -s tenants -- sql-user <tenant> <user>`: the statements that give a tenant a read-only
// user of a ClickHouse server restricted to its rows. Each is parsed by the real engine
// (formatQuery), which gives back what it understood. The embedded engine has no user storage, so
// the statements are not run here: a ClickHouse server enforces them.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { runTenantsCli } from '../../support/service-process.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await openTestEngine('k8s');
});
afterAll(async () => {
  await engine?.close();
});

const parsedByEngine = async (sql: string) =>
  (await queryRows<{ f: string }>(engine.client, `SELECT formatQuery('${sql.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}') AS f`))[0].f;

describe('npm run -s tenants -- sql-user', () => {
  it('prints statements the engine parses as meant, and the password (once) that matches the hash', async () => {
    const result = await runTenantsCli(['sql-user', 'acme', 'acme_reader'], { CLICKHOUSE_DATABASE: 'costs', QUERY_TIMEOUT: '20s', QUERY_CONCURRENCY: '2' });
    expect(result.code, result.stderr).toBe(0);
    const statements = result.stdout.trim().split(';\n').map((s) => s.replace(/;$/, ''));
    const password = /shown only now: (\S+)/.exec(result.stderr)![1];
    const hash = createHash('sha256').update(password).digest('hex');
    expect(result.stdout).not.toContain(password);

    const understood = await Promise.all(statements.map(parsedByEngine));
    expect(understood).toEqual([
      `CREATE USER OR REPLACE acme_reader IDENTIFIED WITH sha256_hash BY '${hash}' DEFAULT DATABASE costs SETTINGS readonly = 2 CONST, allow_ddl = 0 CONST, ` +
        'max_execution_time = 20 MAX 20, max_memory_usage = 2147483648 MAX 2147483648, max_result_rows = 1000000 MAX 1000000, max_concurrent_queries_for_user = 2 MAX 2',
      'GRANT SELECT ON costs.k8s_expenses TO acme_reader',
      'GRANT SELECT ON costs.k8s_expenses_final TO acme_reader',
      'CREATE ROW POLICY OR REPLACE k8s_expenses_visible ON costs.k8s_expenses AS PERMISSIVE FOR SELECT USING 1 TO ALL',
      "CREATE ROW POLICY OR REPLACE k8s_expenses_acme_reader ON costs.k8s_expenses AS RESTRICTIVE FOR SELECT USING tenant_id = 'acme' TO acme_reader",
      'CREATE QUOTA OR REPLACE k8s_expenses_acme_reader FOR INTERVAL 1 hour MAX queries = 3600, execution_time = 3600 TO acme_reader',
    ]);
  });

  it.each([
    ['a tenant id with a quote', ["acme' OR 1 = 1 --", 'u'], /is not a valid tenant id/],
    ['a user name with a backquote', ['acme', 'u`; DROP'], /is not a valid ClickHouse user name/],
  ])('refuses %s, printing no statement', async (_what, args, message) => {
    const result = await runTenantsCli(['sql-user', ...args]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});
