// Rows of the allocation query as OpenCost allocations (core/pkg/opencost/allocation_json.go and the
// example in docs/swagger.json): the same field names, the same derived values (averages over the
// allocation's minutes, OpenCost's efficiency rules), one set per step keyed by allocation name.
// Numbers are not rounded (OpenCost rounds to 5 decimals); NaN and infinities become null as there.
import { setWindows, type TimeWindow } from './window.ts';
import type { AllocationRequest } from './request.ts';

/**
 * One row of the allocation query (allocation-sql.ts). Numbers may arrive as strings: 64-bit
 * integers are quoted in JSON (output_format_json_quote_64bit_integers), so every one goes through Number().
 */
export interface AllocationRow {
  set_index: number | string;
  name: string;
  cpu_core_hours: number;
  ram_byte_hours: number;
  gpu_hours: number;
  pv_byte_hours: number;
  cpu_request_minutes: number;
  cpu_usage_minutes: number;
  ram_request_minutes: number;
  ram_usage_minutes: number;
  cpu_cost: number;
  ram_cost: number;
  gpu_cost: number;
  pv_cost: number;
  network_cost: number;
  load_balancer_cost: number;
  idle_cost: number;
  shared_cost: number;
  run_start: number | string | null;
  run_end: number | string | null;
  first_hour: number | string;
  prop_cluster: string;
  prop_node: string;
  prop_namespace: string;
  prop_controllerKind: string;
  prop_controller: string;
  prop_pod: string;
  prop_labels?: Record<string, string>;
}

export interface AllocationProperties {
  cluster?: string;
  node?: string;
  controller?: string;
  controllerKind?: string;
  namespace?: string;
  pod?: string;
  labels?: Record<string, string>;
}

type N = number | null;

const MEASURES = [
  'cpu_core_hours',
  'ram_byte_hours',
  'gpu_hours',
  'pv_byte_hours',
  'cpu_request_minutes',
  'cpu_usage_minutes',
  'ram_request_minutes',
  'ram_usage_minutes',
  'cpu_cost',
  'ram_cost',
  'gpu_cost',
  'pv_cost',
  'network_cost',
  'load_balancer_cost',
  'idle_cost',
  'shared_cost',
] as const satisfies readonly (keyof AllocationRow)[];

export interface Allocation {
  name: string;
  properties: AllocationProperties;
  window: { start: string; end: string };
  start: string;
  end: string;
  minutes: N;
  cpuCores: N;
  cpuCoreRequestAverage: N;
  cpuCoreUsageAverage: N;
  cpuCoreHours: N;
  cpuCost: N;
  cpuCostAdjustment: N;
  cpuEfficiency: N;
  gpuCount: N;
  gpuHours: N;
  gpuCost: N;
  gpuCostAdjustment: N;
  networkTransferBytes: N;
  networkReceiveBytes: N;
  networkCost: N;
  networkCostAdjustment: N;
  loadBalancerCost: N;
  loadBalancerCostAdjustment: N;
  pvBytes: N;
  pvByteHours: N;
  pvCost: N;
  pvs: null;
  pvCostAdjustment: N;
  ramBytes: N;
  ramByteRequestAverage: N;
  ramByteUsageAverage: N;
  ramByteHours: N;
  ramCost: N;
  ramCostAdjustment: N;
  ramEfficiency: N;
  sharedCost: N;
  externalCost: N;
  totalCost: N;
  totalEfficiency: N;
  rawAllocationOnly: null;
}

export type AllocationSet = Record<string, Allocation>;

/** RFC3339 in UTC without fractions, as Go's time.RFC3339 prints it. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function finite(value: number): N {
  return Number.isFinite(value) ? value : null;
}

/** OpenCost's efficiency: usage / request; without a request, 1 if something was used and paid for. */
export function efficiency(usage: number, request: number, cost: number): number {
  if (request > 0) return usage / request;
  return usage === 0 || cost === 0 ? 0 : 1;
}

function properties(row: AllocationRow): AllocationProperties {
  const out: AllocationProperties = {};
  const set = (key: keyof Omit<AllocationProperties, 'labels'>, value: string) => {
    if (value !== '') out[key] = value;
  };
  set('cluster', row.prop_cluster);
  set('node', row.prop_node);
  set('controller', row.prop_controller);
  set('controllerKind', row.prop_controllerKind);
  set('namespace', row.prop_namespace);
  set('pod', row.prop_pod);
  if (row.prop_labels && Object.keys(row.prop_labels).length > 0) out.labels = row.prop_labels;
  return out;
}

