// Efficiency, and how samples arrive: retries, duplicates, out-of-order, late, other tenants.
import { describe, expect, it } from 'vitest';
import { createCostModel, newSampleCounts } from '../../../../processor/cost-model/index.ts';
import { every, Feed, GIB, H, HOUR, keyOf, L, MIN, type Sample } from './fixtures.ts';

const web1 = { pod: 'web-1' };

/** A counter growing by `perMin` each minute over [from, to). */
function counter(from: number, to: number, perMin: number, start = 0): Sample[] {
  return every(from, to, MIN, 0).map(([t], i) => [t, start + perMin * i]);
}

function efficiencyFeed(withRequests: boolean): Feed {
  const feed = new Feed();
  feed.add(L.cpuPrice('node-a'), every(H, H + 60 * MIN, MIN, 0.04));
  feed.add(L.ramPrice('node-a'), every(H, H + 60 * MIN, MIN, 0.005));
  feed.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 1));
  feed.add(L.ramAlloc(web1), every(H, H + 60 * MIN, MIN, 2 * GIB));
  feed.add(L.cpuUsage(web1), counter(H - MIN, H + 60 * MIN, 30)); // 30 s per minute = 0.5 cores
  if (withRequests) {
    feed.add(L.request(web1, 'cpu'), every(H, H + 60 * MIN, MIN, 1));
    feed.add(L.request(web1, 'memory'), every(H, H + 60 * MIN, MIN, 2 * GIB));
    feed.add(L.workingSet(web1), every(H, H + 60 * MIN, MIN, GIB));
  }
  return feed;
}

describe('efficiency', () => {
  it('with requests: usage over request, total efficiency weighted by cost', () => {
    const row = efficiencyFeed(true).row('web-1');
    expect(row.cpu_usage_avg).toBeCloseTo(0.5, 15);
    expect(row.cpu_request_avg).toBe(1);
    expect(row.ram_usage_avg).toBe(GIB);
    expect(row.ram_request_avg).toBe(2 * GIB);
    expect(row.cpu_efficiency).toBeCloseTo(0.5, 15);
    expect(row.ram_efficiency).toBe(0.5);
    // (0.5 x 0.04 + 0.5 x 0.01) / (0.04 + 0.01)
    expect(row.total_efficiency).toBeCloseTo(0.5, 15);
  });

  it('without requests: 1 when there is usage, null without usage series', () => {
    const row = efficiencyFeed(false).row('web-1');
    expect(row.cpu_request_avg).toBeNull();
    expect(row.cpu_usage_avg).toBeCloseTo(0.5, 15);
    expect(row.cpu_efficiency).toBe(1);
    expect(row.ram_usage_avg).toBeNull();
    expect(row.ram_efficiency).toBeNull();
    expect(row.total_efficiency).toBe(1);
  });

  it('a CPU counter reset counts the seconds after the reset, so usage may exceed the request', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 0.25));
    feed.add(L.request(web1, 'cpu'), every(H, H + 60 * MIN, MIN, 0.25));
    // 1000 + 30 s/min until :29; the container restarts and has used 30 s by :30
    feed.add(L.cpuUsage(web1), [...counter(H, H + 30 * MIN, 30, 1000), ...counter(H + 30 * MIN, H + 60 * MIN, 30, 30)]);
    const row = feed.row('web-1');
    // 29 pairs x 30 s + 30 s (reset) + 29 pairs x 30 s = 1770 s over 59 paired minutes
    expect(row.cpu_usage_avg).toBeCloseTo(1770 / 3540, 12);
    expect(row.cpu_efficiency).toBeCloseTo(2, 12);
  });
});

