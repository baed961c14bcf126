// The sharing rule, written once. It turns k8s_expenses rows into "allocation pieces" with idle
// cost and the cost of shared namespaces distributed, entirely in ClickHouse (GROUP BY and window
// functions over the grouped pieces, one scan of the table). The allocation API selects from it,
// and COOKBOOK.md's recipe is this same SQL rendered with literal values (cookbook-recipe.ts).
//
// The rule, as OpenCost states it (core/pkg/opencost/allocation.go, AggregateBy):
//  - Idle of a cluster (or of a node, idleByNode) is split per resource: each piece gets the
//    cluster's idle CPU cost x its share of the cluster's CPU cost, and the same for RAM and GPU.
//    Idle of a resource nobody used stays visible as __idle__.
//  - Not shared, idle is one __idle__ allocation; with a filter, it keeps only the part that would
//    have gone to the pieces that pass it.
//  - Shared namespaces (with their share of idle) are spread over the other pods' pieces of their
//    cluster, in proportion to their cost before idle ("weighted") or equally per allocation name
//    ("even"), as sharedCost. A cluster whose shared namespaces have nobody to carry them keeps
//    them as they are.
// Every step moves cost and never creates or drops any: shared totals equal unshared totals.
// Unlike OpenCost, shared namespaces are spread within their own cluster (a kube-system serves its
// own cluster), and a filter never changes the numbers of the allocations it keeps.
import type { SqlValues } from '../sql-values.ts';

export const IDLE = '__idle__';
export const UNMOUNTED = '__unmounted__';
export const CLUSTER_MANAGEMENT = '__cluster__';
export const UNALLOCATED = '__unallocated__';

export type IdleScope = 'none' | 'cluster' | 'node';
export type ShareSplit = 'weighted' | 'even';

/** Cost columns of a piece; together they are its cost. other_cost is what a row's total has beyond its parts (cluster management). */
export const COSTS = ['cpu_cost', 'ram_cost', 'gpu_cost', 'pv_cost', 'network_cost', 'load_balancer_cost', 'other_cost'] as const;

/** Quantities a caller may want summed, with their row expression. */
export const QUANTITIES = {
  cpu_core_hours: 'cpu_core_hours',
  ram_byte_hours: 'ram_byte_hours',
  gpu_hours: 'gpu_hours',
  pv_byte_hours: 'pv_byte_hours',
  // Request and usage averages weighted by running minutes, so they can be summed (OpenCost does the same).
  cpu_request_minutes: 'ifNull(cpu_request_avg, 0) * minutes',
  cpu_usage_minutes: 'ifNull(cpu_usage_avg, 0) * minutes',
  ram_request_minutes: 'ifNull(ram_request_avg, 0) * minutes',
  ram_usage_minutes: 'ifNull(ram_usage_avg, 0) * minutes',
} as const;
export type Quantity = keyof typeof QUANTITIES;

/** The resources idle is split by, and the columns their idle brings along. */
const RESOURCES = [
  { name: 'cpu', follow: ['cpu_cost', 'cpu_core_hours'] },
  { name: 'ram', follow: ['ram_cost', 'ram_byte_hours'] },
  { name: 'gpu', follow: ['gpu_cost', 'gpu_hours'] },
] as const;

/** A row expression carried to the pieces by `min` or `max` (properties, time spans). */
export interface Carried {
  alias: string;
  expr: string;
  agg: 'min' | 'max';
}

export interface SharingSpec {
  /** The rows read: `db.k8s_expenses FINAL`. */
  source: string;
  /** Condition on the rows (tenant, hours); idle rows are left out here when idle is 'none'. */
  where: string;
  /** Which set (step) a row belongs to; '0' for one set. */
  bucket: string;
  /**
   * The allocation name of a row that is not idle, and whether a row passes the filter. Both may use
   * the table's columns, `row_class` ('pod', 'unmounted', 'cluster', 'idle') and the properties
   * p_namespace, p_kind, p_controller, p_pod (empty for idle rows).
   */
  name: string;
  passes: string;
  idle: IdleScope;
  shareIdle: boolean;
  /** Show the idle that is not shared as __idle__ (OpenCost's includeIdle). */
  includeIdle: boolean;
  sharedNamespaces: readonly string[];
  split: ShareSplit;
  quantities: readonly Quantity[];
  carried: readonly Carried[];
}

const GROUP_KEYS = 'tenant_id, bucket, cluster, idle_scope, row_class, name, passes, shared';
const INDENT = '    ';

