// What FINAL shows after each flush, on the real embedded engine with the real migrations, cost
// model and row sink (both tables, wired as the service wires them): the model's current rows and
// nothing else. Records are delivered by hand
// (a fake consumer), so a test decides exactly what each flush has seen.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/hours.ts';
import { costModelRows, costRowDeletion, createCostRowSink, finishCostRow, negativeIdleCounter, type CostRow, type StoredCostRow } from '../../../processor/clickhouse/cost-rows.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { createCostModel } from '../../../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import type { PlainSeries } from '../../support/decoded-write-builder.ts';
import { createFakeConsumer, inboundRecord, type FakeConsumer, type StoredCommit } from '../../support/fake-consumer.ts';
import { metricValue } from '../../support/net.ts';
import { billQuery } from '../../support/node-bill.ts';

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
  const metrics = createProcessorMetrics(registry);
  const processor = createProcessor<CostRow, StoredCostRow>({
    consumer,
    sink: createCostRowSink(engine.client, { database }),
    createModel: () => costModelRows(createCostModel()),
    finishRow: finishCostRow,
    deletion: costRowDeletion,
    onClosedRow: negativeIdleCounter(metrics.negativeIdle),
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 10 * HOUR_MS },
    flushIntervalMs: 3_600_000,
    metrics,
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
    await feed(b, pvSeries()); // b's model has only the __unmounted__ row now, and no node row
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    expect((await latestNodeRows()).map((n) => n.node)).toEqual(['n1']);
    await feed(b, [cpuSeries()]);
    expect(await latestRows()).toEqual([{ pod: 'db-0', pv_cost: expect.closeTo(PV_COST, 12), is_final: 0 }]);
    expect((await latestNodeRows()).map((n) => n.node)).toEqual(['n1']);
    await b.processor.close();
  });
});

describe('stored node rows', () => {
  it('writes one k8s_node_expenses row per node-hour with the version of its pod rows, provisional, then final; pods + idle = node cost', async () => {
    const r = await startProcessor();
    await feed(r, nodeSeries());
    const open = await latestNodeRows();
    expect(open.map((n) => [n.node, n.is_final])).toEqual([['n1', 0], ['n2', 0]]);
    // n1: 4 cores and 16 GiB for 10 minutes at 0.04 $/core-h and 0.005 $/GiB-h; its pod 0.5 cores.
    expect(open[0]).toMatchObject({
      minutes: 10,
      cpu_cores: 4,
      ram_bytes: 16 * 2 ** 30,
      gpu_count: null,
      capacity_missing: 0,
      cpu_cost: expect.closeTo((4 * 10 * 0.04) / 60, 12),
      ram_cost: expect.closeTo((16 * 10 * 0.005) / 60, 12),
      cpu_allocated_cost: expect.closeTo((0.5 * 10 * 0.04) / 60, 12),
      cpu_idle_cost: expect.closeTo((3.5 * 10 * 0.04) / 60, 12),
      ram_idle_cost: expect.closeTo((16 * 10 * 0.005) / 60, 12),
    });
    // n2 is overcommitted: 1 core, pods charged for 2.
    expect(open[1].cpu_idle_cost).toBeCloseTo((-1 * 10 * 0.04) / 60, 12);
    const [pods] = await queryRows<{ version: string }>(engine.client, `SELECT DISTINCT version FROM ${database}.k8s_expenses FINAL`);
    expect(new Set(open.map((n) => n.version))).toEqual(new Set([pods.version]));
    await expectBillIdentity();
    // Not counted while the hour is open.
    expect(metricValue(await r.registry.metrics(), NEGATIVE_IDLE, { resource: 'cpu' })).toBe(0);

    // A sample past the hour's end plus its grace closes it: written final, counted once.
    await feed(r, [at(CAPACITY('n1', 'cpu'), [66], 4)]);
    const closed = (await latestNodeRows()).filter((n) => Number(n.hour) === H0 / 1000);
    expect(closed.map((n) => [n.node, n.is_final])).toEqual([['n1', 1], ['n2', 1]]);
    expect(Number(closed[0].version)).toBeGreaterThan(Number(open[0].version));
    expect(metricValue(await r.registry.metrics(), NEGATIVE_IDLE, { resource: 'cpu' })).toBe(1);
    expect(metricValue(await r.registry.metrics(), NEGATIVE_IDLE, { resource: 'ram' })).toBe(0);
    // A late sample rewrites the closed hour, still final, and is not counted again.
    await feed(r, [at(CAPACITY('n1', 'cpu'), [10], 4)]);
    expect(metricValue(await r.registry.metrics(), NEGATIVE_IDLE, { resource: 'cpu' })).toBe(1);
    await expectBillIdentity();
    // Every write is still stored (no merge yet): FINAL shows each node-hour once.
    const [{ n }] = await queryRows<{ n: string }>(engine.client, `SELECT count() AS n FROM ${database}.k8s_node_expenses WHERE node = 'n1' AND hour = toDateTime(${H0 / 1000}, 'UTC')`);
    expect(Number(n)).toBe(3);
    await r.processor.close();
  });

  it('a replay of the topic into a fresh group writes nothing new: both tables hold the same latest rows, versions included', async () => {
    const first = await startProcessor();
    await feed(first, nodeSeries());
    await feed(first, [at(CAPACITY('n1', 'cpu'), [66], 4)]);
    await first.processor.close();
    const before = await snapshot();
    expect(before.nodes.length).toBe(3); // n1 and n2 in the first hour, n1 in the second

    const replay = await startProcessor(new Map(), false);
    replay.consumer.ends.set(0, 2n);
    await feed(replay, nodeSeries());
    await feed(replay, [at(CAPACITY('n1', 'cpu'), [66], 4)]);
    await replay.processor.close();
    expect(await snapshot()).toEqual(before);
  });
});