export function toAllocation(source: AllocationRow, set: TimeWindow): Allocation {
  const row = Object.fromEntries(MEASURES.map((m) => [m, Number(source[m])])) as Record<(typeof MEASURES)[number], number>;
  // OpenCost's allocation spans its first to its last running minute; minutes is that span.
  const startS = Number(source.run_start ?? source.first_hour);
  const endS = source.run_end === null ? startS : Number(source.run_end);
  const minutes = (endS - startS) / 60;
  const hours = minutes / 60;
  const perHour = (quantity: number) => (hours > 0 ? quantity / hours : 0);
  const perMinute = (sum: number) => (minutes > 0 ? sum / minutes : 0);
  const cpuRequest = perMinute(row.cpu_request_minutes);
  const cpuUsage = perMinute(row.cpu_usage_minutes);
  const ramRequest = perMinute(row.ram_request_minutes);
  const ramUsage = perMinute(row.ram_usage_minutes);
  const cpuEfficiency = efficiency(cpuUsage, cpuRequest, row.cpu_cost);
  const ramEfficiency = efficiency(ramUsage, ramRequest, row.ram_cost);
  const cpuRam = row.cpu_cost + row.ram_cost;
  const totalCost = row.cpu_cost + row.gpu_cost + row.ram_cost + row.pv_cost + row.network_cost + row.load_balancer_cost + row.shared_cost;
  return {
    name: source.name,
    properties: properties(source),
    window: { start: rfc3339(set.start), end: rfc3339(set.end) },
    start: rfc3339(startS * 1000),
    end: rfc3339(endS * 1000),
    minutes: finite(minutes),
    cpuCores: finite(perHour(row.cpu_core_hours)),
    cpuCoreRequestAverage: finite(cpuRequest),
    cpuCoreUsageAverage: finite(cpuUsage),
    cpuCoreHours: finite(row.cpu_core_hours),
    cpuCost: finite(row.cpu_cost),
    cpuCostAdjustment: 0,
    cpuEfficiency: finite(cpuEfficiency),
    gpuCount: finite(perHour(row.gpu_hours)),
    gpuHours: finite(row.gpu_hours),
    gpuCost: finite(row.gpu_cost),
    gpuCostAdjustment: 0,
    networkTransferBytes: 0,
    networkReceiveBytes: 0,
    networkCost: finite(row.network_cost),
    networkCostAdjustment: 0,
    loadBalancerCost: finite(row.load_balancer_cost),
    loadBalancerCostAdjustment: 0,
    pvBytes: finite(perHour(row.pv_byte_hours)),
    pvByteHours: finite(row.pv_byte_hours),
    pvCost: finite(row.pv_cost),
    pvs: null,
    pvCostAdjustment: 0,
    ramBytes: finite(perHour(row.ram_byte_hours)),
    ramByteRequestAverage: finite(ramRequest),
    ramByteUsageAverage: finite(ramUsage),
    ramByteHours: finite(row.ram_byte_hours),
    ramCost: finite(row.ram_cost),
    ramCostAdjustment: 0,
    ramEfficiency: finite(ramEfficiency),
    sharedCost: finite(row.shared_cost),
    externalCost: 0,
    totalCost: finite(totalCost),
    totalEfficiency: finite(cpuRam > 0 ? (ramEfficiency * row.ram_cost + cpuEfficiency * row.cpu_cost) / cpuRam : 0),
    rawAllocationOnly: null,
  };
}

/** The windows of the answer's sets: one per step, or one for the whole window when accumulated. */
export function answerWindows(request: Pick<AllocationRequest, 'window' | 'stepMs' | 'accumulate'>): TimeWindow[] {
  return request.accumulate ? [request.window] : setWindows(request.window, request.stepMs);
}

/** One set per window, in order; a set with no allocation is empty, as OpenCost answers it. */
export function toSets(rows: readonly AllocationRow[], windows: readonly TimeWindow[]): AllocationSet[] {
  const sets: AllocationSet[] = windows.map(() => ({}));
  for (const row of rows) {
    const index = Number(row.set_index);
    const window = windows[index];
    if (window === undefined) throw new RangeError(`row of set ${index}, the answer has ${windows.length}`);
    sets[index][row.name] = toAllocation(row, window);
  }
  return sets;
}
