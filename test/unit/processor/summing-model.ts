// A model for the processor's tests: one row per (tenant, cluster, hour), the sum of its sample
// values, each (series, timestamp) counted once. The cost model plugs into the same port.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { HOUR_MS, hourOf } from '../../../core/hours.ts';
import type { RecordConsumer } from '../../../ingest/record-log.ts';
import type { HourlyCostModel, SampleCounts } from '../../../processor/cost-model-port.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createProcessor, type Processor } from '../../../processor/processor.ts';

export interface SumRow {
  tenant: string;
  cluster: string;
  hour: number;
  sum: number;
}
export interface StoredRow extends SumRow {
  final: boolean;
  version: number;
}

/** Sums values per hour, each (series, timestamp) once; keeps each series' last sample before evicted hours. */
export function summingModel(): HourlyCostModel<SumRow> {
  const samples = new Map<string, Map<string, number>>();
  const floors = new Map<string, number>();
  return {
    addHashedSeries(tenant, cluster, seriesHash, _labels, timestamps, values, stale, start = 0, end = timestamps.length, counts: SampleCounts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0 }): SampleCounts {
      const id = `${tenant}/${cluster}`;
      let m = samples.get(id);
      if (!m) samples.set(id, (m = new Map()));
      for (let i = start; i < end; i++) {
        const k = `${seriesHash[0]}:${seriesHash[1]}@${timestamps[i]}`;
        if (m.has(k)) counts.duplicate++;
        else {
          m.set(k, stale[i] ? 0 : values[i]);
          counts.accepted++;
        }
      }
      return counts;
    },
    rows(tenant, cluster, hour) {
      let sum = 0;
      const entries = [...(samples.get(`${tenant}/${cluster}`) ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [k, v] of entries) if (hourOf(Number(k.split('@')[1])) === hour) sum += v;
      return [{ tenant, cluster, hour, sum }];
    },
    evictBefore(tenant, cluster, hour) {
      floors.set(`${tenant}/${cluster}`, hour);
      const m = samples.get(`${tenant}/${cluster}`);
      if (m) for (const k of [...m.keys()]) if (Number(k.split('@')[1]) < hour) m.delete(k);
    },
    stateBytes: () => 0,
  };
}

/** A processor with the summing model over `consumer`, rows to `stored`, on a clock the test sets. */
export async function startSummingProcessor(consumer: RecordConsumer, options: { now: () => number; stored?: StoredRow[]; registry?: Registry }): Promise<Processor> {
  const stored = options.stored ?? [];
  const processor = createProcessor<SumRow, StoredRow>({
    consumer,
    sink: { write: async (rows) => void stored.push(...rows) },
    createModel: summingModel,
    finishRow: (r, final, version) => ({ ...r, final, version }),
    rules: { graceMs: 5 * 60_000, lateWindowMs: 3 * HOUR_MS, idleFinalizeMs: 30 * 60_000 },
    flushIntervalMs: 3_600_000,
    metrics: createProcessorMetrics(options.registry ?? new Registry()),
    logger: pino({ level: 'silent' }),
    now: options.now,
  });
  await processor.start();
  return processor;
}
