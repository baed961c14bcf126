// What the processor needs from the cost model (processor/cost-model/), kept narrow so the model
// stays a pure module the processor only drives.
export interface SampleCounts {
  accepted: number;
  duplicate: number;
  ignored: number;
  invalid: number;
  /** Samples before an hour the model already evicted (kept only as a series' previous sample). */
  late?: number;
  /** Samples of new series their tenant may not have (TENANT_MAX_SERIES): dropped. */
  overLimit?: number;
}

export interface HourlyCostModel<Row> {
  /**
   * Adds samples [start, end) of one series (default: all) and adds what became of them to
   * `counts` (default: a new object), which it returns. The processor passes a whole record's
   * columns with each series' range, so nothing is copied per series.
   */
  addHashedSeries(
    tenant: string,
    cluster: string,
    /** The series identity hashed (core/hash.ts): two 32-bit halves. */
    seriesHash: Uint32Array,
    labels: () => Record<string, string>,
    timestamps: Float64Array,
    values: Float64Array,
    stale: Uint8Array,
    start?: number,
    end?: number,
    counts?: SampleCounts,
  ): SampleCounts;
  rows(tenant: string, cluster: string, hour: number): Row[];
  evictBefore(tenant: string, cluster: string, hour: number): void;
  stateBytes(): number;
  /** Series held, by tenant (for TENANT_MAX_SERIES; a model without it counts none). */
  seriesByTenant?(): ReadonlyMap<string, number>;
}

/** Asked by a model before it stores a new series of `tenant`: false drops it (TENANT_MAX_SERIES). */
export type AdmitSeries = (tenant: string) => boolean;
