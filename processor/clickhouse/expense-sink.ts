// Writes hourly cost rows to k8s_expenses: one JSONEachRow insert per call and nothing else. A
// failure is reported as a ServiceError (clickHouseFailure: stable code, retriable or not); retries
// belong to the caller, and rewriting the same rows is harmless because rows with the same key and
// version replace each other.
//
// Why JSONEachRow: through the embedded engine the client's insert body is decoded as UTF-8 text, so
// RowBinary cannot pass; measured on the embedded engine, 50k-row batches of this table insert at
// about 50-60k rows/s, of which encoding in JS is about a fifth.
import type { ClickHouseClient } from '@clickhouse/client';
import { clickHouseFailure } from './errors.ts';
import { encodeExpenseRow, expenseRowKey, type ExpenseRow } from './expense-row.ts';

/** What the table holds for one hour of a cluster: the keys with a live row, and their highest version. */
export interface StoredHour {
  keys: Set<string>;
  version: number;
}

export interface ExpenseSink {
  /** Inserts the rows in one batch (callers keep batches around 50k rows); a ClickHouse failure rejects with clickHouseFailure(). */
  write(rows: readonly ExpenseRow[]): Promise<void>;
  /**
   * The keys (expenseRowKey) with a live row in the given hours (epoch ms) of a cluster, and the
   * highest version among them, by hour; read under FINAL, so deleted keys are left out.
   */
  storedKeys(tenant: string, cluster: string, hours: readonly number[]): Promise<Map<number, StoredHour>>;
  /** Whether ClickHouse answers a query (for readiness). */
  ping(): Promise<boolean>;
}

export interface ExpenseSinkOptions {
  database: string;
}

/** Only what the sink uses of the client, so a test can stand between them. */
export type ExpenseSinkClient = Pick<ClickHouseClient, 'insert' | 'ping' | 'query'>;

export function createExpenseSink(client: ExpenseSinkClient, options: ExpenseSinkOptions): ExpenseSink {
  const table = `${options.database}.k8s_expenses`;
  return {
    async write(rows) {
      if (rows.length === 0) return;
      // A row that cannot be encoded is a fault of this service (an internal error), not ClickHouse's.
      const values = rows.map(encodeExpenseRow);
      try {
        await client.insert({ table, values, format: 'JSONEachRow' });
      } catch (err) {
        throw clickHouseFailure(err);
      }
    },
    async storedKeys(tenant, cluster, hours) {
      const stored = new Map<number, StoredHour>();
      if (hours.length === 0) return stored;
      const wanted = new Set(hours);
      let rows: { hour: number | string; namespace: string; pod: string; version: number | string }[];
      try {
        // One range per cluster: the key's prefix (tenant, cluster, hour) keeps the read narrow.
        const result = await client.query({
          query: `SELECT toUnixTimestamp(hour) AS hour, namespace, pod, version FROM ${table} FINAL
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
        held.keys.add(expenseRowKey(r));
        held.version = Math.max(held.version, Number(r.version));
      }
      return stored;
    },
    async ping() {
      const result = await client.ping({ select: true });
      return result.success;
    },
  };
}
