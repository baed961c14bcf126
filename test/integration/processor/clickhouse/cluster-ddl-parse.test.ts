// The cluster-mode statements (CLICKHOUSE_CLUSTER) through ClickHouse's own parser: no server with a
// cluster and Keeper runs here, so each statement is checked with EXPLAIN AST on the embedded
// engine, which parses it as a server would without running it. Their text is pinned by
// test/unit/processor/clickhouse/cluster-ddl.test.ts; the single-server mode runs for real in
// migrations.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatements, createDatabaseDdl, dropTableDdl, schemaMigrationsDdl } from '../../../../processor/clickhouse/cluster-ddl.ts';
import { loadMigrations, renderMigration } from '../../../../processor/clickhouse/migration-files.ts';
import { openTestEngine, type TestEngine } from '../../../support/clickhouse-engine.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await openTestEngine('default');
});
afterAll(async () => {
  await engine?.close();
});

const target = { database: 'billing', cluster: 'prod-eu' };

async function parse(statement: string): Promise<string> {
  const result = await engine.client.query({ query: `EXPLAIN AST ${statement}`, format: 'TabSeparatedRaw' });
  return result.text();
}

describe('cluster-mode statements parse', () => {
  it('every migration, with and without a TTL', async () => {
    let checked = 0;
    for (const m of await loadMigrations()) {
      for (const ttl of [undefined, '2 YEAR']) {
        for (const statement of renderMigration(m.sql, { database: target.database, ttl })) {
          for (const clustered of clusterStatements(statement, target)) {
            await expect(parse(clustered), `${m.file}: ${clustered}`).resolves.toMatch(/^"?(CreateQuery|AlterQuery) billing /);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
  });

  it('schema_migrations, the database and the drops', async () => {
    for (const statement of [schemaMigrationsDdl('billing', 'prod-eu'), createDatabaseDdl('billing', 'prod-eu'), ...dropTableDdl(target, 'k8s_expenses')]) {
      await expect(parse(statement), statement).resolves.toMatch(/^"?(CreateQuery|DropQuery) billing/);
    }
  });

  it('a malformed statement does not parse (the check can fail)', async () => {
    const [local] = clusterStatements('CREATE TABLE IF NOT EXISTS billing.t (tenant_id String, cluster String) ENGINE = MergeTree ORDER BY tenant_id', target);
    await expect(parse(local.replace('ON CLUSTER', 'ON CLUSTERS'))).rejects.toThrow(/Syntax error/);
  });
});
