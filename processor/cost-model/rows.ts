// Turns one hour's facts into pod rows: prices, workloads, labels, load balancer shares, efficiency.
// Pods are handled in (namespace, pod) order and every sum is made in a fixed order, so the same
// facts always give bit-identical rows. What each pod is charged on each node is noted in the
// node charges, from which node-rows.ts derives idle.
import type { HourFacts, PodFacts, Placed } from './hour-facts.ts';
import { chargeAt, type NodeCharges } from './node-charges.ts';
import { Resource } from './node-facts.ts';
import { unionLength } from './hour-reading.ts';
import { allocateLoadBalancers, type LoadBalancerTarget } from './load-balancers.ts';
import { SEP } from './metrics.ts';
import { egressCost, type EgressCost } from './network.ts';
import { HOUR_MS } from '../../core/hours.ts';
import { GIB } from './options.ts';
import { uniteLabelSets } from './pod-labels.ts';
import type { DefaultPrices, HourlyRow } from './types.ts';
import { chooseOwner, resolveWorkload } from './workloads.ts';

export const UNMOUNTED_POD = '__unmounted__';
export const CLUSTER_NAMESPACE = '__cluster__';

export interface RowContext {
  tenant: string;
  cluster: string;
  hour: number;
  prices: DefaultPrices;
}

export function emptyRow(ctx: RowContext, namespace: string, pod: string): HourlyRow {
  return {
    tenant_id: ctx.tenant,
    cluster: ctx.cluster,
    namespace,
    pod,
    hour: ctx.hour,
    workload_kind: '',
    workload: '',
    node: '',
    minutes: 0,
    cpu_core_hours: 0,
    cpu_cost: 0,
    ram_byte_hours: 0,
    ram_cost: 0,
    gpu_hours: 0,
    gpu_cost: 0,
    pv_byte_hours: 0,
    pv_cost: 0,
    network_cost: 0,
    load_balancer_cost: 0,
    total_cost: 0,
    cpu_request_avg: null,
    cpu_usage_avg: null,
    ram_request_avg: null,
    ram_usage_avg: null,
    cpu_efficiency: null,
    ram_efficiency: null,
    total_efficiency: null,
    labels: {},
    price_defaulted: false,
    workload_inferred: false,
  };
}

/**
 * Sum over placements of quantity-hours x price; `perUnit` converts value-hours to priced units.
 * With `charges`, each node's part is also noted there (the node is the placement's `where`).
 */
function priced(list: readonly Placed[], prices: ReadonlyMap<string, number>, fallback: number, perUnit: number, row: HourlyRow, charges?: NodeCharges, resource: Resource = Resource.Cpu): number {
  let cost = 0;
  for (const p of list) {
    let price = prices.get(p.where);
    if (price === undefined) {
      price = fallback;
      if (p.valueMs !== 0) row.price_defaulted = true;
    }
    const part = (p.valueMs / HOUR_MS / perUnit) * price;
    cost += part;
    if (charges !== undefined) {
      const charge = chargeAt(charges, p.where);
      charge.cost[resource] += part;
      charge.valueMs[resource] += p.valueMs;
    }
  }
  return cost;
}

function quantityHours(list: readonly Placed[]): number {
  let sum = 0;
  for (const p of list) sum += p.valueMs;
  return sum / HOUR_MS;
}

function efficiency(usage: number | null, request: number | null): number | null {
  if (usage === null) return null;
  if (request !== null && request > 0) return usage / request;
  return usage > 0 ? 1 : 0; // OpenCost: usage without a request is fully efficient
}

/** The node with the longest running time; ties go to the smaller name. */
function longestNode(pod: PodFacts): string {
  let best = '';
  let bestMs = -1;
  for (const node of [...pod.nodeSegments.keys()].sort()) {
    const ms = unionLength(pod.nodeSegments.get(node)!);
    if (ms > bestMs) {
      best = node;
      bestMs = ms;
    }
  }
  return best;
}

const egressOut: EgressCost = { cost: 0, defaulted: false };

/** PV and network cost of a pod, written into `row`. */
function addPodLevelCosts(pod: PodFacts, facts: HourFacts, ctx: RowContext, row: HourlyRow): void {
  row.pv_byte_hours += quantityHours(pod.pv);
  row.pv_cost += priced(pod.pv, facts.pvPrice, ctx.prices.pvGiBHour, GIB, row);
  for (let c = 1; c < 4; c++) {
    egressCost(String(c), pod.egress[c], facts.egressPrice, ctx.prices, egressOut);
    row.network_cost += egressOut.cost;
    if (egressOut.defaulted) row.price_defaulted = true;
  }
}

