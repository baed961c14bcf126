// ROLE=query: the read side alone, against a ClickHouse server. No server runs here, so this is the
// role waiting for one: it starts, serves the allocation API on PORT, says in /ready why it is not
// ready, answers reads 503 until the server answers, and runs no receiver, processor or SQL endpoint.
// (The read side against real rows: test/integration/query/*.test.ts, and ROLE=all in
// test/integration/service/allocation-api.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/net.ts';
import { runServiceUntilExit, startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';

describe('ROLE=query', () => {
  let service: ServiceProcess;
  let clickhouse: string;

  beforeAll(async () => {
    clickhouse = `http://127.0.0.1:${await freePort()}`;
    service = await startServiceProcess({ env: { ROLE: 'query', CLICKHOUSE_URL: clickhouse }, waitReady: false });
    await service.waitForLog((l) => /listening on/.test(String(l.msg)), 30_000, 'the start-up line');
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('says in its start-up line that it reads from the server and serves the allocation API', () => {
    const line = service.startupLine()!;
    expect(line).toMatchObject({ role: 'query', transport: 'none (read side only)', clickhouse: `ClickHouse ${clickhouse}/ database default` });
    expect(String(line.msg)).toContain(`allocation API ${service.url}/allocation/compute`);
    expect(line.sql).toBeUndefined();
  });

  it('is alive, and not ready while ClickHouse does not answer, saying why', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    await expect
      .poll(async () => (await (await fetch(`${service.url}/ready`)).json()) as unknown, { timeout: 15_000 })
      .toEqual({ ready: false, checks: [{ name: 'clickhouse', ready: false, reason: expect.stringMatching(/^cannot reach ClickHouse at http:\/\/127\.0\.0\.1:\d+\/ \(CLICKHOUSE_URL\): .*ECONNREFUSED/) }] });
  });

  it('answers reads 503 clickhouse-unavailable meanwhile, and counts them', async () => {
    const res = await fetch(`${service.url}/allocation/compute?window=1d`, { headers: { 'cloud-account-id': 'acme' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ code: 503, error: 'clickhouse-unavailable', message: 'ClickHouse is unavailable or overloaded: retry later' });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/k8s_expenses_query_refused_total\{endpoint="allocation",reason="clickhouse-unavailable"\} 1/);
  });

  it('runs no receiver', async () => {
    const res = await fetch(`${service.url}/api/v1/write`, { method: 'POST', body: 'x', headers: { 'cloud-account-id': 'acme' } });
    expect(res.status).toBe(404);
  });

  it('without CLICKHOUSE_URL stops at once, naming ROLE and CLICKHOUSE_URL (exit code 2)', async () => {
    const result = await runServiceUntilExit({ ROLE: 'query' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ROLE="query": ROLE=query needs CLICKHOUSE_URL/);
  });
});
