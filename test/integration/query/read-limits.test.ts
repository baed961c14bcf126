// The read limits on the real engine, through the SQL endpoint and the allocation API as the service
// wires them (read-only connections of their own, one reader): each hostile query of the review that
// ran unbounded is now stopped and refused, naming its limit, while writes go on.
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { allocationRoutes } from '../../../query/allocation/route.ts';
import type { ReadLimits } from '../../../query/limits.ts';
import { createQueryMetrics } from '../../../query/metrics.ts';
import { openReadClients, type ReadClients } from '../../../query/read-clients.ts';
import { createReader, type Reader } from '../../../query/reader.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../../../query/sql-endpoint.ts';
import { expenseRow, openTestEngine, queryRows, silentLog, type TestEngine } from '../../support/clickhouse-engine.ts';
import { metricValue } from '../../support/net.ts';

const DATABASE = 'k8s';
const TOKEN = 'test-token-0123456789';
const DEFAULTS: ReadLimits = { timeoutMs: 60_000, maxMemoryBytes: 2 * 1024 ** 3, maxResultRows: 1_000_000, concurrency: 2 };
/** The review's five-way cross join of the demo's 60 rows: 777,600,000 combinations. */
const CROSS_JOIN = 'FROM k8s_expenses AS a, k8s_expenses AS b, k8s_expenses AS c, k8s_expenses AS d, k8s_expenses AS e';
const SLOW = `SELECT sum(cityHash64(a.pod, b.pod, c.pod, d.pod, e.pod)) AS h ${CROSS_JOIN}`;

let engine: TestEngine;
let clients: ReadClients;

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  await createExpenseSink(engine.client, { database: DATABASE }).write(Array.from({ length: 60 }, (_, i) => expenseRow({ pod: `pod-${i}`, namespace: `ns-${i % 6}` })));
  const config = { DATA_DIR: engine.dataDir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: DATABASE };
  clients = await openReadClients({ ...config, QUERY_CONCURRENCY: 2, QUERY_TIMEOUT: 60_000 }, silentLog, { slots: 2 });
});

afterAll(async () => {
  await clients?.close();
  await engine?.close();
});

interface Served {
  sql: SqlEndpoint;
  api: FastifyInstance;
  reader: Reader;
  registry: Registry;
}

let served: Served | undefined;

/** The SQL endpoint and the allocation API over one reader with these limits; `slots` reads at once. */
async function serve(limits: Partial<ReadLimits>, slots = 2): Promise<Served> {
  const registry = new Registry();
  const metrics = createQueryMetrics(registry);
  const all = { ...DEFAULTS, ...limits, concurrency: slots };
  const reader = createReader({ clients: clients.clients.slice(0, slots), control: clients.control, limits: all, metrics, log: silentLog, killIntervalMs: 200 });
  const sql = await startSqlEndpoint({ reader, database: DATABASE, token: TOKEN, host: '127.0.0.1', port: 0, log: silentLog, metrics });
  const api = Fastify();
  await api.register(allocationRoutes, { reader, database: DATABASE, tenantFromRequest: () => 'acme', metrics });
  served = { sql, api, reader, registry };
  return served;
}

afterEach(async () => {
  await served?.reader.stop();
  await served?.sql.close();
  await served?.api.close();
  served = undefined;
});

async function post(s: Served, sql: string, signal?: AbortSignal): Promise<{ status: number; body: { error?: string; message?: string } | string; retryAfter: string | null }> {
  const res = await fetch(`${s.sql.url}/query?format=JSONEachRow`, { method: 'POST', body: sql, headers: { authorization: `Bearer ${TOKEN}` }, signal });
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? text : (JSON.parse(text) as { error: string; message: string }), retryAfter: res.headers.get('retry-after') };
}

/** Reads of the reader still running in the engine. */
const running = async () =>
  Number((await queryRows<{ n: string }>(engine.client, "SELECT count() AS n FROM system.processes WHERE position(query, concat('k8s-expenses-', 'read:')) > 0"))[0].n);