function podRow(pod: PodFacts, target: LoadBalancerTarget, facts: HourFacts, ctx: RowContext, charges: NodeCharges): HourlyRow {
  const row = emptyRow(ctx, pod.namespace, pod.pod);
  const owner = chooseOwner(pod.owners);
  const workload = resolveWorkload(owner, (rs) => chooseOwner(facts.replicaSetOwners.get(pod.namespace + SEP + rs) ?? []), target.labels.pod_template_hash);
  row.workload_kind = workload.kind;
  row.workload = workload.name;
  row.workload_inferred = workload.inferred;
  row.node = longestNode(pod);
  row.minutes = target.runningMs / 60_000;
  row.cpu_core_hours = quantityHours(pod.cpu);
  row.cpu_cost = priced(pod.cpu, facts.nodeCpuPrice, ctx.prices.cpuCoreHour, 1, row, charges, Resource.Cpu);
  row.ram_byte_hours = quantityHours(pod.ram);
  row.ram_cost = priced(pod.ram, facts.nodeRamPrice, ctx.prices.ramGiBHour, GIB, row, charges, Resource.Ram);
  row.gpu_hours = quantityHours(pod.gpu);
  row.gpu_cost = priced(pod.gpu, facts.nodeGpuPrice, ctx.prices.gpuHour, 1, row, charges, Resource.Gpu);
  for (const [node, segments] of pod.nodeSegments) {
    const covered = chargeAt(charges, node).segments;
    for (const x of segments) covered.push(x);
  }
  addPodLevelCosts(pod, facts, ctx, row);
  row.load_balancer_cost = target.loadBalancerCost;
  row.total_cost = row.cpu_cost + row.ram_cost + row.gpu_cost + row.pv_cost + row.network_cost + row.load_balancer_cost;
  row.cpu_request_avg = pod.cpuRequest;
  row.cpu_usage_avg = pod.cpuUsage;
  row.ram_request_avg = pod.ramRequest;
  row.ram_usage_avg = pod.ramUsage;
  row.cpu_efficiency = efficiency(pod.cpuUsage, pod.cpuRequest);
  row.ram_efficiency = efficiency(pod.ramUsage, pod.ramRequest);
  if (row.cpu_efficiency !== null || row.ram_efficiency !== null) {
    const cpuCost = row.cpu_efficiency === null ? 0 : row.cpu_cost;
    const ramCost = row.ram_efficiency === null ? 0 : row.ram_cost;
    const denominator = cpuCost + ramCost;
    if (denominator > 0) row.total_efficiency = ((row.cpu_efficiency ?? 0) * cpuCost + (row.ram_efficiency ?? 0) * ramCost) / denominator;
  }
  row.labels = target.labels;
  return row;
}

/**
 * The pod rows of the hour, the `__unmounted__` rows and the cluster-management rows (unsorted);
 * what pods were charged per node is added to `charges`.
 */
export function buildPodRows(facts: HourFacts, ctx: RowContext, charges: NodeCharges): HourlyRow[] {
  const keys = [...facts.pods.keys()].sort(); // SEP sorts first: (namespace, pod) order
  const targets = new Map<string, LoadBalancerTarget>();
  const byNamespace = new Map<string, LoadBalancerTarget[]>();
  for (const key of keys) {
    const pod = facts.pods.get(key)!;
    if (!pod.hasAllocation) continue;
    const target = { namespace: pod.namespace, runningMs: unionLength(pod.segments), labels: uniteLabelSets(pod.labelSets), loadBalancerCost: 0 };
    targets.set(key, target);
    const list = byNamespace.get(pod.namespace);
    if (list === undefined) byNamespace.set(pod.namespace, [target]);
    else list.push(target);
  }
  const selectors = new Map<string, Record<string, string>>();
  for (const [key, sets] of facts.selectors) selectors.set(key, uniteLabelSets(sets));
  const unallocatedLb = allocateLoadBalancers(facts.loadBalancers, selectors, byNamespace);

  const rows: HourlyRow[] = [];
  const unmounted = new Map<string, HourlyRow>();
  const unmountedRow = (namespace: string): HourlyRow => {
    let row = unmounted.get(namespace);
    if (row === undefined) {
      row = emptyRow(ctx, namespace, UNMOUNTED_POD);
      unmounted.set(namespace, row);
    }
    return row;
  };
  for (const key of keys) {
    const pod = facts.pods.get(key)!;
    const target = targets.get(key);
    if (target !== undefined) rows.push(podRow(pod, target, facts, ctx, charges));
    else if (pod.pv.length > 0 || pod.egress[1] + pod.egress[2] + pod.egress[3] > 0) {
      // PV or egress of a pod with no allocation sample in the hour: billed to the namespace.
      addPodLevelCosts(pod, facts, ctx, unmountedRow(pod.namespace));
    }
  }
  for (const namespace of [...unallocatedLb.keys()].sort()) unmountedRow(namespace).load_balancer_cost += unallocatedLb.get(namespace)!;
  for (const namespace of [...unmounted.keys()].sort()) {
    const row = unmounted.get(namespace)!;
    row.total_cost = row.pv_cost + row.network_cost + row.load_balancer_cost;
    rows.push(row);
  }
  for (const m of facts.management) {
    const row = emptyRow(ctx, CLUSTER_NAMESPACE, m.provisioner);
    row.workload_kind = 'cluster';
    row.workload = 'management';
    row.minutes = m.coveredMs / 60_000;
    row.total_cost = m.cost;
    rows.push(row);
  }
  return rows;
}
