// A permanent ClickHouse failure on the write path, with the real embedded engine and the real
// embedded log: the table goes away under a processor that is writing. Its flushes then fail with
// `clickhouse-unknown-table`; nothing is committed, /ready is false and names the code, the
// failures are counted under it and logged once with what to do. Once the migrations re-create the
// table, the processor recovers by itself and every row is there: nothing was lost or skipped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS as HOUR } from '../../../core/hours.ts';
import { openEmbeddedLog, type EmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer } from '../../../ingest/embedded/embedded-transport.ts';
import { decodeRecord, seriesKey, seriesLabels } from '../../../ingest/record-format.ts';
import { encodeRecords } from '../../../ingest/record-encode.ts';
import { toExpenseRow, type ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';
import { createHttpServer } from '../../../service/http-server.ts';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';
import { metricValue } from '../../support/net.ts';
import { waitFor } from '../../support/service.ts';

const MIN = 60_000;
const GIB = 2 ** 30;
const DATABASE = 'k8s';
const CODE = 'clickhouse-unknown-table';
/** Three past hours, so every hour closes and settles by event time. */
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;

/** One node with prices and two pods on it, scraped at `t`. */
function scrape(t: number): PlainSeries[] {
  const s = (labels: Record<string, string>, v: number): PlainSeries => ({ labels, samples: [{ t, v }] });
  return [
    s({ __name__: 'node_cpu_hourly_cost', node: 'n1' }, 0.04),
    s({ __name__: 'node_ram_hourly_cost', node: 'n1' }, 0.005),
    ...['api-0', 'api-1'].flatMap((pod) => [
      s({ __name__: 'container_cpu_allocation', namespace: 'app', pod, container: 'api', node: 'n1' }, 0.5 + (t % 7) / 10),
      s({ __name__: 'container_memory_allocation_bytes', namespace: 'app', pod, container: 'api', node: 'n1' }, GIB),
    ]),
  ];
}

interface LogLine {
  level: number;
  msg: string;
  code?: string;
}

describe('a permanent write failure: the table is dropped under the processor', () => {
  let engine: TestEngine;
  let logDir: string;
  let log: EmbeddedLog;
  let processor: Processor;
  const registry = new Registry();
  const lines: LogLine[] = [];
  const appended: Buffer[] = [];
  const app = createHttpServer({
    logger: pino({ level: 'silent' }),
    registry,
    readiness: () => [{ name: 'processor', isReady: () => processor.isReady(), reason: () => processor.notReadyReason() }],
  });

  const append = async (fromMinute: number, toMinute: number): Promise<void> => {
    for (let m = fromMinute; m < toMinute; m++) {
      const series = scrape(H0 + m * MIN);
      const [value] = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 1 << 20);
      appended.push(value);
      await log.append([{ timestamp: Date.now(), tenant: 'acme', cluster: 'prod', value }]);
    }
  };
  const failures = async () => metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total', { code: CODE });
  const ready = async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    return { status: res.statusCode, body: res.json() as { ready: boolean; checks: { name: string; ready: boolean; reason?: string }[] } };
  };

  beforeAll(async () => {
    engine = await openTestEngine(DATABASE);
    await migrate(engine.client, { database: DATABASE });
    logDir = await mkdtemp(path.join(tmpdir(), 'k8s-expenses-permanent-'));
    log = await openEmbeddedLog({ dir: logDir, segmentBytes: 1 << 20, logger: pino({ level: 'silent' }) });
    processor = createProcessor<HourlyRow, ExpenseRow>({
      consumer: createEmbeddedConsumer(log, 'g', pino({ level: 'silent' })),
      sink: createExpenseSink(engine.client, { database: DATABASE }),
      createModel: () => createCostModel(),
      finishRow: toExpenseRow,
      // Hours close 1 min after their end and settle 10 min later (event time).
      rules: { graceMs: MIN, lateWindowMs: 10 * MIN, idleFinalizeMs: 10 * HOUR },
      flushIntervalMs: 200,
      metrics: createProcessorMetrics(registry),
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }),
      retryDelayMs: 50,
      maxRetryDelayMs: 300,
    });
    await processor.start();
  });

  afterAll(async () => {
    await processor?.close();
    await log?.close();
    await app.close();
    await engine?.close();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  it('fails with its code, commits nothing, is not ready and says why, then recovers once the table is back, losing nothing', async () => {
    // Writing: the first half of hour 0 is stored (provisional).
    await append(0, 30);
    await waitFor(async () => (await queryRows(engine.client, `SELECT 1 FROM ${DATABASE}.k8s_expenses LIMIT 1`)).length > 0, 30_000, 'the first rows');
    await waitFor(() => log.committed('g') !== undefined, 30_000, 'the first commit');
    const committedBefore = log.committed('g');
    expect((await ready()).status).toBe(200);

    // The tables go away. The migrations record what they applied, so the record goes too (as with
    // a fresh database): otherwise running them would not re-create the table.
    for (const table of ['k8s_expenses_final', 'k8s_expenses', 'schema_migrations']) await engine.client.command({ query: `DROP TABLE ${DATABASE}.${table}` });
    // The rest of hour 0, hour 1 and part of hour 2: hours 0 and 1 close and would settle.
    await append(30, 2 * 60 + 20);
    await waitFor(async () => (await failures()) >= 3, 30_000, 'several failed writes');

    const { status, body } = await ready();
    expect(status).toBe(503);
    expect(body.checks).toEqual([{ name: 'processor', ready: false, reason: expect.stringMatching(/^clickhouse-unknown-table: the table does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE/) }]);
    expect(log.committed('g')).toEqual(committedBefore);
    const logged = lines.filter((l) => l.level === 50 && l.code === CODE);
    expect(logged).toHaveLength(1);
    expect(logged[0].msg).toContain('run `npm run migrate`, or check CLICKHOUSE_DATABASE');
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total')).toBe(await failures());

    // The operator's fix: the migrations run again. Nothing else is done to the processor.
    await migrate(engine.client, { database: DATABASE });
    await waitFor(async () => (await ready()).status === 200, 30_000, 'the processor to be ready again');
    expect(lines.filter((l) => l.level === 50 && l.code === CODE)).toHaveLength(1);
    expect(lines.some((l) => l.msg === 'ClickHouse writes succeed again')).toBe(true);

    // Every hour was touched after the drop, so every row of every hour is stored again, equal to
    // what the cost model makes of all the records.
    const expected = referenceRows(appended);
    expect(expected.size).toBe(2 * 3);
    await waitFor(async () => {
      const stored = await storedRows(engine);
      return stored.size === expected.size && [...expected].every(([key, total]) => Math.abs((stored.get(key) ?? NaN) - total) <= 1e-9 * total);
    }, 30_000, 'every row to be stored');
    await waitFor(() => (log.committed('g')?.offset ?? 0n) > (committedBefore?.offset ?? 0n), 30_000, 'a commit past the settled hours');
  });
});

