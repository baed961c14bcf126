// What a migration that replaces a table does on a cluster, by what the cluster holds. No cluster
// runs here: the client answers the three questions the conversion asks (does the local table
// exist, its engine and columns, how many rows the Distributed table has) and records the
// statements it is given.
import { describe, expect, it } from 'vitest';
import { replaceEmptyClusterTable } from '../../../../processor/clickhouse/cluster-conversion.ts';
import { clusterStatements } from '../../../../processor/clickhouse/cluster-ddl.ts';
import { MigrationError } from '../../../../processor/clickhouse/migration-files.ts';

const target = { database: 'billing', cluster: 'prod' };
const create = clusterStatements(
  'CREATE TABLE IF NOT EXISTS billing.k8s_expenses (tenant_id String, cluster String, version UInt64, is_deleted UInt8) ENGINE = ReplacingMergeTree(version, is_deleted) ORDER BY (tenant_id, cluster)',
  target,
);

function cluster(state: { engine?: string; columns?: string[]; rows?: number }) {
  const commands: string[] = [];
  const answer = (query: string): unknown[] => {
    if (query.includes('FROM system.tables')) return state.engine ? [{ engine: state.engine }] : [];
    if (query.includes('FROM system.columns')) return (state.columns ?? []).map((name) => ({ name }));
    if (query.startsWith('SELECT count()')) return [{ rows: String(state.rows ?? 0) }];
    throw new Error(`unexpected query ${query}`);
  };
  const client = {
    command: async ({ query }: { query: string }) => {
      commands.push(query);
      return {} as never;
    },
    query: async ({ query }: { query: string }) => ({ json: async () => answer(query) }) as never,
  };
  return { client, commands };
}

const run = (client: ReturnType<typeof cluster>['client']) =>
  replaceEmptyClusterTable(client, { ...target, table: 'k8s_expenses', create, migration: '0004_k8s_expenses_deletion_rows.sql' });

describe('replaceEmptyClusterTable', () => {
  it('creates the new definition when the table is missing (a first start)', async () => {
    const { client, commands } = cluster({});
    await expect(run(client)).resolves.toBe('created');
    expect(commands).toEqual(create);
  });

  it('leaves a table that has the new definition', async () => {
    const { client, commands } = cluster({ engine: 'ReplicatedReplacingMergeTree', columns: ['tenant_id', 'cluster', 'version', 'is_deleted'], rows: 10 });
    await expect(run(client)).resolves.toBe('unchanged');
    expect(commands).toEqual(create); // IF NOT EXISTS: only a missing Distributed table would be created
  });

  it('drops and creates again a table of the old definition that is empty on every shard', async () => {
    const { client, commands } = cluster({ engine: 'ReplicatedReplacingMergeTree', columns: ['tenant_id', 'cluster', 'version'], rows: 0 });
    await expect(run(client)).resolves.toBe('replaced');
    expect(commands).toEqual([
      'DROP TABLE IF EXISTS billing.k8s_expenses ON CLUSTER `prod` SYNC',
      'DROP TABLE IF EXISTS billing.k8s_expenses_local ON CLUSTER `prod` SYNC',
      ...create,
    ]);
  });

  it('refuses, touching nothing, when the table of the old definition holds rows', async () => {
    const { client, commands } = cluster({ engine: 'ReplicatedReplacingMergeTree', columns: ['tenant_id', 'cluster', 'version'], rows: 3 });
    const failure = run(client);
    await expect(failure).rejects.toThrow(MigrationError);
    await expect(failure).rejects.toThrow(/holds 3 rows.*EXCHANGE TABLES billing\.k8s_expenses_local AND <new> ON CLUSTER prod/);
    expect(commands).toEqual([]);
  });
});
