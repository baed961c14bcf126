// Tenant scoping of the allocation API on the real engine: whatever a request holds (filters,
// label names, namespaces, windows, the tenant itself), it reads the reading tenant's rows and no
// other's, and changes nothing. Tenant globex's costs are >= 50 in cluster and namespace names
// acme also uses, so any leak shows in acme's totals (3.75 without idle).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { hourAgo, openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { HOUR, acmeProd, acmeStaging, allocationApp, allocations, globex, totals, windowOf, type Answer } from './allocation-fixtures.ts';

const DATABASE = 'k8s';
const H = hourAgo(4);
const WINDOW = windowOf(H, H + HOUR);
const ACME_TOTAL = 2.25 + 1.5;
const GLOBEX_TOTAL = 100 + 100 + 60;

const HOSTILE = [
  "'); DROP TABLE k8s.k8s_expenses; --",
  "\\' OR 1=1 --",
  "' OR tenant_id = 'globex",
  "x') UNION ALL SELECT * FROM k8s.k8s_expenses --",
  'te"am\'s',
  '{tenant:String}',
  'globex',
  '%27%20OR%201=1',
];

let engine: TestEngine;
let app: FastifyInstance;
let rowsBefore: unknown[];

const countByTenant = () => queryRows(engine.client, `SELECT tenant_id, count() AS n FROM ${DATABASE}.k8s_expenses GROUP BY tenant_id ORDER BY tenant_id`);
const sum = (answer: Answer) => answer.data.flatMap((set) => Object.values(totals({ ...answer, data: [set] }))).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  await createExpenseSink(engine.client, { database: DATABASE }).write([...acmeProd(H), ...acmeStaging(H), ...globex(H)]);
  app = await allocationApp(engine.client, DATABASE);
  rowsBefore = await countByTenant();
});

afterAll(async () => {
  await app?.close();
  await engine?.close();
});

describe('allocation API: tenant scoping', () => {
  it('each tenant reads its own rows only', async () => {
    expect(sum(await allocations(app, 'acme', { window: WINDOW, aggregate: 'namespace' }))).toBeCloseTo(ACME_TOTAL, 12);
    const theirs = await allocations(app, 'globex', { window: WINDOW, aggregate: 'namespace', includeIdle: 'true' });
    expect(totals(theirs)).toEqual({ shop: 200, 'kube-system': 60, __idle__: 150 });
  });

  it.each(HOSTILE)('no value of a request reaches another tenant\'s rows: %s', async (hostile) => {
    const noQuote = hostile.replace(/"/g, '');
    const query = {
      window: WINDOW,
      aggregate: `namespace,label:${hostile}`,
      // Negations, so every acme row passes: the answer must hold exactly acme's total.
      filter: `namespace!:"${noQuote}" + label[${hostile.replace(/]/g, '')}]!:"${noQuote}" + (pod!~:"${noQuote}" | controllerName<~:"${noQuote}")`,
      shareNamespaces: hostile.replace(/,/g, ''),
      shareSplit: 'even',
      includeIdle: 'false',
    };
    const answer = await allocations(app, 'acme', query);
    expect(sum(answer)).toBeCloseTo(ACME_TOTAL, 12);
    for (const allocation of Object.values(answer.data[0])) expect(allocation.totalCost as number).toBeLessThan(50);
  });

  // globex is a tenant: reading as globex is the first test.
  it.each(HOSTILE.filter((h) => h !== 'globex'))('a reading tenant of %j sees no one\'s rows', async (hostile) => {
    const answer = await allocations(app, hostile, { window: WINDOW, aggregate: 'namespace', includeIdle: 'true', shareIdle: 'true' });
    expect(answer.data).toEqual([{}]);
  });

  it.each(HOSTILE)('a hostile window or step is refused by name: %s', async (hostile) => {
    for (const [name, query] of [
      ['window', { window: hostile }],
      ['window', { window: `${WINDOW}${hostile}` }],
      ['step', { window: WINDOW, step: hostile }],
      ['aggregate', { window: WINDOW, aggregate: hostile }],
    ] as const) {
      const res = await app.inject({ url: '/allocation/compute', query, headers: { 'x-tenant': 'acme' } });
      expect(res.statusCode, `${name}=${hostile}`).toBe(400);
      expect(res.json().message.startsWith(`${name}: `)).toBe(true);
    }
  });

  it('label names with quotes are values: they aggregate, never break the query', async () => {
    const answer = await allocations(app, 'acme', { window: WINDOW, aggregate: `label:te'am"`, filter: `label[te'am"]:"__unallocated__"` });
    expect(Object.keys(answer.data[0]).sort()).toEqual(['__cluster__', '__unallocated__', '__unmounted__']);
  });

  it('nothing was changed by any of it', async () => {
    expect(await countByTenant()).toEqual(rowsBefore);
    expect(rowsBefore).toEqual([
      { tenant_id: 'acme', n: String(acmeProd(H).length + acmeStaging(H).length) },
      { tenant_id: 'globex', n: String(globex(H).length) },
    ]);
    expect(GLOBEX_TOTAL).toBeGreaterThan(50);
  });
});
