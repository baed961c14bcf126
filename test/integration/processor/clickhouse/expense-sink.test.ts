import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clickHouseErrorCode, isRetriable } from '../../../../processor/clickhouse/errors.ts';
import { createExpenseSink, type ExpenseSink } from '../../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../../processor/clickhouse/migrations.ts';
import { deletionRow, expenseRowKey } from '../../../../processor/clickhouse/expense-row.ts';
import { expenseRow, hourAgo, openTestEngine, queryRows, type TestEngine } from '../../../support/clickhouse-engine.ts';

let engine: TestEngine;
let sink: ExpenseSink;
const UPDATED_AT = Date.UTC(2024, 4, 1, 14, 0, 5, 7);

beforeAll(async () => {
  engine = await openTestEngine('k8s');
  await migrate(engine.client, { database: 'k8s' });
  sink = createExpenseSink(engine.client, { database: 'k8s' });
});

afterAll(async () => {
  await engine?.close();
});

beforeEach(async () => {
  await engine.client.command({ query: 'TRUNCATE TABLE k8s.k8s_expenses' });
  // Keep every written row until FINAL or OPTIMIZE resolves them: what a reader may see any time.
  await engine.client.command({ query: 'SYSTEM STOP MERGES k8s.k8s_expenses' });
});

interface Latest {
  pod: string;
  workload: string;
  total_cost: number;
  is_final: number;
  version: string;
}

const latest = () =>
  queryRows<Latest>(engine.client, 'SELECT pod, workload, total_cost, is_final, version FROM k8s.k8s_expenses FINAL ORDER BY pod');
const rowCount = async () => Number((await queryRows<{ n: string }>(engine.client, 'SELECT count() AS n FROM k8s.k8s_expenses'))[0].n);

const pods = ['a', 'b', 'c'];

