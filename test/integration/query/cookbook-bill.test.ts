// The cookbook's node recipes on rows that reconcile, as the processor writes them
// (reconcilingRows()). The bill recipe splits each cluster-day into pods, idle, nodes and the rest, and finds nothing
// unexplained; where a node row is missing, it says how much.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRowSink } from '../../../processor/clickhouse/cost-rows.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { reconcilingRows } from '../../support/reconciling-rows.ts';

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

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  await createCostRowSink(engine.client, { database: DATABASE }).write(reconcilingRows());
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