/** total_cost per (hour, pod) of the latest rows. */
async function storedRows(engine: TestEngine): Promise<Map<string, number>> {
  const rows = await queryRows<{ hour: string | number; pod: string; total_cost: number }>(
    engine.client,
    `SELECT toUnixTimestamp(hour) * 1000 AS hour, pod, total_cost FROM ${DATABASE}.k8s_expenses FINAL`,
  );
  return new Map(rows.map((r) => [`${Number(r.hour)}/${r.pod}`, r.total_cost]));
}

/** What the cost model computes from the records, without the processor or ClickHouse. */
function referenceRows(values: readonly Buffer[]): Map<string, number> {
  const model = createCostModel();
  for (const value of values) {
    const rec = decodeRecord(value);
    for (let s = 0; s < rec.seriesCount; s++) {
      const from = rec.sampleStart[s];
      const to = rec.sampleStart[s + 1];
      model.addSeries('acme', 'prod', seriesKey(rec, s), () => seriesLabels(rec, s), rec.timestamps.subarray(from, to), rec.values.subarray(from, to), rec.stale.subarray(from, to));
    }
  }
  const out = new Map<string, number>();
  for (const { tenant, cluster, hourStartMs } of model.hours()) {
    for (const row of model.rows(tenant, cluster, hourStartMs)) out.set(`${row.hour}/${row.pod}`, row.total_cost);
  }
  return out;
}
