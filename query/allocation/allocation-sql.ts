// The SQL of one allocation request: the sharing rule's pieces (query/sharing) grouped into one row
// per set and allocation name, aggregated by ClickHouse. The tenant and every value of the request
// are bound parameters; the database name is a checked identifier; the row limit is our own number.
// Time and memory limits are added by the reader (query/reader.ts), as for every read.
import { checkIdentifier } from '../../processor/clickhouse/identifier.ts';
import { COSTS, QUANTITIES, sharingCtes, type Carried, type Quantity, type SharingSpec } from '../sharing/sharing-sql.ts';
import { BoundValues } from '../sql-values.ts';
import { allocationNameSql, namesPods } from './aggregate.ts';
import { filterSql } from './filter-sql.ts';
import type { AllocationRequest } from './request.ts';

export interface AllocationQueryLimits {
  /** Allocations (rows over all sets) an answer may hold; more is a 400 asking for a coarser request. */
  maxResultRows: number;
}

export interface AllocationQuery {
  sql: string;
  params: Record<string, unknown>;
}

/** Properties an allocation shows when all its rows agree on them: [response name, row column]. */
const PROPERTY_COLUMNS = [
  ['cluster', 'cluster'],
  ['node', 'node'],
  ['namespace', 'p_namespace'],
  ['controllerKind', 'p_kind'],
  ['controller', 'p_controller'],
  ['pod', 'p_pod'],
] as const;

const ALL_QUANTITIES = Object.keys(QUANTITIES) as Quantity[];
const SUMMED = [...ALL_QUANTITIES, ...COSTS.filter((c) => c !== 'other_cost'), 'idle_cost'];

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function carried(withLabels: boolean): Carried[] {
  const out: Carried[] = PROPERTY_COLUMNS.flatMap(([name, column]): Carried[] => [
    { alias: `${name}_min`, expr: column, agg: 'min' },
    { alias: `${name}_max`, expr: column, agg: 'max' },
  ]);
  out.push(
    // Rows say how long a pod ran in an hour, not when: its minutes are placed at the hour's start.
    { alias: 'run_start', expr: 'if(minutes > 0, toUInt32(hour), NULL)', agg: 'min' },
    { alias: 'run_end', expr: 'if(minutes > 0, toUInt32(toUInt32(hour) + round(least(minutes, 60) * 60)), NULL)', agg: 'max' },
    { alias: 'first_hour', expr: 'toUInt32(hour)', agg: 'min' },
  );
  if (withLabels) out.push({ alias: 'labels_min', expr: 'labels', agg: 'min' }, { alias: 'labels_max', expr: 'labels', agg: 'max' });
  return out;
}

export function buildAllocationQuery(request: AllocationRequest, tenant: string, database: string, limits: AllocationQueryLimits): AllocationQuery {
  const values = new BoundValues();
  const tenantParam = values.named('tenant', 'String', tenant);
  const start = values.named('window_start', 'UInt32', request.window.start / 1000);
  const end = values.named('window_end', 'UInt32', request.window.end / 1000);
  const step = values.named('step_seconds', 'UInt32', request.stepMs / 1000);
  const withLabels = namesPods(request.aggregate);
  const spec: SharingSpec = {
    source: `${checkIdentifier(database, 'database')}.k8s_expenses FINAL`,
    where: `tenant_id = ${tenantParam} AND hour >= toDateTime(${start}) AND hour < toDateTime(${end})`,
    bucket: `intDiv(toUInt32(hour) - ${start}, ${step})`,
    name: allocationNameSql(request.aggregate, values),
    passes: filterSql(request.filter, values),
    idle: request.includeIdle || request.shareIdle ? (request.idleByNode ? 'node' : 'cluster') : 'none',
    shareIdle: request.shareIdle,
    includeIdle: request.includeIdle,
    sharedNamespaces: request.sharedNamespaces,
    split: request.split,
    quantities: ALL_QUANTITIES,
    carried: carried(withLabels),
  };
  const uniform = (name: string, empty: string) => `if(min(${name}_min) = max(${name}_max), min(${name}_min), ${empty}) AS prop_${name}`;
  const columns = [
    `${request.accumulate ? '0' : 'bucket'} AS set_index`,
    'name',
    ...SUMMED.map((m) => `sum(${m}) AS ${m}`),
    // Cluster management cost is overhead: it is shown as shared cost, like what shared namespaces pass on.
    'sum(other_cost + shared_cost) AS shared_cost',
    'min(run_start) AS run_start',
    'max(run_end) AS run_end',
    'min(first_hour) AS first_hour',
    ...PROPERTY_COLUMNS.map(([name]) => uniform(name, "''")),
    ...(withLabels ? [uniform('labels', 'map()')] : []),
  ];
  const limit = positiveInteger(limits.maxResultRows, 'maxResultRows');
  // The row limit is a LIMIT, not max_result_rows: older servers also check that setting on
  // subqueries, whose pieces may rightly outnumber the answer. One row more than allowed tells "too many".
  const sql = [
    sharingCtes(spec, values),
    `SELECT\n${columns.map((c) => `    ${c}`).join(',\n')}`,
    'FROM allocations',
    'GROUP BY set_index, name',
    'ORDER BY set_index, name',
    `LIMIT ${limit + 1}`,
  ].join('\n');
  return { sql, params: values.params };
}
