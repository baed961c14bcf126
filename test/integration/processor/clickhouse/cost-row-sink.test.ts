// The processor's sink of both tables, on the real embedded engine: pod rows to k8s_expenses, node
// rows to k8s_node_expenses, deletion rows for either, and the live keys of both read back as one
// hour's keys.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { costRowDeletion, costRowKey, createCostRowSink, finishCostRow, type CostRowSink } from '../../../../processor/clickhouse/cost-rows.ts';
import { migrate } from '../../../../processor/clickhouse/migrations.ts';
import type { NodeExpenseRow } from '../../../../processor/clickhouse/node-expense-row.ts';
import type { NodeRow } from '../../../../processor/cost-model/index.ts';
import { nodeRow as baseNodeRow } from '../../../support/node-rows.ts';
import { expenseRow, hourAgo, openTestEngine, queryRows, type TestEngine } from '../../../support/clickhouse-engine.ts';

let engine: TestEngine;
let sink: CostRowSink;
const H = hourAgo(2);

beforeAll(async () => {
  engine = await openTestEngine('k8s');
  await migrate(engine.client, { database: 'k8s' });
  sink = createCostRowSink(engine.client, { database: 'k8s' });
});

afterAll(async () => {
  await engine?.close();
});

beforeEach(async () => {
  for (const table of ['k8s_expenses', 'k8s_node_expenses']) {
    await engine.client.command({ query: `TRUNCATE TABLE k8s.${table}` });
    await engine.client.command({ query: `SYSTEM STOP MERGES k8s.${table}` });
  }
});

const nodeRow = (overrides: Partial<NodeRow> = {}): NodeRow => baseNodeRow({ hour: H, spot: 1, ...overrides });
const stored = (row: NodeRow, final: boolean, version: number) => finishCostRow(row, final, version, Date.UTC(2024, 4, 1, 14, 0, 5, 7)) as NodeExpenseRow;
const latestNodes = () => queryRows<{ node: string; total_cost: number; is_final: number; version: string }>(engine.client, 'SELECT node, total_cost, is_final, version FROM k8s.k8s_node_expenses FINAL ORDER BY node');

describe('cost row sink', () => {
  it('stores pod rows in k8s_expenses and node rows, every column as written, in k8s_node_expenses', async () => {
    const node = stored(nodeRow(), true, 5);
    await sink.write([expenseRow({ hour: H, version: 5 }), node]);
    expect(await queryRows(engine.client, 'SELECT pod FROM k8s.k8s_expenses')).toEqual([{ pod: 'web-7d9f-abcde' }]);
    const [row] = await queryRows<Record<string, unknown>>(engine.client, 'SELECT *, toUnixTimestamp(hour) * 1000 AS hour_ms FROM k8s.k8s_node_expenses');
    const { hour, version, is_final, updated_at, ...rest } = node;
    expect(row).toMatchObject({ ...rest, hour_ms: String(hour), version: String(version), is_final: 1, is_deleted: 0, updated_at: '2024-05-01 14:00:05.007' });
  });

  it('lets the final node row replace the provisional one, and a deletion row remove it', async () => {
    await sink.write([stored(nodeRow({ total_cost: 1 }), false, 1), stored(nodeRow({ node: 'node-2' }), false, 1)]);
    await sink.write([stored(nodeRow({ total_cost: 2 }), true, 2)]);
    expect(await latestNodes()).toEqual([
      { node: 'node-1', total_cost: 2, is_final: 1, version: '2' },
      { node: 'node-2', total_cost: 0.24, is_final: 0, version: '1' },
    ]);
    await sink.write([costRowDeletion.deletionRow('acme', 'prod', H, costRowKey(nodeRow({ node: 'node-2' })), true, 3, Date.now())]);
    expect((await latestNodes()).map((n) => n.node)).toEqual(['node-1']);
    // A deletion row of a lower version loses.
    await sink.write([costRowDeletion.deletionRow('acme', 'prod', H, costRowKey(nodeRow()), true, 1, Date.now())]);
    expect((await latestNodes()).map((n) => n.node)).toEqual(['node-1']);
  });

  it("reads both tables' live keys of an hour as one set, apart from each other, with the highest version of either", async () => {
    const pod = expenseRow({ hour: H, namespace: 'node-1', pod: '', version: 4 });
    await sink.write([pod, stored(nodeRow(), false, 9), stored(nodeRow({ node: 'gone' }), false, 9)]);
    await sink.write([costRowDeletion.deletionRow('acme', 'prod', H, costRowKey(nodeRow({ node: 'gone' })), false, 10, Date.now())]);
    const keys = await sink.storedKeys('acme', 'prod', [H]);
    expect(keys).toEqual(new Map([[H, { keys: new Set([costRowKey(pod), costRowKey(nodeRow())]), version: 9 }]]));
    // A pod key never reads like a node key, whatever the names.
    expect(costRowKey(pod)).not.toBe(costRowKey(nodeRow()));
    // An hour with node rows only.
    await sink.write([stored(nodeRow({ hour: H + 3_600_000 }), false, 11)]);
    expect((await sink.storedKeys('acme', 'prod', [H + 3_600_000])).get(H + 3_600_000)).toEqual({ keys: new Set([costRowKey(nodeRow())]), version: 11 });
  });
});
