// The cost model: Kubecost/OpenCost series in, hourly pod and node cost rows out. Pure: no I/O, no
// clock. The rules every number follows are in RULES.md beside this file.
//
// Usage (one model per processor; hours are independent keys, the caller decides when an hour is
// final and when to evict it):
//   const model = createCostModel({ maxSampleGapMs, defaultScrapeIntervalMs, defaultPrices });
//   const counts = newSampleCounts();
//   for (const series of record) model.addSeries(tenant, cluster, key, () => labels, ts, values, stale, start, end, counts);
//   for (const { tenant, cluster, hourStartMs } of model.hours()) {
//     const { pods, nodes, negativeIdle } = model.hourRows(tenant, cluster, hourStartMs);
//     write('k8s_expenses', pods); write('k8s_node_expenses', nodes);
//   }
//   model.evictBefore(tenant, cluster, oldestOpenHourStartMs);
import { ClusterState } from './cluster-state.ts';
import { evictBefore } from './eviction.ts';
import { collectHour } from './hour-facts.ts';
import { hashString } from '../../core/hash.ts';
import { classify } from './metrics.ts';
import { HOUR_MS } from '../../core/hours.ts';
import { resolveOptions, type ResolvedOptions } from './options.ts';
import { buildHourRows } from './hour-rows.ts';
import { newSampleCounts, type CostModelOptions, type HourKey, type HourlyRow, type HourRows, type LabelsSource, type NodeRow, type NumberColumn, type SampleCounts } from './types.ts';
import { WordArena } from './word-arena.ts';

export type { CostModelOptions, DefaultPrices, Flag, HourKey, HourlyRow, HourRows, LabelsSource, NegativeIdleCounts, NodeRow, NumberColumn, SampleCounts } from './types.ts';
export { newSampleCounts } from './types.ts';
export { CostModelOptionsError, OPENCOST_DEFAULT_PRICES } from './options.ts';
export { UNMOUNTED_POD, CLUSTER_NAMESPACE } from './rows.ts';
export { IDLE_NAMESPACE, isNegativeIdle } from './node-rows.ts';

export interface CostModel {
  /**
   * Adds the samples [start, end) of one series (default: all of them). Each sample is identified by
   * (tenant, cluster, seriesKey, timestamp) and counted at most once; samples may come in any order.
   * @param seriesKey identifies the full label set (e.g. the raw label bytes as a latin1 string)
   * @param labels the series' labels (with `__name__`), or a function giving them: read only when
   *   the series is new to the model
   * @param timestamps milliseconds since the epoch (integers)
   * @param stale non-zero where the sample is a Prometheus stale marker (null: none); NaN values are
   *   treated as stale markers too
   * @param counts added to and returned (default: a new object)
   */
  addSeries(
    tenant: string,
    cluster: string,
    seriesKey: string,
    labels: LabelsSource,
    timestamps: NumberColumn,
    values: NumberColumn,
    stale: NumberColumn | null,
    start?: number,
    end?: number,
    counts?: SampleCounts,
  ): SampleCounts;
  /**
   * addSeries for a series whose identity is already hashed (core/hash.ts: the two 32-bit halves in
   * seriesHash[0] and seriesHash[1]), as the processor hashes label bytes where they lie in a record.
   */
  addHashedSeries(
    tenant: string,
    cluster: string,
    seriesHash: Uint32Array,
    labels: LabelsSource,
    timestamps: NumberColumn,
    values: NumberColumn,
    stale: NumberColumn | null,
    start?: number,
    end?: number,
    counts?: SampleCounts,
  ): SampleCounts;
  /** The (tenant, cluster, hour) keys holding samples, sorted. */
  hours(): HourKey[];
  /**
   * Everything one hour gives, computed from the state: the same samples give bit-identical rows,
   * whatever order they came in. `pods` are the k8s_expenses rows sorted by (namespace, pod),
   * `__idle__` rows included; `nodes` the k8s_node_expenses rows sorted by node; `negativeIdle`
   * counts overcommitted nodes per resource. An evicted hour has no rows.
   */
  hourRows(tenant: string, cluster: string, hourStartMs: number): HourRows;
  /** hourRows(...).pods */
  rows(tenant: string, cluster: string, hourStartMs: number): HourlyRow[];
  /** hourRows(...).nodes */
  nodeRows(tenant: string, cluster: string, hourStartMs: number): NodeRow[];
  /** Drops the samples of hours before `hourStartMs`; rows of later hours do not change. */
  evictBefore(tenant: string, cluster: string, hourStartMs: number): void;
  /** Estimated bytes of state (columns, sample blocks, interned strings). */
  stateBytes(): number;
  /** Series held (all clusters). */
  seriesCount(): number;
  /** Series held, by tenant. */
  seriesByTenant(): Map<string, number>;
}

const KEY_HASH = new Uint32Array(2);

class Model implements CostModel {
  private readonly clusters = new Map<string, Map<string, ClusterState>>();
  private arena = new WordArena();
  private callsSinceCompactCheck = 0;
  private last: ClusterState | undefined;

  constructor(private readonly options: ResolvedOptions) {}

  addSeries(
    tenant: string,
    cluster: string,
    seriesKey: string,
    labels: LabelsSource,
    timestamps: NumberColumn,
    values: NumberColumn,
    stale: NumberColumn | null,
    start = 0,
    end = timestamps.length,
    counts: SampleCounts = newSampleCounts(),
  ): SampleCounts {
    hashString(seriesKey, KEY_HASH);
    return this.addHashedSeries(tenant, cluster, KEY_HASH, labels, timestamps, values, stale, start, end, counts);
  }

