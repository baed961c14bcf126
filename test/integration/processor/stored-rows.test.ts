// What FINAL shows after each flush, on the real embedded engine with the real migrations, cost
// model and row sink: the model's current rows and nothing else. Records are delivered by hand
// (a fake consumer), so a test decides exactly what each flush has seen.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/hours.ts';
import { expenseRowDeletion, toExpenseRow, type ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
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
    deletion: expenseRowDeletion,
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 10 * HOUR_MS },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(registry),
    logger: silent,
  });
  await processor.start();
  return { consumer, processor, registry, offset: Number(commits.get(0)?.offset ?? 0n) };
}

/** Delivers one record of each list of series (tenant acme, cluster prod) in one batch, and flushes. */
async function feed(r: Running, ...records: PlainSeries[][]): Promise<void> {
  await r.consumer.deliver(
    0,
    records.map((series) => inboundRecord(BigInt(r.offset++), series, { tenant: 'acme', cluster: 'prod', timestamp: Date.now() })),
  );
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

  // Regression: a pod's PV samples arrived first and were written as the namespace's
  // __unmounted__ row; its CPU allocation for the same hour came next, and the pod's own row then
  // carried the PV cost while the __unmounted__ row stayed: sum(pv_cost) under FINAL doubled.
  it('deletes a row that a recomputation of its hour no longer has', async () => {
    const r = await startProcessor();
    await feed(r, pvSeries());
    expect(await latestRows()).toEqual([{ pod: '__unmounted__', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    await feed(r, [cpuSeries()]);
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    expect(await pvCostSum()).toBeCloseTo(PV_COST, 12);
    // Every stored version is still there (merges have not run): the deletion is a newer row.
    expect(await queryRows(engine.client, `SELECT count() AS n FROM ${database}.k8s_expenses WHERE pod = '__unmounted__'`)).toEqual([{ n: '2' }]);
    await r.processor.close();
  });

  it('deletes such a row after a restart too, knowing what was stored from the table', async () => {
    const commits = new Map<number, StoredCommit>();
    const a = await startProcessor(commits);
    await feed(a, pvSeries());
    await a.processor.close();
    // The hour is open: nothing was committed past its record, the restart reads it again.
    expect(commits.get(0)?.offset).toBe(0n);

    // The restart reads both records before it writes: its rows never had the __unmounted__ key,
    // which it learns from the table.
    const b = await startProcessor(commits, false);
    b.consumer.ends.set(0, 1n);
    await feed(b, pvSeries(), [cpuSeries()]);
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    await b.processor.close();
  });

  it('lets neither the rows nor the deletions of a replay that has not caught up win over more complete rows', async () => {
    const commits = new Map<number, StoredCommit>();
    const a = await startProcessor(commits);
    await feed(a, pvSeries());
    await feed(a, [cpuSeries()]);
    // Killed: the hour is open, nothing is committed past its first record.

    const b = await startProcessor(commits, false);
    b.consumer.ends.set(0, 2n);
    await feed(b, pvSeries()); // b's model has only the __unmounted__ row now
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    await feed(b, [cpuSeries()]);
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    await b.processor.close();
  });
});

const POD = { namespace: 'shop', pod: 'db-0' };
/** 1 GiB for 10 minutes at 0.0015 $/GiB-h. */
const PV_COST = (10 / 60) * 0.0015;

function pvSeries(): PlainSeries[] {
  return [
    at({ __name__: 'pod_pvc_allocation', ...POD, persistentvolumeclaim: 'data-db-0', persistentvolume: 'pv-1' }, minutes(0, 10), 2 ** 30),
    at({ __name__: 'pv_hourly_cost', persistentvolume: 'pv-1' }, minutes(0, 10), 0.0015),
  ];
}

function cpuSeries(): PlainSeries {
  return at({ __name__: 'container_cpu_allocation', ...POD, container: 'db', node: 'n1' }, minutes(0, 10), 0.25);
}

/** The latest rows of the hour, as FINAL shows them. */
function latestRows() {
  return queryRows<{ pod: string; pv_cost: number; is_final: number }>(engine.client, `SELECT pod, pv_cost, is_final FROM ${database}.k8s_expenses FINAL ORDER BY pod`);
}

async function pvCostSum(): Promise<number> {
  const [{ pv }] = await queryRows<{ pv: number }>(engine.client, `SELECT sum(pv_cost) AS pv FROM ${database}.k8s_expenses FINAL`);
  return pv;
}
