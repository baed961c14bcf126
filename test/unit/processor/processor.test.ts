// The processor's hour lifecycle, commits and restarts, on the real embedded log. The model here
// only sums sample values per hour (the cost model plugs into the same port); rows go to memory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer } from '../../../ingest/embedded/embedded-transport.ts';
import { decodeRecord } from '../../../ingest/record-format.ts';
import { encodeRecords } from '../../../ingest/record-encode.ts';
import type { HourlyCostModel } from '../../../processor/cost-model-port.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { HOUR_MS } from '../../../core/hours.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';
import { metricValue } from '../../support/net.ts';
import { summingModel, type StoredRow, type SumRow } from './summing-model.ts';

const silent = pino({ level: 'silent' });
const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;

async function setup(dir: string, sink: StoredRow[], clock: { now: number }, failing = { on: false }, createModel = summingModel) {
  const log = await openEmbeddedLog({ dir, segmentBytes: 4096, logger: silent });
  const registry = new Registry();
  const processor = createProcessor<SumRow, StoredRow>({
    consumer: createEmbeddedConsumer(log, 'g', silent),
    sink: {
      async write(rows) {
        if (failing.on) throw new Error('ClickHouse is down');
        sink.push(...rows);
      },
    },
    createModel,
    finishRow: (r, final, version) => ({ ...r, final, version }),
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 30 * MIN },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(registry),
    logger: silent,
    retryDelayMs: 5,
    maxRetryDelayMs: 20,
    now: () => clock.now,
  });
  await processor.start();
  reading.set(processor, { registry, from: log.committed('g')?.offset ?? 0n });
  return { log, processor, registry };
}

/** Per processor: its metrics and the offset it started reading from, for settle(). */
const reading = new WeakMap<Processor, { registry: Registry; from: bigint }>();

async function append(log: EmbeddedLog, arrival: number, series: PlainSeries[], cluster = 'c1') {
  const d = buildDecodedWrite(series);
  const values = encodeRecords(d, series.map((_, i) => i), 1 << 20);
  await log.append(values.map((value) => ({ timestamp: arrival, tenant: 't1', cluster, value })));
}

