// What the simulated cluster looks like to Prometheus: the series Kubecost/OpenCost's cost-model,
// kube-state-metrics and cAdvisor would export for it, with their label sets. Series of containers
// that stopped are gone, as the cost-model deletes them; kube-state-metrics keeps a finished Job's
// pod (running = 0) until its TTL. kube_pod_owner and kube_pod_labels come from both exporters, with
// different label sets, as they do in real clusters.
import type { ExporterSeries, Family } from './exposition.ts';
import { isRunning } from './cluster.ts';
import type { ClusterSnapshot, DemoContainer, DemoNode, DemoPod } from './cluster-types.ts';
import { cpuRate, cpuSeconds, egressBytes, workingSetBytes } from './usage.ts';

export const DEMO_FAMILIES: Readonly<Record<string, Family>> = {
  node_cpu_hourly_cost: { help: 'node_cpu_hourly_cost hourly cost for each cpu on this node', type: 'gauge' },
  node_ram_hourly_cost: { help: 'node_ram_hourly_cost hourly cost for each gb of ram on this node', type: 'gauge' },
  node_gpu_hourly_cost: { help: 'node_gpu_hourly_cost hourly cost for each gpu on this node', type: 'gauge' },
  node_total_hourly_cost: { help: 'node_total_hourly_cost Total node cost per hour', type: 'gauge' },
  kubecost_node_is_spot: { help: 'kubecost_node_is_spot Cloud provider info about node preemptibility', type: 'gauge' },
  kube_node_labels: { help: 'Kubernetes labels converted to Prometheus labels.', type: 'gauge' },
  node_gpu_count: { help: 'node_gpu_count count of gpu on this node', type: 'gauge' },
  kube_node_status_capacity: { help: 'The capacity for different resources of a node.', type: 'gauge' },
  kube_node_status_capacity_cpu_cores: { help: 'The total CPU resources of the node.', type: 'gauge' },
  kube_node_status_capacity_memory_bytes: { help: 'The total memory resources of the node.', type: 'gauge' },
  pv_hourly_cost: { help: 'pv_hourly_cost Cost per GB per hour on a persistent disk', type: 'gauge' },
  container_cpu_allocation: { help: 'container_cpu_allocation Percent of a single CPU used in a minute', type: 'gauge' },
  container_memory_allocation_bytes: { help: 'container_memory_allocation_bytes Bytes of RAM used', type: 'gauge' },
  container_gpu_allocation: { help: 'container_gpu_allocation GPU used', type: 'gauge' },
  pod_pvc_allocation: { help: 'pod_pvc_allocation Bytes used by a PVC attached to a pod', type: 'gauge' },
  kubecost_load_balancer_cost: { help: 'kubecost_load_balancer_cost Hourly cost of load balancer', type: 'gauge' },
  service_selector_labels: { help: 'service_selector_labels Service Selector Labels', type: 'gauge' },
  kubecost_cluster_management_cost: { help: 'kubecost_cluster_management_cost Hourly cost paid as a cluster management fee.', type: 'gauge' },
  kubecost_network_zone_egress_cost: { help: 'kubecost_network_zone_egress_cost Total cost per GB egress across zones', type: 'gauge' },
  kubecost_network_region_egress_cost: { help: 'kubecost_network_region_egress_cost Total cost per GB egress across regions', type: 'gauge' },
  kubecost_network_internet_egress_cost: { help: 'kubecost_network_internet_egress_cost Total cost per GB of internet egress.', type: 'gauge' },
  kubecost_pod_network_egress_bytes_total: { help: 'kubecost_pod_network_egress_bytes_total Total bytes sent by a pod, by destination', type: 'counter' },
  kube_namespace_labels: { help: 'Kubernetes labels converted to Prometheus labels.', type: 'gauge' },
  kube_pod_labels: { help: 'Kubernetes labels converted to Prometheus labels.', type: 'gauge' },
  kube_pod_owner: { help: "Information about the Pod's owner.", type: 'gauge' },
  kube_replicaset_owner: { help: 'Information about the ReplicaSet\'s owner.', type: 'gauge' },
  kube_job_owner: { help: "Information about the Job's owner.", type: 'gauge' },
  kube_pod_container_status_running: { help: 'Describes whether the container is currently in running state.', type: 'gauge' },
  kube_pod_container_resource_requests: { help: 'The number of requested request resource by a container.', type: 'gauge' },
  container_cpu_usage_seconds_total: { help: 'Cumulative cpu time consumed in seconds.', type: 'counter' },
  container_memory_working_set_bytes: { help: 'Current working set in bytes.', type: 'gauge' },
};

/** `label_<key>` with the key sanitised as kube-state-metrics does (`[^a-zA-Z0-9_]` becomes `_`). */
export function promLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) out[`label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`] = labels[key];
  return out;
}

const round = (v: number, digits = 6) => Math.round(v * 10 ** digits) / 10 ** digits;

