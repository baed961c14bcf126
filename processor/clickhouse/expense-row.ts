// One row of k8s_expenses: property names are the column names, so rows map 1:1 to the table
// (migrations/0004_k8s_expenses_deletion_rows.sql). The cost model computes the pod-hour
// (HourlyRow); toExpenseRow() alone turns it into the stored row (finality, version, write time),
// deletionRow() makes the row that deletes a key gone from its hour, and the sink only encodes what
// it is given.
import type { HourlyRow } from '../cost-model/index.ts';
import { HOUR_MS } from '../../core/hours.ts';

export interface ExpenseRow extends HourlyRow {
  /** false while the hour is open (provisional), true once it closed (UInt8 column). */
  is_final: boolean;
  /** Write version (processor/row-version.ts: from the partition offset read): the highest one per key wins. */
  version: number;
  /** A deletion row: the key is gone from its hour (FINAL leaves it out). Default false. */
  is_deleted?: boolean;
  /** Epoch milliseconds of the write. */
  updated_at: number;
}

/**
 * The stored row of a pod-hour the cost model computed, written at `writtenAt` (epoch ms). Every
 * row of one hour's write has the same version, higher than that of any write that saw less.
 * Undefined for a row with a number that is not finite: JSON would carry it as null, which
 * ClickHouse stores as 0, a silent wrong cost (the model refuses the samples that could cause it,
 * so this is the last guard, not the rule).
 */
export function toExpenseRow(row: HourlyRow, final: boolean, version: number, writtenAt: number): ExpenseRow | undefined {
  for (const name of NUMBER_COLUMNS) {
    const value = row[name] as number | null;
    if (value !== null && !Number.isFinite(value)) return undefined;
  }
  return { ...row, is_final: final, version, updated_at: writtenAt };
}

/**
 * A row's key within its (tenant, cluster, hour): namespace and pod, the namespace's length first
 * so that no two keys read alike whatever their characters.
 */
export function expenseRowKey(row: Pick<HourlyRow, 'namespace' | 'pod'>): string {
  return `${row.namespace.length}:${row.namespace}${row.pod}`;
}

function parseRowKey(key: string): { namespace: string; pod: string } {
  const colon = key.indexOf(':');
  const length = Number(key.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(length) || colon + 1 + length > key.length) throw new TypeError(`not a row key: ${JSON.stringify(key)}`);
  return { namespace: key.slice(colon + 1, colon + 1 + length), pod: key.slice(colon + 1 + length) };
}

/**
 * The row that deletes `key` (expenseRowKey) of an hour whose rewrite no longer has it: the key,
 * is_deleted, the write's finality, version and time, nothing else (zeros, nulls and empty strings).
 */
export function deletionRow(tenant: string, cluster: string, hour: number, key: string, final: boolean, version: number, writtenAt: number): ExpenseRow {
  const row: Record<string, unknown> = {};
  for (const [name, type] of EXPENSE_COLUMNS) row[name] = EMPTY_BY_TYPE[type] === MAP ? {} : EMPTY_BY_TYPE[type];
  return { ...(row as unknown as ExpenseRow), tenant_id: tenant, cluster, ...parseRowKey(key), hour, is_final: final, version, is_deleted: true, updated_at: writtenAt };
}

const MAP = Symbol('a new empty map');
/** What a deletion row holds in a column of each type (its key, flags and version are set apart). */
const EMPTY_BY_TYPE: Readonly<Record<string, unknown>> = {
  'LowCardinality(String)': '',
  String: '',
  Float64: 0,
  'Nullable(Float64)': null,
  'Map(String, String)': MAP,
  UInt8: false,
};

/** How the processor deletes rows that vanish from an hour of k8s_expenses: keys and deletion rows. */
export const expenseRowDeletion = { keyOf: expenseRowKey, deletionRow } as const;