/** `WITH expense_rows AS (...), ..., allocations AS (...)`: the caller appends its SELECT ... FROM allocations. */
export function sharingCtes(spec: SharingSpec, values: SqlValues): string {
  const ctes: [string, string][] = [
    ['expense_rows', rowsSql(spec, values)],
    ['pieces', piecesSql(spec)],
  ];
  if (spec.idle !== 'none') ctes.push(['idle_split', idleSplitSql(spec)], ['idle_applied', idleAppliedSql(spec)]);
  const before = spec.idle !== 'none' ? 'idle_applied' : 'pieces';
  if (spec.sharedNamespaces.length > 0) {
    if (spec.split === 'even') ctes.push(['name_split', nameSplitSql(before)]);
    ctes.push(['shared_split', sharedSplitSql(spec, spec.split === 'even' ? 'name_split' : before)], ['allocations', sharedAllocationsSql(spec)]);
  } else {
    ctes.push(['allocations', unsharedAllocationsSql(spec, before)]);
  }
  return `WITH\n${ctes.map(([name, body]) => `${name} AS\n(\n${indent(body)}\n)`).join(',\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : INDENT + line))
    .join('\n');
}

function select(columns: readonly string[]): string {
  return `SELECT\n${columns.map((c) => INDENT + c).join(',\n')}`;
}

function rowsSql(spec: SharingSpec, values: SqlValues): string {
  const parts = COSTS.filter((c) => c !== 'other_cost').join(' + ');
  return [
    select([
      'tenant_id',
      'cluster',
      `${spec.bucket} AS bucket`,
      `multiIf(namespace = '${IDLE}', 'idle', namespace = '${CLUSTER_MANAGEMENT}', 'cluster', pod = '${UNMOUNTED}' OR namespace = '${UNMOUNTED}', 'unmounted', 'pod') AS row_class`,
      "if(row_class = 'idle', '', namespace) AS p_namespace",
      "if(row_class = 'idle', '', workload_kind) AS p_kind",
      "if(row_class = 'idle', '', workload) AS p_controller",
      "if(row_class = 'idle', '', pod) AS p_pod",
      `${spec.idle === 'node' ? 'node' : "''"} AS idle_scope`,
      `if(row_class = 'idle', '${IDLE}', ${spec.name}) AS name`,
      `toUInt8(${spec.passes}) AS passes`,
      spec.sharedNamespaces.length > 0 ? `row_class != 'idle' AND has(${values.strings(spec.sharedNamespaces)}, namespace) AS shared` : '0 AS shared',
      ...COSTS.filter((c) => c !== 'other_cost'),
      'total_cost',
      // What a row's total has beyond its parts: the cost of cluster management. A rounding
      // difference between the total and its parts is not cost.
      `if(abs(total_cost - (${parts})) > 1e-12 * abs(total_cost), total_cost - (${parts}), 0) AS other_cost`,
      ...spec.quantities.map((q) => (QUANTITIES[q] === q ? q : `${QUANTITIES[q]} AS ${q}`)),
      ...spec.carried.map((c) => `${c.expr} AS ${c.alias}`),
    ]),
    `FROM ${spec.source}`,
    spec.idle === 'none' ? `WHERE (${spec.where}) AND namespace != '${IDLE}'` : `WHERE ${spec.where}`,
  ].join('\n');
}

function piecesSql(spec: SharingSpec): string {
  const summed = [...COSTS, 'total_cost', ...spec.quantities];
  return [
    select([GROUP_KEYS, ...summed.map((m) => `sum(${m}) AS ${m}`), ...spec.carried.map((c) => `${c.agg}(${c.alias}) AS ${c.alias}`)]),
    'FROM expense_rows',
    `GROUP BY ${GROUP_KEYS}`,
  ].join('\n');
}

/** The columns of a piece that follow a resource's idle. */
function following(spec: SharingSpec, resource: (typeof RESOURCES)[number]): string[] {
  return resource.follow.filter((m) => m.endsWith('_cost') || spec.quantities.includes(m as Quantity));
}

function idleSplitSql(spec: SharingSpec): string {
  const columns = ['*'];
  for (const r of RESOURCES) {
    // What the pieces of the node or cluster used of the resource, and the idle there is of it.
    columns.push(`sumIf(${r.name}_cost, row_class != 'idle') OVER idle_group AS ${r.name}_used`);
    if (spec.shareIdle) {
      for (const m of following(spec, r)) columns.push(`sumIf(${m}, row_class = 'idle') OVER idle_group AS ${m}_idle`);
      columns.push(`if(row_class != 'idle' AND ${r.name}_used > 0, ${r.name}_cost / ${r.name}_used, 0) AS ${r.name}_share`);
      // Idle of a resource nobody used has nobody to go to: it stays (if it passes the filter).
      columns.push(`if(${r.name}_used > 0, 0, passes) AS ${r.name}_idle_kept`);
    } else {
      columns.push(`sumIf(${r.name}_cost, row_class != 'idle' AND passes) OVER idle_group AS ${r.name}_used_kept`);
      // Unshared idle keeps the part that would have gone to the pieces passing the filter.
      columns.push(`if(${r.name}_used > 0, ${r.name}_used_kept / ${r.name}_used, passes) AS ${r.name}_idle_kept`);
    }
  }
  // The idle cost a piece ends up holding: what an idle piece keeps, what any other piece receives.
  const idleOf = (r: (typeof RESOURCES)[number]) =>
    `if(row_class = 'idle', ${r.name}_cost * ${r.name}_idle_kept, ${spec.shareIdle ? `${r.name}_share * ${r.name}_cost_idle` : '0'})`;
  columns.push(`${RESOURCES.map(idleOf).join(`\n${INDENT}    + `)} AS idle_cost`);
  return [select(columns), 'FROM pieces', 'WINDOW idle_group AS (PARTITION BY tenant_id, bucket, cluster, idle_scope)'].join('\n');
}

function idleAppliedSql(spec: SharingSpec): string {
  const replaced: string[] = [];
  for (const r of RESOURCES) {
    for (const m of following(spec, r)) {
      const received = spec.shareIdle ? ` + ${r.name}_share * ${m}_idle` : '';
      replaced.push(`if(row_class = 'idle', ${m} * ${r.name}_idle_kept, ${m}${received}) AS ${m}`);
    }
  }
  // REPLACE only: other expressions of this SELECT would see the replaced values.
  return [`SELECT * REPLACE (\n${replaced.map((c) => INDENT + c).join(',\n')}\n)`, 'FROM idle_split'].join('\n');
}

const OWN_COST = `${COSTS.join(' + ')} AS own_cost`;

function idleShown(spec: SharingSpec): string {
  return spec.idle !== 'none' && (spec.shareIdle || spec.includeIdle) ? 'cpu_cost != 0 OR ram_cost != 0 OR gpu_cost != 0' : '0';
}

function unsharedAllocationsSql(spec: SharingSpec, from: string): string {
  const extra = spec.idle === 'none' ? ['toFloat64(0) AS idle_cost'] : [];
  return [select(['*', ...extra, OWN_COST, 'toFloat64(0) AS shared_cost']), `FROM ${from}`, `WHERE if(row_class = 'idle', ${idleShown(spec)}, passes)`].join('\n');
}

const RECIPIENT = "row_class = 'pod' AND NOT shared AS recipient";

/** Even split: each allocation name of a cluster weighs 1, split among its pieces by their cost. */
function nameSplitSql(from: string): string {
  return [
    select([
      '*',
      // Pods carry shared cost; idle, unmounted and cluster-management pieces do not (as in OpenCost).
      RECIPIENT,
      'sumIf(total_cost, recipient) OVER name_group AS name_cost',
      'countIf(recipient) OVER name_group AS name_pieces',
    ]),
    `FROM ${from}`,
    'WINDOW name_group AS (PARTITION BY tenant_id, bucket, cluster, name)',
  ].join('\n');
}

function sharedSplitSql(spec: SharingSpec, from: string): string {
  const even = spec.split === 'even';
  return [
    select([
      '*',
      ...(spec.idle === 'none' ? ['toFloat64(0) AS idle_cost'] : []),
      OWN_COST,
      // Pods carry shared cost; idle, unmounted and cluster-management pieces do not (as in OpenCost).
      ...(even ? [] : [RECIPIENT]),
      // Weighted: by cost before idle, as OpenCost weighs.
      even ? 'if(recipient, if(name_cost > 0, total_cost / name_cost, 1 / name_pieces), 0) AS weight' : 'if(recipient, total_cost, 0) AS weight',
      'sumIf(own_cost, shared) OVER cluster_group AS shared_pool',
      'sum(weight) OVER cluster_group AS weight_total',
    ]),
    `FROM ${from}`,
    'WINDOW cluster_group AS (PARTITION BY tenant_id, bucket, cluster)',
  ].join('\n');
}

function sharedAllocationsSql(spec: SharingSpec): string {
  return [
    select(['*', 'if(recipient AND weight_total > 0, shared_pool * weight / weight_total, 0) AS shared_cost']),
    'FROM shared_split',
    // Shared pieces leave once someone carries them.
    `WHERE if(row_class = 'idle', ${idleShown(spec)}, passes AND NOT (shared AND weight_total > 0))`,
  ].join('\n');
}
