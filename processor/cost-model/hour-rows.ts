// All rows of one cluster-hour: pod rows (rows.ts), then node rows and idle (node-rows.ts) from
// what the pods were charged per node, the `__idle__` rows sorted in among the pod rows.
import type { HourFacts } from './hour-facts.ts';
import type { NodeCharges } from './node-charges.ts';
import { buildNodeRows } from './node-rows.ts';
import { buildPodRows, type RowContext } from './rows.ts';
import type { HourlyRow, HourRows } from './types.ts';

function byNamespaceAndPod(x: HourlyRow, y: HourlyRow): number {
  if (x.namespace !== y.namespace) return x.namespace < y.namespace ? -1 : 1;
  return x.pod < y.pod ? -1 : x.pod > y.pod ? 1 : 0;
}

export function buildHourRows(facts: HourFacts, ctx: RowContext): HourRows {
  const charges: NodeCharges = new Map();
  const pods = buildPodRows(facts, ctx, charges);
  const { nodes, idle, negativeIdle } = buildNodeRows(facts, charges, ctx);
  for (const row of idle) pods.push(row);
  pods.sort(byNamespaceAndPod);
  return { pods, nodes, negativeIdle };
}