/** The table's columns in order, with their ClickHouse types (a test compares them with the table). */
export const EXPENSE_COLUMNS: readonly (readonly [name: keyof ExpenseRow, type: string])[] = [
  ['tenant_id', 'LowCardinality(String)'],
  ['cluster', 'LowCardinality(String)'],
  ['namespace', 'LowCardinality(String)'],
  ['pod', 'String'],
  ['hour', "DateTime('UTC')"],
  ['workload_kind', 'LowCardinality(String)'],
  ['workload', 'String'],
  ['node', 'LowCardinality(String)'],
  ['minutes', 'Float64'],
  ['cpu_core_hours', 'Float64'],
  ['cpu_cost', 'Float64'],
  ['ram_byte_hours', 'Float64'],
  ['ram_cost', 'Float64'],
  ['gpu_hours', 'Float64'],
  ['gpu_cost', 'Float64'],
  ['pv_byte_hours', 'Float64'],
  ['pv_cost', 'Float64'],
  ['network_cost', 'Float64'],
  ['load_balancer_cost', 'Float64'],
  ['total_cost', 'Float64'],
  ['cpu_request_avg', 'Nullable(Float64)'],
  ['cpu_usage_avg', 'Nullable(Float64)'],
  ['ram_request_avg', 'Nullable(Float64)'],
  ['ram_usage_avg', 'Nullable(Float64)'],
  ['cpu_efficiency', 'Nullable(Float64)'],
  ['ram_efficiency', 'Nullable(Float64)'],
  ['total_efficiency', 'Nullable(Float64)'],
  ['labels', 'Map(String, String)'],
  ['price_defaulted', 'UInt8'],
  ['workload_inferred', 'UInt8'],
  ['is_final', 'UInt8'],
  ['version', 'UInt64'],
  ['is_deleted', 'UInt8'],
  ['updated_at', "DateTime64(3, 'UTC')"],
];

/** The model's number columns (Float64, nullable or not). */
const NUMBER_COLUMNS = EXPENSE_COLUMNS.filter(([, type]) => type === 'Float64' || type === 'Nullable(Float64)').map(([name]) => name as keyof HourlyRow);

/** "2024-05-01 13:00:00.000": the text form DateTime64(3) parses without best-effort settings. */
export function formatDateTime64(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

/**
 * The JSONEachRow object for one row: hour in epoch seconds, flags as 0/1, updated_at as text.
 * Throws a TypeError for a row that would be stored under a wrong key or version.
 */
export function encodeExpenseRow(row: ExpenseRow): Record<string, unknown> {
  if (!Number.isInteger(row.hour) || row.hour % HOUR_MS !== 0) {
    throw new TypeError(`ExpenseRow.hour must be the epoch milliseconds of a whole hour, got ${row.hour}`);
  }
  if (!Number.isSafeInteger(row.version) || row.version < 0) {
    throw new TypeError(`ExpenseRow.version must be a non-negative safe integer, got ${row.version}`);
  }
  return {
    tenant_id: row.tenant_id,
    cluster: row.cluster,
    namespace: row.namespace,
    pod: row.pod,
    hour: row.hour / 1000,
    workload_kind: row.workload_kind,
    workload: row.workload,
    node: row.node,
    minutes: row.minutes,
    cpu_core_hours: row.cpu_core_hours,
    cpu_cost: row.cpu_cost,
    ram_byte_hours: row.ram_byte_hours,
    ram_cost: row.ram_cost,
    gpu_hours: row.gpu_hours,
    gpu_cost: row.gpu_cost,
    pv_byte_hours: row.pv_byte_hours,
    pv_cost: row.pv_cost,
    network_cost: row.network_cost,
    load_balancer_cost: row.load_balancer_cost,
    total_cost: row.total_cost,
    cpu_request_avg: row.cpu_request_avg,
    cpu_usage_avg: row.cpu_usage_avg,
    ram_request_avg: row.ram_request_avg,
    ram_usage_avg: row.ram_usage_avg,
    cpu_efficiency: row.cpu_efficiency,
    ram_efficiency: row.ram_efficiency,
    total_efficiency: row.total_efficiency,
    labels: row.labels,
    price_defaulted: row.price_defaulted ? 1 : 0,
    workload_inferred: row.workload_inferred ? 1 : 0,
    is_final: row.is_final ? 1 : 0,
    version: row.version,
    is_deleted: row.is_deleted ? 1 : 0,
    updated_at: formatDateTime64(row.updated_at),
  };
}
