// migrate() with CLICKHOUSE_CLUSTER, in the order it runs its statements on a new cluster. No
// cluster runs here: the client records the statements and answers what a new cluster holds (no
// database, no record; after migration 0001 the table of 0001, empty).
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../../../processor/clickhouse/migration-files.ts';
import { migrate } from '../../../../processor/clickhouse/migrations.ts';
import { EXPENSE_COLUMNS } from '../../../../processor/clickhouse/expense-row.ts';

const scratch = await mkdtemp(join(tmpdir(), 'k8s-expenses-cluster-migrate-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

function newCluster() {
  const commands: string[] = [];
  const recorded: number[] = [];
  const answer = (query: string): unknown[] => {
    if (query.includes('system.databases')) return [];
    if (query.includes('schema_migrations FINAL')) return [];
    if (query.includes('FROM system.tables')) return [{ engine: 'ReplicatedReplacingMergeTree' }];
    if (query.includes('FROM system.columns')) return EXPENSE_COLUMNS.filter(([name]) => name !== 'is_deleted').map(([name]) => ({ name }));
    if (query.startsWith('SELECT count()')) return [{ rows: '0' }];
    throw new Error(`unexpected query ${query}`);
  };
  const client = {
    command: async ({ query }: { query: string }) => {
      commands.push(query.replace(/\s+/g, ' ').trim());
      return {};
    },
    query: async ({ query }: { query: string }) => ({ json: async () => answer(query) }),
    insert: async ({ values }: { values: { version: number }[] }) => {
      recorded.push(...values.map((v) => v.version));
      return {};
    },
  } as unknown as ClickHouseClient;
  return { client, commands, recorded };
}

const head = (sql: string) => sql.replace(/ \(.*$/, '').replace(/ AS .*$/, '');

describe('migrate on a cluster', () => {
  it('creates the database and schema_migrations on every node, then runs each migration ON CLUSTER, replacing the empty table of 0001', async () => {
    const { client, commands, recorded } = newCluster();
    const result = await migrate(client, { database: 'billing', cluster: 'prod' });
    expect(result.applied.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(recorded).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(commands.map(head)).toEqual([
      'CREATE DATABASE IF NOT EXISTS billing ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.schema_migrations ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.k8s_expenses_local ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.k8s_expenses ON CLUSTER `prod`',
      'CREATE VIEW IF NOT EXISTS billing.k8s_expenses_final ON CLUSTER `prod`',
      'ALTER TABLE billing.k8s_expenses_local ON CLUSTER `prod` MODIFY SETTING ttl_only_drop_parts = 1',
      'DROP TABLE IF EXISTS billing.k8s_expenses ON CLUSTER `prod` SYNC',
      'DROP TABLE IF EXISTS billing.k8s_expenses_local ON CLUSTER `prod` SYNC',
      'CREATE TABLE IF NOT EXISTS billing.k8s_expenses_local ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.k8s_expenses ON CLUSTER `prod`',
      'CREATE OR REPLACE VIEW billing.k8s_expenses_final ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.k8s_node_expenses_local ON CLUSTER `prod`',
      'CREATE TABLE IF NOT EXISTS billing.k8s_node_expenses ON CLUSTER `prod`',
      'CREATE VIEW IF NOT EXISTS billing.k8s_node_expenses_final ON CLUSTER `prod`',
      'CREATE OR REPLACE VIEW billing.k8s_expenses_focus ON CLUSTER `prod`',
      expect.stringMatching(/^ALTER TABLE billing\.k8s_expenses_local ON CLUSTER `prod` MODIFY COLUMN pod CODEC\(ZSTD\(3\)\),/),
      expect.stringMatching(/^ALTER TABLE billing\.k8s_node_expenses_local ON CLUSTER `prod` MODIFY COLUMN hour CODEC\(Delta, ZSTD\(1\)\),/),
    ]);
    expect(commands[8]).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version, is_deleted)");
  });

  it('refuses a migration it cannot run on a cluster before running anything', async () => {
    const dir = join(scratch, 'unknown-statement');
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await writeFile(join(dir, '0099_drop.sql'), 'DROP TABLE {database}.k8s_expenses_final;');
    const { client, commands, recorded } = newCluster();
    await expect(migrate(client, { database: 'billing', cluster: 'prod', migrationsDir: dir })).rejects.toThrow(/cannot run this statement on a cluster .*DROP TABLE billing\.k8s_expenses_final/);
    expect(commands).toEqual([]);
    expect(recorded).toEqual([]);
  });
});
