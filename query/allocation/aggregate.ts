// The `aggregate` parameter: which properties name an allocation (OpenCost's ParseProperty and
// AllocationProperties.GenerateKey), and the SQL that computes the name of a row. Property names
// come from an allow-list; a label name is a value and is bound.
import type { SqlValues } from '../sql-values.ts';
import { CLUSTER_MANAGEMENT, UNALLOCATED, UNMOUNTED } from '../sharing/sharing-sql.ts';
import { quoteLiteral } from '../sql-values.ts';
import { ParameterError, shorten } from './parameter-error.ts';

const CONTROLLER_KINDS = ['deployment', 'statefulset', 'daemonset', 'job'] as const;
type ControllerKind = (typeof CONTROLLER_KINDS)[number];

export type AggregateProperty =
  | { kind: 'cluster' | 'node' | 'namespace' | 'controllerKind' | 'controller' | 'pod' }
  | { kind: 'controllerOf'; controllerKind: ControllerKind }
  | { kind: 'label'; label: string };

/** Without `aggregate`, OpenCost names each container; our finest rows are pods. */
export const DEFAULT_AGGREGATE: readonly AggregateProperty[] = [{ kind: 'cluster' }, { kind: 'node' }, { kind: 'namespace' }, { kind: 'pod' }];

const SIMPLE: Record<string, AggregateProperty> = {
  cluster: { kind: 'cluster' },
  node: { kind: 'node' },
  namespace: { kind: 'namespace' },
  controllerkind: { kind: 'controllerKind' },
  controller: { kind: 'controller' },
  pod: { kind: 'pod' },
};

const UNSUPPORTED: Record<string, string> = {
  container: 'rows are per pod, not per container',
  service: 'rows carry no services',
  controllernamespace: 'use aggregate=namespace,controller',
  providerid: 'rows carry no provider ids',
  department: 'label aliases are not configured: use label:<name>',
  environment: 'label aliases are not configured: use label:<name>',
  owner: 'label aliases are not configured: use label:<name>',
  product: 'label aliases are not configured: use label:<name>',
  team: 'label aliases are not configured: use label:<name>',
  all: 'name the properties to aggregate by',
};

const MAX_PROPERTIES = 10;

/** Label names as Prometheus sanitises them, which is how kube_pod_labels delivered them to our rows. */
export function sanitizeLabelName(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9_]/g, '_');
}

/** The properties of a comma list (OpenCost: case-insensitive names, `label:<name>`, duplicates dropped). */
export function parseAggregate(text: string | undefined): AggregateProperty[] {
  if (text === undefined || text.trim() === '') return [...DEFAULT_AGGREGATE];
  const out: AggregateProperty[] = [];
  const seen = new Set<string>();
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const property = parseProperty(item);
    const key = JSON.stringify(property);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(property);
  }
  if (out.length === 0) return [...DEFAULT_AGGREGATE];
  if (out.length > MAX_PROPERTIES) throw new ParameterError(`at most ${MAX_PROPERTIES} properties`);
  return out;
}

function parseProperty(item: string): AggregateProperty {
  const lower = item.toLowerCase();
  if (lower.startsWith('label:')) {
    const label = sanitizeLabelName(item.slice('label:'.length));
    if (label === '') throw new ParameterError('label: needs a label name, e.g. label:app');
    return { kind: 'label', label };
  }
  if (lower.startsWith('annotation:')) throw new ParameterError(`"${shorten(item)}" is not supported: rows carry no annotations`);
  const simple = SIMPLE[lower];
  if (simple) return simple;
  if ((CONTROLLER_KINDS as readonly string[]).includes(lower)) return { kind: 'controllerOf', controllerKind: lower as ControllerKind };
  if (UNSUPPORTED[lower]) throw new ParameterError(`"${item}" is not supported: ${UNSUPPORTED[lower]}`);
  throw new ParameterError(
    `"${shorten(item)}" is not a property: use cluster, node, namespace, controllerKind, controller, pod, deployment, statefulset, daemonset, job or label:<name>, comma-separated`,
  );
}

/** Rows that are not a pod's name every property but cluster and namespace after what they are. */
function forPods(expr: string): string {
  return `multiIf(row_class = 'cluster', '${CLUSTER_MANAGEMENT}', row_class = 'unmounted', '${UNMOUNTED}', ${expr})`;
}

function orUnallocated(column: string): string {
  return `if(${column} = '', '${UNALLOCATED}', ${column})`;
}

function propertySql(property: AggregateProperty, values: SqlValues): string {
  switch (property.kind) {
    case 'cluster':
      return 'cluster';
    case 'namespace':
      // Unmounted rows belong to their namespace; management rows' namespace is __cluster__.
      return 'namespace';
    case 'node':
      return forPods(orUnallocated('node'));
    case 'controllerKind':
      return forPods(orUnallocated('workload_kind'));
    case 'controller':
      // OpenCost names a controller "kind:name".
      return forPods(`multiIf(workload = '', '${UNALLOCATED}', workload_kind = '', workload, concat(workload_kind, ':', workload))`);
    case 'controllerOf':
      return forPods(`if(workload_kind = ${quoteLiteral(property.controllerKind)} AND workload != '', workload, '${UNALLOCATED}')`);
    case 'pod':
      return forPods('pod');
    case 'label': {
      const key = values.string(property.label);
      return forPods(`if(mapContains(labels, ${key}), labels[${key}], '${UNALLOCATED}')`);
    }
  }
}

/** The allocation name of a row: its properties' values joined by '/', as OpenCost joins them. */
export function allocationNameSql(properties: readonly AggregateProperty[], values: SqlValues): string {
  const parts = properties.map((p) => propertySql(p, values));
  return parts.length === 1 ? parts[0] : `concat(${parts.join(", '/', ")})`;
}

/** Whether the properties tell pods apart, so an allocation's labels are worth carrying. */
export function namesPods(properties: readonly AggregateProperty[]): boolean {
  return properties.some((p) => p.kind === 'pod');
}
