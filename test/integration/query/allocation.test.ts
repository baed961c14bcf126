// The allocation API on the real embedded engine, numbers checked by hand against
// allocation-fixtures.ts. In cluster prod (tenant acme), hour H:
//   shop = web-1 0.8 + web-2 0.3 + unmounted 0.05 = 1.15; batch 0.7; kube-system 0.3; __cluster__ 0.1
//   pods' CPU cost 1.0 (shop 0.6, batch 0.2, kube-system 0.2), RAM cost 1.0 (0.4, 0.5, 0.1)
//   idle: CPU 0.5, RAM 0.5, GPU 0.5 (n1: 0.4/0.2/0; n2: 0.1/0.3/0.5) = 1.5
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { hourAgo, openTestEngine, type TestEngine } from '../../support/clickhouse-engine.ts';
import { HOUR, acmeProd, acmeStaging, allocationApp, allocations, globex, pod, totals, windowOf, type Answer } from './allocation-fixtures.ts';

const DATABASE = 'k8s';
const H = hourAgo(5);
const ONE_HOUR = windowOf(H, H + HOUR);
const prod = { window: ONE_HOUR, filter: 'cluster:"prod"' };

let engine: TestEngine;
let app: FastifyInstance;

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  const sink = createExpenseSink(engine.client, { database: DATABASE });
  await sink.write([...acmeProd(H), ...acmeStaging(H), ...globex(H), pod(H + HOUR, 'shop', 'web-1', { cpu_cost: 0.4 })]);
  app = await allocationApp(engine.client, DATABASE);
});

afterAll(async () => {
  await app?.close();
  await engine?.close();
});

const close = (actual: Record<string, number>, expected: Record<string, number>) => {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected)) expect(actual[name], name).toBeCloseTo(value, 12);
};
const sum = (answer: Answer) => Object.values(totals(answer)).reduce((a, b) => a + b, 0);

