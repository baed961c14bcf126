// One row of k8s_expenses: property names are the column names, so rows map 1:1 to the table
// (migrations/0004_k8s_expenses_deletion_rows.sql). The cost model computes the pod-hour
// (HourlyRow); toExpenseRow() alone turns it into the stored row (finality, version, write time),
// deletionRow() makes the row that deletes a key gone from its hour, and the sink only encodes what
// it is given.
import type { HourlyRow } from '../cost-model/index.ts';
import { checkHourAndVersion, deletionRowOf, finishRow, formatDateTime64, numberColumns, type Columns, type WriteColumns } from './stored-columns.ts';

export { formatDateTime64 } from './stored-columns.ts';

export interface ExpenseRow extends HourlyRow, WriteColumns {}

/**
 * The stored row of a pod-hour the cost model computed, written at `writtenAt` (epoch ms). Every
 * row of one hour's write has the same version, higher than that of any write that saw less.
 * Undefined for a row with a number that is not finite (stored-columns.ts).
 */
export function toExpenseRow(row: HourlyRow, final: boolean, version: number, writtenAt: number): ExpenseRow | undefined {
  return finishRow(row, NUMBER_COLUMNS, final, version, writtenAt);
}

/**
 * A row's key within its (tenant, cluster, hour): namespace and pod, the namespace's length first
 * so that no two keys read alike whatever their characters. It starts with a digit.
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
  return deletionRowOf(EXPENSE_COLUMNS, { tenant, cluster, hour }, parseRowKey(key), { final, version, writtenAt });
}

/** How the processor deletes rows that vanish from an hour of k8s_expenses: keys and deletion rows. */
export const expenseRowDeletion = { keyOf: expenseRowKey, deletionRow } as const;

/** The table's columns in order, with their ClickHouse types (a test compares them with the table). */
export const EXPENSE_COLUMNS: Columns<ExpenseRow> = [
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
const NUMBER_COLUMNS = numberColumns(EXPENSE_COLUMNS);

/**
 * The JSONEachRow object for one row: hour in epoch seconds, flags as 0/1, updated_at as text.
 * Throws a TypeError for a row that would be stored under a wrong key or version.
 */
export function encodeExpenseRow(row: ExpenseRow): Record<string, unknown> {
  checkHourAndVersion(row, 'ExpenseRow');
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