async function settle(processor: Processor, log: EmbeddedLog) {
  // Let the consumer loop read everything appended (on a loaded machine that can take a while), then flush.
  const { registry, from } = reading.get(processor)!;
  for (let i = 0; i < 500; i++) {
    const read = metricValue(await registry.metrics(), 'k8s_expenses_processor_records_total');
    if (BigInt(read) >= log.end - from) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await processor.flush();
}

const series = (t: number, v: number, pod = 'p1'): PlainSeries => ({ labels: { __name__: 'm', pod }, samples: [{ t, v }] });
const latest = (rows: StoredRow[]) => {
  const by = new Map<string, StoredRow>();
  for (const r of rows) {
    const k = `${r.tenant}/${r.cluster}/${r.hour}`;
    const prev = by.get(k);
    if (!prev || r.version > prev.version) by.set(k, r);
  }
  return [...by.values()].sort((a, b) => a.hour - b.hour).map((r) => ({ hour: (r.hour - H0) / HOUR_MS, sum: r.sum, final: r.final }));
};

describe('processor', () => {
  it('writes provisional rows, then final ones once the watermark passes the hour end plus the grace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 + 10 * MIN };
    const { log, processor } = await setup(dir, rows, clock);
    await append(log, clock.now, [series(H0 + MIN, 1), series(H0 + 2 * MIN, 2)]);
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 3, final: false }]);
    // Inside the grace period: still provisional.
    await append(log, clock.now, [series(H0 + HOUR_MS + 4 * MIN, 10)]);
    await settle(processor, log);
    expect(latest(rows)).toEqual([
      { hour: 0, sum: 3, final: false },
      { hour: 1, sum: 10, final: false },
    ]);
    await append(log, clock.now, [series(H0 + HOUR_MS + 6 * MIN, 20)]);
    await settle(processor, log);
    expect(latest(rows)).toEqual([
      { hour: 0, sum: 3, final: true },
      { hour: 1, sum: 30, final: false },
    ]);
    await processor.close();
    await log.close();
  });

  it('takes late samples within the late window, drops and counts later ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 };
    const { log, processor, registry } = await setup(dir, rows, clock);
    await append(log, clock.now, [series(H0 + MIN, 1), series(H0 + 2 * HOUR_MS, 5)]);
    await settle(processor, log);
    await append(log, clock.now, [series(H0 + 30 * MIN, 100, 'late')]); // hour 0 is closed, within 3 h
    await settle(processor, log);
    expect(latest(rows)[0]).toEqual({ hour: 0, sum: 101, final: true });
    await append(log, clock.now, [series(H0 + 4 * HOUR_MS + 10 * MIN, 7)]); // hour 0 settles now
    await settle(processor, log);
    await append(log, clock.now, [series(H0 + 40 * MIN, 1000, 'too-late')]);
    await settle(processor, log);
    expect(latest(rows)[0]).toEqual({ hour: 0, sum: 101, final: true });
    expect(await registry.metrics()).toMatch(/k8s_expenses_processor_samples_total\{result="too_late"\} 1/);
    await processor.close();
    await log.close();
  });

  it('commits only settled records and rebuilds the same rows after a restart, never rewriting settled hours', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const clock = { now: H0 };
    const uninterrupted: StoredRow[] = [];
    const first: StoredRow[] = [];
    // Eight hours of data in two deliveries; the first processor stops halfway.
    const batches: PlainSeries[][] = [];
    for (let h = 0; h < 8; h++) batches.push([series(H0 + h * HOUR_MS + 5 * MIN, h + 1), series(H0 + h * HOUR_MS + 35 * MIN, 10 * (h + 1))]);

    const a = await setup(dir, first, clock);
    for (const b of batches.slice(0, 5)) await append(a.log, clock.now, b);
    await settle(a.processor, a.log);
    const committed = a.log.committed('g');
    expect(committed).toBeDefined();
    expect(JSON.parse(committed!.metadata)).toEqual({ v: 1, floor: H0 + HOUR_MS }); // hour 0 settled at watermark 4:35
    await a.processor.close();
    await a.log.close();

    // Versions come from the offsets read, not from the clock (which moves on across a restart here).
    clock.now += 1000;
    const second: StoredRow[] = [];
    const b = await setup(dir, second, clock);
    for (const batch of batches.slice(5)) await append(b.log, clock.now, batch);
    await settle(b.processor, b.log);
    // Settled hour 0 is never written again; the rest matches an uninterrupted run.
    expect(second.some((r) => r.hour === H0)).toBe(false);
    await b.processor.close();
    await b.log.close();

    const dir2 = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const c = await setup(dir2, uninterrupted, clock);
    for (const batch of batches) await append(c.log, clock.now, batch);
    await settle(c.processor, c.log);
    await c.processor.close();
    await c.log.close();
    expect(latest([...first, ...second])).toEqual(latest(uninterrupted));
  });

  // Regression: the floor went into the commit metadata only when the committed offset moved. When
  // an hour settled while the offset stayed (an older run of records still fed a newer hour), the
  // stored floor stayed behind, and a restart rebuilt the settled hour from the log, taking in a
  // sample this process had dropped as too late for it.
  it('stores the new floor when hours settle but the offset stays, so a restart keeps settled hours', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const clock = { now: H0 };
    const first: StoredRow[] = [];
    const a = await setup(dir, first, clock);
    await append(a.log, clock.now, [series(H0 + 10 * MIN, 1)]); // offset 0
    await append(a.log, clock.now, [series(H0 + 5 * HOUR_MS + 10 * MIN, 10)]); // offset 1: hour 0 settles
    await settle(a.processor, a.log);
    // Floor hour 5; the cluster itself has settled only hour 0, hours 1 to 4 are open to it (no samples).
    expect(a.log.committed('g')).toEqual({ offset: 1n, metadata: JSON.stringify({ v: 1, floor: H0 + 5 * HOUR_MS, clusters: { 't1\u0000c1': H0 + HOUR_MS } }) });
    await append(a.log, clock.now, [series(H0 + 6 * HOUR_MS + 10 * MIN, 100)]); // offset 2
    await append(a.log, clock.now, [series(H0 + 5 * HOUR_MS + 20 * MIN, 20, 'p2')]); // offset 3: late, within the window
    await append(a.log, clock.now, [series(H0 + 9 * HOUR_MS + 10 * MIN, 1000)]); // offset 4: hour 5 settles
    await settle(a.processor, a.log);
    // Record 1 still feeds hour 5, the context of hour 6: the offset stays, the floor moves on.
    expect(a.log.committed('g')).toEqual({ offset: 1n, metadata: JSON.stringify({ v: 1, floor: H0 + 6 * HOUR_MS }) });
    await append(a.log, clock.now, [series(H0 + 5 * HOUR_MS + 30 * MIN, 5000, 'p3')]); // offset 5: too late for hour 5
    await settle(a.processor, a.log);
    expect(latest(first).find((r) => r.hour === 5)).toEqual({ hour: 5, sum: 30, final: true });
    // Killed here: nothing more is stored or committed.
    await a.log.close();

    clock.now += 1000;
    const second: StoredRow[] = [];
    const b = await setup(dir, second, clock);
    await settle(b.processor, b.log);
    expect(second.some((r) => r.hour === H0 + 5 * HOUR_MS)).toBe(false);
    expect(latest([...first, ...second]).find((r) => r.hour === 5)).toEqual({ hour: 5, sum: 30, final: true });
    await b.processor.close();
    await b.log.close();
  });

  it('skips a record it cannot decode, naming its offset, and goes on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 };
    const { log, processor, registry } = await setup(dir, rows, clock);
    await log.append([{ timestamp: H0, tenant: 't1', cluster: 'c1', value: Buffer.from([1, 200, 1, 2]) }]);
    await append(log, clock.now, [series(H0 + MIN, 4)]);
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 4, final: false }]);
    expect(await registry.metrics()).toMatch(/k8s_expenses_processor_poison_records_total\{reason="RecordFormatError"\} 1/);
    await processor.close();
    await log.close();
  });

  // Regression: the commit stored one floor per partition, the oldest open hour of any of its
  // clusters. A cluster further on was rebuilt from that floor after a restart, and took samples
  // for its settled hours that this process had dropped as too late, rewriting those hours.
  it('stores the floor of each cluster, so a restart keeps the settled hours of a cluster further on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const clock = { now: H0 };
    const first: StoredRow[] = [];
    const a = await setup(dir, first, clock);
    await append(a.log, clock.now, [series(H0 + 10 * MIN, 1)], 'slow'); // its hour 0 stays open
    for (let h = 0; h <= 5; h++) await append(a.log, clock.now, [series(H0 + h * HOUR_MS + 10 * MIN, 10 ** h)], 'fast');
    await settle(a.processor, a.log);
    // "fast" has settled hours 0 and 1 (its newest sample, 5:10, is past 1:00 + 1 h + grace + 3 h).
    expect(JSON.parse(a.log.committed('g')!.metadata)).toEqual({ v: 1, floor: H0, clusters: { 't1\u0000fast': H0 + 2 * HOUR_MS } });
    await append(a.log, clock.now, [series(H0 + HOUR_MS + 30 * MIN, 7, 'late')], 'fast'); // too late for its hour 1
    await settle(a.processor, a.log);
    const hour1 = (rows: StoredRow[]) => latest(rows.filter((r) => r.cluster === 'fast')).find((r) => r.hour === 1);
    expect(hour1(first)).toEqual({ hour: 1, sum: 10, final: true });
    await a.log.close(); // killed

    clock.now += 1000;
    const second: StoredRow[] = [];
    const b = await setup(dir, second, clock);
    await settle(b.processor, b.log);
    expect(second.filter((r) => r.cluster === 'fast' && r.hour < H0 + 2 * HOUR_MS)).toEqual([]);
    expect(hour1([...first, ...second])).toEqual({ hour: 1, sum: 10, final: true });
    await b.processor.close();
    await b.log.close();
  });

  // Regression: a record whose labels block of a later series is malformed fails only when the
  // model reads those labels, after its earlier series were added. It was then noted as feeding no
  // hour, so its offset could be committed while the hour its earlier series fed was still open,
  // and a restart lost those samples.
  it('keeps a record that failed half-way uncommitted while the hours it fed are open', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 };
    // A model that reads the labels of every new series, as the cost model does.
    const readingLabels = (): HourlyCostModel<SumRow> => {
      const model = summingModel();
      const seen = new Set<string>();
      return {
        ...model,
        addHashedSeries(tenant, cluster, hash, labels, ...rest) {
          const key = `${hash[0]}:${hash[1]}`;
          if (!seen.has(key)) labels();
          seen.add(key);
          return model.addHashedSeries(tenant, cluster, hash, labels, ...rest);
        },
      };
    };
    const { log, processor, registry } = await setup(dir, rows, clock, { on: false }, readingLabels);
    const series2 = [series(H0 + MIN, 4, 'good'), series(H0 + MIN, 8, 'broken')];
    const value = encodeRecords(buildDecodedWrite(series2), [0, 1], 1 << 20)[0];
    // The second series' first label name length now claims more bytes than its block holds.
    value[decodeRecord(value).labelsStart[1]] = 0x7f;
    await log.append([{ timestamp: clock.now, tenant: 't1', cluster: 'c1', value }]); // offset 0
    await append(log, clock.now, [series(H0 + 2 * MIN, 1, 'other')]); // offset 1
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 5, final: false }]);
    expect(await registry.metrics()).toMatch(/k8s_expenses_processor_poison_records_total\{reason="RecordFormatError"\} 1/);
    // Hour 0 is open and record 0 fed it: nothing is committed past it.
    expect(log.committed('g')?.offset).toBe(0n);
    await processor.close();
    await log.close();
  });

  it('retries while the sink is down, commits nothing meanwhile, and loses nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 };
    const failing = { on: true };
    const { log, processor } = await setup(dir, rows, clock, failing);
    await append(log, clock.now, [series(H0 + MIN, 4), series(H0 + 5 * HOUR_MS, 1)]);
    const flushing = settle(processor, log);
    await expect.poll(() => processor.isReady(), { timeout: 10_000 }).toBe(false);
    expect(log.committed('g')).toBeUndefined();
    failing.on = false;
    await flushing;
    expect(processor.isReady()).toBe(true);
    expect(latest(rows).map((r) => r.sum)).toEqual([4, 1]);
    expect(log.committed('g')).toBeDefined();
    await processor.close();
    await log.close();
  });

  it('marks the hours of a cluster that went silent final by wall clock, with the same content', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 + 10 * MIN };
    const { log, processor } = await setup(dir, rows, clock);
    await append(log, clock.now, [series(H0 + MIN, 2), series(H0 + 9 * MIN, 3)]);
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 5, final: false }]);
    clock.now += 31 * MIN;
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 5, final: true }]);
    await processor.close();
    await log.close();
  });

  // Regression: an hour's "written final" mark was only ever set. An hour closed by silence that a
  // late sample reopened was rewritten provisional, and stayed provisional for good: it looked
  // written final already, so closing it again wrote nothing.
  it('closes again an hour that a sample reopened after it closed by silence', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-'));
    const rows: StoredRow[] = [];
    const clock = { now: H0 + 10 * MIN };
    const { log, processor } = await setup(dir, rows, clock);
    await append(log, clock.now, [series(H0 + MIN, 2)]);
    await settle(processor, log);
    clock.now += 31 * MIN;
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 2, final: true }]);
    await append(log, clock.now, [series(H0 + 5 * MIN, 3)]); // the cluster is back, with a sample of the hour
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 5, final: false }]);
    clock.now += 31 * MIN;
    await settle(processor, log);
    expect(latest(rows)).toEqual([{ hour: 0, sum: 5, final: true }]);
    await processor.close();
    await log.close();
  });
});