describe('delivery', () => {
  it('a retried request counts once', () => {
    const once = efficiencyFeed(true);
    const twice = efficiencyFeed(true);
    const counts = twice.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 1));
    expect(counts).toMatchObject({ accepted: 0, duplicate: 60 });
    twice.add(L.cpuUsage(web1), counter(H - MIN, H + 60 * MIN, 30));
    expect(twice.rows()).toEqual(once.rows());
  });

  // Regression: presence series (owners, labels, selectors) keep only the last sample of each hour,
  // and the earlier samples of a resent request were counted as accepted. The processor took that
  // as a change and rewrote the hour (reopening it when it had closed by silence).
  it('a resent presence sample is a duplicate, and a presence stale marker changes nothing', () => {
    const feed = new Feed();
    const owner = L.owner(web1, 'StatefulSet', 'web');
    expect(feed.add(owner, every(H, H + 60 * MIN, MIN, 1))).toMatchObject({ accepted: 60, duplicate: 0 });
    const rows = feed.rows();
    expect(feed.add(owner, every(H, H + 60 * MIN, MIN, 1))).toMatchObject({ accepted: 0, duplicate: 60 });
    expect(feed.add(owner, [[H + 60 * MIN, 'stale']])).toMatchObject({ accepted: 0, ignored: 1 });
    expect(feed.rows()).toEqual(rows);
  });

  it('out-of-order arrival: shuffled input gives identical rows', () => {
    const build = (shuffle: boolean) => {
      const feed = new Feed();
      const series: [Record<string, string>, Sample[]][] = [
        [L.cpuPrice('node-a'), [...every(H, H + 30 * MIN, MIN, 0.031), ...every(H + 30 * MIN, H + 60 * MIN, MIN, 0.047)]],
        [L.cpuAlloc(web1), every(H - 7 * MIN, H + 60 * MIN, 45_000, 0.3)],
        [L.ramAlloc(web1), every(H, H + 60 * MIN, 20_000, 0.7 * GIB)],
        [L.cpuUsage(web1), counter(H, H + 60 * MIN, 17.3)],
        [L.loadBalancer('shop', 'web'), every(H, H + 60 * MIN, MIN, 0.0291)],
      ];
      const all = series.flatMap(([labels, samples]) => samples.map((s) => [labels, s] as const));
      if (shuffle) {
        let seed = 7;
        for (let i = all.length - 1; i > 0; i--) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          const j = seed % (i + 1);
          [all[i], all[j]] = [all[j], all[i]];
        }
      }
      for (const [labels, sample] of all) feed.add(labels, [sample]);
      return feed.rows();
    };
    expect(build(true)).toEqual(build(false));
  });

  it('a sample older than the evicted hours only refreshes the previous sample', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc(web1), [[H - 3 * MIN, 1], ...every(H + MIN, H + 60 * MIN, MIN, 1)]);
    feed.model.evictBefore('acme', 'prod', H);
    expect(feed.row('web-1').minutes).toBe(4 + 58); // the first kept sample stands for 4 min (since H-3)
    const counts = feed.add(L.cpuAlloc(web1), [[H - MIN, 1]]);
    expect(counts.late).toBe(1);
    expect(feed.row('web-1').minutes).toBe(2 + 58); // now its previous sample is at H-1: 2 min
    expect(feed.rows(H - HOUR)).toEqual([]);
  });

  it('eviction keeps what later hours need: their rows do not change', () => {
    const feed = efficiencyFeed(true);
    feed.add(L.cpuAlloc(web1), every(H - 2 * HOUR, H, 90_000, 1));
    feed.add(L.cpuUsage(web1), counter(H - 2 * HOUR, H - MIN, 30));
    const before = feed.rows();
    feed.model.evictBefore('acme', 'prod', H);
    expect(feed.rows()).toEqual(before);
    expect(feed.model.hours().map((h) => h.hourStartMs)).toEqual([H]);
  });

  it('series that are not cost series are ignored and their labels read once', () => {
    const model = createCostModel();
    let reads = 0;
    const labels = () => {
      reads++;
      return { __name__: 'kube_pod_container_status_running', namespace: 'shop', pod: 'web-1', container: 'app' };
    };
    const counts = newSampleCounts();
    for (let i = 0; i < 3; i++) model.addSeries('acme', 'prod', 'running-web-1', labels, [H + i * MIN], [1], null, 0, 1, counts);
    expect(reads).toBe(1);
    expect(counts).toEqual({ accepted: 0, duplicate: 0, ignored: 3, invalid: 0, late: 0 });
    expect(model.hours()).toEqual([]);
  });

  // Regression: a sample of 1e308 was accepted; its cost (value x interval x price) overflowed to
  // Infinity, which the row's JSON carried as null and ClickHouse stored as a cost of 0.
  it('a value whose products cannot stay finite is invalid, as a quantity and as a price', () => {
    const feed = new Feed();
    expect(feed.add(L.cpuAlloc(web1), [[H, 1e308], [H + MIN, 1e18 * 1.5]])).toMatchObject({ accepted: 0, invalid: 2 });
    expect(feed.add(L.cpuPrice('node-a'), [[H, 1e308]])).toMatchObject({ accepted: 0, invalid: 1 });
    expect(feed.rows()).toEqual([]);
    // Up to the bound, every number of the row stays finite.
    feed.add(L.cpuAlloc(web1), [[H, 1e18]]);
    feed.add(L.cpuPrice('node-a'), [[H, 1e18]]);
    const row = feed.row('web-1');
    expect(Number.isFinite(row.cpu_cost) && Number.isFinite(row.total_cost)).toBe(true);
  });

  it('asks before storing a new cost series of a tenant, and drops it when told no', () => {
    let room = 1;
    const asked: string[] = [];
    const feed = new Feed({ admitSeries: (tenant) => (asked.push(tenant), room-- > 0) });
    expect(feed.add(L.cpuAlloc(web1), every(H, H + 3 * MIN, MIN, 1))).toMatchObject({ accepted: 3 });
    expect(feed.add(L.cpuAlloc({ pod: 'web-2' }), every(H, H + 3 * MIN, MIN, 1))).toMatchObject({ accepted: 0, overLimit: 3 });
    // Held series are not asked about again; series that are not cost series never are.
    feed.add(L.cpuAlloc(web1), [[H + 3 * MIN, 1]]);
    feed.add({ __name__: 'up', job: 'x' }, [[H, 1]]);
    expect(asked).toEqual(['acme', 'acme']);
    expect(feed.model.seriesByTenant()).toEqual(new Map([['acme', 1]]));
    expect(feed.rows().map((r) => r.pod)).toEqual(['web-1']);
  });

  it('invalid samples are counted and not stored', () => {
    const model = createCostModel();
    const counts = model.addSeries('acme', 'prod', keyOf(L.cpuAlloc(web1)), L.cpuAlloc(web1), [H + 0.5, -1, H, H + MIN], [1, 1, Infinity, -2], null);
    expect(counts).toMatchObject({ accepted: 0, invalid: 4 });
    const noPod = model.addSeries('acme', 'prod', 'x', { __name__: 'container_cpu_allocation', namespace: 'shop' }, [H], [1], null);
    expect(noPod.invalid).toBe(1);
  });

  it('tenants and clusters never mix, and hours() lists each one', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 1), 'acme', 'prod');
    feed.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 3), 'globex', 'prod');
    feed.add(L.cpuAlloc(web1), every(H + HOUR, H + HOUR + MIN, MIN, 3), 'acme', 'staging');
    expect(feed.model.rows('acme', 'prod', H)[0]).toMatchObject({ tenant_id: 'acme', cpu_core_hours: 1 });
    expect(feed.model.rows('globex', 'prod', H)[0]).toMatchObject({ tenant_id: 'globex', cpu_core_hours: 3 });
    expect(feed.model.hours()).toEqual([
      { tenant: 'acme', cluster: 'prod', hourStartMs: H },
      { tenant: 'acme', cluster: 'staging', hourStartMs: H + HOUR },
      { tenant: 'globex', cluster: 'prod', hourStartMs: H },
    ]);
  });

  it('the same allocation sent by two exporter replicas counts once', () => {
    const feed = new Feed();
    feed.add({ ...L.cpuAlloc(web1), instance: '10.0.0.9:9003' }, every(H, H + 60 * MIN, MIN, 1));
    feed.add({ ...L.cpuAlloc(web1), instance: '10.0.0.7:9003' }, every(H + 30_000, H + 60 * MIN, MIN, 1));
    const row = feed.row('web-1');
    expect(row.minutes).toBe(60);
    expect(row.cpu_core_hours).toBe(1);
  });
});
