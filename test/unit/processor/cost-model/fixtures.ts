// Builders for cost-model tests: series labels as kubecost sends them, and a feed that adds
// samples the way the processor will (one addSeries call per series).
import { createCostModel, type CostModel, type CostModelOptions, type HourlyRow, type HourRows, type NodeRow } from '../../../../processor/cost-model/index.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;
/** 2024-03-01T10:00:00Z, the hour most tests look at. */
export const H = Date.UTC(2024, 2, 1, 10);
export const GIB = 2 ** 30;

export type Labels = Record<string, string>;
/** [timestamp, value] or [timestamp, 'stale']. */
export type Sample = [number, number | 'stale'];

export function keyOf(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Samples every `step` ms in [from, to). */
export function every(from: number, to: number, step: number, value: number): Sample[] {
  const out: Sample[] = [];
  for (let t = from; t < to; t += step) out.push([t, value]);
  return out;
}

export class Feed {
  readonly model: CostModel;

  constructor(
    options: CostModelOptions = {},
    readonly tenant = 'acme',
    readonly cluster = 'prod',
  ) {
    this.model = createCostModel(options);
  }

  add(labels: Labels, samples: Sample[], tenant = this.tenant, cluster = this.cluster) {
    const ts = samples.map((s) => s[0]);
    const values = samples.map((s) => (s[1] === 'stale' ? NaN : s[1]));
    const stale = samples.map((s) => (s[1] === 'stale' ? 1 : 0));
    return this.model.addSeries(tenant, cluster, keyOf(labels), () => labels, ts, values, stale);
  }

  rows(hour = H): HourlyRow[] {
    return this.model.rows(this.tenant, this.cluster, hour);
  }

  hourRows(hour = H): HourRows {
    return this.model.hourRows(this.tenant, this.cluster, hour);
  }

  node(name: string, hour = H): NodeRow {
    const row = this.model.nodeRows(this.tenant, this.cluster, hour).find((r) => r.node === name);
    if (row === undefined) throw new Error(`no node row for ${name} in hour ${new Date(hour).toISOString()}`);
    return row;
  }

  row(pod: string, hour = H, namespace = 'shop'): HourlyRow {
    const row = this.rows(hour).find((r) => r.pod === pod && r.namespace === namespace);
    if (row === undefined) throw new Error(`no row for ${namespace}/${pod} in hour ${new Date(hour).toISOString()}`);
    return row;
  }
}

interface PodRef {
  ns?: string;
  pod: string;
  container?: string;
  node?: string;
}

const common = { job: 'kubecost', instance: '10.0.0.9:9003' };
const ksm = { job: 'kube-state-metrics', instance: '10.0.0.7:8080' };
const nodeCommon = (node: string) => ({ ...common, node, instance: node, instance_type: 'm5.large', region: 'eu-west-1', provider_id: `aws:///${node}` });

export const L = {
  cpuAlloc: ({ ns = 'shop', pod, container = 'app', node = 'node-a' }: PodRef): Labels => ({ ...common, __name__: 'container_cpu_allocation', namespace: ns, pod, container, node }),
  ramAlloc: ({ ns = 'shop', pod, container = 'app', node = 'node-a' }: PodRef): Labels => ({ ...common, __name__: 'container_memory_allocation_bytes', namespace: ns, pod, container, node }),
  gpuAlloc: ({ ns = 'shop', pod, container = 'app', node = 'node-a' }: PodRef): Labels => ({ ...common, __name__: 'container_gpu_allocation', namespace: ns, pod, container, node }),
  cpuPrice: (node: string): Labels => ({ ...common, __name__: 'node_cpu_hourly_cost', node, instance: node, instance_type: 'm5.large', region: 'eu-west-1', provider_id: `aws:///${node}` }),
  ramPrice: (node: string): Labels => ({ ...common, __name__: 'node_ram_hourly_cost', node, instance: node, instance_type: 'm5.large', region: 'eu-west-1', provider_id: `aws:///${node}` }),
  gpuPrice: (node: string): Labels => ({ ...common, __name__: 'node_gpu_hourly_cost', node, instance: node, instance_type: 'p3.2xlarge', region: 'eu-west-1', provider_id: `aws:///${node}` }),
  /** kube-state-metrics 2.x: one series name, the resource in a label. */
  capacity: (node: string, resource: 'cpu' | 'memory' | 'nvidia_com_gpu' | 'pods' | 'ephemeral_storage'): Labels => ({
    ...ksm,
    __name__: 'kube_node_status_capacity',
    node,
    resource,
    unit: resource === 'cpu' ? 'core' : resource === 'memory' || resource === 'ephemeral_storage' ? 'byte' : 'integer',
  }),
  /** kube-state-metrics 1.x: one series name per resource. */
  capacityV1: (node: string, resource: 'cpu' | 'memory'): Labels => ({
    ...ksm,
    __name__: resource === 'cpu' ? 'kube_node_status_capacity_cpu_cores' : 'kube_node_status_capacity_memory_bytes',
    node,
  }),
  gpuCount: (node: string): Labels => ({ ...nodeCommon(node), __name__: 'node_gpu_count' }),
  spot: (node: string): Labels => ({ ...nodeCommon(node), __name__: 'kubecost_node_is_spot' }),
  nodeLabels: (node: string, labels: Labels): Labels => {
    const out: Labels = { ...ksm, __name__: 'kube_node_labels', node };
    for (const [k, v] of Object.entries(labels)) out[`label_${k}`] = v;
    return out;
  },
  pvPrice: (pv: string): Labels => ({ ...common, __name__: 'pv_hourly_cost', persistentvolume: pv, volumename: pv }),
  pvc: ({ ns = 'shop', pod }: PodRef, claim: string, pv: string): Labels => ({ ...common, __name__: 'pod_pvc_allocation', namespace: ns, pod, persistentvolumeclaim: claim, persistentvolume: pv }),
  request: ({ ns = 'shop', pod, container = 'app', node = 'node-a' }: PodRef, resource: 'cpu' | 'memory'): Labels => ({
    __name__: 'kube_pod_container_resource_requests',
    job: 'kube-state-metrics',
    namespace: ns,
    pod,
    container,
    node,
    resource,
    unit: resource === 'cpu' ? 'core' : 'byte',
  }),
  cpuUsage: ({ ns = 'shop', pod, container = 'app' }: PodRef): Labels => ({ __name__: 'container_cpu_usage_seconds_total', job: 'kubelet', namespace: ns, pod, container, cpu: 'total' }),
  workingSet: ({ ns = 'shop', pod, container = 'app' }: PodRef): Labels => ({ __name__: 'container_memory_working_set_bytes', job: 'kubelet', namespace: ns, pod, container }),
  owner: ({ ns = 'shop', pod }: PodRef, kind: string, name: string, job = 'kube-state-metrics'): Labels => ({ __name__: 'kube_pod_owner', job, namespace: ns, pod, owner_kind: kind, owner_name: name, owner_is_controller: 'true' }),
  rsOwner: (ns: string, replicaset: string, kind: string, name: string): Labels => ({ __name__: 'kube_replicaset_owner', job: 'kube-state-metrics', namespace: ns, replicaset, owner_kind: kind, owner_name: name }),
  podLabels: ({ ns = 'shop', pod }: PodRef, labels: Labels, job = 'kube-state-metrics'): Labels => {
    const out: Labels = { __name__: 'kube_pod_labels', job, namespace: ns, pod };
    for (const [k, v] of Object.entries(labels)) out[`label_${k}`] = v;
    return out;
  },
  selector: (ns: string, service: string, labels: Labels): Labels => {
    const out: Labels = { ...common, __name__: 'service_selector_labels', namespace: ns, service };
    for (const [k, v] of Object.entries(labels)) out[`label_${k}`] = v;
    return out;
  },
  loadBalancer: (ns: string, service: string): Labels => ({ ...common, __name__: 'kubecost_load_balancer_cost', namespace: ns, service_name: service, ingress_ip: '34.1.2.3' }),
  management: (provisioner = 'EKS'): Labels => ({ ...common, __name__: 'kubecost_cluster_management_cost', provisioner_name: provisioner }),
  egressPrice: (kind: 'zone' | 'region' | 'internet'): Labels => ({ ...common, __name__: `kubecost_network_${kind}_egress_cost` }),
  egressBytes: ({ ns = 'shop', pod }: PodRef, where: 'internet' | 'zone' | 'region' | 'same-zone'): Labels => ({
    __name__: 'kubecost_pod_network_egress_bytes_total',
    job: 'kubecost-network-costs',
    namespace: ns,
    pod_name: pod,
    internet: String(where === 'internet'),
    same_zone: String(where === 'same-zone'),
    same_region: String(where === 'zone' || where === 'same-zone'),
  }),
};

/** A node with CPU and memory capacity (kube-state-metrics 2.x) and prices, every minute of hour H. */
export function pricedNode(feed: Feed, node: string, cores: number, ramBytes: number, cpuPrice: number, ramPrice: number): void {
  const hour = [H, H + 60 * MIN] as const;
  feed.add(L.capacity(node, 'cpu'), every(...hour, MIN, cores));
  feed.add(L.capacity(node, 'memory'), every(...hour, MIN, ramBytes));
  feed.add(L.cpuPrice(node), every(...hour, MIN, cpuPrice));
  feed.add(L.ramPrice(node), every(...hour, MIN, ramPrice));
}
