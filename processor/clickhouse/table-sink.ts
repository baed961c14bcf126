// Writes the rows of one table of hourly rows (k8s_expenses, k8s_node_expenses): one JSONEachRow
// insert per call and nothing else, and reads which keys an hour holds. A failure is reported as a
// ServiceError (clickHouseFailure: stable code, retriable or not); retries belong to the caller, and
// rewriting the same rows is harmless because rows with the same key and version replace each other.
//
// On a cluster (CLICKHOUSE_CLUSTER) the insert goes to the Distributed table synchronously (answered
// once every shard stored its rows, not when they are queued on one node) with a deduplication
// token of its rows (insert-token.ts), so a retry after a lost answer is stored once by the
// replicated tables. One server, or the embedded engine (which takes no per-query settings), gets
// neither.
//
// Why JSONEachRow: through the embedded engine the client's insert body is decoded as UTF-8 text, so
// RowBinary cannot pass; measured on the embedded engine, 50k-row batches of k8s_expenses insert at
// about 50-60k rows/s, of which encoding in JS is about a fifth.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { clickHouseFailure } from './errors.ts';
import { insertDeduplicationToken } from './insert-token.ts';

/** What the table holds for one hour of a cluster: the keys with a live row, and their highest version. */
export interface StoredHour {
  keys: Set<string>;
  version: number;
}

/** Only what the sinks use of the client, so a test can stand between them. */
export type SinkClient = Pick<ClickHouseClient, 'insert' | 'ping' | 'query'>;

export interface TableSinkOptions<Row> {
  /** database.table */
  table: string;
  /** The JSONEachRow object of a row; throws (a fault of this service) for a row it cannot store. */
  encode(row: Row): Record<string, unknown>;
  /** The columns of a row's key within its (tenant, cluster, hour). */
  keyColumns: readonly string[];
  /** A row's key within its hour, from the key columns as read back. */
  keyOf(columns: Record<string, string>): string;
  /** Writing to a cluster's Distributed table (CLICKHOUSE_CLUSTER is set). */
  cluster?: boolean;
}

export interface TableSink<Row> {
  /** Inserts the rows in one batch (callers keep batches around 50k rows); a ClickHouse failure rejects with clickHouseFailure(). */
  write(rows: readonly Row[]): Promise<void>;
  /**
   * The keys with a live row in the given hours (epoch ms) of a cluster, and the highest version
   * among them, by hour; read under FINAL, so deleted keys are left out.
   */
  storedKeys(tenant: string, cluster: string, hours: readonly number[]): Promise<Map<number, StoredHour>>;
}

export function createTableSink<Row>(client: SinkClient, options: TableSinkOptions<Row>): TableSink<Row> {
  const { table, encode, keyColumns, keyOf } = options;
  return {
    async write(rows) {
      if (rows.length === 0) return;
      // A row that cannot be encoded is a fault of this service (an internal error), not ClickHouse's.
      const values = rows.map(encode);
      try {
        const clickhouse_settings: ClickHouseSettings | undefined = options.cluster
          ? { insert_distributed_sync: 1, insert_deduplicate: 1, insert_deduplication_token: insertDeduplicationToken(table, values) }
          : undefined;
        await client.insert({ table, values, format: 'JSONEachRow', ...(clickhouse_settings ? { clickhouse_settings } : {}) });
      } catch (err) {
        throw clickHouseFailure(err);
      }
    },
    async storedKeys(tenant, cluster, hours) {
      const stored = new Map<number, StoredHour>();
      if (hours.length === 0) return stored;
      const wanted = new Set(hours);
      let rows: (Record<string, string> & { hour: number | string; version: number | string })[];
      try {
        // One range per cluster: the key's prefix (tenant, cluster, hour) keeps the read narrow.
        const result = await client.query({
          query: `SELECT toUnixTimestamp(hour) AS hour, ${keyColumns.join(', ')}, version FROM ${table} FINAL
                  WHERE tenant_id = {tenant:String} AND cluster = {cluster:String}
                    AND hour BETWEEN toDateTime({from:UInt32}, 'UTC') AND toDateTime({to:UInt32}, 'UTC')`,
          query_params: { tenant, cluster, from: Math.min(...hours) / 1000, to: Math.max(...hours) / 1000 },
          format: 'JSONEachRow',
        });
        rows = await result.json();
      } catch (err) {
        throw clickHouseFailure(err);
      }
      for (const r of rows) {
        const hour = Number(r.hour) * 1000;
        if (!wanted.has(hour)) continue;
        let held = stored.get(hour);
        if (!held) stored.set(hour, (held = { keys: new Set(), version: 0 }));
        held.keys.add(keyOf(r));
        held.version = Math.max(held.version, Number(r.version));
      }
      return stored;
    },
  };
}
