// What FINAL shows after each flush, on the real embedded engine with the real migrations, cost
// model and row sink: the model's current rows and nothing else. Records are delivered by hand
// (a fake consumer), so a test decides exactly what each flush has seen.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/hours.ts';
import { toExpenseRow, type ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import type { PlainSeries } from '../../support/decoded-write-builder.ts';
import { createFakeConsumer, inboundRecord, type FakeConsumer, type StoredCommit } from '../../support/fake-consumer.ts';
import { metricValue } from '../../support/net.ts';

const MIN = 60_000;
/** A whole hour, two hours ago: its rows stay open (provisional) unless a test closes it. */
const H0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
const silent = pino({ level: 'silent' });

let engine: TestEngine;
let database = 'rows';
let n = 0;

beforeAll(async () => {
  engine = await openTestEngine('rows');
});

afterAll(async () => {
  await engine?.close();
});

interface Running {
  consumer: FakeConsumer;
  processor: Processor;
  registry: Registry;
  /** Next offset of partition 0 to deliver. */
  offset: number;
}

/** A processor on a fresh database (or the current one, after a restart: same commits). */
async function startProcessor(commits = new Map<number, StoredCommit>(), fresh = true): Promise<Running> {
  if (fresh) {
    database = `rows_${++n}`;
    await migrate(engine.client, { database });
  }
  const consumer = createFakeConsumer(commits);
  const registry = new Registry();
  const processor = createProcessor<HourlyRow, ExpenseRow>({
    consumer,
    sink: createExpenseSink(engine.client, { database }),
    createModel: () => createCostModel(),
    finishRow: toExpenseRow,
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 10 * HOUR_MS },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(registry),
    logger: silent,
  });
  await processor.start();
  return { consumer, processor, registry, offset: Number(commits.get(0)?.offset ?? 0n) };
}

/** Delivers one record of the given series (tenant acme, cluster prod) and flushes. */
async function feed(r: Running, series: PlainSeries[]): Promise<void> {
  await r.consumer.deliver(0, [inboundRecord(BigInt(r.offset++), series, { tenant: 'acme', cluster: 'prod', timestamp: Date.now() })]);
  await r.processor.flush();
}

const at = (labels: Record<string, string>, minutes: number[], v: number): PlainSeries => ({ labels, samples: minutes.map((m) => ({ t: H0 + m * MIN, v })) });
const minutes = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('stored rows', () => {
  // Regression: a sample of 1e308 overflowed the pod's CPU cost to Infinity, which reached
  // ClickHouse as null and was stored as a cost of 0.
  it('counts a sample whose cost cannot be finite as invalid and stores no cost of 0 for it', async () => {
    const r = await startProcessor();
    const alloc = (pod: string) => ({ __name__: 'container_cpu_allocation', namespace: 'shop', pod, container: 'app', node: 'n1' });
    await feed(r, [
      at({ __name__: 'node_cpu_hourly_cost', node: 'n1' }, minutes(0, 10), 0.04),
      at(alloc('huge'), minutes(0, 10), 1e308),
      at(alloc('web'), minutes(0, 10), 0.5),
    ]);
    const rows = await queryRows<{ pod: string; cpu_cost: number }>(engine.client, `SELECT pod, cpu_cost FROM ${database}.k8s_expenses FINAL ORDER BY pod`);
    expect(rows).toEqual([{ pod: 'web', cpu_cost: expect.closeTo((0.5 * 10 * 0.04) / 60, 12) }]);
    expect(metricValue(await r.registry.metrics(), 'k8s_expenses_processor_samples_total', { result: 'invalid' })).toBe(10);
    await r.processor.close();
  });
});
