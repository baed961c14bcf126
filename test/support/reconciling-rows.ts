// Rows of both tables that reconcile, as the processor writes them, for two hours: in cluster prod,
// pod rows, an __idle__ row for the node with capacity, an __unmounted__ and a __cluster__ row, and
// the node rows; in cluster staging, a pod row whose node row is missing.
import type { StoredCostRow } from '../../processor/clickhouse/cost-rows.ts';
import type { ExpenseRow } from '../../processor/clickhouse/expense-row.ts';
import { expenseRow, hourAgo } from './clickhouse-engine.ts';
import { nodeExpenseRow } from './node-rows.ts';

/** A pod row charged `cpu` and `ram` on `node`, with `pv` of volume. */
const pod = (cluster: string, hour: number, name: string, node: string, cpu: number, ram: number, pv = 0): ExpenseRow =>
  expenseRow({ cluster, hour, pod: name, node, cpu_cost: cpu, ram_cost: ram, gpu_cost: 0, pv_cost: pv, network_cost: 0, load_balancer_cost: 0, total_cost: cpu + ram + pv });
const other = (cluster: string, hour: number, namespace: string, podName: string, costs: Partial<ExpenseRow>): ExpenseRow =>
  expenseRow({ cluster, hour, namespace, pod: podName, cpu_cost: 0, ram_cost: 0, gpu_cost: 0, pv_cost: 0, network_cost: 0, load_balancer_cost: 0, ...costs });

/** The hours (hours ago) the rows are in. */
export const RECONCILING_HOURS = [2, 3];

/**
 * Per hour in prod: node-1 costs 0.24 (CPU 0.16, RAM 0.08), its pod web-1 0.04 (idle 0.2); node-2
 * has no capacity series and costs what its pod api-1 was charged (0.05, no idle); a volume of 0.01
 * on web-1, 0.002 of an unmounted volume and 0.1 of cluster management. In staging: web-1 charged
 * 0.75 on node-9, which has no node row (say, written by a release without them).
 */
export function reconcilingRows(): StoredCostRow[] {
  const rows: StoredCostRow[] = [];
  for (const h of RECONCILING_HOURS) {
    const hour = hourAgo(h);
    rows.push(
      pod('prod', hour, 'web-1', 'node-1', 0.02, 0.02, 0.01),
      pod('prod', hour, 'api-1', 'node-2', 0.03, 0.02),
      other('prod', hour, '__idle__', 'node-1', { node: 'node-1', cpu_cost: 0.14, ram_cost: 0.06, total_cost: 0.2, labels: {}, workload_kind: 'idle', workload: 'node-1' }),
      other('prod', hour, 'shop', '__unmounted__', { node: '', pv_cost: 0.002, total_cost: 0.002, labels: {} }),
      other('prod', hour, '__cluster__', 'eks', { node: '', total_cost: 0.1, labels: {}, workload_kind: 'cluster', workload: 'management' }),
      nodeExpenseRow({ cluster: 'prod', hour }),
      nodeExpenseRow({
        cluster: 'prod',
        hour,
        node: 'node-2',
        cpu_cores: null,
        ram_bytes: null,
        capacity_missing: 1,
        cpu_cost: 0.03,
        ram_cost: 0.02,
        total_cost: 0.05,
        cpu_allocated_cost: 0.03,
        ram_allocated_cost: 0.02,
        cpu_idle_cost: 0,
        ram_idle_cost: 0,
        idle_cost: 0,
      }),
      pod('staging', hour, 'web-1', 'node-9', 0.5, 0.25),
    );
  }
  return rows;
}
