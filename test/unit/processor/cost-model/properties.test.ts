// Properties over random sample sets: arrival order, duplication and eviction never change rows
// (pod rows and node rows); every node's allocated + idle is its cost, and a cluster's rows add up
// to its bill.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCostModel, type CostModel, type HourRows } from '../../../../processor/cost-model/index.ts';
import { GIB, H, HOUR, keyOf, L, type Labels } from './fixtures.ts';

const SERIES: Labels[] = [
  L.cpuAlloc({ pod: 'web-1', node: 'node-a' }),
  L.cpuAlloc({ pod: 'web-1', node: 'node-b' }),
  L.ramAlloc({ pod: 'web-1', node: 'node-a' }),
  L.cpuAlloc({ pod: 'db-0', node: 'node-b' }),
  { ...L.cpuAlloc({ pod: 'db-0', node: 'node-b' }), instance: 'replica-2' },
  L.gpuAlloc({ pod: 'db-0', node: 'node-b' }),
  L.cpuPrice('node-a'),
  { ...L.cpuPrice('node-a'), instance_type: 'm5.xlarge' },
  L.cpuPrice('node-b'),
  L.ramPrice('node-a'),
  L.request({ pod: 'web-1' }, 'cpu'),
  L.workingSet({ pod: 'web-1' }),
  L.cpuUsage({ pod: 'web-1' }),
  L.egressBytes({ pod: 'db-0' }, 'internet'),
  L.egressPrice('internet'),
  L.pvc({ pod: 'db-0' }, 'data', 'pv-1'),
  L.pvPrice('pv-1'),
  L.loadBalancer('shop', 'web'),
  L.selector('shop', 'web', { app: 'web' }),
  L.podLabels({ pod: 'web-1' }, { app: 'web' }),
  L.owner({ pod: 'web-1' }, 'ReplicaSet', 'web-5c7b9d4f8'),
  L.rsOwner('shop', 'web-5c7b9d4f8', 'Deployment', 'web'),
  L.management(),
  L.capacity('node-a', 'cpu'),
  L.capacityV1('node-a', 'cpu'),
  L.capacity('node-a', 'memory'),
  L.capacityV1('node-b', 'memory'),
  L.gpuCount('node-b'),
  L.capacity('node-b', 'nvidia_com_gpu'),
  L.gpuPrice('node-b'),
  L.spot('node-a'),
  L.nodeLabels('node-a', { node_kubernetes_io_instance_type: 'm5.large', topology_kubernetes_io_zone: 'eu-west-1a' }),
  L.nodeLabels('node-b', { beta_kubernetes_io_instance_type: 'p3.2xlarge' }),
  L.cpuAlloc({ ns: 'batch', pod: 'job-1', node: 'node-c' }),
];
const KEYS = SERIES.map(keyOf);

interface Sample {
  series: number;
  ts: number;
  value: number; // NaN: stale marker
}

const VALUES = [0, 0.25, 0.5, 1, 3.7, 2 * GIB, 1.5 * GIB, 0.031, 0.047, 1e9 + 7];

/** Random samples over three hours, at most one per (series, timestamp). */
const sampleSet = fc
  .array(
    fc.record({
      series: fc.integer({ min: 0, max: SERIES.length - 1 }),
      ts: fc.oneof(fc.integer({ min: 0, max: 3 * 60 - 1 }).map((m) => H - HOUR + m * 60_000), fc.integer({ min: 0, max: 3 * HOUR - 1 }).map((ms) => H - HOUR + ms)),
      value: fc.oneof(fc.constantFrom(...VALUES), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(NaN)),
    }),
    { minLength: 20, maxLength: 400 },
  )
  .map((samples) => {
    const unique = new Map<string, Sample>();
    for (const s of samples) unique.set(`${s.series}/${s.ts}`, s);
    return [...unique.values()];
  });

function feed(model: CostModel, samples: readonly Sample[]): void {
  for (const s of samples) {
    model.addSeries('acme', 'prod', KEYS[s.series], SERIES[s.series], [s.ts], [s.value], [Number.isNaN(s.value) ? 1 : 0]);
  }
}