class SeriesList {
  readonly list: ExporterSeries[] = [];
  add(name: string, labels: Record<string, string>, value: number): void {
    this.list.push({ name, labels, value });
  }
}

/** kube-state-metrics' node series: labels (current or beta names) and capacity, by generation. */
function ksmNodeSeries(n: DemoNode, s: SeriesList): void {
  const place: Record<string, string> = n.betaLabels
    ? { label_beta_kubernetes_io_instance_type: n.instanceType, label_failure_domain_beta_kubernetes_io_region: n.region, label_failure_domain_beta_kubernetes_io_zone: n.zone }
    : { label_node_kubernetes_io_instance_type: n.instanceType, label_topology_kubernetes_io_region: n.region, label_topology_kubernetes_io_zone: n.zone };
  s.add('kube_node_labels', { node: n.name, label_kubernetes_io_hostname: n.name, ...place }, 1);
  if (n.ksm !== '2.x') {
    s.add('kube_node_status_capacity_cpu_cores', { node: n.name }, n.cpuCores);
    s.add('kube_node_status_capacity_memory_bytes', { node: n.name }, n.ramBytes);
  }
  if (n.ksm !== '1.x') {
    s.add('kube_node_status_capacity', { node: n.name, resource: 'cpu', unit: 'core' }, n.cpuCores);
    s.add('kube_node_status_capacity', { node: n.name, resource: 'memory', unit: 'byte' }, n.ramBytes);
    if (n.gpus > 0) s.add('kube_node_status_capacity', { node: n.name, resource: 'nvidia_com_gpu', unit: 'integer' }, n.gpus);
  }
}

function nodeSeries(c: ClusterSnapshot, s: SeriesList): void {
  for (const n of c.nodes) {
    ksmNodeSeries(n, s);
    if (n.prices === undefined) continue;
    const labels = { instance: n.name, node: n.name, instance_type: n.instanceType, region: n.region, provider_id: n.providerId };
    s.add('node_cpu_hourly_cost', labels, n.prices.cpu);
    s.add('node_ram_hourly_cost', labels, n.prices.ram);
    if (n.gpus > 0) {
      s.add('node_gpu_hourly_cost', labels, n.prices.gpu);
      s.add('node_gpu_count', labels, n.gpus);
    }
    s.add('node_total_hourly_cost', labels, round(n.cpuCores * n.prices.cpu + (n.ramBytes / 1024 ** 3) * n.prices.ram + n.gpus * n.prices.gpu));
    s.add('kubecost_node_is_spot', labels, n.spot ? 1 : 0);
  }
}

function clusterWideSeries(c: ClusterSnapshot, s: SeriesList): void {
  for (const ns of c.namespaces) s.add('kube_namespace_labels', { namespace: ns.name, ...promLabels(ns.labels) }, 1);
  for (const v of c.volumes) s.add('pv_hourly_cost', { persistentvolume: v.name, provider_id: v.providerId, volumename: v.name }, round(v.gibHourCost, 9));
  for (const svc of c.services) {
    s.add('kubecost_load_balancer_cost', { ingress_ip: svc.ingressIp, namespace: svc.namespace, service_name: svc.name }, svc.hourlyCost);
    s.add('service_selector_labels', { namespace: svc.namespace, service: svc.name, ...promLabels(svc.selector) }, 1);
  }
  s.add('kubecost_cluster_management_cost', { provisioner_name: c.management.provisioner }, c.management.hourlyCost);
  s.add('kubecost_network_zone_egress_cost', {}, c.egressPrices.zone);
  s.add('kubecost_network_region_egress_cost', {}, c.egressPrices.region);
  s.add('kubecost_network_internet_egress_cost', {}, c.egressPrices.internet);
  const watched = new Set(c.namespaces.filter((n) => n.watchedByKsm).map((n) => n.name));
  for (const rs of c.replicaSets) {
    if (!watched.has(rs.namespace)) continue;
    s.add('kube_replicaset_owner', { namespace: rs.namespace, owner_is_controller: 'true', owner_kind: rs.ownerKind, owner_name: rs.ownerName, replicaset: rs.name }, 1);
  }
  for (const job of c.jobs) {
    if (!watched.has(job.namespace)) continue;
    s.add('kube_job_owner', { job_name: job.name, namespace: job.namespace, owner_is_controller: 'true', owner_kind: 'CronJob', owner_name: job.cronJob }, 1);
  }
}

