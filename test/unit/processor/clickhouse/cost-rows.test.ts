// The processor's rows of both tables: which table a row goes to, keys that never read alike,
// finished and deletion rows, and the negative idle count of a closing hour.
import { describe, expect, it } from 'vitest';
import { costModelRows, costRowDeletion, costRowKey, finishCostRow, isNodeRow, negativeIdleCounter } from '../../../../processor/clickhouse/cost-rows.ts';
import { encodeNodeExpenseRow, NODE_EXPENSE_COLUMNS, type NodeExpenseRow } from '../../../../processor/clickhouse/node-expense-row.ts';
import { createCostModel, type NodeRow } from '../../../../processor/cost-model/index.ts';
import { nodeRow as baseNodeRow } from '../../../support/node-rows.ts';

const HOUR = Date.UTC(2024, 4, 1, 13);
const MIN = 60_000;

/** A node row of the hour at HOUR whose RAM capacity is unknown. */
const nodeRow = (overrides: Partial<NodeRow> = {}): NodeRow =>
  baseNodeRow({ tenant_id: 't', cluster: 'c', hour: HOUR, node: 'n1', ram_bytes: null, capacity_missing: 1, ...overrides });

/** One hour of a node with 1 core and two pods of 1 core each on it (overcommitted), and a node with 4 cores. */
function model() {
  const m = createCostModel();
  const minutes = Array.from({ length: 10 }, (_, i) => HOUR + i * MIN);
  const add = (labels: Record<string, string>, v: number) => m.addSeries('t', 'c', JSON.stringify(labels), labels, minutes, minutes.map(() => v), null);
  add({ __name__: 'kube_node_status_capacity', node: 'small', resource: 'cpu' }, 1);
  add({ __name__: 'kube_node_status_capacity', node: 'big', resource: 'cpu' }, 4);
  for (const pod of ['a', 'b']) add({ __name__: 'container_cpu_allocation', namespace: 'ns', pod, container: 'x', node: 'small' }, 1);
  return m;
}

describe('cost rows', () => {
  it("an hour's rows are its pod rows (with __idle__ rows), then its node rows", () => {
    const rows = costModelRows(model()).rows('t', 'c', HOUR);
    expect(rows.map((r) => (isNodeRow(r) ? `node ${r.node}` : `${r.namespace}/${r.pod}`))).toEqual(['__idle__/big', '__idle__/small', 'ns/a', 'ns/b', 'node big', 'node small']);
  });

  it('keys a node apart from any pod, whatever the names', () => {
    const keys = new Set(['', 'N', 'Nx', '0:', '1:N'].flatMap((name) => [costRowKey(nodeRow({ node: name })), costRowKey({ ...nodeRow(), namespace: name, pod: name } as never)]));
    expect(keys.size).toBe(10);
    for (const key of keys) expect(/^\d/.test(key) !== key.startsWith('N')).toBe(true);
  });

  it('finishes a node row with its write, and refuses one with a number that is not finite', () => {
    expect(finishCostRow(nodeRow(), true, 7, HOUR + 5)).toEqual({ ...nodeRow(), is_final: true, version: 7, updated_at: HOUR + 5 });
    expect(finishCostRow(nodeRow({ cpu_idle_cost: Number.NaN }), true, 7, HOUR)).toBeUndefined();
    expect(finishCostRow(nodeRow({ cpu_cores: Number.POSITIVE_INFINITY }), true, 7, HOUR)).toBeUndefined();
  });

  it('deletes a node by a row of k8s_node_expenses with its key, nothing else', () => {
    const deletion = costRowDeletion.deletionRow('t', 'c', HOUR, costRowKey(nodeRow({ node: 'N-1' })), false, 9, HOUR + 1) as NodeExpenseRow;
    expect(isNodeRow(deletion)).toBe(true);
    expect(deletion).toMatchObject({ tenant_id: 't', cluster: 'c', hour: HOUR, node: 'N-1', is_deleted: true, is_final: false, version: 9, total_cost: 0, cpu_cores: null });
    expect(Object.keys(encodeNodeExpenseRow(deletion))).toEqual(NODE_EXPENSE_COLUMNS.map(([name]) => name));
    const pod = costRowDeletion.deletionRow('t', 'c', HOUR, '2:nsN', false, 9, HOUR + 1);
    expect(isNodeRow(pod)).toBe(false);
    expect(pod).toMatchObject({ namespace: 'ns', pod: 'N', is_deleted: true });
  });

  it('encodes flags as 0/1 and refuses an hour that is not whole', () => {
    const row = finishCostRow(nodeRow({ spot: 1 }), true, 7, HOUR) as NodeExpenseRow;
    expect(encodeNodeExpenseRow(row)).toMatchObject({ hour: HOUR / 1000, spot: 1, capacity_missing: 1, is_final: 1, is_deleted: 0, updated_at: '2024-05-01 13:00:00.000' });
    expect(() => encodeNodeExpenseRow({ ...row, hour: HOUR + 1 })).toThrow(/whole hour/);
  });

  it('counts the node rows whose idle is negative, per resource, and nothing else', () => {
    const counted: string[] = [];
    const count = negativeIdleCounter({ inc: ({ resource }) => void counted.push(resource) });
    for (const row of costModelRows(model()).rows('t', 'c', HOUR)) count(row);
    expect(counted).toEqual(['cpu']);
    // A node its pods fill to within rounding is not overcommitted.
    count(nodeRow({ cpu_allocated_cost: 0.3, cpu_idle_cost: -1e-18, ram_allocated_cost: 0.1, ram_idle_cost: -0.01 }));
    expect(counted).toEqual(['cpu', 'ram']);
  });
});
