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
import { encodeExpenseRow, type ExpenseRow } from './expense-row.ts';

export interface ExpenseSink {
  /** Inserts the rows in one batch (callers keep batches around 50k rows); a ClickHouse failure rejects with clickHouseFailure(). */
  write(rows: readonly ExpenseRow[]): Promise<void>;
  /** Whether ClickHouse answers a query (for readiness). */
  ping(): Promise<boolean>;
}

export interface ExpenseSinkOptions {
  database: string;
}

/** Only what the sink uses of the client, so a test can stand between them. */
export type ExpenseSinkClient = Pick<ClickHouseClient, 'insert' | 'ping'>;

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
    async ping() {
      const result = await client.ping({ select: true });
      return result.success;
    },
  };
}