describe('expense sink', () => {
  it('stores every column as written', async () => {
    const row = expenseRow({ ram_efficiency: null, total_efficiency: null, price_defaulted: true, workload_inferred: true, labels: { team: 'x', 'a/b': 'ü' }, updated_at: UPDATED_AT });
    await sink.write([row]);
    const [stored] = await queryRows<Record<string, unknown>>(
      engine.client,
      'SELECT *, toUnixTimestamp(hour) * 1000 AS hour_ms FROM k8s.k8s_expenses',
    );
    const { hour, version, is_final, price_defaulted, workload_inferred, updated_at, ...rest } = row;
    expect(stored).toMatchObject({ ...rest, hour_ms: String(hour), version: String(version), is_final: 1, price_defaulted: 1, workload_inferred: 1 });
    expect(stored.updated_at).toBe('2024-05-01 14:00:05.007');
  });

  it('lets the final rows of an hour replace its provisional rows', async () => {
    await sink.write(pods.map((pod) => expenseRow({ pod, total_cost: 1, is_final: false, version: 1 })));
    await sink.write(pods.map((pod) => expenseRow({ pod, total_cost: 2, is_final: true, version: 2 })));
    expect(await rowCount()).toBe(6);
    expect(await latest()).toEqual(pods.map((pod) => ({ pod, workload: 'web', total_cost: 2, is_final: 1, version: '2' })));
  });

  it('lets a late rewrite with a higher version replace a final row, and ignores a stale one', async () => {
    await sink.write(pods.map((pod) => expenseRow({ pod, total_cost: 2, version: 2 })));
    await sink.write([expenseRow({ pod: 'b', total_cost: 3, version: 3 })]);
    // A provisional flush that arrives after the hour closed: lower version, loses.
    await sink.write([expenseRow({ pod: 'c', total_cost: 9, is_final: false, version: 1 })]);
    expect((await latest()).map((r) => [r.pod, r.total_cost, r.version])).toEqual([
      ['a', 2, '2'],
      ['b', 3, '3'],
      ['c', 2, '2'],
    ]);
    await engine.client.command({ query: 'SYSTEM START MERGES k8s.k8s_expenses' });
    await engine.client.command({ query: 'OPTIMIZE TABLE k8s.k8s_expenses FINAL' });
    expect(await rowCount()).toBe(3);
  });

  it('replaces a pod whose owner arrived late instead of keeping a second row', async () => {
    await sink.write([expenseRow({ workload: 'web-7d9f', workload_kind: 'ReplicaSet', workload_inferred: true, version: 1 })]);
    await sink.write([expenseRow({ workload: 'web', workload_kind: 'Deployment', version: 2 })]);
    expect((await latest()).map((r) => r.workload)).toEqual(['web']);
  });

  it('keeps hours, clusters and tenants apart', async () => {
    await sink.write([
      expenseRow({ hour: hourAgo(2) }),
      expenseRow({ hour: hourAgo(2), version: 2 }),
      expenseRow({ hour: hourAgo(1) }),
      expenseRow({ cluster: 'staging' }),
      expenseRow({ tenant_id: 'other' }),
    ]);
    expect((await queryRows(engine.client, 'SELECT count() AS n FROM k8s.k8s_expenses FINAL'))[0]).toEqual({ n: '4' });
  });

  it('writes a 50k-row batch in one insert', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => expenseRow({ pod: `pod-${i}`, namespace: `ns-${i % 40}` }));
    await sink.write(rows);
    expect(await rowCount()).toBe(50_000);
  });

  it('does nothing for no rows', async () => {
    await sink.write([]);
    expect(await rowCount()).toBe(0);
  });

  it('refuses a row whose hour is not whole before writing anything', async () => {
    await expect(sink.write([expenseRow({ pod: 'a' }), expenseRow({ pod: 'b', hour: hourAgo(1) + 1 })])).rejects.toThrow(/whole hour/);
    expect(await rowCount()).toBe(0);
  });

  it('reads the live keys of hours of a cluster with their highest version, leaving deleted keys out', async () => {
    const [h1, h2, h3] = [hourAgo(3), hourAgo(2), hourAgo(1)];
    await sink.write([
      expenseRow({ hour: h1, pod: 'a', version: 1 }),
      expenseRow({ hour: h1, pod: 'b', version: 1 }),
      expenseRow({ hour: h2, namespace: 'ns:1', pod: 'c', version: 7 }),
      expenseRow({ hour: h3, pod: 'd', version: 1 }),
      expenseRow({ hour: h1, cluster: 'staging', pod: 'e', version: 1 }),
    ]);
    await sink.write([deletionRow('acme', 'prod', h1, expenseRowKey({ namespace: 'shop', pod: 'b' }), false, 3, Date.now())]);
    const stored = await sink.storedKeys('acme', 'prod', [h1, h2]);
    expect([...stored].sort(([x], [y]) => x - y)).toEqual([
      [h1, { keys: new Set([expenseRowKey({ namespace: 'shop', pod: 'a' })]), version: 1 }],
      [h2, { keys: new Set([expenseRowKey({ namespace: 'ns:1', pod: 'c' })]), version: 7 }],
    ]);
    expect(await sink.storedKeys('acme', 'prod', [])).toEqual(new Map());
  });

  it('answers ping', async () => {
    await expect(sink.ping()).resolves.toBe(true);
  });

  it("classifies the engine's own errors by code", async () => {
    const unknownTable = await engine.client.query({ query: 'SELECT * FROM k8s.nope' }).catch((e: unknown) => e);
    expect(clickHouseErrorCode(unknownTable)).toBe(60);
    expect(isRetriable(unknownTable)).toBe(false);
    const badRow = await engine.client
      .insert({ table: 'k8s.k8s_expenses', values: [{ minutes: 'many' }], format: 'JSONEachRow' })
      .catch((e: unknown) => e);
    expect(clickHouseErrorCode(badRow)).toBeGreaterThan(0);
    expect(isRetriable(badRow)).toBe(false);
  });
});