const NEGATIVE_IDLE = 'k8s_expenses_processor_negative_idle_node_hours_total';
const GIB = 2 ** 30;
const CAPACITY = (node: string, resource: string) => ({ __name__: 'kube_node_status_capacity', node, resource, unit: resource === 'cpu' ? 'core' : 'byte' });

/** Two nodes for the first 10 minutes of the hour: n1 (4 cores, 16 GiB) runs web-1, n2 (1 core) runs two pods of 1 core. */
function nodeSeries(): PlainSeries[] {
  const alloc = (pod: string, node: string) => ({ __name__: 'container_cpu_allocation', namespace: 'shop', pod, container: 'app', node });
  const span = minutes(0, 10);
  return [
    at(CAPACITY('n1', 'cpu'), span, 4),
    at(CAPACITY('n1', 'memory'), span, 16 * GIB),
    at(CAPACITY('n2', 'cpu'), span, 1),
    at(CAPACITY('n2', 'memory'), span, 4 * GIB),
    ...['n1', 'n2'].map((node) => at({ __name__: 'node_cpu_hourly_cost', node }, span, 0.04)),
    ...['n1', 'n2'].map((node) => at({ __name__: 'node_ram_hourly_cost', node }, span, 0.005)),
    at(alloc('web-1', 'n1'), span, 0.5),
    at(alloc('batch-1', 'n2'), span, 1),
    at(alloc('batch-2', 'n2'), span, 1),
  ];
}

interface NodeHour {
  node: string;
  hour: string;
  is_final: number;
  version: string;
  [column: string]: unknown;
}

function latestNodeRows(): Promise<NodeHour[]> {
  return queryRows<NodeHour>(engine.client, `SELECT *, toUnixTimestamp(hour) AS hour FROM ${database}.k8s_node_expenses FINAL ORDER BY hour, node`);
}

/** For every cluster-hour: the pod rows (with their __idle__ rows) add up to the node rows' cost plus what is not a node's. */
async function expectBillIdentity(): Promise<void> {
  const hours = await queryRows<{ hour: string; rows: number; bill: number }>(engine.client, billQuery(database));
  expect(hours.length).toBeGreaterThan(0);
  for (const h of hours) expect(Math.abs(h.rows - h.bill), `hour ${h.hour}`).toBeLessThanOrEqual(1e-9 * Math.abs(h.rows));
}

/** The latest rows of both tables, every column but the write time. */
async function snapshot(): Promise<{ pods: unknown[]; nodes: unknown[] }> {
  return {
    pods: await queryRows(engine.client, `SELECT * EXCEPT (updated_at) FROM ${database}.k8s_expenses FINAL ORDER BY hour, namespace, pod`),
    nodes: await queryRows(engine.client, `SELECT * EXCEPT (updated_at) FROM ${database}.k8s_node_expenses FINAL ORDER BY hour, node`),
  };
}

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
