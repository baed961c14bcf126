// The cluster-hour identity, hand-computed: the sum of total_cost over a cluster's rows for an hour
// (pods, __idle__, __unmounted__, __cluster__) is its bill: node costs + volumes + load balancers +
// network + cluster management.
import { describe, expect, it } from 'vitest';
import { every, Feed, GIB, H, L, MIN, pricedNode } from './fixtures.ts';

const hour = (from = H, to = H + 60 * MIN) => [from, to] as const;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('the cluster bill', () => {
  it('rows add up to node costs + PV + load balancer + network + management', () => {
    const feed = new Feed();
    // node-a: 4 cores x 0.04 + 16 GiB x 0.005 = 0.24 for the hour.
    pricedNode(feed, 'node-a', 4, 16 * GIB, 0.04, 0.005);
    // node-b sends no capacity: it costs what its pod is charged, 1 core x 0.05.
    feed.add(L.cpuPrice('node-b'), every(...hour(), MIN, 0.05));
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-a' }), every(...hour(), MIN, 1));
    feed.add(L.ramAlloc({ pod: 'web-1', node: 'node-a' }), every(...hour(), MIN, 4 * GIB));
    feed.add(L.cpuAlloc({ pod: 'db-0', node: 'node-b' }), every(...hour(), MIN, 1));
    // PV: 10 GiB x 0.0002 = 0.002. Load balancer: 0.025. Internet egress: 2 GiB x 0.12 = 0.24.
    // Management: 0.1.
    feed.add(L.pvPrice('pv-1'), every(...hour(), MIN, 0.0002));
    feed.add(L.pvc({ pod: 'db-0' }, 'data', 'pv-1'), every(...hour(), MIN, 10 * GIB));
    feed.add(L.loadBalancer('shop', 'web'), every(...hour(), MIN, 0.025));
    feed.add(L.egressPrice('internet'), every(...hour(), MIN, 0.12));
    feed.add(L.egressBytes({ pod: 'db-0' }, 'internet'), [[H - MIN, 0], [H + 30 * MIN, 2 * GIB]]);
    feed.add(L.management(), every(...hour(), MIN, 0.1));

    const { pods, nodes } = feed.hourRows();
    expect(nodes.map((n) => [n.node, n.capacity_missing])).toEqual([['node-a', 0], ['node-b', 1]]);
    expect(sum(nodes.map((n) => n.total_cost))).toBeCloseTo(0.24 + 0.05, 14);
    const bill = 0.24 + 0.05 + 0.002 + 0.025 + 0.24 + 0.1;
    expect(sum(pods.map((r) => r.total_cost))).toBeCloseTo(bill, 14);
    // node-a's idle: 3 cores x 0.04 + 12 GiB x 0.005.
    expect(pods.find((r) => r.namespace === '__idle__')!.total_cost).toBeCloseTo(0.12 + 0.06, 15);
    expect(pods.filter((r) => r.namespace === '__idle__').map((r) => r.pod)).toEqual(['node-a']);
  });

  it('pods whose allocation series name no node are gathered under a node row with node "", so they still add up', () => {
    const feed = new Feed();
    feed.add({ ...L.cpuAlloc({ pod: 'web-1' }), node: '' }, every(...hour(), MIN, 1));
    const { pods, nodes } = feed.hourRows();
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ node: '', capacity_missing: 1, idle_cost: 0, price_defaulted: 1 });
    expect(nodes[0].total_cost).toBeCloseTo(0.031611, 15);
    expect(sum(pods.map((r) => r.total_cost))).toBe(nodes[0].total_cost);
  });

  it('the rows of the next hour do not change when the hour before is evicted', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'cpu'), every(H - 60 * MIN, H + 60 * MIN, MIN, 4));
    feed.add(L.cpuPrice('node-a'), every(H - 60 * MIN, H + 60 * MIN, MIN, 0.04));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(H - 60 * MIN, H + 60 * MIN, MIN, 1));
    feed.add(L.nodeLabels('node-a', { node_kubernetes_io_instance_type: 'm5.xlarge' }), every(H - 60 * MIN, H + 60 * MIN, MIN, 1));
    feed.add(L.spot('node-a'), every(H - 60 * MIN, H + 60 * MIN, MIN, 1));
    const before = feed.hourRows();
    feed.model.evictBefore('acme', 'prod', H);
    expect(feed.hourRows()).toEqual(before);
    expect(before.nodes[0]).toMatchObject({ minutes: 60, instance_type: 'm5.xlarge', spot: 1, cpu_cores: 4 });
    expect(feed.hourRows(H - 60 * MIN).nodes).toEqual([]);
  });
});
