// Node rows and idle, hand-computed: capacity x price x time present per resource, what the pods
// were charged there, and the difference, in the node row and as the node's `__idle__` pod row.
import { describe, expect, it } from 'vitest';
import { every, Feed, GIB, H, L, MIN, pricedNode } from './fixtures.ts';

const hour = (from = H, to = H + 60 * MIN) => [from, to] as const;

describe('node rows and idle', () => {
  it('a node with capacity and no pods: all of its cost is idle, in the node row and in an __idle__ row', () => {
    const feed = new Feed();
    pricedNode(feed, 'node-a', 4, 16 * GIB, 0.04, 0.005);
    const node = feed.node('node-a');
    expect(node).toEqual({
      tenant_id: 'acme',
      cluster: 'prod',
      hour: H,
      node: 'node-a',
      instance_type: 'm5.large', // from the price series' labels (no kube_node_labels here)
      region: 'eu-west-1',
      zone: '',
      spot: 0,
      minutes: 60,
      cpu_cores: 4,
      ram_bytes: 16 * GIB,
      gpu_count: null,
      capacity_missing: 0,
      cpu_cost: expect.closeTo(0.16, 15),
      ram_cost: expect.closeTo(0.08, 15),
      gpu_cost: 0,
      total_cost: expect.closeTo(0.24, 15),
      cpu_allocated_cost: 0,
      ram_allocated_cost: 0,
      gpu_allocated_cost: 0,
      cpu_idle_cost: expect.closeTo(0.16, 15),
      ram_idle_cost: expect.closeTo(0.08, 15),
      gpu_idle_cost: 0,
      idle_cost: expect.closeTo(0.24, 15),
      price_defaulted: 0,
    });
    const idle = feed.row('node-a', H, '__idle__');
    expect(idle).toMatchObject({ workload_kind: 'idle', workload: 'node-a', node: 'node-a', minutes: 60, gpu_cost: 0, pv_cost: 0, network_cost: 0, load_balancer_cost: 0 });
    expect(idle.cpu_cost).toBe(node.cpu_idle_cost);
    expect(idle.ram_cost).toBe(node.ram_idle_cost);
    expect(idle.total_cost).toBe(node.idle_cost);
    expect([idle.cpu_core_hours, idle.ram_byte_hours, idle.cpu_request_avg, idle.cpu_usage_avg, idle.cpu_efficiency, idle.total_efficiency]).toEqual([0, 0, null, null, null, null]);
    expect(idle.price_defaulted).toBe(false);
  });

  it('idle is the node cost less what its pods were charged, per resource', () => {
    const feed = new Feed();
    pricedNode(feed, 'node-a', 4, 16 * GIB, 0.04, 0.005);
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    feed.add(L.ramAlloc({ pod: 'web-1' }), every(...hour(), MIN, 4 * GIB));
    const node = feed.node('node-a');
    expect(node.cpu_allocated_cost).toBeCloseTo(0.04, 15);
    expect(node.ram_allocated_cost).toBeCloseTo(0.02, 15);
    expect(node.cpu_idle_cost).toBeCloseTo(0.12, 15);
    expect(node.ram_idle_cost).toBeCloseTo(0.06, 15);
    expect(node.idle_cost).toBeCloseTo(0.18, 15);
    expect(feed.row('web-1').cpu_cost).toBe(node.cpu_allocated_cost);
    expect(feed.row('node-a', H, '__idle__').total_cost).toBeCloseTo(0.18, 15);
  });

  it("kube-state-metrics 1.x names: kube_node_status_capacity_cpu_cores and _memory_bytes", () => {
    const feed = new Feed();
    feed.add(L.capacityV1('node-a', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.capacityV1('node-a', 'memory'), every(...hour(), MIN, 8 * GIB));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    feed.add(L.ramPrice('node-a'), every(...hour(), MIN, 0.005));
    const node = feed.node('node-a');
    expect([node.cpu_cores, node.ram_bytes, node.capacity_missing]).toEqual([2, 8 * GIB, 0]);
    expect(node.cpu_cost).toBeCloseTo(0.08, 15);
    expect(node.ram_cost).toBeCloseTo(0.04, 15);
  });

  it('kube-state-metrics 2.x: capacity by resource; pods, ephemeral storage and unlabelled series are not capacity', () => {
    const feed = new Feed();
    pricedNode(feed, 'node-a', 2, 8 * GIB, 0.04, 0.005);
    expect(feed.add(L.capacity('node-a', 'pods'), every(...hour(), MIN, 110)).ignored).toBe(60);
    expect(feed.add(L.capacity('node-a', 'ephemeral_storage'), every(...hour(), MIN, 100 * GIB)).ignored).toBe(60);
    const { node: _, ...nameless } = L.capacity('node-a', 'cpu');
    expect(feed.add(nameless, every(...hour(), MIN, 64)).invalid).toBe(60);
    const node = feed.node('node-a');
    expect([node.cpu_cores, node.ram_bytes]).toEqual([2, 8 * GIB]);
    expect(node.cpu_cost).toBeCloseTo(0.08, 15);
  });

  it('both generations at once are one timeline: the same capacity, not twice, even when scraped at other instants', () => {
    const single = new Feed();
    pricedNode(single, 'node-a', 2, 8 * GIB, 0.04, 0.005);
    const both = new Feed();
    pricedNode(both, 'node-a', 2, 8 * GIB, 0.04, 0.005);
    both.add(L.capacityV1('node-a', 'cpu'), every(H, H + 60 * MIN, MIN, 2)); // same instants
    both.add(L.capacityV1('node-a', 'memory'), every(H + 30_000, H + 60 * MIN, MIN, 8 * GIB)); // 30 s later
    const node = both.node('node-a');
    expect(node.cpu_cost).toBeCloseTo(0.08, 15);
    expect(node.ram_cost).toBeCloseTo(0.04, 15);
    expect([node.cpu_cost, node.ram_cost]).toEqual([single.node('node-a').cpu_cost, single.node('node-a').ram_cost]);
    expect(node.cpu_cores).toBe(2);
    expect(node.ram_bytes).toBe(8 * GIB);
    // Presence is the union of the capacity intervals: the merged memory timeline's last sample,
    // at :59:30, stands for the 30 s before it, so memory reaches 30 s further than CPU.
    expect(node.minutes).toBe(60.5);
  });

  it('memory capacity is in bytes and priced per GiB-hour', () => {
    const feed = new Feed();
    pricedNode(feed, 'node-a', 1, 3.5 * GIB, 0.04, 0.01);
    feed.add(L.ramAlloc({ pod: 'web-1' }), every(...hour(), MIN, 512 * 2 ** 20));
    const node = feed.node('node-a');
    expect(node.ram_bytes).toBe(3.5 * GIB);
    expect(node.ram_cost).toBeCloseTo(0.035, 15);
    expect(node.ram_allocated_cost).toBeCloseTo(0.005, 15);
    expect(node.ram_idle_cost).toBeCloseTo(0.03, 15);
  });

  it("a price change mid-hour: node and pods at the hour's mean price, so idle stays what is unallocated", () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'cpu'), every(...hour(), MIN, 4));
    feed.add(L.cpuPrice('node-a'), [...every(H, H + 30 * MIN, MIN, 0.04), ...every(H + 30 * MIN, H + 60 * MIN, MIN, 0.06)]);
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    const node = feed.node('node-a');
    expect(node.cpu_cost).toBeCloseTo(0.2, 15);
    expect(node.cpu_allocated_cost).toBeCloseTo(0.05, 15);
    expect(node.cpu_idle_cost).toBeCloseTo(0.15, 15);
  });

  it('a node joining at :30 is present 30 minutes; one leaving at :20 (stale marker) 20 minutes', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-new', 'cpu'), every(H + 30 * MIN, H + 60 * MIN, MIN, 4));
    feed.add(L.cpuPrice('node-new'), every(...hour(), MIN, 0.04));
    feed.add(L.capacity('node-old', 'cpu'), [...every(H - 10 * MIN, H + 20 * MIN, MIN, 2), [H + 20 * MIN, 'stale']]);
    feed.add(L.cpuPrice('node-old'), every(...hour(), MIN, 0.04));
    const joined = feed.node('node-new');
    expect(joined.minutes).toBe(30);
    expect(joined.cpu_cores).toBe(4); // mean over its presence, not over the hour
    expect(joined.cpu_cost).toBeCloseTo(4 * 0.5 * 0.04, 15);
    const left = feed.node('node-old');
    expect(left.minutes).toBe(20);
    expect(left.cpu_cost).toBeCloseTo(2 * (20 / 60) * 0.04, 15);
  });

  it('a pod that moved between nodes counts against each node for its part there, at that node price', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    feed.add(L.capacity('node-b', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.cpuPrice('node-b'), every(...hour(), MIN, 0.08));
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-a' }), every(H, H + 30 * MIN, MIN, 1));
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-b' }), every(H + 30 * MIN, H + 60 * MIN, MIN, 1));
    const pod = feed.row('web-1');
    expect(pod.node).toBe('node-a'); // a tie in time: the smaller name, yet half of the cost is node-b's
    expect(pod.cpu_cost).toBeCloseTo(0.02 + 0.04, 15);
    const a = feed.node('node-a');
    const b = feed.node('node-b');
    expect(a.cpu_allocated_cost).toBeCloseTo(0.02, 15);
    expect(a.cpu_idle_cost).toBeCloseTo(0.06, 15);
    expect(b.cpu_allocated_cost).toBeCloseTo(0.04, 15);
    expect(b.cpu_idle_cost).toBeCloseTo(0.12, 15);
  });

  it("a GPU node: node_gpu_count and kube-state-metrics' nvidia_com_gpu are one capacity; a node without GPU series has gpu_count null", () => {
    const feed = new Feed();
    pricedNode(feed, 'node-g', 8, 32 * GIB, 0.04, 0.005);
    feed.add(L.gpuCount('node-g'), every(...hour(), MIN, 4));
    feed.add(L.capacity('node-g', 'nvidia_com_gpu'), every(...hour(), MIN, 4));
    feed.add(L.gpuPrice('node-g'), every(...hour(), MIN, 2.5));
    feed.add(L.gpuAlloc({ pod: 'train-0', node: 'node-g' }), every(...hour(), MIN, 1));
    pricedNode(feed, 'node-a', 2, 8 * GIB, 0.04, 0.005);
    const gpu = feed.node('node-g');
    expect(gpu.gpu_count).toBe(4);
    expect(gpu.gpu_cost).toBeCloseTo(10, 14);
    expect(gpu.gpu_allocated_cost).toBeCloseTo(2.5, 15);
    expect(gpu.gpu_idle_cost).toBeCloseTo(7.5, 14);
    expect(gpu.price_defaulted).toBe(0);
    const plain = feed.node('node-a');
    expect([plain.gpu_count, plain.gpu_cost, plain.gpu_idle_cost, plain.price_defaulted]).toEqual([null, 0, 0, 0]);
  });

  it('an overcommitted node: pods charged above capacity give a negative idle, kept and counted', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    // Allocation is max(request, usage): two pods using 1.5 cores each on a 2-core node.
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1.5));
    feed.add(L.cpuAlloc({ pod: 'web-2' }), every(...hour(), MIN, 1.5));
    const { nodes, pods, negativeIdle } = feed.hourRows();
    expect(nodes[0].cpu_idle_cost).toBeCloseTo(-0.04, 15);
    expect(nodes[0].cpu_allocated_cost + nodes[0].cpu_idle_cost).toBeCloseTo(nodes[0].cpu_cost, 15);
    expect(negativeIdle).toEqual({ cpu: 1, ram: 0, gpu: 0 });
    expect(pods.find((r) => r.namespace === '__idle__')!.cpu_cost).toBeCloseTo(-0.04, 15);
  });

  it('a node its pods fill exactly is not counted as overcommitted for a rounding difference', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'cpu'), every(...hour(), MIN, 0.3));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.07));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
    feed.add(L.cpuAlloc({ pod: 'web-2' }), every(...hour(), MIN, 0.2));
    const { nodes, negativeIdle } = feed.hourRows();
    expect(Math.abs(nodes[0].cpu_idle_cost)).toBeLessThan(1e-15);
    expect(negativeIdle.cpu).toBe(0);
  });

  it('a node without capacity series: a row with capacity null and capacity_missing, cost = what its pods were charged, no idle', () => {
    const feed = new Feed();
    feed.add(L.cpuPrice('node-x'), every(...hour(), MIN, 0.04));
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-x' }), every(H + 15 * MIN, H + 45 * MIN, MIN, 2));
    const { nodes, pods } = feed.hourRows();
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ node: 'node-x', cpu_cores: null, ram_bytes: null, gpu_count: null, capacity_missing: 1, minutes: 30, cpu_idle_cost: 0, idle_cost: 0 });
    expect(nodes[0].cpu_cost).toBe(nodes[0].cpu_allocated_cost);
    expect(nodes[0].cpu_cost).toBeCloseTo(0.04, 15);
    expect(pods.some((r) => r.namespace === '__idle__')).toBe(false);
  });

  it('memory capacity alone is capacity_missing; the CPU cost is then what the pods were charged', () => {
    const feed = new Feed();
    feed.add(L.capacity('node-a', 'memory'), every(...hour(), MIN, 8 * GIB));
    feed.add(L.ramPrice('node-a'), every(...hour(), MIN, 0.005));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    const node = feed.node('node-a');
    expect([node.capacity_missing, node.cpu_cores, node.ram_bytes]).toEqual([1, null, 8 * GIB]);
    expect(node.cpu_cost).toBeCloseTo(0.04, 15);
    expect(node.cpu_idle_cost).toBe(0);
    expect(node.ram_idle_cost).toBeCloseTo(0.04, 15);
    expect(feed.row('node-a', H, '__idle__').total_cost).toBeCloseTo(0.04, 15); // memory idle is still idle
  });

  it("a node without any price series uses OpenCost's default prices and sets price_defaulted", () => {
    const feed = new Feed();
    feed.add(L.capacity('node-x', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.capacity('node-x', 'memory'), every(...hour(), MIN, 4 * GIB));
    const node = feed.node('node-x');
    expect(node.cpu_cost).toBeCloseTo(2 * 0.031611, 15);
    expect(node.ram_cost).toBeCloseTo(4 * 0.004237, 15);
    expect(node.price_defaulted).toBe(1);
    expect([node.instance_type, node.region]).toEqual(['', '']);
    expect(feed.row('node-x', H, '__idle__').price_defaulted).toBe(true);
  });

  it('configured defaults replace a missing price for node and pods alike; a zero price counts as missing', () => {
    const feed = new Feed({ defaultPrices: { cpuCoreHour: 0.1 } });
    feed.add(L.capacity('node-a', 'cpu'), every(...hour(), MIN, 2));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.5));
    const node = feed.node('node-a');
    expect(node.cpu_cost).toBeCloseTo(0.2, 15);
    expect(node.cpu_allocated_cost).toBeCloseTo(0.05, 15);
    expect(node.cpu_idle_cost).toBeCloseTo(0.15, 15);
    expect(node.price_defaulted).toBe(1);
    expect(feed.row('web-1').price_defaulted).toBe(true);
  });
});
