// Writes hourly cost rows to k8s_expenses (table-sink.ts): what tests and tools use to store pod
// rows alone; the processor writes both tables through cost-rows.ts.
import { encodeExpenseRow, expenseRowKey, type ExpenseRow } from './expense-row.ts';
import { createTableSink, type SinkClient, type TableSink } from './table-sink.ts';

export type { StoredHour } from './table-sink.ts';

export interface ExpenseSink extends TableSink<ExpenseRow> {
  /** Whether ClickHouse answers a query (for readiness). */
  ping(): Promise<boolean>;
}

export interface ExpenseSinkOptions {
  database: string;
  /** Writing to a cluster's Distributed table (CLICKHOUSE_CLUSTER is set). */
  cluster?: boolean;
}

export function createExpenseSink(client: SinkClient, options: ExpenseSinkOptions): ExpenseSink {
  return {
    ...createTableSink(client, {
      table: `${options.database}.k8s_expenses`,
      encode: encodeExpenseRow,
      keyColumns: ['namespace', 'pod'],
      keyOf: (r) => expenseRowKey({ namespace: r.namespace, pod: r.pod }),
      cluster: options.cluster,
    }),
    async ping() {
      const result = await client.ping({ select: true });
      return result.success;
    },
  };
}