describe('allocation API on the embedded engine', () => {
  it('aggregates by namespace; idle is left out by default', async () => {
    close(totals(await allocations(app, 'acme', { ...prod, aggregate: 'namespace' })), { shop: 1.15, batch: 0.7, 'kube-system': 0.3, __cluster__: 0.1 });
  });

  it('with includeIdle, idle is one __idle__ allocation', async () => {
    const answer = await allocations(app, 'acme', { ...prod, aggregate: 'namespace', includeIdle: 'true' });
    close(totals(answer), { shop: 1.15, batch: 0.7, 'kube-system': 0.3, __cluster__: 0.1, __idle__: 1.5 });
    expect(answer.data[0].__idle__).toMatchObject({ cpuCost: 0.5, ramCost: 0.5, gpuCost: 0.5, properties: { cluster: 'prod' } });
  });

  it("shareIdle gives each namespace the idle of each resource times its share of that resource's cost", async () => {
    const answer = await allocations(app, 'acme', { ...prod, aggregate: 'namespace', shareIdle: 'true' });
    // shop: CPU 0.6 x 0.5 + RAM 0.4 x 0.5; batch: 0.2 x 0.5 + 0.5 x 0.5; kube-system: 0.1 + 0.05; nobody used GPU.
    close(totals(answer), { shop: 1.15 + 0.5, batch: 0.7 + 0.35, 'kube-system': 0.3 + 0.15, __cluster__: 0.1, __idle__: 0.5 });
    expect(answer.data[0].shop).toMatchObject({ cpuCost: expect.closeTo(0.6 + 0.3, 12), ramCost: expect.closeTo(0.4 + 0.2, 12), sharedCost: 0 });
    expect(answer.data[0].__idle__).toMatchObject({ cpuCost: 0, ramCost: 0, gpuCost: 0.5 });
    expect(sum(answer)).toBeCloseTo(2.25 + 1.5, 12);
  });

  it('shareNamespaces moves kube-system, with its idle, onto the other pods of its cluster by cost', async () => {
    const weighted = await allocations(app, 'acme', { ...prod, aggregate: 'namespace', shareIdle: 'true', shareNamespaces: 'kube-system' });
    // Pool 0.3 + 0.15 = 0.45; weights before idle: shop pods 1.1, batch 0.7.
    close(totals(weighted), { shop: 1.65 + (0.45 * 1.1) / 1.8, batch: 1.05 + (0.45 * 0.7) / 1.8, __cluster__: 0.1, __idle__: 0.5 });
    expect(weighted.data[0].shop.sharedCost).toBeCloseTo(0.275, 12);
    const even = await allocations(app, 'acme', { ...prod, aggregate: 'namespace', shareIdle: 'true', shareNamespaces: 'kube-system', shareSplit: 'even' });
    close(totals(even), { shop: 1.65 + 0.225, batch: 1.05 + 0.225, __cluster__: 0.1, __idle__: 0.5 });
    expect(sum(weighted)).toBeCloseTo(3.75, 12);
    expect(sum(even)).toBeCloseTo(3.75, 12);
  });

  it('idleByNode spreads each node\'s idle over the pods on it', async () => {
    const answer = await allocations(app, 'acme', { ...prod, aggregate: 'namespace', shareIdle: 'true', idleByNode: 'true' });
    // n1: CPU 0.4 over 0.8 (shop 0.6, kube-system 0.2), RAM 0.2 over 0.5 (0.4, 0.1); n2: batch takes 0.1 + 0.3.
    close(totals(answer), { shop: 1.15 + 0.3 + 0.16, batch: 0.7 + 0.4, 'kube-system': 0.3 + 0.1 + 0.04, __cluster__: 0.1, __idle__: 0.5 });
  });

  it('shares a cluster\'s kube-system within that cluster only', async () => {
    const answer = await allocations(app, 'acme', { window: ONE_HOUR, aggregate: 'cluster,namespace', shareNamespaces: 'kube-system' });
    close(totals(answer), { 'prod/shop': 1.15 + (0.3 * 1.1) / 1.8, 'prod/batch': 0.7 + (0.3 * 0.7) / 1.8, 'prod/__cluster__': 0.1, 'staging/shop': 1.5 });
  });

  it('a filter keeps the numbers of what it keeps, and the idle that would have gone to it', async () => {
    const shared = await allocations(app, 'acme', { window: ONE_HOUR, aggregate: 'namespace', shareIdle: 'true', shareNamespaces: 'kube-system', filter: 'namespace:"shop"+cluster:"prod"' });
    close(totals(shared), { shop: 1.65 + 0.275 });
    const unshared = await allocations(app, 'acme', { window: ONE_HOUR, aggregate: 'namespace', includeIdle: 'true', filter: 'namespace:"shop"+cluster:"prod"' });
    // Idle of shop: CPU 0.6 x 0.5 + RAM 0.4 x 0.5; the GPU idle belongs to no filtered allocation.
    close(totals(unshared), { shop: 1.15, __idle__: 0.5 });
  });

  it.each([
    ['label:team', { storefront: 1.1, __unallocated__: 1.0, __unmounted__: 0.05, __cluster__: 0.1 }],
    ['controller', { 'deployment:web': 1.1, 'job:etl': 0.7, 'daemonset:coredns': 0.3, __unmounted__: 0.05, __cluster__: 0.1 }],
    ['controllerKind', { deployment: 1.1, job: 0.7, daemonset: 0.3, __unmounted__: 0.05, __cluster__: 0.1 }],
    ['node', { n1: 1.4, n2: 0.7, __unmounted__: 0.05, __cluster__: 0.1 }],
    ['deployment', { web: 1.1, __unallocated__: 1.0, __unmounted__: 0.05, __cluster__: 0.1 }],
  ])('aggregate=%s names allocations as OpenCost does', async (aggregate, expected) => {
    close(totals(await allocations(app, 'acme', { ...prod, aggregate })), expected);
  });

  it('names the finest allocations cluster/node/namespace/pod and shows their properties and labels', async () => {
    const answer = await allocations(app, 'acme', prod);
    expect(Object.keys(answer.data[0]).sort()).toEqual(
      ['prod/__cluster__/__cluster__/__cluster__', 'prod/__unmounted__/shop/__unmounted__', 'prod/n1/kube-system/dns-1', 'prod/n1/shop/web-1', 'prod/n1/shop/web-2', 'prod/n2/batch/etl-1'].sort(),
    );
    expect(answer.data[0]['prod/n1/shop/web-1']).toMatchObject({
      properties: { cluster: 'prod', node: 'n1', namespace: 'shop', controllerKind: 'deployment', controller: 'web', pod: 'web-1', labels: { team: 'storefront', app: 'web' } },
      minutes: 60,
      cpuCoreRequestAverage: 2,
      cpuCoreUsageAverage: 1,
      cpuEfficiency: 0.5,
      cpuCoreHours: 1,
      cpuCores: 1,
      pvCost: 0.1,
    });
  });

  it('averages requests over the allocation\'s minutes', async () => {
    const shop = (await allocations(app, 'acme', { ...prod, aggregate: 'namespace' })).data[0].shop;
    // web-1 requests 2 cores and uses 1, web-2 requests 1 and uses 0.5, both for the whole hour.
    expect(shop).toMatchObject({ minutes: 60, cpuCoreRequestAverage: 3, cpuCoreUsageAverage: 1.5, cpuEfficiency: 0.5, properties: { cluster: 'prod', namespace: 'shop' } });
  });

  it('answers one set per step, and one set when accumulated', async () => {
    const window = windowOf(H, H + 2 * HOUR);
    const steps = await allocations(app, 'acme', { window, step: '1h', aggregate: 'namespace', filter: 'namespace:"shop"+cluster:"prod"' });
    expect(steps.data.map((set) => totals({ ...steps, data: [set] }))).toEqual([{ shop: expect.closeTo(1.15, 12) }, { shop: expect.closeTo(0.4, 12) }]);
    expect(steps.data[1].shop.window).toEqual({ start: new Date(H + HOUR).toISOString().replace('.000Z', 'Z'), end: new Date(H + 2 * HOUR).toISOString().replace('.000Z', 'Z') });
    const accumulated = await allocations(app, 'acme', { window, step: '1h', accumulate: 'true', aggregate: 'namespace', filter: 'namespace:"shop"+cluster:"prod"' });
    expect(accumulated.data).toHaveLength(1);
    expect(accumulated.data[0].shop).toMatchObject({ totalCost: expect.closeTo(1.55, 12), minutes: 120 });
  });

  it('answers CSV', async () => {
    const res = await app.inject({ url: '/model/allocation', query: { ...prod, aggregate: 'namespace', format: 'csv' }, headers: { 'x-tenant': 'acme' } });
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.body.trim().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.includes(',batch,'))).toMatch(/,0\.7,0$|,0\.7,\d/);
  });

  it('an empty window answers empty sets', async () => {
    const answer = await allocations(app, 'acme', { window: windowOf(H - 48 * HOUR, H - 47 * HOUR) });
    expect(answer).toEqual({ code: 200, status: 'success', data: [{}] });
  });
});
