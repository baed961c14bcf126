// A model for the processor's tests: one row per (tenant, cluster, hour), the sum of its sample
// values, each (series, timestamp) counted once. The cost model plugs into the same port.
import { hourOf } from '../../../core/hours.ts';
import type { HourlyCostModel, SampleCounts } from '../../../processor/cost-model-port.ts';

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
