// What the processor needs from the cost model (processor/cost-model/), kept narrow so the model
// stays a pure module the processor only drives.
export interface SampleCounts {
  accepted: number;
  duplicate: number;
  ignored: number;
  invalid: number;
}

export interface HourlyCostModel<Row> {
  addSeries(
    tenant: string,
    cluster: string,
    seriesKey: string,
    labels: () => Record<string, string>,
    timestamps: Float64Array,
    values: Float64Array,
    stale: Uint8Array,
  ): SampleCounts;
  rows(tenant: string, cluster: string, hour: number): Row[];
  evictBefore(tenant: string, cluster: string, hour: number): void;
  stateBytes(): number;
}
