// A user's query never holds up ingest: with as many long queries running as the embedded engine
// allows, remote writes are still acknowledged and the processor still stores their rows; one query
// more is refused (503). The compiled service, in its default mode (embedded log, embedded engine),
// started without UV_THREADPOOL_SIZE: Node's 4 worker threads, of which reads may hold 2.
//
// Regression: the SQL endpoint ran users' queries on the processor's own connection to the engine,
// which runs one query at a time: a 10 s query delayed the processor's flush by 7 s.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, metricsText, pastTraffic, sendAll, sendRequest, sqlUrl, tempDataDir, waitProcessed } from '../../support/embedded.ts';
import { sqlHeaders } from '../../support/env.ts';
import { metricValue } from '../../support/net.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';

/** A seven-way cross join of the table's few dozen rows: billions of combinations, far longer than the test. */
const ENDLESS = `SELECT sum(cityHash64(${'abcdefg'.split('').map((t) => `${t}.pod`).join(', ')})) FROM ${'abcdefg'.split('').map((t) => `k8s_expenses AS ${t}`).join(', ')}`;

describe('long reads and ingest, embedded', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = tempDataDir('read-isolation');
    service = await startServiceProcess({ env: embeddedEnv(dataDir, { QUERY_TIMEOUT: '600s', QUERY_CONCURRENCY: '4' }), readyTimeoutMs: 120_000 });
    const first = pastTraffic({ hours: 0.5, tenants: 2, series: 60, seed: 3 });
    await sendAll(service.url, first);
    await waitProcessed(service.url, first.length);
  });

  afterAll(async () => {
    await service?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says at start that the engine runs 2 reads at once with 4 worker threads', () => {
    const line = service.logs.find((l) => /reads at once, not QUERY_CONCURRENCY=4/.test(String(l.msg)));
    expect(line).toMatchObject({ slots: 2, UV_THREADPOOL_SIZE: 4 });
  });

  it('acknowledges remote writes and stores their rows while the engine runs as many long queries as it takes', async () => {
    const sql = sqlUrl(service);
    const stop = new AbortController();
    let answered = 0;
    const reads = [0, 1].map(() =>
      fetch(`${sql}/query`, { method: 'POST', body: ENDLESS, headers: sqlHeaders(), signal: stop.signal })
        .then((res) => res.text())
        .catch(() => undefined)
        .finally(() => answered++),
    );
    try {
      await expect.poll(async () => metricValue(await metricsText(service.url), 'k8s_expenses_query_running'), { timeout: 30_000 }).toBe(2);

      const refused = await fetch(`${sql}/query`, { method: 'POST', body: 'SELECT 1', headers: sqlHeaders() });
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1']);
      expect(await refused.json()).toMatchObject({ error: 'too-many-queries', message: expect.stringMatching(/^2 \(QUERY_CONCURRENCY=4, fewer on the embedded engine/) });

      const rowsBefore = metricValue(await metricsText(service.url), 'k8s_expenses_processor_rows_written_total');
      const recordsBefore = metricValue(await metricsText(service.url), 'k8s_expenses_processor_records_total');
      const more = pastTraffic({ hours: 0.25, tenants: 1, series: 60, seed: 4, tenantNames: ['written-meanwhile'] });
      for (const request of more) expect((await sendRequest(service.url, request)).status).toBe(204);
      await waitProcessed(service.url, recordsBefore + more.length);
      expect(metricValue(await metricsText(service.url), 'k8s_expenses_processor_rows_written_total')).toBeGreaterThan(rowsBefore);

      // All of it while both queries still ran.
      expect(answered).toBe(0);
      expect(metricValue(await metricsText(service.url), 'k8s_expenses_query_running')).toBe(2);
    } finally {
      stop.abort();
      await Promise.all(reads);
    }
    // Stopped in the engine when their clients went away: the slots are free again.
    await expect.poll(async () => metricValue(await metricsText(service.url), 'k8s_expenses_query_running'), { timeout: 30_000 }).toBe(0);
    const after = await fetch(`${sql}/query?format=CSV`, { method: 'POST', body: "SELECT count() FROM k8s_expenses WHERE tenant_id = 'written-meanwhile'", headers: sqlHeaders() });
    expect(after.status).toBe(200);
    expect(Number(await after.text())).toBeGreaterThan(0);
  });
});
