// Prices and the costs built on them, hand-computed: node prices, defaults, PV, network, load
// balancers, cluster management.
import { describe, expect, it } from 'vitest';
import { every, Feed, GIB, H, L, MIN } from './fixtures.ts';

const hour = (from = H, to = H + 60 * MIN) => [from, to] as const;

describe('pricing', () => {
  it("a price change mid-hour uses the hour's average price", () => {
    const feed = new Feed();
    feed.add(L.cpuPrice('node-a'), [...every(H, H + 30 * MIN, MIN, 0.04), ...every(H + 30 * MIN, H + 60 * MIN, MIN, 0.06)]);
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    expect(feed.row('web-1').cpu_cost).toBeCloseTo(0.05, 15);
  });

  it("a missing node price uses OpenCost's defaults and sets price_defaulted", () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-x' }), every(...hour(), MIN, 1));
    feed.add(L.ramAlloc({ pod: 'web-1', node: 'node-x' }), every(...hour(), MIN, GIB));
    const row = feed.row('web-1');
    expect(row.cpu_cost).toBeCloseTo(0.031611, 15);
    expect(row.ram_cost).toBeCloseTo(0.004237, 15);
    expect(row.price_defaulted).toBe(true);
  });

  it('configured default prices replace the missing ones, and a zero price counts as missing', () => {
    const feed = new Feed({ defaultPrices: { cpuCoreHour: 0.1 } });
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 2));
    const row = feed.row('web-1');
    expect(row.cpu_cost).toBeCloseTo(0.2, 15);
    expect(row.price_defaulted).toBe(true);
  });

  it('a missing GPU price on a pod without GPUs does not set price_defaulted', () => {
    const feed = new Feed();
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    feed.add(L.gpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0));
    const row = feed.row('web-1');
    expect(row.gpu_cost).toBe(0);
    expect(row.price_defaulted).toBe(false);
  });

  it('GPUs are priced per GPU-hour at the node GPU price', () => {
    const feed = new Feed();
    feed.add(L.gpuPrice('node-g'), every(...hour(), MIN, 2.5));
    feed.add(L.gpuAlloc({ pod: 'train-0', node: 'node-g' }), every(H, H + 30 * MIN, MIN, 2));
    const row = feed.row('train-0');
    expect(row.gpu_hours).toBe(1);
    expect(row.gpu_cost).toBeCloseTo(2.5, 15);
  });

  it('a shared PVC: each pod pays for its own share of the volume', () => {
    const feed = new Feed();
    feed.add(L.pvPrice('pv-1'), every(...hour(), MIN, 0.0002));
    for (const pod of ['web-1', 'web-2']) {
      feed.add(L.cpuAlloc({ pod }), every(...hour(), MIN, 0.1));
      // pod_pvc_allocation already divides the 10 GiB claim between its two pods
      feed.add(L.pvc({ pod }, 'shared-data', 'pv-1'), every(...hour(), MIN, 5 * GIB));
    }
    for (const pod of ['web-1', 'web-2']) {
      const row = feed.row(pod);
      expect(row.pv_byte_hours).toBe(5 * GIB);
      expect(row.pv_cost).toBeCloseTo(5 * 0.0002, 15);
    }
  });

  it('a missing PV price uses the default storage price', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
    feed.add(L.pvc({ pod: 'web-1' }, 'data', 'pv-9'), every(...hour(), MIN, 10 * GIB));
    const row = feed.row('web-1');
    expect(row.pv_cost).toBeCloseTo(10 * 0.00005479452, 15);
    expect(row.price_defaulted).toBe(true);
  });

  it('network egress: cross-zone at the zone price, cross-region at the region price, same-zone free', () => {
    const feed = new Feed();
    feed.add(L.egressPrice('zone'), every(...hour(), MIN, 0.01));
    feed.add(L.egressPrice('region'), every(...hour(), MIN, 0.02));
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
    feed.add(L.egressBytes({ pod: 'web-1' }, 'zone'), [[H - MIN, 0], [H + 30 * MIN, GIB]]);
    feed.add(L.egressBytes({ pod: 'web-1' }, 'region'), [[H - MIN, 0], [H + 30 * MIN, 2 * GIB]]);
    feed.add(L.egressBytes({ pod: 'web-1' }, 'same-zone'), [[H - MIN, 0], [H + 30 * MIN, 5 * GIB]]);
    const row = feed.row('web-1');
    expect(row.network_cost).toBeCloseTo(0.01 + 0.04, 15);
    expect(row.price_defaulted).toBe(false);
  });

  it('a counter reset in egress bytes counts the bytes after the reset', () => {
    const feed = new Feed();
    feed.add(L.egressPrice('internet'), every(...hour(), MIN, 0.15));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
    feed.add(L.egressBytes({ pod: 'web-1' }, 'internet'), [
      [H, 10 * GIB],
      [H + 20 * MIN, 12 * GIB],
      [H + 40 * MIN, 1 * GIB], // restarted: 1 GiB since the restart
      [H + 59 * MIN, 3 * GIB],
    ]);
    expect(feed.row('web-1').network_cost).toBeCloseTo((2 + 1 + 2) * 0.15, 14);
  });

  it('a missing egress price uses the default and sets price_defaulted', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
    feed.add(L.egressBytes({ pod: 'web-1' }, 'internet'), [[H, 0], [H + 10 * MIN, 2 * GIB]]);
    const row = feed.row('web-1');
    expect(row.network_cost).toBeCloseTo(2 * 0.12, 15);
    expect(row.price_defaulted).toBe(true);
  });

  describe('load balancers', () => {
    function lbFeed(withSelector: boolean): Feed {
      const feed = new Feed();
      feed.add(L.loadBalancer('shop', 'web'), every(...hour(), MIN, 0.025));
      if (withSelector) feed.add(L.selector('shop', 'web', { app: 'web' }), every(...hour(), MIN, 1));
      feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 0.1));
      feed.add(L.cpuAlloc({ pod: 'web-2' }), every(H + 30 * MIN, H + 60 * MIN, MIN, 0.1));
      feed.add(L.cpuAlloc({ pod: 'db-0' }), every(...hour(), MIN, 0.1));
      feed.add(L.podLabels({ pod: 'web-1' }, { app: 'web' }), every(...hour(), MIN, 1));
      feed.add(L.podLabels({ pod: 'web-2' }, { app: 'web' }), every(H + 30 * MIN, H + 60 * MIN, MIN, 1));
      feed.add(L.podLabels({ pod: 'db-0' }, { app: 'db' }), every(...hour(), MIN, 1));
      return feed;
    }

    it('a load balancer is split among the pods its service selects, by running time', () => {
      const feed = lbFeed(true);
      expect(feed.row('web-1').load_balancer_cost).toBeCloseTo((0.025 * 60) / 90, 15);
      expect(feed.row('web-2').load_balancer_cost).toBeCloseTo((0.025 * 30) / 90, 15);
      expect(feed.row('db-0').load_balancer_cost).toBe(0);
    });

    it("without selector series a load balancer is split among the namespace's pods by running time", () => {
      const feed = lbFeed(false);
      expect(feed.row('web-1').load_balancer_cost).toBeCloseTo((0.025 * 60) / 150, 15);
      expect(feed.row('web-2').load_balancer_cost).toBeCloseTo((0.025 * 30) / 150, 15);
      expect(feed.row('db-0').load_balancer_cost).toBeCloseTo((0.025 * 60) / 150, 15);
      expect(feed.row('db-0').total_cost).toBeCloseTo(0.1 * 0.031611 + 0.01, 15);
    });

    it("a load balancer in a namespace without running pods goes to the namespace's __unmounted__ row", () => {
      const feed = new Feed();
      feed.add(L.loadBalancer('edge', 'gateway'), every(H, H + 30 * MIN, MIN, 0.05));
      const row = feed.row('__unmounted__', H, 'edge');
      expect(row.load_balancer_cost).toBeCloseTo(0.025, 15);
      expect(row.total_cost).toBeCloseTo(0.025, 15);
      expect(row.minutes).toBe(0);
    });
  });

  it('cluster management cost has its own row so cluster totals add up', () => {
    const feed = new Feed();
    feed.add(L.management('EKS'), every(...hour(), MIN, 0.1));
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(...hour(), MIN, 1));
    const rows = feed.rows();
    const row = feed.row('EKS', H, '__cluster__');
    expect([row.workload_kind, row.workload, row.minutes]).toEqual(['cluster', 'management', 60]);
    expect(row.total_cost).toBeCloseTo(0.1, 15);
    expect(row.cpu_cost + row.ram_cost + row.load_balancer_cost).toBe(0);
    const total = rows.reduce((sum, r) => sum + r.total_cost, 0);
    expect(total).toBeCloseTo(0.1 + 0.031611, 15);
  });
});
