// The sharing rule on the real engine: for any rows and any sharing options, sharing moves cost
// and never creates or loses any; a filter never changes what it keeps; and COOKBOOK.md's recipe
// gives the API's numbers.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { createExpenseSink, type ExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { sharingRecipeSql } from '../../../query/sharing/cookbook-recipe.ts';
import { hourAgo, openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { HOUR, acmeProd, acmeStaging, allocationApp, allocations, idle, pod, totals, windowOf, type Answer } from './allocation-fixtures.ts';

const DATABASE = 'k8s';
const FIRST = hourAgo(4);
const WINDOW = windowOf(FIRST, FIRST + 3 * HOUR);

let engine: TestEngine;
let sink: ExpenseSink;
let app: FastifyInstance;

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  sink = createExpenseSink(engine.client, { database: DATABASE });
  app = await allocationApp(engine.client, DATABASE);
});

afterAll(async () => {
  await app?.close();
  await engine?.close();
});

const NAMESPACES = ['a', 'b', 'kube-system', 'monitoring'];
const money = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 10, noNaN: true }));

const podRow = fc
  .record({
    hour: fc.integer({ min: 0, max: 2 }),
    cluster: fc.constantFrom('c1', 'c2'),
    node: fc.constantFrom('n1', 'n2', 'n3', ''),
    namespace: fc.constantFrom(...NAMESPACES),
    pod: fc.constantFrom('p1', 'p2', 'p3', '__unmounted__'),
    team: fc.constantFrom('x', 'y', undefined),
    cpu_cost: money,
    ram_cost: money,
    gpu_cost: money,
    pv_cost: money,
    network_cost: money,
  })
  .map(({ hour, cluster, node, namespace, pod: name, team, ...costs }) => pod(FIRST + hour * HOUR, namespace, name, costs, { cluster, node, labels: team ? { team } : {} }));

const idleRow = fc
  .record({ hour: fc.integer({ min: 0, max: 2 }), cluster: fc.constantFrom('c1', 'c2'), node: fc.constantFrom('n1', 'n2', 'n3'), cpu: fc.double({ min: -2, max: 5, noNaN: true }), ram: money, gpu: money })
  .map((r) => idle(FIRST + r.hour * HOUR, r.node, r.cpu, r.ram, r.gpu, { cluster: r.cluster }));

/** Rows of one tenant, one per key (the table keeps one row per tenant, cluster, hour, namespace, pod). */
const rowsArbitrary = fc.tuple(fc.array(podRow, { maxLength: 25 }), fc.array(idleRow, { maxLength: 8 })).map(([pods, idles]) => {
  const byKey = new Map<string, ExpenseRow>();
  for (const row of [...pods, ...idles]) byKey.set(`${row.cluster}/${row.hour}/${row.namespace}/${row.pod}`, row);
  return [...byKey.values()];
});

const options = fc.record({
  aggregate: fc.constantFrom('namespace', 'cluster,namespace', 'label:team', 'controller', 'node,pod', ''),
  shareIdle: fc.constantFrom('true', 'false'),
  includeIdle: fc.constantFrom('true', 'false'),
  idleByNode: fc.constantFrom('true', 'false'),
  shareNamespaces: fc.subarray(['kube-system', 'monitoring', '__cluster__']).map((l) => l.join(',')),
  shareSplit: fc.constantFrom('weighted', 'even'),
  step: fc.constantFrom('1h', '3h'),
  accumulate: fc.constantFrom('true', 'false'),
});

const sumOf = (answer: Answer) => answer.data.flatMap((set) => Object.values(totals({ ...answer, data: [set] }))).reduce((a, b) => a + b, 0);
let run = 0;

describe('sharing', () => {
  it('for any rows and options, the allocations add up to the rows (with idle when idle is shown or shared)', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, options, async (rows, query) => {
        const tenant = `t${run++}`;
        const mine = rows.map((r) => ({ ...r, tenant_id: tenant }));
        if (mine.length > 0) await sink.write(mine);
        const withIdle = query.includeIdle === 'true' || query.shareIdle === 'true';
        const expected = mine.filter((r) => withIdle || r.namespace !== '__idle__').reduce((a, r) => a + r.total_cost, 0);
        const answer = await allocations(app, tenant, { window: WINDOW, ...query });
        expect(answer.data).toHaveLength(query.accumulate === 'true' ? 1 : query.step === '1h' ? 3 : 1);
        expect(Math.abs(sumOf(answer) - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
      }),
      { numRuns: 25 },
    );
  });

  it('a filter never changes the allocations it keeps', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, options, fc.constantFrom(...NAMESPACES), async (rows, query, namespace) => {
        const tenant = `f${run++}`;
        if (rows.length > 0) await sink.write(rows.map((r) => ({ ...r, tenant_id: tenant })));
        const base = { window: WINDOW, ...query, aggregate: 'cluster,namespace', includeIdle: 'false' };
        const all = totals(await allocations(app, tenant, { ...base, accumulate: 'true' }));
        const kept = totals(await allocations(app, tenant, { ...base, accumulate: 'true', filter: `namespace:"${namespace}"` }));
        for (const [name, cost] of Object.entries(kept)) {
          if (name === '__idle__') continue;
          expect(name.endsWith(`/${namespace}`)).toBe(true);
          expect(cost).toBeCloseTo(all[name], 9);
        }
      }),
      { numRuns: 15 },
    );
  });

  it("COOKBOOK.md's recipe gives the API's numbers", async () => {
    const H = hourAgo(3);
    await sink.write([...acmeProd(H), ...acmeStaging(H)].map((r) => ({ ...r, tenant_id: 'cookbook' })));
    const recipe = await queryRows<{ tenant_id: string; namespace: string; cost: number; direct: number; idle: number; shared_namespaces: number }>(engine.client, sharingRecipeSql());
    const mine = recipe.filter((r) => r.tenant_id === 'cookbook');
    const api = await allocations(app, 'cookbook', { window: '7d', aggregate: 'namespace', shareIdle: 'true', shareNamespaces: 'kube-system' });
    const expected = totals(api);
    expect(mine.map((r) => r.namespace).sort()).toEqual(Object.keys(expected).sort());
    for (const r of mine) {
      expect(r.cost).toBeCloseTo(expected[r.namespace], 4);
      // The API shows cluster management cost as shared cost too.
      if (r.namespace !== '__cluster__') expect(r.shared_namespaces).toBeCloseTo(api.data[0][r.namespace].sharedCost as number, 4);
    }
    // By hand (allocation.test.ts): prod's shop 1.15 + idle 0.5 + kube-system 0.275; staging's shop 1 + its kube-system 0.5.
    expect(mine.find((r) => r.namespace === 'shop')).toMatchObject({ cost: 3.425, direct: 2.15, idle: 0.5, shared_namespaces: 0.775 });
  });
});
