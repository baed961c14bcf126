// The interval rule, hand-computed: what each sample stands for, and so minutes and core-hours.
import { describe, expect, it } from 'vitest';
import { every, Feed, GIB, H, L, MIN, type Sample } from './fixtures.ts';

const web1 = { pod: 'web-1' };

function pricedFeed(options = {}): Feed {
  const feed = new Feed(options);
  feed.add(L.cpuPrice('node-a'), every(H - 10 * MIN, H + 60 * MIN, MIN, 0.04));
  feed.add(L.ramPrice('node-a'), every(H - 10 * MIN, H + 60 * MIN, MIN, 0.005));
  feed.add(L.cpuPrice('node-b'), every(H - 10 * MIN, H + 60 * MIN, MIN, 0.08));
  return feed;
}

describe('time rules', () => {
  it('full hour: 60 one-minute samples bill 60 minutes at the node prices', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc(web1), every(H, H + 60 * MIN, MIN, 0.5));
    feed.add(L.ramAlloc(web1), every(H, H + 60 * MIN, MIN, 2 * GIB));
    const row = feed.row('web-1');
    // The first sample has no previous one: it stands for its second's interval, 1 min.
    expect(row.minutes).toBe(60);
    expect(row.cpu_core_hours).toBe(0.5);
    expect(row.cpu_cost).toBeCloseTo(0.5 * 0.04, 15);
    expect(row.ram_byte_hours).toBe(2 * GIB);
    expect(row.ram_cost).toBeCloseTo(2 * 0.005, 15);
    expect(row.total_cost).toBeCloseTo(0.03, 15);
    expect(row.node).toBe('node-a');
    expect(row.hour).toBe(H);
    expect(row.price_defaulted).toBe(false);
  });

  it('partial hour at the start: a pod starting at :30 bills 30 minutes', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc(web1), every(H + 30 * MIN, H + 60 * MIN, MIN, 0.5));
    const row = feed.row('web-1');
    expect(row.minutes).toBe(30);
    expect(row.cpu_core_hours).toBe(0.25);
    expect(row.cpu_cost).toBeCloseTo(0.01, 15);
  });

  it('partial hour at the end: a series ended by a stale marker at :20 bills 20 minutes', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc(web1), [...every(H - 30 * MIN, H + 20 * MIN, MIN, 1), [H + 20 * MIN, 'stale']]);
    const row = feed.row('web-1');
    expect(row.minutes).toBe(20);
    expect(row.cpu_core_hours).toBeCloseTo(20 / 60, 15);
  });

  it("a sample's interval reaching into the previous hour counts in the sample's hour", () => {
    const feed = pricedFeed();
    // Samples at hh:mm:30 from 9:50:30; the one at 10:00:30 stands for (9:59:30, 10:00:30].
    feed.add(L.cpuAlloc(web1), every(H - 10 * MIN + 30_000, H + 60 * MIN, MIN, 1));
    expect(feed.row('web-1').minutes).toBe(60);
    expect(feed.row('web-1', H - 3_600_000).minutes).toBe(10);
  });

  it('an irregular scrape interval: each sample stands for the time since the previous one', () => {
    const feed = pricedFeed();
    const at = [0, 2, 2.5, 6, 10].map((m) => H + m * MIN);
    feed.add(L.cpuAlloc(web1), at.map((t): Sample => [t, 1]));
    const row = feed.row('web-1');
    // 2 (first: its second's interval) + 2 + 0.5 + 3.5 + 4 = 12 minutes
    expect(row.minutes).toBe(12);
    expect(row.cpu_core_hours).toBeCloseTo(12 / 60, 15);
  });

  it('a gap longer than MAX_SAMPLE_GAP counts only MAX_SAMPLE_GAP', () => {
    const samples = [...every(H, H + 11 * MIN, MIN, 1), ...every(H + 30 * MIN, H + 41 * MIN, MIN, 1)];
    const feed = pricedFeed();
    feed.add(L.cpuAlloc(web1), samples);
    // 11 min, then the sample at :30 after a 20 min gap stands for 5 min, then 10 x 1 min
    expect(feed.row('web-1').minutes).toBe(26);
    const wider = pricedFeed({ maxSampleGapMs: 10 * MIN });
    wider.add(L.cpuAlloc(web1), samples);
    expect(wider.row('web-1').minutes).toBe(31);
  });

  it('a lone sample stands for the default scrape interval', () => {
    const feed = pricedFeed({ defaultScrapeIntervalMs: 30_000 });
    feed.add(L.cpuAlloc(web1), [[H + 5 * MIN, 2]]);
    const row = feed.row('web-1');
    expect(row.minutes).toBe(0.5);
    expect(row.cpu_core_hours).toBeCloseTo((2 * 0.5) / 60, 15);
  });

  it('stale markers end the series: the next sample starts a new one', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc(web1), [...every(H, H + 10 * MIN, MIN, 1), [H + 10 * MIN, 'stale'], ...every(H + 30 * MIN, H + 40 * MIN, MIN, 1)]);
    // 10 samples from :00, then 10 from :30 whose first stands for its second's 1 min (not 20 min)
    expect(feed.row('web-1').minutes).toBe(20);
  });

  it('NaN values act as stale markers', () => {
    const feed = pricedFeed();
    const samples: Sample[] = [...every(H, H + 10 * MIN, MIN, 1), [H + 10 * MIN, NaN], ...every(H + 30 * MIN, H + 40 * MIN, MIN, 1)];
    feed.model.addSeries('acme', 'prod', 'k', () => L.cpuAlloc(web1), samples.map((s) => s[0]), samples.map((s) => s[1] as number), null);
    expect(feed.row('web-1').minutes).toBe(20);
  });

  it('a pod replaced by another on a different node: each bills its own time at its own node', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc({ pod: 'web-1', node: 'node-a' }), [...every(H - 5 * MIN, H + 30 * MIN, MIN, 1), [H + 30 * MIN, 'stale']]);
    feed.add(L.cpuAlloc({ pod: 'web-2', node: 'node-b' }), every(H + 30 * MIN, H + 60 * MIN, MIN, 1));
    const old = feed.row('web-1');
    const next = feed.row('web-2');
    expect([old.minutes, old.node, old.cpu_core_hours]).toEqual([30, 'node-a', 0.5]);
    expect(old.cpu_cost).toBeCloseTo(0.5 * 0.04, 15);
    expect([next.minutes, next.node, next.cpu_core_hours]).toEqual([30, 'node-b', 0.5]);
    expect(next.cpu_cost).toBeCloseTo(0.5 * 0.08, 15);
  });

  it('a StatefulSet pod rescheduled mid-hour is priced per node and reports the node it ran on longest', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc({ pod: 'db-0', node: 'node-a' }), [...every(H - 5 * MIN, H + 20 * MIN, MIN, 2), [H + 20 * MIN, 'stale']]);
    feed.add(L.cpuAlloc({ pod: 'db-0', node: 'node-b' }), every(H + 21 * MIN, H + 60 * MIN, MIN, 2));
    feed.add(L.owner({ pod: 'db-0' }, 'StatefulSet', 'db'), every(H, H + 60 * MIN, MIN, 1));
    const row = feed.row('db-0');
    // node-a: 20 min, node-b: 39 min (its first sample stands for its second's 1 min)
    expect(row.minutes).toBe(59);
    expect(row.node).toBe('node-b');
    expect(row.cpu_core_hours).toBeCloseTo((2 * 59) / 60, 14);
    expect(row.cpu_cost).toBeCloseTo(2 * (20 / 60) * 0.04 + 2 * (39 / 60) * 0.08, 14);
    expect([row.workload_kind, row.workload]).toEqual(['statefulset', 'db']);
  });

  it('minutes are the union of the containers\' intervals, not their sum', () => {
    const feed = pricedFeed();
    feed.add(L.cpuAlloc({ pod: 'web-1', container: 'app' }), every(H, H + 60 * MIN, MIN, 1));
    feed.add(L.cpuAlloc({ pod: 'web-1', container: 'sidecar' }), every(H, H + 30 * MIN, MIN, 0.5));
    const row = feed.row('web-1');
    expect(row.minutes).toBe(60);
    expect(row.cpu_core_hours).toBeCloseTo(1 + 0.25, 15);
  });
});
