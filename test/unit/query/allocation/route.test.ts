// The plugin's HTTP behaviour with a stand-in for ClickHouse behind the real reader (the real engine
// is exercised in test/integration/query/allocation*.test.ts): answers, error shapes and statuses,
// cancellation.
import { get } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { allocationRoutes, type AllocationRouteOptions } from '../../../../query/allocation/route.ts';
import { createReader, type ReadClient } from '../../../../query/reader.ts';
import { silentLog } from '../../../support/clickhouse-engine.ts';
import { H0, allocationRow } from './allocation-row.ts';

interface Call {
  query: string;
  query_params: Record<string, unknown>;
  format: string;
}

const NOW = Date.UTC(2024, 4, 15, 13, 37);
// One hour of shop costing 1 of CPU and 2 of RAM.
const ROW = allocationRow({ cpu_cost: 1, ram_cost: 2, pv_cost: 0, network_cost: 0, load_balancer_cost: 0, shared_cost: 0, run_end: H0 + 3600 });

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(
  query: (call: Call) => Promise<unknown[]>,
  overrides: Partial<AllocationRouteOptions> = {},
): Promise<{ app: FastifyInstance; calls: Call[]; kills: string[] }> {
  const calls: Call[] = [];
  const kills: string[] = [];
  app = Fastify();
  const client = {
    async query(call: Call) {
      calls.push(call);
      const rows = await query(call);
      return { json: async () => rows };
    },
    command: async () => undefined,
  } as unknown as ReadClient;
  const control = { command: async ({ query }: { query: string }) => void kills.push(query) } as unknown as ReadClient;
  const limits = { timeoutMs: 5000, maxMemoryBytes: 1_000_000_000, maxResultRows: 2, concurrency: 2 };
  await app.register(allocationRoutes, {
    reader: createReader({ clients: [client, client], control, limits, log: silentLog, killIntervalMs: 50 }),
    database: 'k8s',
    tenantFromRequest: (request) => String(request.headers['x-tenant'] ?? 'acme'),
    now: () => NOW,
    ...overrides,
  });
  return { app, calls, kills };
}

const chError = (code: number, message: string) => Object.assign(new Error(message), { code: String(code) });

describe('allocation routes', () => {
  it.each(['/allocation/compute', '/allocation', '/model/allocation'])('%s answers in OpenCost\'s shape', async (path) => {
    const { app, calls } = await serve(async () => [ROW]);
    const res = await app.inject({ url: `${path}?window=1d&aggregate=namespace`, headers: { 'x-tenant': 'globex' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ code: 200, status: 'success', data: [{ shop: { name: 'shop', cpuCost: 1, ramCost: 2, totalCost: 3, minutes: 60 } }] });
    expect(calls[0].query_params.tenant).toBe('globex');
    expect(calls[0].format).toBe('JSONEachRow');
    expect(calls[0].query).toMatch(/\nSETTINGS max_execution_time = 5, max_memory_usage = 1000000000$/);
  });

  it('answers CSV with format=csv', async () => {
    const { app } = await serve(async () => [ROW]);
    const res = await app.inject({ url: '/allocation/compute?window=1d&aggregate=namespace&format=csv' });
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.body.split('\r\n')[1]).toMatch(/^2024-05-15T00:00:00Z,2024-05-16T00:00:00Z,shop,prod,,shop,/);
  });

  it('answers a bad parameter with a 400 naming it, without querying', async () => {
    const { app, calls } = await serve(async () => []);
    const res = await app.inject({ url: '/allocation/compute?window=1d&filter=namespace:kube-system' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: 400, error: 'bad-parameter', message: 'filter: at position 11: expected a quoted value like "kube-system", found "kube-system"' });
    expect(calls).toHaveLength(0);
  });

  it("answers with the tenant resolver's status, and 500 for its unexpected errors", async () => {
    const refused = Object.assign(new Error('credentials are required'), { status: 401, code: 'auth-missing' });
    const first = await serve(async () => [], { tenantFromRequest: () => Promise.reject(refused) });
    const res = await first.app.inject({ url: '/allocation?window=1d' });
    expect([res.statusCode, res.json()]).toEqual([401, { code: 401, error: 'auth-missing', message: 'credentials are required' }]);
    await first.app.close();
    const second = await serve(async () => [], {
      tenantFromRequest: () => {
        throw new Error('tenants file unreadable at /secret/path');
      },
    });
    const broken = await second.app.inject({ url: '/allocation?window=1d' });
    expect([broken.statusCode, broken.json()]).toEqual([500, { code: 500, error: 'internal', message: 'internal error' }]);
  });

  it.each([
    [chError(396, 'Limit for result exceeded, max rows: 2.00'), 400, /more rows than QUERY_MAX_RESULT_ROWS=2/],
    [Object.assign(new Error('Query memory limit exceeded: would use 1.06 MiB'), { cause: { clickhouseCode: 241 } }), 400, /more memory than QUERY_MAX_MEMORY=1000000000/],
    [chError(159, 'Timeout exceeded: elapsed 30 s'), 503, /ran longer than QUERY_TIMEOUT=5s/],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 503, /ClickHouse is unavailable/],
    [chError(47, 'Unknown identifier'), 500, /^internal error$/],
  ])('maps a ClickHouse failure to its status: %s', async (failure, status, message) => {
    const { app } = await serve(async () => Promise.reject(failure));
    const res = await app.inject({ url: '/allocation?window=1d' });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe(status);
    expect(res.json().message).toMatch(message);
  });

  it('refuses an answer with more allocations than allowed', async () => {
    const { app } = await serve(async () => [ROW, { ...ROW, name: 'b' }, { ...ROW, name: 'c' }]);
    const res = await app.inject({ url: '/allocation?window=1d' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/more than 2 allocations \(QUERY_MAX_RESULT_ROWS=2\): aggregate more coarsely/);
  });

  it('stops the query when the client goes away, and holds its slot until it has ended', async () => {
    let queried!: () => void;
    let end!: (rows: unknown[]) => void;
    const started = new Promise<void>((resolve) => (queried = resolve));
    const { app, calls, kills } = await serve(
      () =>
        new Promise((resolve) => {
          end = resolve;
          queried();
        }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const request = get(`http://127.0.0.1:${address.port}/allocation?window=1d`);
    request.on('error', () => {});
    await started;
    expect(kills).toEqual([]);
    request.destroy();
    // KILL QUERY names the marker the query's text starts with, and is repeated until the query ends.
    const marker = /^\/\* k8s-expenses-read:([0-9a-f-]{36}) \*\//.exec(calls[0].query)![1];
    await expect.poll(() => kills.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(kills[0]).toBe(`KILL QUERY WHERE query LIKE concat('%', 'k8s-expenses-read:', '${marker}', '%') ASYNC`);
    end([]);
    const killed = kills.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(kills.length).toBeLessThanOrEqual(killed + 1);
  });
});
