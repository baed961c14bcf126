// Node rows and idle: what each node cost in the hour (capacity x price x time present), what its
// pods were charged there, and the difference, written twice: in the node row, and as the node's
// `__idle__` row among the pod rows, so that a cluster's pod rows add up to its bill.
import type { HourFacts } from './hour-facts.ts';
import { unionLength } from './hour-reading.ts';
import type { NodeCharge, NodeCharges } from './node-charges.ts';
import { nodePlace, Resource, type NodeFacts } from './node-facts.ts';
import { HOUR_MS } from '../../core/hours.ts';
import { GIB } from './options.ts';
import { emptyRow, type RowContext } from './rows.ts';
import type { Flag, HourlyRow, NegativeIdleCounts, NodeRow } from './types.ts';

export const IDLE_NAMESPACE = '__idle__';

/**
 * Idle below -allocated x this is overcommitment; above it, the rounding of two sums of the same
 * parts (a node whose pods fill it exactly may show -1e-18).
 */
const NEGATIVE_IDLE_TOLERANCE = 1e-9;

interface ResourceCost {
  /** The node's cost of the resource in the hour. */
  cost: number;
  allocated: number;
  /** Time-weighted mean of the capacity samples (value units), null when unknown. */
  capacity: number | null;
  defaulted: boolean;
}

/** Per resource (in Resource order): its unit and capacity column; `key` prefixes its cost columns. */
const RESOURCES = [
  { resource: Resource.Cpu, key: 'cpu', capacity: 'cpu_cores', perUnit: 1 },
  { resource: Resource.Ram, key: 'ram', capacity: 'ram_bytes', perUnit: GIB }, // bytes, priced per GiB
  { resource: Resource.Gpu, key: 'gpu', capacity: 'gpu_count', perUnit: 1 },
] as const;

const cost: ResourceCost = { cost: 0, allocated: 0, capacity: null, defaulted: false };

/**
 * One resource of one node. With a capacity series: capacity-hours x the node's price in the hour
 * (the same price, or default, its pods were charged at). Without: what its pods were charged, so
 * that idle is 0 rather than a guess.
 */
function resourceCost(node: NodeFacts | undefined, charge: NodeCharge | undefined, resource: Resource, price: number | undefined, fallback: number, perUnit: number): ResourceCost {
  const capacityMs = node === undefined ? NaN : node.capacityMs[resource];
  cost.allocated = charge === undefined ? 0 : charge.cost[resource];
  if (Number.isNaN(capacityMs)) {
    cost.cost = cost.allocated;
    cost.capacity = null;
    cost.defaulted = price === undefined && charge !== undefined && charge.valueMs[resource] !== 0;
  } else {
    cost.cost = (capacityMs / HOUR_MS / perUnit) * (price ?? fallback);
    cost.capacity = capacityMs / node!.coveredMs[resource];
    cost.defaulted = price === undefined && capacityMs !== 0;
  }
  return cost;
}

function nodeRow(ctx: RowContext, name: string): NodeRow {
  return {
    tenant_id: ctx.tenant,
    cluster: ctx.cluster,
    hour: ctx.hour,
    node: name,
    instance_type: '',
    region: '',
    zone: '',
    spot: 0,
    minutes: 0,
    cpu_cores: null,
    ram_bytes: null,
    gpu_count: null,
    capacity_missing: 0,
    cpu_cost: 0,
    ram_cost: 0,
    gpu_cost: 0,
    total_cost: 0,
    cpu_allocated_cost: 0,
    ram_allocated_cost: 0,
    gpu_allocated_cost: 0,
    cpu_idle_cost: 0,
    ram_idle_cost: 0,
    gpu_idle_cost: 0,
    idle_cost: 0,
    price_defaulted: 0,
  };
}

const flag = (b: boolean): Flag => (b ? 1 : 0);

/** The node's idle as a row of k8s_expenses: costs per resource, no quantities, no usage. */
function idleRow(ctx: RowContext, node: NodeRow): HourlyRow {
  const row = emptyRow(ctx, IDLE_NAMESPACE, node.node);
  row.workload_kind = 'idle';
  row.workload = node.node;
  row.node = node.node;
  row.minutes = node.minutes;
  row.cpu_cost = node.cpu_idle_cost;
  row.ram_cost = node.ram_idle_cost;
  row.gpu_cost = node.gpu_idle_cost;
  row.total_cost = node.idle_cost;
  row.price_defaulted = node.price_defaulted === 1;
  return row;
}

export interface NodeRowsOut {
  nodes: NodeRow[];
  /** `__idle__` rows, one per node with a capacity series. */
  idle: HourlyRow[];
  negativeIdle: NegativeIdleCounts;
}

/**
 * Node rows for every node with a capacity sample in the hour or with pods charged on it, in node
 * order. `charges` holds what the pod rows were charged per node (rows.ts).
 */
export function buildNodeRows(facts: HourFacts, charges: NodeCharges, ctx: RowContext): NodeRowsOut {
  const names = new Set<string>(charges.keys());
  for (const [name, node] of facts.nodes) if (node.hasCapacity()) names.add(name);
  const out: NodeRowsOut = { nodes: [], idle: [], negativeIdle: { cpu: 0, ram: 0, gpu: 0 } };
  const prices = [facts.nodeCpuPrice, facts.nodeRamPrice, facts.nodeGpuPrice];
  const defaults = [ctx.prices.cpuCoreHour, ctx.prices.ramGiBHour, ctx.prices.gpuHour];
  for (const name of [...names].sort()) {
    const node = facts.nodes.get(name);
    const charge = charges.get(name);
    const measured = node !== undefined && node.hasCapacity();
    const presenceMs = unionLength(measured ? node.segments : charge!.segments);
    const row = nodeRow(ctx, name);
    Object.assign(row, nodePlace(node));
    row.spot = flag(node?.spot ?? false);
    row.minutes = presenceMs / 60_000;
    let defaulted = false;
    for (const r of RESOURCES) {
      const c = resourceCost(node, charge, r.resource, prices[r.resource].get(name), defaults[r.resource], r.perUnit);
      row[r.capacity] = c.capacity;
      row[`${r.key}_cost`] = c.cost;
      row[`${r.key}_allocated_cost`] = c.allocated;
      const idle = c.cost - c.allocated;
      row[`${r.key}_idle_cost`] = idle;
      if (idle < -NEGATIVE_IDLE_TOLERANCE * c.allocated) out.negativeIdle[r.key]++;
      defaulted ||= c.defaulted;
    }
    row.capacity_missing = flag(row.cpu_cores === null || row.ram_bytes === null);
    row.total_cost = row.cpu_cost + row.ram_cost + row.gpu_cost;
    row.idle_cost = row.cpu_idle_cost + row.ram_idle_cost + row.gpu_idle_cost;
    row.price_defaulted = flag(defaulted);
    out.nodes.push(row);
    if (measured) out.idle.push(idleRow(ctx, row));
  }
  return out;
}