function allRows(model: CostModel, fromHour = H - HOUR): HourRows[] {
  return [0, 1, 2].map((i) => H - HOUR + i * HOUR).filter((h) => h >= fromHour).map((h) => model.hourRows('acme', 'prod', h));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const sumAbs = (xs: number[]) => xs.reduce((a, b) => a + Math.abs(b), 0);

/** |x - y| within 1e-9 of the magnitude of what was summed (sums of costs of both signs cancel). */
function expectWithin(x: number, y: number, magnitude: number, what: string): void {
  expect(Math.abs(x - y), `${what}: ${x} vs ${y}`).toBeLessThanOrEqual(1e-9 * magnitude + 1e-300);
}

describe('properties', () => {
  it('random sample sets, shuffled and duplicated, give identical rows', () => {
    fc.assert(
      fc.property(sampleSet, fc.array(fc.nat()), fc.array(fc.nat(), { maxLength: 100 }), (samples, order, dupes) => {
        const reference = createCostModel();
        feed(reference, [...samples].sort((x, y) => x.ts - y.ts || x.series - y.series));
        const shuffled = [...samples];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (order[i % Math.max(order.length, 1)] ?? 0) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        for (const d of dupes) if (samples.length > 0) shuffled.splice(d % (shuffled.length + 1), 0, samples[d % samples.length]);
        const other = createCostModel();
        feed(other, shuffled);
        expect(allRows(other)).toEqual(allRows(reference));
      }),
      { numRuns: 150 },
    );
  });

  it('evicting earlier hours never changes the rows of later hours, even with late samples after it', () => {
    fc.assert(
      fc.property(sampleSet, fc.integer({ min: 0, max: 2 }), fc.array(fc.boolean()), (samples, evictIndex, firstBatch) => {
        const evictAt = H - HOUR + evictIndex * HOUR;
        const reference = createCostModel();
        feed(reference, samples);
        const expected = allRows(reference, evictAt);

        const evicted = createCostModel();
        feed(evicted, samples);
        evicted.evictBefore('acme', 'prod', evictAt);
        expect(allRows(evicted, evictAt)).toEqual(expected);

        // Some samples only arrive after the eviction: those before it may only act as previous samples.
        const late = createCostModel();
        const now = samples.filter((_, i) => firstBatch[i % Math.max(firstBatch.length, 1)] ?? true);
        const later = samples.filter((_, i) => !(firstBatch[i % Math.max(firstBatch.length, 1)] ?? true));
        feed(late, now);
        late.evictBefore('acme', 'prod', evictAt);
        feed(late, later);
        expect(allRows(late, evictAt)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('per node and resource, allocated + idle = node cost; the rows of an hour add up to the bill', () => {
    fc.assert(
      fc.property(sampleSet, (samples) => {
        const model = createCostModel();
        feed(model, samples);
        for (const { pods, nodes } of allRows(model)) {
          for (const n of nodes) {
            for (const r of ['cpu', 'ram', 'gpu'] as const) {
              const cost = n[`${r}_cost`];
              const allocated = n[`${r}_allocated_cost`];
              expectWithin(allocated + n[`${r}_idle_cost`], cost, Math.max(Math.abs(cost), Math.abs(allocated)), `${n.node} ${r}`);
            }
            expect(n.total_cost).toBe(n.cpu_cost + n.ram_cost + n.gpu_cost);
          }
          // What pods were charged per resource is what the node rows say was allocated.
          const charged = pods.filter((p) => p.namespace !== '__idle__');
          for (const r of ['cpu', 'ram', 'gpu'] as const) {
            const podSide = charged.map((p) => p[`${r}_cost`]);
            expectWithin(sum(podSide), sum(nodes.map((n) => n[`${r}_allocated_cost`])), sumAbs(podSide), `${r} allocated`);
          }
          const bill = [
            ...nodes.map((n) => n.total_cost),
            ...pods.map((p) => p.pv_cost + p.network_cost + p.load_balancer_cost),
            ...pods.filter((p) => p.namespace === '__cluster__').map((p) => p.total_cost),
          ];
          const rows = pods.map((p) => p.total_cost);
          expectWithin(sum(rows), sum(bill), sumAbs(rows) + sumAbs(bill), 'cluster-hour bill');
        }
      }),
      { numRuns: 150 },
    );
  });
});