type CostRow = HourlyRow & { version: number; is_final: boolean };

/** A processor with the cost model on a fresh embedded log; rows go to `stored`. */
async function costModelSetup(clock: { now: number }) {
  const log = await openEmbeddedLog({ dir: mkdtempSync(path.join(tmpdir(), 'proc-')), segmentBytes: 1 << 20, logger: silent });
  const stored: CostRow[] = [];
  const registry = new Registry();
  const processor = createProcessor<HourlyRow, CostRow>({
    consumer: createEmbeddedConsumer(log, 'g', silent),
    sink: { write: async (rows) => void stored.push(...rows) },
    createModel: () => createCostModel(),
    finishRow: (r, final, version) => ({ ...r, version, is_final: final }),
    rules: { graceMs: 5 * MIN, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 30 * MIN },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(registry),
    logger: silent,
    now: () => clock.now,
  });
  await processor.start();
  reading.set(processor, { registry, from: 0n });
  return { log, processor, stored, registry };
}

describe('processor with the cost model', () => {
  // Regression: a pod that started in the last scrape interval of an hour has one sample there,
  // which stands for the interval to its next sample, in the next hour. The hour's rows were
  // written before that sample arrived and not rewritten after it, so they depended on whether a
  // flush happened in between (and a replay gave other totals than the live run).
  it('rewrites the hour before when a sample gives the first sample of a series its interval', async () => {
    const clock = { now: H0 + 2 * HOUR_MS };
    const { log, processor, stored } = await costModelSetup(clock);
    const labels = { __name__: 'container_cpu_allocation', namespace: 'batch', pod: 'report-1', container: 'report', node: 'n1' };
    /** Core-seconds of the pod in the latest row of the hour, and whether that row is final. */
    const latest = (hour: number) => {
      const row = stored.filter((r) => r.hour === hour && r.pod === 'report-1').sort((a, b) => b.version - a.version)[0];
      return { coreSeconds: Math.round(row.cpu_core_hours * 3_600_000) / 1000, final: row.is_final };
    };
    const other = { ...labels, pod: 'web-1' };

    // The pod's first sample at 59:30: alone, it stands for the default scrape interval (60 s).
    // Another pod's sample at 1:06 closes hour 0 (its end plus the 5 min grace).
    await append(log, clock.now, [{ labels, samples: [{ t: H0 + 59 * MIN + 30_000, v: 1 }] }]);
    await append(log, clock.now, [{ labels: other, samples: [{ t: H0 + HOUR_MS + 6 * MIN, v: 1 }] }]);
    await settle(processor, log);
    expect(latest(H0)).toEqual({ coreSeconds: 60, final: true });
    // Its next sample at 1:00:25, delivered late, gives it its real interval, 55 s: hour 0 is written again.
    await append(log, clock.now, [{ labels, samples: [{ t: H0 + HOUR_MS + 25_000, v: 1 }] }]);
    await settle(processor, log);
    expect(latest(H0)).toEqual({ coreSeconds: 55, final: true });
    await processor.close();
    await log.close();
  });

  // Regression: a sender resent a request of an hour that had closed by silence. Its presence
  // samples (owners) were counted as accepted, so the hour looked changed and was rewritten as
  // provisional: a resend changes nothing and must not reopen an hour.
  it('leaves an hour closed by silence alone when a request of it is sent again', async () => {
    const clock = { now: H0 + 10 * MIN };
    const { log, processor, stored, registry } = await costModelSetup(clock);
    const pod = { namespace: 'shop', pod: 'web-1' };
    const request: PlainSeries[] = [
      { labels: { __name__: 'container_cpu_allocation', ...pod, container: 'web', node: 'n1' }, samples: [] },
      { labels: { __name__: 'kube_pod_owner', ...pod, owner_kind: 'StatefulSet', owner_name: 'web' }, samples: [] },
      { labels: { __name__: 'kube_pod_labels', ...pod, label_team: 'a' }, samples: [] },
    ];
    for (const s of request) for (let m = 0; m < 5; m++) s.samples.push({ t: H0 + m * MIN, v: 1 });
    await append(log, clock.now, request);
    await settle(processor, log);
    clock.now += 31 * MIN;
    await settle(processor, log);
    const written = stored.length;
    expect(stored.at(-1)).toMatchObject({ pod: 'web-1', workload: 'web', is_final: true });

    await append(log, clock.now, request);
    await settle(processor, log);
    expect(stored.length).toBe(written);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_samples_total', { result: 'accepted' })).toBe(15);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_samples_total', { result: 'duplicate' })).toBe(15);
    await processor.close();
    await log.close();
  });
});
