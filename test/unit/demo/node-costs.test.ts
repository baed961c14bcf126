// The demo cluster's nodes through the cost model: capacity from both kube-state-metrics
// generations, labels under current and beta names, a spot GPU node, a node without prices, and
// idle rows that make the demo's rows add up to its bill.
import { describe, expect, it } from 'vitest';
import { demoExposition } from '../../../demo/exporter.ts';
import { parseExposition } from '../../../demo/exposition.ts';
import { DEMO_NODES } from '../../../demo/inventory.ts';
import { createCostModel, type HourRows } from '../../../processor/cost-model/index.ts';

const HOUR = 3_600_000;
const H = Date.UTC(2026, 2, 10, 9, 0, 0);
const [A, GPU, UNPRICED] = DEMO_NODES;
const GIB = 1024 ** 3;

/**
 * One hour of the demo scraped every 5 minutes (the longest interval a sample stands for, so
 * nodes are present all hour), as the processor would feed it.
 */
function demoHour(): HourRows {
  const model = createCostModel();
  for (let t = H - 5 * 60_000; t < H + HOUR; t += 5 * 60_000) {
    for (const s of parseExposition(demoExposition(42, t)).samples) {
      const labels = { __name__: s.name, ...s.labels };
      const key = JSON.stringify(Object.entries(labels).sort());
      model.addSeries('demo', 'demo-cluster', key, labels, [t], [s.value], null);
    }
  }
  return model.hourRows('demo', 'demo-cluster', H);
}

describe('demo cluster nodes in the cost model', () => {
  const { pods, nodes } = demoHour();
  const node = (name: string) => nodes.find((n) => n.node === name)!;

  it('sends capacity for every node, by either kube-state-metrics generation or both, counted once', () => {
    expect(nodes.map((n) => n.node).sort()).toEqual(DEMO_NODES.map((n) => n.name).sort());
    for (const n of DEMO_NODES) {
      expect(node(n.name), n.name).toMatchObject({ cpu_cores: n.cpuCores, ram_bytes: n.ramBytes, capacity_missing: 0, minutes: 60 });
      expect(n.ksm).toMatch(/^(1\.x|2\.x|both)$/);
    }
    expect(new Set(DEMO_NODES.map((n) => n.ksm))).toEqual(new Set(['1.x', '2.x', 'both']));
    expect(node(A.name).cpu_cost).toBeCloseTo(A.cpuCores * A.prices!.cpu, 12);
    expect(node(A.name).ram_cost).toBeCloseTo((A.ramBytes / GIB) * A.prices!.ram, 12);
  });

  it('names where each node is, from current or beta labels, and marks the spot GPU node', () => {
    for (const n of DEMO_NODES) expect(node(n.name)).toMatchObject({ instance_type: n.instanceType, region: n.region, zone: n.zone, spot: n.spot ? 1 : 0 });
    expect(GPU.betaLabels && GPU.spot).toBe(true);
    expect(node(GPU.name)).toMatchObject({ gpu_count: GPU.gpus, gpu_idle_cost: 0 });
    expect(node(GPU.name).gpu_cost).toBeCloseTo(GPU.gpus * GPU.prices!.gpu, 12);
  });

  it('prices the node without price series at the defaults, flagged', () => {
    expect(node(UNPRICED.name).price_defaulted).toBe(1);
    expect(node(UNPRICED.name).cpu_cost).toBeCloseTo(UNPRICED.cpuCores * 0.031611, 12);
    expect(node(A.name).price_defaulted).toBe(0);
  });

  it('has an __idle__ row per node, and its rows add up to the bill', () => {
    const idle = pods.filter((r) => r.namespace === '__idle__');
    expect(idle.map((r) => r.pod).sort()).toEqual(DEMO_NODES.map((n) => n.name).sort());
    expect(idle.some((r) => r.total_cost > 0)).toBe(true);
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const bill = sum(nodes.map((n) => n.total_cost)) + sum(pods.map((r) => r.pv_cost + r.network_cost + r.load_balancer_cost)) + sum(pods.filter((r) => r.namespace === '__cluster__').map((r) => r.total_cost));
    expect(sum(pods.map((r) => r.total_cost))).toBeCloseTo(bill, 12);
  });
});
