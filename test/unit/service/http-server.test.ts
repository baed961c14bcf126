import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpServer, type ReadinessCheck } from '../../../service/http-server.ts';

describe('/ready', () => {
  const ready = async (checks: ReadinessCheck[]) => {
    const app = createHttpServer({ logger: pino({ level: 'silent' }), registry: new Registry(), readiness: () => checks });
    try {
      const res = await app.inject({ method: 'GET', url: '/ready' });
      return { status: res.statusCode, body: res.json() as unknown };
    } finally {
      await app.close();
    }
  };

  it('names why a check is not ready', async () => {
    const reason = 'clickhouse-unknown-table: the table does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE';
    expect(await ready([{ name: 'record-log', isReady: () => true }, { name: 'processor', isReady: () => false, reason: () => reason }])).toEqual({
      status: 503,
      body: { ready: false, checks: [{ name: 'record-log', ready: true }, { name: 'processor', ready: false, reason }] },
    });
  });

  it('gives no reason for a check that is ready, or that has none to give', async () => {
    expect(await ready([{ name: 'processor', isReady: () => true, reason: () => 'stale' }, { name: 'record-log', isReady: () => false }])).toEqual({
      status: 503,
      body: { ready: false, checks: [{ name: 'processor', ready: true }, { name: 'record-log', ready: false }] },
    });
    expect((await ready([{ name: 'processor', isReady: () => true }])).status).toBe(200);
  });
});
