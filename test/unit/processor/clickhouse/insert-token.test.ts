// The deduplication token of cluster inserts: a retry of the same rows is stored once by the
// replicated tables, and no later write of the same hours is ever taken for a retry.
import { describe, expect, it } from 'vitest';
import type { SinkClient } from '../../../../processor/clickhouse/table-sink.ts';
import { createExpenseSink } from '../../../../processor/clickhouse/expense-sink.ts';
import { encodeExpenseRow, type ExpenseRow } from '../../../../processor/clickhouse/expense-row.ts';
import { insertDeduplicationToken } from '../../../../processor/clickhouse/insert-token.ts';
import { rowVersion } from '../../../../processor/row-version.ts';
import { expenseRow } from '../../../support/clickhouse-engine.ts';

const hourRows = (offset: bigint, final: boolean, cost = 1.5): ExpenseRow[] =>
  ['a', 'b'].map((pod) => expenseRow({ pod, total_cost: cost, is_final: final, version: rowVersion(offset, final), updated_at: 1_780_000_000_000 }));
const token = (rows: ExpenseRow[]) => insertDeduplicationToken('db.k8s_expenses', rows.map(encodeExpenseRow));

describe('insertDeduplicationToken', () => {
  it('is the same for the same rows (a retry)', () => {
    expect(token(hourRows(100n, false))).toBe(token(hourRows(100n, false)));
    expect(token(hourRows(100n, false))).toMatch(/^db\.k8s_expenses:2:[0-9a-f]{64}$/);
  });

  it('differs when the hour closes at the same offset (is_final and its version), so the final rows are stored', () => {
    expect(token(hourRows(100n, true))).not.toBe(token(hourRows(100n, false)));
  });

  it('differs for a later write of the same hour (a later offset) even with the same costs', () => {
    expect(token(hourRows(101n, false))).not.toBe(token(hourRows(100n, false)));
  });

  it('differs for other values, other rows, another table', () => {
    expect(token(hourRows(100n, false, 2))).not.toBe(token(hourRows(100n, false)));
    expect(token(hourRows(100n, false).slice(1))).not.toBe(token(hourRows(100n, false)));
    expect(insertDeduplicationToken('db.other', hourRows(100n, false).map(encodeExpenseRow))).not.toBe(token(hourRows(100n, false)));
  });
});

describe('the sink on a cluster', () => {
  const recording = () => {
    const inserts: { table: string; clickhouse_settings?: Record<string, unknown> }[] = [];
    const client = {
      insert: async (params: { table: string; clickhouse_settings?: Record<string, unknown> }) => {
        inserts.push(params);
        return {} as never;
      },
    } as unknown as SinkClient;
    return { client, inserts };
  };

  it('inserts synchronously into the Distributed table with the rows\' token, the same on a retry', async () => {
    const { client, inserts } = recording();
    const sink = createExpenseSink(client, { database: 'db', cluster: true });
    const rows = hourRows(100n, false);
    await sink.write(rows);
    await sink.write(rows);
    await sink.write(hourRows(100n, true));
    expect(inserts.map((i) => i.table)).toEqual(['db.k8s_expenses', 'db.k8s_expenses', 'db.k8s_expenses']);
    expect(inserts[0].clickhouse_settings).toEqual({ insert_distributed_sync: 1, insert_deduplicate: 1, insert_deduplication_token: token(rows) });
    expect(inserts[1].clickhouse_settings).toEqual(inserts[0].clickhouse_settings);
    expect(inserts[2].clickhouse_settings?.insert_deduplication_token).toBe(token(hourRows(100n, true)));
  });

  it('passes no settings on one server or the embedded engine (which keeps session settings)', async () => {
    const { client, inserts } = recording();
    await createExpenseSink(client, { database: 'db' }).write(hourRows(100n, false));
    expect(inserts[0]).not.toHaveProperty('clickhouse_settings');
  });
});
