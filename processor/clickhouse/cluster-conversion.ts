// A migration that replaces a table (`-- convert-table:`) on a cluster. The single server's way
// (table-conversion.ts: copy into a new table, EXCHANGE, fold the old one in) is not done across
// replicated shards: a copy would have to run once per shard, not once per replica, and an
// interrupted one would leave tables on some nodes only. Cluster mode arrives with the table's
// current definition, so a cluster meets such a migration only while the table is still empty
// (a first start runs every migration before any row is written). So:
//   - the table missing: its new definition is created;
//   - the table already of the new definition (engine and columns): nothing to do;
//   - the table empty on every shard: dropped on every node and created again;
//   - otherwise: refused with what to do, nothing touched.
import type { ClickHouseClient } from '@clickhouse/client';
import { dropTableDdl, localTable, tableShape, type ClusterTarget } from './cluster-ddl.ts';
import { MigrationError } from './migration-files.ts';

export interface ClusterTableReplacement extends ClusterTarget {
  table: string;
  /** The new definition's statements on the cluster (cluster-ddl.ts): the local table first, then the Distributed one. */
  create: string[];
  /** The migration file, for the message. */
  migration: string;
}

type Client = Pick<ClickHouseClient, 'command' | 'query'>;

export async function replaceEmptyClusterTable(client: Client, replacement: ClusterTableReplacement): Promise<'created' | 'unchanged' | 'replaced'> {
  const { database, cluster, table, create } = replacement;
  const local = localTable(table);
  const current = await currentShape(client, database, local);
  const run = async (statements: string[]): Promise<void> => {
    for (const query of statements) await client.command({ query });
  };
  if (!current) {
    await run(create);
    return 'created';
  }
  const wanted = tableShape(create[0]);
  if (current.engine === wanted.engine && current.columns.join(',') === wanted.columns.join(',')) {
    await run(create); // the Distributed table, should it be missing
    return 'unchanged';
  }
  const rows = Number((await json<{ rows: string | number }>(client, `SELECT count() AS rows FROM ${database}.${table}`))[0]?.rows ?? 0);
  if (rows > 0) {
    throw new MigrationError(
      `${replacement.migration} replaces ${database}.${table} on cluster ${cluster}, which holds ${rows} rows: a replicated table that holds rows ` +
        'is not replaced automatically; create the new definition under another name ON CLUSTER, copy the rows through a Distributed table over it, ' +
        `EXCHANGE TABLES ${database}.${local} AND <new> ON CLUSTER ${cluster}, then migrate again`,
    );
  }
  await run(dropTableDdl(replacement, table));
  await run(create);
  return 'replaced';
}

async function currentShape(client: Client, database: string, table: string): Promise<{ engine: string; columns: string[] } | undefined> {
  const params = { database, table };
  const [engine] = await json<{ engine: string }>(client, 'SELECT engine FROM system.tables WHERE database = {database:String} AND name = {table:String}', params);
  if (!engine) return undefined;
  const columns = await json<{ name: string }>(client, 'SELECT name FROM system.columns WHERE database = {database:String} AND table = {table:String} ORDER BY position', params);
  return { engine: engine.engine, columns: columns.map((c) => c.name) };
}

async function json<T>(client: Client, query: string, query_params: Record<string, string> = {}): Promise<T[]> {
  const result = await client.query({ query, query_params, format: 'JSONEachRow' });
  return result.json<T>();
}
