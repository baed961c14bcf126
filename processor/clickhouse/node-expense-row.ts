// One row of k8s_node_expenses: property names are the column names, so rows map 1:1 to the table
// (migrations/0006_k8s_node_expenses.sql). The cost model computes the node-hour (NodeRow);
// toNodeExpenseRow() turns it into the stored row (finality, version, write time) as toExpenseRow()
// does for pods, nodeDeletionRow() makes the row that deletes a node gone from its hour.
import type { NodeRow } from '../cost-model/index.ts';
import { checkHourAndVersion, deletionRowOf, finishRow, formatDateTime64, numberColumns, type Columns, type WriteColumns } from './stored-columns.ts';

export interface NodeExpenseRow extends NodeRow, WriteColumns {}

/** The stored row of a node-hour; undefined for a row with a number that is not finite (stored-columns.ts). */
export function toNodeExpenseRow(row: NodeRow, final: boolean, version: number, writtenAt: number): NodeExpenseRow | undefined {
  return finishRow(row, NUMBER_COLUMNS, final, version, writtenAt);
}

/** The row that deletes node `node` of an hour whose rewrite no longer has it. */
export function nodeDeletionRow(tenant: string, cluster: string, hour: number, node: string, final: boolean, version: number, writtenAt: number): NodeExpenseRow {
  return deletionRowOf(NODE_EXPENSE_COLUMNS, { tenant, cluster, hour }, { node }, { final, version, writtenAt });
}

/** The table's columns in order, with their ClickHouse types (a test compares them with the table). */
export const NODE_EXPENSE_COLUMNS: Columns<NodeExpenseRow> = [
  ['tenant_id', 'LowCardinality(String)'],
  ['cluster', 'LowCardinality(String)'],
  ['hour', "DateTime('UTC')"],
  ['node', 'LowCardinality(String)'],
  ['instance_type', 'LowCardinality(String)'],
  ['region', 'LowCardinality(String)'],
  ['zone', 'LowCardinality(String)'],
  ['spot', 'UInt8'],
  ['minutes', 'Float64'],
  ['cpu_cores', 'Nullable(Float64)'],
  ['ram_bytes', 'Nullable(Float64)'],
  ['gpu_count', 'Nullable(Float64)'],
  ['capacity_missing', 'UInt8'],
  ['cpu_cost', 'Float64'],
  ['ram_cost', 'Float64'],
  ['gpu_cost', 'Float64'],
  ['total_cost', 'Float64'],
  ['cpu_allocated_cost', 'Float64'],
  ['ram_allocated_cost', 'Float64'],
  ['gpu_allocated_cost', 'Float64'],
  ['cpu_idle_cost', 'Float64'],
  ['ram_idle_cost', 'Float64'],
  ['gpu_idle_cost', 'Float64'],
  ['idle_cost', 'Float64'],
  ['price_defaulted', 'UInt8'],
  ['is_final', 'UInt8'],
  ['version', 'UInt64'],
  ['is_deleted', 'UInt8'],
  ['updated_at', "DateTime64(3, 'UTC')"],
];

const NUMBER_COLUMNS = numberColumns(NODE_EXPENSE_COLUMNS);

/**
 * The JSONEachRow object for one row: hour in epoch seconds, flags as 0/1, updated_at as text.
 * Throws a TypeError for a row that would be stored under a wrong key or version.
 */
export function encodeNodeExpenseRow(row: NodeExpenseRow): Record<string, unknown> {
  checkHourAndVersion(row, 'NodeExpenseRow');
  return {
    tenant_id: row.tenant_id,
    cluster: row.cluster,
    hour: row.hour / 1000,
    node: row.node,
    instance_type: row.instance_type,
    region: row.region,
    zone: row.zone,
    spot: row.spot ? 1 : 0,
    minutes: row.minutes,
    cpu_cores: row.cpu_cores,
    ram_bytes: row.ram_bytes,
    gpu_count: row.gpu_count,
    capacity_missing: row.capacity_missing ? 1 : 0,
    cpu_cost: row.cpu_cost,
    ram_cost: row.ram_cost,
    gpu_cost: row.gpu_cost,
    total_cost: row.total_cost,
    cpu_allocated_cost: row.cpu_allocated_cost,
    ram_allocated_cost: row.ram_allocated_cost,
    gpu_allocated_cost: row.gpu_allocated_cost,
    cpu_idle_cost: row.cpu_idle_cost,
    ram_idle_cost: row.ram_idle_cost,
    gpu_idle_cost: row.gpu_idle_cost,
    idle_cost: row.idle_cost,
    price_defaulted: row.price_defaulted ? 1 : 0,
    is_final: row.is_final ? 1 : 0,
    version: row.version,
    is_deleted: row.is_deleted ? 1 : 0,
    updated_at: formatDateTime64(row.updated_at),
  };
}
