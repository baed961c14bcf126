// Public types of the cost model. Column names of HourlyRow and NodeRow are relied on by queries
// outside the project: never rename them.

/** One hourly cost row per (tenant, cluster, hour, namespace, pod). Rules: RULES.md beside this file. */
export interface HourlyRow {
  tenant_id: string;
  cluster: string;
  namespace: string;
  pod: string;
  /** Start of the UTC hour [hour, hour + 1 h), milliseconds since the epoch. */
  hour: number;
  /** deployment, statefulset, daemonset, job, replicaset, rollout, ... ('' for a bare pod, 'cluster' for management cost, 'idle' for a node's idle). */
  workload_kind: string;
  workload: string;
  /** The node on which the pod ran longest in the hour ('' when unknown). */
  node: string;
  /** Running time in the hour: measure of the union of its allocation samples' intervals. */
  minutes: number;
  cpu_core_hours: number;
  cpu_cost: number;
  ram_byte_hours: number;
  ram_cost: number;
  gpu_hours: number;
  gpu_cost: number;
  pv_byte_hours: number;
  pv_cost: number;
  network_cost: number;
  load_balancer_cost: number;
  total_cost: number;
  /** Cores requested, summed over containers (null: no request series in the hour). */
  cpu_request_avg: number | null;
  /** Cores used, summed over containers (null: no usage counter pair in the hour). */
  cpu_usage_avg: number | null;
  ram_request_avg: number | null;
  ram_usage_avg: number | null;
  cpu_efficiency: number | null;
  ram_efficiency: number | null;
  total_efficiency: number | null;
  /** The pod's labels, keys without the `label_` prefix, in key order. */
  labels: Record<string, string>;
  /** A price was missing in the hour and a configured default was used for a non-zero quantity. */
  price_defaulted: boolean;
  /** The workload was derived from a ReplicaSet name (pod-template-hash rule), not an owner series. */
  workload_inferred: boolean;
}

/** 0 or 1: the UInt8 columns of k8s_node_expenses, as stored. */
export type Flag = 0 | 1;

/**
 * One row per (tenant, cluster, hour, node): what the node cost, what its pods were charged and the
 * difference (idle). Property names are the columns of k8s_node_expenses. Rules: RULES.md section 9.
 */
export interface NodeRow {
  tenant_id: string;
  cluster: string;
  /** Start of the UTC hour [hour, hour + 1 h), milliseconds since the epoch. */
  hour: number;
  /** The node's name ('' gathers pods whose allocation series name no node). */
  node: string;
  instance_type: string;
  region: string;
  zone: string;
  spot: Flag;
  /** Time present in the hour: its capacity samples' intervals (without capacity: its pods'). */
  minutes: number;
  /** Time-weighted mean capacity over the node's presence; null without a capacity series. */
  cpu_cores: number | null;
  ram_bytes: number | null;
  gpu_count: number | null;
  /** 1 when CPU or memory capacity is unknown: that resource's cost is what its pods were charged. */
  capacity_missing: Flag;
  cpu_cost: number;
  ram_cost: number;
  gpu_cost: number;
  /** cpu_cost + ram_cost + gpu_cost: what the node cost in the hour. */
  total_cost: number;
  /** What the pod rows were charged for their time on this node. */
  cpu_allocated_cost: number;
  ram_allocated_cost: number;
  gpu_allocated_cost: number;
  /** Node cost - allocated cost, per resource; negative when pods were charged more than the capacity. */
  cpu_idle_cost: number;
  ram_idle_cost: number;
  gpu_idle_cost: number;
  idle_cost: number;
  /** A price was missing in the hour and a configured default was used for a non-zero quantity. */
  price_defaulted: Flag;
}

/** Nodes of an hour whose idle is negative beyond rounding, per resource (overcommitted nodes). */
export interface NegativeIdleCounts {
  cpu: number;
  ram: number;
  gpu: number;
}

/** Everything one hour of one cluster gives: pod rows (with `__idle__` rows) and node rows. */
export interface HourRows {
  /** k8s_expenses rows, sorted by (namespace, pod). */
  pods: HourlyRow[];
  /** k8s_node_expenses rows, sorted by node. */
  nodes: NodeRow[];
  negativeIdle: NegativeIdleCounts;
}

/** Prices used when the series that carry them are missing in an hour (OpenCost's defaults). */
export interface DefaultPrices {
  /** $ per core-hour. */
  cpuCoreHour: number;
  /** $ per GiB-hour of RAM. */
  ramGiBHour: number;
  /** $ per GPU-hour. */
  gpuHour: number;
  /** $ per GiB-hour of persistent volume. */
  pvGiBHour: number;
  /** $ per GiB leaving the zone (to another zone of the region). */
  zoneEgressGiB: number;
  /** $ per GiB leaving the region. */
  regionEgressGiB: number;
  /** $ per GiB leaving to the internet. */
  internetEgressGiB: number;
}

export interface CostModelOptions {
  /** Longest interval one sample stands for (MAX_SAMPLE_GAP). Default 5 min. */
  maxSampleGapMs?: number;
  /** Interval a lone sample stands for (DEFAULT_SCRAPE_INTERVAL). Default 60 s. */
  defaultScrapeIntervalMs?: number;
  defaultPrices?: Partial<DefaultPrices>;
  /**
   * After evictBefore, a series without samples in the kept hours whose last sample is older than
   * this (before the first kept hour) is forgotten; if it comes back it starts as a new series.
   * Default 24 h.
   */
  silentSeriesRetentionMs?: number;
  /**
   * Asked before a new cost series of `tenant` is stored (the processor's TENANT_MAX_SERIES, kept
   * across its models): false drops the series' samples, counted as `overLimit`, and asks again
   * when the series comes back. Default: every series is stored.
   */
  admitSeries?: (tenant: string) => boolean;
}

/** Per-call sample counts; pass the same object to several calls to accumulate. */
export interface SampleCounts {
  /** Stored: they count in the rows of their hour. */
  accepted: number;
  /** Already held for this series and timestamp: counted once. */
  duplicate: number;
  /** Not a cost series (or a cost series the model does not use, such as a pod-level cgroup). */
  ignored: number;
  /** Unusable: bad timestamp, negative value or one above 1e18 (infinite), required label missing, series too long. */
  invalid: number;
  /** Before a hour already evicted for this cluster: only kept as the series' previous sample. */
  late: number;
  /** Of a new series its tenant may not have (admitSeries said no): dropped. */
  overLimit?: number;
}

export interface HourKey {
  tenant: string;
  cluster: string;
  hourStartMs: number;
}

/** A series' labels, or a function giving them: it is called only when the series is new to the model. */
export type LabelsSource = Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);

/** Anything indexable by sample position: Float64Array, number[], a subarray of a decoded write, ... */
export type NumberColumn = ArrayLike<number>;

export function newSampleCounts(): SampleCounts {
  return { accepted: 0, duplicate: 0, ignored: 0, invalid: 0, late: 0 };
}