  addHashedSeries(
    tenant: string,
    cluster: string,
    seriesHash: Uint32Array,
    labels: LabelsSource,
    timestamps: NumberColumn,
    values: NumberColumn,
    stale: NumberColumn | null,
    start = 0,
    end = timestamps.length,
    counts: SampleCounts = newSampleCounts(),
  ): SampleCounts {
    const n = end - start;
    if (n <= 0) return counts;
    const state = this.state(tenant, cluster, true)!;
    const h1 = seriesHash[0];
    const h2 = seriesHash[1];
    let row = state.table.find(h1, h2);
    if (row < 0) {
      const rejected = state.rejectedKind(h1, h2);
      if (rejected !== undefined) {
        counts[rejected] += n;
        return counts;
      }
      const c = classify(typeof labels === 'function' ? labels() : labels);
      if (typeof c === 'string') {
        state.remember(h1, h2, c);
        counts[c] += n;
        return counts;
      }
      if (this.options.admitSeries?.(tenant) === false) {
        counts.overLimit = (counts.overLimit ?? 0) + n;
        return counts;
      }
      row = state.table.insert(h1, h2, c.kind, c.e, c.a, c.b);
    }
    state.addSamples(row, timestamps, values, stale, start, end, counts);
    // Every 4096 calls. Both parts are evaluated on every call (both are a few loads): a counter
    // reset and a call run only on the 4096th were code the optimised caller had never seen.
    const calls = (this.callsSinceCompactCheck + 1) % 4096;
    this.callsSinceCompactCheck = calls;
    const wasteful = this.arena.wasteful();
    if (calls === 0 && wasteful) this.compact();
    return counts;
  }

  /**
   * Streams grow in steps of a block class; the blocks they leave are reused only by streams of
   * that size, and all series of a cluster grow together. When most of the arena is such blocks,
   * every stream is copied into a fresh arena, each in the smallest block that fits.
   */
  private compact(): void {
    const fresh = new WordArena();
    for (const clusters of this.clusters.values()) for (const state of clusters.values()) state.table.streams.moveTo(fresh);
    this.arena = fresh;
  }

  hours(): HourKey[] {
    const out: HourKey[] = [];
    for (const [tenant, clusters] of this.clusters) {
      for (const [cluster, state] of clusters) {
        for (const hourStartMs of state.hours) out.push({ tenant, cluster, hourStartMs });
      }
    }
    return out.sort((x, y) =>
      x.tenant !== y.tenant ? (x.tenant < y.tenant ? -1 : 1) : x.cluster !== y.cluster ? (x.cluster < y.cluster ? -1 : 1) : x.hourStartMs - y.hourStartMs,
    );
  }

  hourRows(tenant: string, cluster: string, hourStartMs: number): HourRows {
    checkHour(hourStartMs);
    const state = this.state(tenant, cluster, false);
    if (state === undefined || hourStartMs < state.evictedBefore) return { pods: [], nodes: [], negativeIdle: { cpu: 0, ram: 0, gpu: 0 } };
    const facts = collectHour(state, hourStartMs, this.options);
    return buildHourRows(facts, { tenant, cluster, hour: hourStartMs, prices: this.options.prices });
  }

  rows(tenant: string, cluster: string, hourStartMs: number): HourlyRow[] {
    return this.hourRows(tenant, cluster, hourStartMs).pods;
  }

  nodeRows(tenant: string, cluster: string, hourStartMs: number): NodeRow[] {
    return this.hourRows(tenant, cluster, hourStartMs).nodes;
  }

  evictBefore(tenant: string, cluster: string, hourStartMs: number): void {
    checkHour(hourStartMs);
    const state = this.state(tenant, cluster, false);
    if (state === undefined) return;
    evictBefore(state, hourStartMs, this.options.silentSeriesRetentionMs);
    if (this.arena.wasteful()) this.compact();
  }

  stateBytes(): number {
    let bytes = this.arena.bytes();
    for (const clusters of this.clusters.values()) {
      for (const state of clusters.values()) bytes += state.table.bytes() + state.sums.bytes() + state.rejectedBytes() + state.hours.size * 40 + 400;
    }
    return bytes;
  }

  seriesCount(): number {
    let n = 0;
    for (const clusters of this.clusters.values()) for (const state of clusters.values()) n += state.table.size;
    return n;
  }

  seriesByTenant(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [tenant, clusters] of this.clusters) {
      let n = 0;
      for (const state of clusters.values()) n += state.table.size;
      out.set(tenant, n);
    }
    return out;
  }

  private state(tenant: string, cluster: string, create: boolean): ClusterState | undefined {
    const last = this.last;
    if (last !== undefined && last.tenant === tenant && last.cluster === cluster) return last;
    let clusters = this.clusters.get(tenant);
    let state = clusters?.get(cluster);
    if (state === undefined) {
      if (!create) return undefined;
      if (clusters === undefined) {
        clusters = new Map();
        this.clusters.set(tenant, clusters);
      }
      state = new ClusterState(tenant, cluster, this.arena);
      clusters.set(cluster, state);
    }
    this.last = state;
    return state;
  }
}

function checkHour(hourStartMs: number): void {
  if (!Number.isInteger(hourStartMs) || hourStartMs % HOUR_MS !== 0) {
    throw new RangeError(`hourStartMs must be the start of a UTC hour (a multiple of ${HOUR_MS}), got ${hourStartMs}`);
  }
}

/** Creates a cost model; options are validated here (CostModelOptionsError). */
export function createCostModel(options: CostModelOptions = {}): CostModel {
  return new Model(resolveOptions(options));
}
