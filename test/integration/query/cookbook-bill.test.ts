// The cookbook's node recipes on rows that reconcile, as the processor writes them: pod rows, an
// __idle__ row per node with capacity, an __unmounted__ and a __cluster__ row, and the node rows.
// The bill recipe splits each cluster-day into pods, idle, nodes and the rest, and finds nothing
// unexplained; where a node row is missing, it says how much.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRowSink } from '../../../processor/clickhouse/cost-rows.ts';
import type { ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { expenseRow, hourAgo, openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { nodeExpenseRow } from '../../support/node-rows.ts';

const DATABASE = 'bill';
const cookbook = readFileSync(join(import.meta.dirname, '../../../query/COOKBOOK.md'), 'utf8');
const recipe = (title: string): string => {
  const block = [...cookbook.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.startsWith(`-- ${title}\n`));
  if (!block) throw new Error(`no COOKBOOK.md query titled "${title}"`);
  const checked = checkReadOnlyQuery(block, { database: DATABASE });
  if (!checked.ok) throw new Error(checked.message);
  return checked.sql;
};

let engine: TestEngine;

/** A pod row charged `cpu` and `ram` on `node`, with `pv` of volume. */
const pod = (cluster: string, hour: number, name: string, node: string, cpu: number, ram: number, pv = 0): ExpenseRow =>
  expenseRow({ cluster, hour, pod: name, node, cpu_cost: cpu, ram_cost: ram, gpu_cost: 0, pv_cost: pv, network_cost: 0, load_balancer_cost: 0, total_cost: cpu + ram + pv });
const other = (cluster: string, hour: number, namespace: string, podName: string, costs: Partial<ExpenseRow>): ExpenseRow =>
  expenseRow({ cluster, hour, namespace, pod: podName, cpu_cost: 0, ram_cost: 0, gpu_cost: 0, pv_cost: 0, network_cost: 0, load_balancer_cost: 0, ...costs });

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  const rows = [];
  for (const h of [2, 3]) {
    const hour = hourAgo(h);
    // prod: node-1 costs 0.24 (CPU 0.16, RAM 0.08), its pods 0.04 (idle 0.2); node-2 has no
    // capacity series and costs what its pod was charged (0.05, no idle); a volume of 0.01 on a pod,
    // 0.002 of an unmounted volume and 0.1 of cluster management.
    rows.push(
      pod('prod', hour, 'web-1', 'node-1', 0.02, 0.02, 0.01),
      pod('prod', hour, 'api-1', 'node-2', 0.03, 0.02),
      other('prod', hour, '__idle__', 'node-1', { node: 'node-1', cpu_cost: 0.14, ram_cost: 0.06, total_cost: 0.2 }),
      other('prod', hour, 'shop', '__unmounted__', { pv_cost: 0.002, total_cost: 0.002 }),
      other('prod', hour, '__cluster__', 'eks', { total_cost: 0.1 }),
      nodeExpenseRow({ cluster: 'prod', hour }),
      nodeExpenseRow({
        cluster: 'prod', hour, node: 'node-2', cpu_cores: null, ram_bytes: null, capacity_missing: 1,
        cpu_cost: 0.03, ram_cost: 0.02, total_cost: 0.05, cpu_allocated_cost: 0.03, ram_allocated_cost: 0.02,
        cpu_idle_cost: 0, ram_idle_cost: 0, idle_cost: 0,
      }),
    );
    // staging: its node rows are missing (say, written by a release without them).
    rows.push(pod('staging', hour, 'web-1', 'node-9', 0.5, 0.25));
  }
  await createCostRowSink(engine.client, { database: DATABASE }).write(rows);
});

afterAll(async () => {
  await engine?.close();
});

describe("the cookbook's node recipes", () => {
  it('splits each cluster-day into pods, idle, nodes and the rest, with nothing unexplained when the node rows are there', async () => {
    const days = await queryRows<Record<string, number | string>>(engine.client, recipe('The bill per cluster and day: pods, idle, nodes and the rest'));
    const byCluster = new Map<string, { pods: number; idle: number; nodes: number; rest: number; total: number; unexplained: number }>();
    for (const d of days) {
      const c = byCluster.get(String(d.cluster)) ?? { pods: 0, idle: 0, nodes: 0, rest: 0, total: 0, unexplained: 0 };
      c.pods += Number(d.pods);
      c.idle += Number(d.idle);
      c.nodes += Number(d.nodes);
      c.rest += Number(d.volumes_network_lb_management);
      c.total += Number(d.total);
      c.unexplained += Number(d.unexplained);
      byCluster.set(String(d.cluster), c);
    }
    const prod = byCluster.get('prod')!;
    // Two hours of: pods 0.04 + 0.05, idle 0.2, nodes 0.29, rest 0.01 + 0.002 + 0.1.
    expect(prod.pods).toBeCloseTo(2 * 0.09, 4);
    expect(prod.idle).toBeCloseTo(2 * 0.2, 4);
    expect(prod.nodes).toBeCloseTo(2 * 0.29, 4);
    expect(prod.rest).toBeCloseTo(2 * 0.112, 4);
    expect(prod.total).toBeCloseTo(2 * 0.402, 4);
    expect(prod.unexplained).toBeCloseTo(0, 6);
    // Without node rows, the pods' charges are what is unexplained.
    expect(byCluster.get('staging')!.unexplained).toBeCloseTo(2 * 0.75, 6);
  });

  it('lists idle by node, the largest first, with the node without capacity flagged', async () => {
    const nodes = await queryRows<Record<string, number | string>>(engine.client, recipe('Idle by node, last 24 hours'));
    expect(nodes.map((n) => [n.node, Number(n.node_cost), Number(n.idle), Number(n.idle_percent), Number(n.capacity_missing)])).toEqual([
      ['node-1', 0.48, 0.4, 83.3, 0],
      ['node-2', 0.1, 0, 0, 1],
    ]);
  });
});
