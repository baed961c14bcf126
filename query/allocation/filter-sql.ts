// A parsed filter as a SQL condition on a row. Fields map to columns through an allow-list; every
// value and label key is bound. Properties of idle rows other than cluster and node are empty, as
// OpenCost's idle allocations have none (sharing-sql.ts defines the p_* columns).
import type { SqlValues } from '../sql-values.ts';
import type { FilterField, FilterMatch, FilterNode } from './filter-parse.ts';

const COLUMNS: Record<Exclude<FilterField, 'label'>, string> = {
  cluster: 'cluster',
  node: 'node',
  namespace: 'p_namespace',
  controllerKind: 'p_kind',
  controllerName: 'p_controller',
  pod: 'p_pod',
};

function matchSql(column: string, match: FilterMatch, value: string): string {
  switch (match) {
    case 'equals':
      return `${column} = ${value}`;
    case 'contains':
      return `position(${column}, ${value}) > 0`;
    case 'prefix':
      return `startsWith(${column}, ${value})`;
    case 'suffix':
      return `endsWith(${column}, ${value})`;
  }
}

/** `label:"x"` without a key: whether a label name matches (OpenCost: equality and contains both test that the label exists). */
function labelNameSql(match: FilterMatch, value: string): string {
  if (match === 'equals' || match === 'contains') return `mapContains(labels, ${value})`;
  return `arrayExists(name -> ${matchSql('name', match, value)}, mapKeys(labels))`;
}

export function filterSql(node: FilterNode, values: SqlValues): string {
  switch (node.type) {
    case 'all':
      return '1';
    case 'not':
      return `NOT ${filterSql(node.operand, values)}`;
    case 'and':
    case 'or':
      return `(${node.operands.map((o) => filterSql(o, values)).join(node.type === 'and' ? ' AND ' : ' OR ')})`;
    case 'compare': {
      const value = values.string(node.value);
      if (node.field !== 'label') return `(${matchSql(COLUMNS[node.field], node.match, value)})`;
      // A missing label reads as '' (map access), which "__unallocated__" matches, as in OpenCost.
      if (node.key === undefined) return `(${labelNameSql(node.match, value)})`;
      return `(${matchSql(`labels[${values.string(node.key)}]`, node.match, value)})`;
    }
  }
}
