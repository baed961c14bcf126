// Label sets as canonical strings: what a series says about a pod, a service selector or a node,
// kept as one interned string per series and parsed back only when an hour's rows are built.

/** `label_<k>` entries as a canonical string `k\x01v\x02...` sorted by key (empty values dropped). */
export function labelSetOf(labels: Readonly<Record<string, string>>): string {
  const pairs: string[] = [];
  for (const name of Object.keys(labels)) {
    if (!name.startsWith('label_')) continue;
    const value = labels[name];
    if (value !== '') pairs.push(name.slice(6) + '\x01' + value);
  }
  pairs.sort();
  return pairs.join('\x02');
}

/** Parses a label set string back into [key, value] pairs (key order). */
export function parseLabelSet(set: string): [string, string][] {
  if (set === '') return [];
  return set.split('\x02').map((pair) => {
    const i = pair.indexOf('\x01');
    return [pair.slice(0, i), pair.slice(i + 1)];
  });
}

// Kubernetes renamed the well-known node labels (beta.kubernetes.io/instance-type ->
// node.kubernetes.io/instance-type, failure-domain.beta.kubernetes.io/* -> topology.kubernetes.io/*);
// clusters of both ages are in use, so the current name is read first, then the beta one.
const NODE_LABELS = {
  instance_type: ['label_node_kubernetes_io_instance_type', 'label_beta_kubernetes_io_instance_type'],
  region: ['label_topology_kubernetes_io_region', 'label_failure_domain_beta_kubernetes_io_region'],
  zone: ['label_topology_kubernetes_io_zone', 'label_failure_domain_beta_kubernetes_io_zone'],
} as const;

/**
 * A node's instance type, region and zone as a label set string (labelSetOf's format): from
 * kube_node_labels' `label_*` names, or (`fromNodeLabels` false) from the plain `instance_type` and
 * `region` labels the price series carry.
 */
export function nodeInfoSet(labels: Readonly<Record<string, string>>, fromNodeLabels: boolean): string {
  const pairs: string[] = [];
  for (const key of ['instance_type', 'region', 'zone'] as const) {
    const names = fromNodeLabels ? NODE_LABELS[key] : [key];
    const value = names.map((n) => labels[n] ?? '').find((v) => v !== '') ?? '';
    if (value !== '') pairs.push(key + '\x01' + value);
  }
  return pairs.join('\x02');
}