describe('read limits', () => {
  it('stops a query at QUERY_TIMEOUT and says so: 503 naming the limit', async () => {
    const s = await serve({ timeoutMs: 1000 });
    const answer = await post(s, SLOW);
    expect(answer).toMatchObject({ status: 503, body: { error: 'query-timeout', message: expect.stringMatching(/^the query ran longer than QUERY_TIMEOUT=1s/) } });
    await expect.poll(running, { timeout: 10_000 }).toBe(0);
    expect(metricValue(await s.registry.metrics(), 'k8s_expenses_query_refused_total', { endpoint: 'sql', reason: 'query-timeout' })).toBe(1);
    expect(metricValue(await s.registry.metrics(), 'k8s_expenses_query_requests_total', { endpoint: 'sql', status: '503' })).toBe(1);
  });

  it('refuses a query needing more than QUERY_MAX_MEMORY (groupArray): 400 naming the limit', async () => {
    const s = await serve({ maxMemoryBytes: 64 * 1024 ** 2 });
    const answer = await post(s, `SELECT groupArray(concat(a.pod, b.pod, c.pod, d.pod)) AS all ${CROSS_JOIN.replace(', k8s_expenses AS e', '')}`);
    expect(answer).toMatchObject({ status: 400, body: { error: 'memory-limit', message: expect.stringMatching(/^the query needs more memory than QUERY_MAX_MEMORY=64MiB/) } });
  });

  it('refuses an answer over QUERY_MAX_RESULT_ROWS (the five-way cross join): 400 naming the limit', async () => {
    const s = await serve({ maxResultRows: 1000 });
    const answer = await post(s, `SELECT a.pod, b.pod, c.pod, d.pod, e.pod ${CROSS_JOIN}`);
    expect(answer).toMatchObject({ status: 400, body: { error: 'too-large', message: expect.stringMatching(/more rows than QUERY_MAX_RESULT_ROWS=1000/) } });
    expect(await post(s, 'SELECT pod FROM k8s_expenses LIMIT 1000')).toMatchObject({ status: 200 });
  });

  it('answers 503 with Retry-After over QUERY_CONCURRENCY, on both endpoints, and takes reads again once one ends', async () => {
    const s = await serve({}, 1);
    const stop = new AbortController();
    const slow = post(s, SLOW, stop.signal).catch(() => undefined);
    await expect.poll(running, { timeout: 10_000 }).toBe(1);
    const refused = await post(s, 'SELECT 1 AS x');
    expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'too-many-queries', message: expect.stringMatching(/^QUERY_CONCURRENCY=1 reads are running already/) } });
    const api = await s.api.inject({ url: '/allocation/compute?window=1d' });
    expect([api.statusCode, api.headers['retry-after'], api.json().error]).toEqual([503, '1', 'too-many-queries']);
    stop.abort();
    await slow;
    await expect.poll(running, { timeout: 10_000 }).toBe(0);
    expect(await post(s, 'SELECT 1 AS x')).toMatchObject({ status: 200, body: '{"x":1}\n' });
    expect(metricValue(await s.registry.metrics(), 'k8s_expenses_query_refused_total', { endpoint: 'allocation', reason: 'too-many-queries' })).toBe(1);
  });

  it('stops the query in the engine when the client goes away, long before QUERY_TIMEOUT', async () => {
    const s = await serve({ timeoutMs: 600_000 });
    const stop = new AbortController();
    const slow = post(s, SLOW, stop.signal).catch((err: Error) => err.name);
    await expect.poll(running, { timeout: 10_000 }).toBe(1);
    stop.abort();
    expect(await slow).toBe('AbortError');
    await expect.poll(running, { timeout: 10_000 }).toBe(0);
    expect(metricValue(await s.registry.metrics(), 'k8s_expenses_query_refused_total', { endpoint: 'sql', reason: 'client-gone' })).toBe(1);
  });

  it('an allocation answer over QUERY_MAX_RESULT_ROWS is refused naming it', async () => {
    const s = await serve({ maxResultRows: 5 });
    const res = await s.api.inject({ url: '/allocation/compute', query: { window: '7d', aggregate: 'pod' } });
    expect([res.statusCode, res.json().error]).toEqual([400, 'too-large']);
    expect(res.json().message).toMatch(/more than 5 allocations \(QUERY_MAX_RESULT_ROWS=5\)/);
  });

  it('writes go on through the writer while a long read runs', async () => {
    const s = await serve({ timeoutMs: 600_000 });
    const stop = new AbortController();
    let answered = false;
    const slow = post(s, SLOW, stop.signal)
      .catch(() => undefined)
      .finally(() => (answered = true));
    await expect.poll(running, { timeout: 10_000 }).toBe(1);
    // The processor's writer connection: inserts and reads its rows while the read still runs.
    await createExpenseSink(engine.client, { database: DATABASE }).write([expenseRow({ pod: 'written-meanwhile', version: 2 })]);
    expect(await queryRows(engine.client, `SELECT pod FROM ${DATABASE}.k8s_expenses WHERE pod = 'written-meanwhile'`)).toEqual([{ pod: 'written-meanwhile' }]);
    expect(answered).toBe(false);
    expect(await running()).toBe(1);
    stop.abort();
    await slow;
    await engine.client.command({ query: `ALTER TABLE ${DATABASE}.k8s_expenses DELETE WHERE pod = 'written-meanwhile' SETTINGS mutations_sync = 1` });
  });

  it('the read connections cannot write, whatever reaches them', async () => {
    for (const client of [...clients.clients, clients.control]) {
      await expect(client.command({ query: `INSERT INTO ${DATABASE}.k8s_expenses (pod) VALUES ('x')` })).rejects.toThrow(/readonly/i);
      await expect(client.command({ query: `DROP TABLE ${DATABASE}.k8s_expenses` })).rejects.toThrow(/readonly/i);
    }
  });
});
