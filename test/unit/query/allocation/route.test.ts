// The plugin's HTTP behaviour with a stand-in for ClickHouse (the real engine is exercised in
// test/integration/query/allocation*.test.ts): answers, error shapes and statuses, cancellation.
import { get } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { allocationRoutes, type AllocationRouteOptions } from '../../../../query/allocation/route.ts';
import { H0, allocationRow } from './allocation-row.ts';

interface Call {
  query: string;
  query_params: Record<string, unknown>;
  format: string;
  abort_signal: AbortSignal;
}

const NOW = Date.UTC(2024, 4, 15, 13, 37);
// One hour of shop costing 1 of CPU and 2 of RAM.
const ROW = allocationRow({ cpu_cost: 1, ram_cost: 2, pv_cost: 0, network_cost: 0, load_balancer_cost: 0, shared_cost: 0, run_end: H0 + 3600 });

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(query: (call: Call) => Promise<unknown[]>, overrides: Partial<AllocationRouteOptions> = {}): Promise<{ app: FastifyInstance; calls: Call[] }> {
  const calls: Call[] = [];
  app = Fastify();
  const client = {
    async query(call: Call) {
      calls.push(call);
      const rows = await query(call);
      return { json: async () => rows };
    },
  } as unknown as AllocationRouteOptions['client'];
  await app.register(allocationRoutes, {
    client,
    database: 'k8s',
    tenantFromRequest: (request) => String(request.headers['x-tenant'] ?? 'acme'),
    limits: { maxExecutionSeconds: 5, maxMemoryBytes: 1_000_000_000, maxResultRows: 2 },
    now: () => NOW,
    ...overrides,
  });
  return { app, calls };
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
    expect(calls[0].query).toContain('SETTINGS max_execution_time = 5, max_memory_usage = 1000000000');
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
    expect(res.json()).toEqual({ code: 400, message: 'filter: at position 11: expected a quoted value like "kube-system", found "kube-system"' });
    expect(calls).toHaveLength(0);
  });

  it("answers with the tenant resolver's status, and 500 for its unexpected errors", async () => {
    const refused = Object.assign(new Error('credentials are required'), { status: 401, code: 'auth-missing' });
    const first = await serve(async () => [], { tenantFromRequest: () => Promise.reject(refused) });
    const res = await first.app.inject({ url: '/allocation?window=1d' });
    expect([res.statusCode, res.json()]).toEqual([401, { code: 401, message: 'credentials are required' }]);
    await first.app.close();
    const second = await serve(async () => [], {
      tenantFromRequest: () => {
        throw new Error('tenants file unreadable at /secret/path');
      },
    });
    const broken = await second.app.inject({ url: '/allocation?window=1d' });
    expect([broken.statusCode, broken.json()]).toEqual([500, { code: 500, message: 'internal error' }]);
  });

  it.each([
    [chError(396, 'Limit for result exceeded'), 400, /more allocations than allowed/],
    [Object.assign(new Error('Query memory limit exceeded: would use 1.06 MiB'), { cause: { clickhouseCode: 241 } }), 400, /more memory than allowed/],
    [chError(159, 'Timeout exceeded: elapsed 30 s'), 503, /took longer than allowed/],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 503, /ClickHouse is unavailable/],
    [chError(47, 'Unknown identifier'), 500, /allocation query failed/],
  ])('maps a ClickHouse failure to its status: %s', async (failure, status, message) => {
    const { app } = await serve(async () => Promise.reject(failure));
    const res = await app.inject({ url: '/allocation?window=1d' });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe(status);
    if (status < 500) expect(res.json().message).toMatch(message);
  });

  it('refuses an answer with more allocations than allowed', async () => {
    const { app } = await serve(async () => [ROW, { ...ROW, name: 'b' }, { ...ROW, name: 'c' }]);
    const res = await app.inject({ url: '/allocation?window=1d' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/more than 2 allocations: aggregate more coarsely/);
  });

  it('cancels the query when the client goes away', async () => {
    let signal: AbortSignal | undefined;
    let queried!: () => void;
    const started = new Promise<void>((resolve) => (queried = resolve));
    const { app } = await serve(
      (call) =>
        new Promise((_resolve, reject) => {
          signal = call.abort_signal;
          call.abort_signal.addEventListener('abort', () => reject(new Error('Query aborted')));
          queried();
        }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const request = get(`http://127.0.0.1:${address.port}/allocation?window=1d`);
    request.on('error', () => {});
    await started;
    expect(signal?.aborted).toBe(false);
    request.destroy();
    await expect.poll(() => signal?.aborted, { timeout: 5000 }).toBe(true);
  });
});