/** The cost-model's own series for a running pod. */
function costModelPodSeries(seed: number, p: DemoPod, t: number, s: SeriesList): void {
  const id = { namespace: p.namespace, pod: p.name };
  for (const ctr of p.containers) {
    const labels = { container: ctr.name, namespace: p.namespace, node: p.node, pod: p.name };
    const cpu = cpuRate(seed, p, ctr, t);
    s.add('container_cpu_allocation', labels, round(Math.max(ctr.cpuRequest ?? 0, cpu)));
    s.add('container_memory_allocation_bytes', labels, Math.max(ctr.ramRequest ?? 0, workingSetBytes(seed, p, ctr, t)));
    if (ctr.gpus > 0) s.add('container_gpu_allocation', labels, ctr.gpus);
  }
  if (p.pvc) s.add('pod_pvc_allocation', { ...id, persistentvolume: p.pvc.volume, persistentvolumeclaim: p.pvc.claim }, p.pvc.bytes);
  s.add('kube_pod_labels', { ...id, ...promLabels(p.labels) }, 1);
  if (p.owner) s.add('kube_pod_owner', { ...id, owner_kind: p.owner.kind, owner_name: p.owner.name }, 1);
  const classes: [keyof DemoPod['egress'], { internet: string; same_region: string; same_zone: string }][] = [
    ['sameZone', { internet: 'false', same_region: 'true', same_zone: 'true' }],
    ['crossZone', { internet: 'false', same_region: 'true', same_zone: 'false' }],
    ['crossRegion', { internet: 'false', same_region: 'false', same_zone: 'false' }],
    ['internet', { internet: 'true', same_region: 'false', same_zone: 'false' }],
  ];
  for (const [key, flags] of classes) {
    if (p.egress[key] > 0) s.add('kubecost_pod_network_egress_bytes_total', { ...flags, namespace: p.namespace, pod_name: p.name }, egressBytes(p, p.egress[key], t));
  }
}

/** cAdvisor's series: one per container plus the pod's own cgroup (container=""), which must not be counted twice. */
function cadvisorPodSeries(seed: number, p: DemoPod, t: number, s: SeriesList): void {
  const cgroup = `/kubepods/burstable/pod${p.uid}`;
  let podCpu = 0;
  let podRam = 0;
  const add = (ctr: DemoContainer | undefined, cpuSecondsValue: number, ram: number) => {
    const labels = ctr
      ? { container: ctr.name, id: `${cgroup}/${ctr.name}`, image: ctr.image, name: `k8s_${ctr.name}_${p.name}_${p.namespace}`, namespace: p.namespace, pod: p.name }
      : { container: '', id: cgroup, image: '', name: '', namespace: p.namespace, pod: p.name };
    s.add('container_cpu_usage_seconds_total', labels, round(cpuSecondsValue, 3));
    s.add('container_memory_working_set_bytes', labels, ram);
  };
  for (const ctr of p.containers) {
    const cpu = cpuSeconds(seed, p, ctr, t);
    const ram = workingSetBytes(seed, p, ctr, t);
    podCpu += cpu;
    podRam += ram;
    add(ctr, cpu, ram);
  }
  add(undefined, podCpu, podRam);
}

/** kube-state-metrics' series for a listed pod (running or finished). */
function ksmPodSeries(p: DemoPod, running: boolean, s: SeriesList): void {
  const id = { namespace: p.namespace, pod: p.name, uid: p.uid };
  const allowListed: Record<string, string> = {};
  for (const key of ['app', 'team']) if (p.labels[key] !== undefined) allowListed[key] = p.labels[key];
  s.add('kube_pod_labels', { ...id, ...promLabels(allowListed) }, 1);
  if (p.owner) s.add('kube_pod_owner', { ...id, owner_is_controller: 'true', owner_kind: p.owner.kind, owner_name: p.owner.name }, 1);
  else s.add('kube_pod_owner', { ...id, owner_is_controller: '', owner_kind: '<none>', owner_name: '<none>' }, 1);
  for (const ctr of p.containers) {
    s.add('kube_pod_container_status_running', { container: ctr.name, namespace: p.namespace, pod: p.name, uid: p.uid }, running ? 1 : 0);
    if (!running) continue;
    const labels = { container: ctr.name, namespace: p.namespace, node: p.node, pod: p.name, uid: p.uid };
    if (ctr.cpuRequest !== undefined) s.add('kube_pod_container_resource_requests', { ...labels, resource: 'cpu', unit: 'core' }, ctr.cpuRequest);
    if (ctr.ramRequest !== undefined) s.add('kube_pod_container_resource_requests', { ...labels, resource: 'memory', unit: 'byte' }, ctr.ramRequest);
    if (ctr.gpus > 0) s.add('kube_pod_container_resource_requests', { ...labels, resource: 'nvidia_com_gpu', unit: 'integer' }, ctr.gpus);
  }
}

/** Every series of the cluster at the snapshot's instant. */
export function seriesOf(seed: number, c: ClusterSnapshot): ExporterSeries[] {
  const s = new SeriesList();
  const t = c.atMs;
  nodeSeries(c, s);
  clusterWideSeries(c, s);
  const watched = new Set(c.namespaces.filter((n) => n.watchedByKsm).map((n) => n.name));
  for (const p of c.pods) {
    const running = isRunning(p, t);
    if (running) {
      costModelPodSeries(seed, p, t, s);
      cadvisorPodSeries(seed, p, t, s);
    }
    if (watched.has(p.namespace)) ksmPodSeries(p, running, s);
  }
  return s.list;
}
