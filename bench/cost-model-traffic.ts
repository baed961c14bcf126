// Realistic kubecost traffic for the cost-model benchmark: per (tenant, cluster) a few hundred pods
// with the series kubecost, kube-state-metrics and cAdvisor send for them, nodes with prices,
// capacity (both kube-state-metrics generations), labels and spot flags, load balancers,
// management cost, plus series the model ignores. One "record" per scrape and
// cluster, shaped like a decoded remote-write request (columns + per-series ranges).

export interface TrafficShape {
  tenants: number;
  clustersPerTenant: number;
  podsPerCluster: number;
  nodesPerCluster: number;
  hours: number;
  scrapeIntervalMs: number;
  startMs: number;
  seed: number;
}

export interface BenchSeries {
  key: string;
  labels: Record<string, string>;
  /** Value at scrape i (the generator is deterministic). */
  next: (i: number) => number;
  /** 0: exact scrape times; otherwise the series' scrapes jitter by up to this many ms. */
  jitterMs: number;
}

export interface BenchCluster {
  tenant: string;
  cluster: string;
  series: BenchSeries[];
}

export interface BenchRecord {
  tenant: string;
  cluster: string;
  keys: string[];
  labels: Record<string, string>[];
  timestamps: Float64Array;
  values: Float64Array;
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The series key as the processor builds it: label bytes, sorted by name, as a latin1 string. */
function keyOf(labels: Record<string, string>): string {
  let key = '';
  for (const name of Object.keys(labels).sort()) key += `\n${String.fromCharCode(name.length)}${name}\u0012${String.fromCharCode(labels[name].length)}${labels[name]}`;
  // Through bytes, as the processor makes it: a flat latin1 string, not a tree of concatenations.
  return Buffer.from(key, 'latin1').toString('latin1');
}

function series(labels: Record<string, string>, next: (i: number) => number, jitterMs = 0): BenchSeries {
  return { key: keyOf(labels), labels, next, jitterMs };
}

const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function buildClusters(shape: TrafficShape): BenchCluster[] {
  const random = rng(shape.seed);
  const pick = (s: string, n: number) => Array.from({ length: n }, () => s[Math.floor(random() * s.length)]).join('');
  const clusters: BenchCluster[] = [];
  for (let t = 0; t < shape.tenants; t++) {
    for (let c = 0; c < shape.clustersPerTenant; c++) {
      const tenant = `tenant-${t}`;
      const cluster = `cluster-${c}`;
      const ext = { cluster_id: cluster };
      const kc = { ...ext, job: 'kubecost', instance: '10.1.0.5:9003' };
      const ksm = { ...ext, job: 'kube-state-metrics', instance: '10.1.0.6:8080' };
      const out: BenchSeries[] = [];
      const nodes = Array.from({ length: shape.nodesPerCluster }, (_, i) => `ip-10-1-${i}-${20 + i}.eu-west-1.compute.internal`);
      for (const node of nodes) {
        const base = { ...kc, node, instance: node, instance_type: 'm5.2xlarge', region: 'eu-west-1', provider_id: `aws:///eu-west-1a/i-0${pick('0123456789abcdef', 16)}` };
        out.push(series({ ...base, __name__: 'node_cpu_hourly_cost' }, (i) => (i < 90 ? 0.048 : 0.046)));
        out.push(series({ ...base, __name__: 'node_ram_hourly_cost' }, () => 0.0064));
        out.push(series({ ...base, __name__: 'node_total_hourly_cost' }, () => 0.384)); // ignored by the model
        out.push(series({ ...base, __name__: 'kubecost_node_is_spot' }, () => (nodes.indexOf(node) % 4 === 0 ? 1 : 0)));
        // Capacity from kube-state-metrics, half the nodes still on 1.x names; their labels.
        const zone = `eu-west-1${'abc'[nodes.indexOf(node) % 3]}`;
        if (nodes.indexOf(node) % 2 === 0) {
          out.push(series({ ...ksm, __name__: 'kube_node_status_capacity', node, resource: 'cpu', unit: 'core' }, () => 8, 15));
          out.push(series({ ...ksm, __name__: 'kube_node_status_capacity', node, resource: 'memory', unit: 'byte' }, () => 32 * 2 ** 30, 15));
          out.push(series({ ...ksm, __name__: 'kube_node_status_capacity', node, resource: 'pods', unit: 'integer' }, () => 110, 15)); // ignored
        } else {
          out.push(series({ ...ksm, __name__: 'kube_node_status_capacity_cpu_cores', node }, () => 8, 15));
          out.push(series({ ...ksm, __name__: 'kube_node_status_capacity_memory_bytes', node }, () => 32 * 2 ** 30, 15));
        }
        out.push(
          series(
            { ...ksm, __name__: 'kube_node_labels', node, label_kubernetes_io_hostname: node, label_node_kubernetes_io_instance_type: 'm5.2xlarge', label_topology_kubernetes_io_region: 'eu-west-1', label_topology_kubernetes_io_zone: zone },
            () => 1,
            15,
          ),
        );
      }
      out.push(series({ ...kc, __name__: 'kubecost_cluster_management_cost', provisioner_name: 'EKS' }, () => 0.1));
      for (const kind of ['zone', 'region', 'internet']) out.push(series({ ...kc, __name__: `kubecost_network_${kind}_egress_cost` }, () => (kind === 'internet' ? 0.09 : 0.01)));
      const namespaces = ['shop', 'payments', 'search', 'platform', 'data'];
      const deployments = Array.from({ length: Math.ceil(shape.podsPerCluster / 3) }, (_, i) => ({ ns: namespaces[i % namespaces.length], name: `svc-${i}`, hash: pick(HASH_ALPHABET, 10) }));
      for (const d of deployments) {
        out.push(series({ ...ksm, __name__: 'kube_replicaset_owner', namespace: d.ns, replicaset: `${d.name}-${d.hash}`, owner_kind: 'Deployment', owner_name: d.name, owner_is_controller: 'true' }, () => 1));
        if (deployments.indexOf(d) % 10 === 0) {
          out.push(series({ ...kc, __name__: 'kubecost_load_balancer_cost', namespace: d.ns, service_name: d.name, ingress_ip: `34.1.${deployments.indexOf(d)}.9` }, () => 0.025));
          out.push(series({ ...kc, __name__: 'service_selector_labels', namespace: d.ns, service: d.name, label_app: d.name }, () => 1));
        }
      }
      for (let p = 0; p < shape.podsPerCluster; p++) {
        const d = deployments[p % deployments.length];
        const pod = `${d.name}-${d.hash}-${pick('bcdfghjklmnpqrstvwxz2456789', 5)}`;
        const node = nodes[p % nodes.length];
        const who = { namespace: d.ns, pod };
        const cpuRequest = [0.1, 0.25, 0.5, 1][p % 4];
        const ramRequest = [128, 256, 512, 1024][p % 4] * 2 ** 20;
        const busy = random() < 0.3; // uses more than it requests: allocation follows usage
        let cpuSeconds = random() * 1e5;
        let workingSet = ramRequest * (0.4 + random() * 0.5);
        const usage = (i: number) => cpuRequest * (busy ? 1.2 + 0.3 * Math.sin(i / 7) : 0.3 + 0.1 * Math.sin(i / 5));
        const podLabels = { label_app: d.name, label_pod_template_hash: d.hash, label_team: d.ns };
        out.push(series({ ...kc, ...who, __name__: 'container_cpu_allocation', container: 'app', node }, (i) => Math.max(cpuRequest, Math.round(usage(i) * 1e6) / 1e6)));
        out.push(series({ ...kc, ...who, __name__: 'container_memory_allocation_bytes', container: 'app', node }, (i) => (busy ? Math.max(ramRequest, Math.round(ramRequest * (1.1 + 0.05 * Math.sin(i / 3)))) : ramRequest)));
        out.push(series({ ...ksm, ...who, __name__: 'kube_pod_container_resource_requests', container: 'app', node, resource: 'cpu', unit: 'core' }, () => cpuRequest, 15));
        out.push(series({ ...ksm, ...who, __name__: 'kube_pod_container_resource_requests', container: 'app', node, resource: 'memory', unit: 'byte' }, () => ramRequest, 15));
        out.push(series({ ...ksm, ...who, __name__: 'kube_pod_container_status_running', container: 'app', uid: `u-${p}` }, () => 1, 15)); // ignored
        out.push(
          series({ ...ext, job: 'kubelet', ...who, __name__: 'container_cpu_usage_seconds_total', container: 'app', cpu: 'total', id: `/kubepods/pod${p}/c1`, image: 'registry/app:1', name: `k8s_app_${pod}` }, (i) => {
            cpuSeconds += usage(i) * 60 + Math.floor(random() * 1e6) / 1e9;
            return Math.round(cpuSeconds * 1e9) / 1e9;
          }, 15),
        );
        out.push(
          series({ ...ext, job: 'kubelet', ...who, __name__: 'container_memory_working_set_bytes', container: 'app', id: `/kubepods/pod${p}/c1`, image: 'registry/app:1', name: `k8s_app_${pod}` }, () => {
            workingSet = Math.max(1 << 20, Math.round(workingSet + (random() - 0.5) * 4 * 2 ** 20));
            return workingSet;
          }, 15),
        );
        out.push(series({ ...ksm, ...who, __name__: 'kube_pod_owner', owner_kind: 'ReplicaSet', owner_name: `${d.name}-${d.hash}`, owner_is_controller: 'true', uid: `u-${p}` }, () => 1, 15));
        out.push(series({ ...kc, ...who, __name__: 'kube_pod_owner', owner_kind: 'ReplicaSet', owner_name: `${d.name}-${d.hash}` }, () => 1));
        out.push(series({ ...ksm, ...who, __name__: 'kube_pod_labels', uid: `u-${p}`, label_app: d.name }, () => 1, 15));
        out.push(series({ ...kc, ...who, __name__: 'kube_pod_labels', ...podLabels }, () => 1));
      }
      clusters.push({ tenant, cluster, series: out });
    }
  }
  return clusters;
}

/** The records of scrape `i` (one per cluster). */
export function recordsAt(clusters: readonly BenchCluster[], shape: TrafficShape, i: number, random: () => number): BenchRecord[] {
  const t = shape.startMs + i * shape.scrapeIntervalMs;
  return clusters.map((c) => {
    const n = c.series.length;
    const timestamps = new Float64Array(n);
    const values = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const ser = c.series[s];
      // Most scrapes land exactly on the interval; one in ten of the jittery targets is late.
      timestamps[s] = t + (ser.jitterMs > 0 && random() < 0.1 ? 1 + Math.floor(random() * ser.jitterMs) : 0);
      values[s] = ser.next(i);
    }
    return { tenant: c.tenant, cluster: c.cluster, keys: c.series.map((x) => x.key), labels: c.series.map((x) => x.labels), timestamps, values };
  });
}
