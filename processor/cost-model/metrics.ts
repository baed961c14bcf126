// Which series the model uses and what it keeps of their labels. A series is classified once, when
// it is new; everything else about it is kept as interned strings (see series-table.ts).
import { labelSetOf, nodeInfoSet } from './label-sets.ts';

/** Series kinds. Numbers are stored in a Uint8Array column. */
export const Kind = {
  CpuAlloc: 1,
  RamAlloc: 2,
  GpuAlloc: 3,
  PvcAlloc: 4,
  CpuRequest: 5,
  RamRequest: 6,
  CpuUsage: 7,
  WorkingSet: 8,
  NodeCpuPrice: 9,
  NodeRamPrice: 10,
  NodeGpuPrice: 11,
  PvPrice: 12,
  LoadBalancer: 13,
  ClusterManagement: 14,
  ZoneEgressPrice: 15,
  RegionEgressPrice: 16,
  InternetEgressPrice: 17,
  EgressBytes: 18,
  PodOwner: 19,
  ReplicaSetOwner: 20,
  PodLabels: 21,
  ServiceSelector: 22,
  NodeCpuCapacity: 23,
  NodeRamCapacity: 24,
  NodeGpuCapacity: 25,
  NodeSpot: 26,
  NodeLabels: 27,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** How a kind's samples are read: the interval rule, a counter, a plain mean, or mere presence. */
export const Reading = { Gauge: 0, Counter: 1, Mean: 2, Presence: 3 } as const;
export type Reading = (typeof Reading)[keyof typeof Reading];

// A table rather than ranges of kind numbers: kinds are added at the end, whatever their reading.
const READINGS: Uint8Array = (() => {
  const table = new Uint8Array(32).fill(Reading.Gauge);
  for (const k of [Kind.CpuUsage, Kind.EgressBytes]) table[k] = Reading.Counter;
  for (const k of [Kind.NodeCpuPrice, Kind.NodeRamPrice, Kind.NodeGpuPrice, Kind.PvPrice, Kind.ZoneEgressPrice, Kind.RegionEgressPrice, Kind.InternetEgressPrice, Kind.NodeSpot]) {
    table[k] = Reading.Mean;
  }
  for (const k of [Kind.PodOwner, Kind.ReplicaSetOwner, Kind.PodLabels, Kind.ServiceSelector, Kind.NodeLabels]) table[k] = Reading.Presence;
  return table;
})();

export function readingOf(kind: number): Reading {
  return READINGS[kind] as Reading;
}

/** Egress classes of kubecost_pod_network_egress_bytes_total, as OpenCost prices them. */
export const Egress = { SameZone: '0', CrossZone: '1', CrossRegion: '2', Internet: '3' } as const;

const METRIC_KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['container_cpu_allocation', Kind.CpuAlloc],
  ['container_memory_allocation_bytes', Kind.RamAlloc],
  ['container_gpu_allocation', Kind.GpuAlloc],
  ['pod_pvc_allocation', Kind.PvcAlloc],
  ['kube_pod_container_resource_requests', Kind.CpuRequest], // memory is told apart by `resource`
  ['container_cpu_usage_seconds_total', Kind.CpuUsage],
  ['container_memory_working_set_bytes', Kind.WorkingSet],
  ['node_cpu_hourly_cost', Kind.NodeCpuPrice],
  ['node_ram_hourly_cost', Kind.NodeRamPrice],
  ['node_gpu_hourly_cost', Kind.NodeGpuPrice],
  ['pv_hourly_cost', Kind.PvPrice],
  ['kubecost_load_balancer_cost', Kind.LoadBalancer],
  ['kubecost_cluster_management_cost', Kind.ClusterManagement],
  ['kubecost_network_zone_egress_cost', Kind.ZoneEgressPrice],
  ['kubecost_network_region_egress_cost', Kind.RegionEgressPrice],
  ['kubecost_network_internet_egress_cost', Kind.InternetEgressPrice],
  ['kubecost_pod_network_egress_bytes_total', Kind.EgressBytes],
  ['kube_pod_owner', Kind.PodOwner],
  ['kube_replicaset_owner', Kind.ReplicaSetOwner],
  ['kube_pod_labels', Kind.PodLabels],
  ['service_selector_labels', Kind.ServiceSelector],
  ['kube_node_status_capacity', Kind.NodeCpuCapacity], // kube-state-metrics 2.x: memory and GPUs are told apart by `resource`
  ['kube_node_status_capacity_cpu_cores', Kind.NodeCpuCapacity], // kube-state-metrics 1.x
  ['kube_node_status_capacity_memory_bytes', Kind.NodeRamCapacity], // kube-state-metrics 1.x
  ['node_gpu_count', Kind.NodeGpuCapacity],
  ['kubecost_node_is_spot', Kind.NodeSpot],
  ['kube_node_labels', Kind.NodeLabels],
]);

/** True for the metric names the model reads; the processor may use it to skip other series early. */
export function isCostMetric(name: string): boolean {
  return METRIC_KINDS.has(name);
}

/** What a new series is: a kind and up to three strings (entity, a, b) whose meaning depends on it. */
export interface Classified {
  kind: Kind;
  /** The entity: `namespace\0pod`, a node, a PV, `namespace\0service`, a provisioner, or ''. */
  e: string;
  a: string;
  b: string;
}

export type Classification = Classified | 'ignored' | 'invalid';

/** The separator of composite keys; label values cannot contain it (Prometheus text format forbids NUL). */
export const SEP = '\0';

// With honor_labels: false, Prometheus renames a series' own namespace/pod/container to exported_*
// because the scrape target has labels of the same names (the exporter's own pod). So where an
// exported_* label exists it is the series' true value; the plain label stands in otherwise.
function pick(labels: Readonly<Record<string, string>>, name: string): string {
  const exported = labels[`exported_${name}`];
  return exported !== undefined && exported !== '' ? exported : (labels[name] ?? '');
}

function podKey(labels: Readonly<Record<string, string>>, podLabel = 'pod'): string | undefined {
  const ns = pick(labels, 'namespace');
  const pod = podLabel === 'pod' ? pick(labels, 'pod') : labels[podLabel] || pick(labels, 'pod');
  return ns === '' || pod === '' ? undefined : ns + SEP + pod;
}

/** The capacity kind of kube_node_status_capacity's `resource` (pods, ephemeral storage, ...: not priced). */
function capacityKind(resource: string | undefined): Kind | undefined {
  if (resource === 'cpu') return Kind.NodeCpuCapacity;
  if (resource === 'memory') return Kind.NodeRamCapacity;
  return resource === 'nvidia_com_gpu' ? Kind.NodeGpuCapacity : undefined;
}

function classified(kind: Kind, e: string, a = '', b = ''): Classified {
  return { kind, e, a, b };
}

function egressClass(labels: Readonly<Record<string, string>>): string {
  if (labels.internet === 'true') return Egress.Internet;
  if (labels.same_zone === 'true') return Egress.SameZone;
  return labels.same_region === 'true' ? Egress.CrossZone : Egress.CrossRegion;
}

/** Classifies a series from its labels (read once, when the series is new). */
export function classify(labels: Readonly<Record<string, string>>): Classification {
  const name = labels.__name__;
  let kind = name === undefined ? undefined : METRIC_KINDS.get(name);
  if (kind === undefined) return 'ignored';
  switch (kind) {
    case Kind.CpuAlloc:
    case Kind.RamAlloc:
    case Kind.GpuAlloc: {
      const pod = podKey(labels);
      return pod === undefined ? 'invalid' : classified(kind, pod, pick(labels, 'container'), labels.node ?? '');
    }
    case Kind.CpuRequest: {
      const resource = labels.resource;
      if (resource === 'memory') kind = Kind.RamRequest;
      else if (resource !== 'cpu') return 'ignored'; // gpu, ephemeral storage, ...: not priced from requests
      const pod = podKey(labels);
      return pod === undefined ? 'invalid' : classified(kind, pod, pick(labels, 'container'));
    }
    case Kind.CpuUsage:
    case Kind.WorkingSet: {
      // container="" is the pod's cgroup total and "POD" the pause container: counting them would
      // double the pod's usage.
      const container = pick(labels, 'container') || (labels.container_name ?? '');
      if (container === '' || container === 'POD') return 'ignored';
      const pod = podKey(labels);
      return pod === undefined ? 'invalid' : classified(kind, pod, container);
    }
    case Kind.PvcAlloc: {
      const pod = podKey(labels);
      const pv = labels.persistentvolume ?? labels.volumename ?? '';
      return pod === undefined ? 'invalid' : classified(kind, pod, labels.persistentvolumeclaim ?? '', pv);
    }
    case Kind.NodeCpuPrice:
    case Kind.NodeRamPrice:
    case Kind.NodeGpuPrice: {
      // `a` only describes the node (instance_type, region): price series of a node merge whatever it says.
      const node = labels.node ?? '';
      return node === '' ? 'invalid' : classified(kind, node, nodeInfoSet(labels, false));
    }
    case Kind.NodeCpuCapacity:
    case Kind.NodeRamCapacity:
    case Kind.NodeGpuCapacity:
    case Kind.NodeSpot:
    case Kind.NodeLabels: {
      if (name === 'kube_node_status_capacity') {
        const byResource = capacityKind(labels.resource);
        if (byResource === undefined) return 'ignored';
        kind = byResource;
      }
      const node = labels.node ?? '';
      if (node === '') return 'invalid';
      return classified(kind, node, kind === Kind.NodeLabels ? nodeInfoSet(labels, true) : '');
    }
    case Kind.PvPrice: {
      const pv = labels.persistentvolume || labels.volumename || '';
      return pv === '' ? 'invalid' : classified(kind, pv);
    }
    case Kind.LoadBalancer: {
      const ns = pick(labels, 'namespace');
      const service = labels.service_name ?? '';
      return ns === '' || service === '' ? 'invalid' : classified(kind, ns + SEP + service);
    }
    case Kind.ClusterManagement:
      return classified(kind, labels.provisioner_name ?? '');
    case Kind.ZoneEgressPrice:
    case Kind.RegionEgressPrice:
    case Kind.InternetEgressPrice:
      return classified(kind, '');
    case Kind.EgressBytes: {
      const pod = podKey(labels, 'pod_name');
      return pod === undefined ? 'invalid' : classified(kind, pod, egressClass(labels));
    }
    case Kind.PodOwner: {
      const pod = podKey(labels);
      return pod === undefined ? 'invalid' : classified(kind, pod, labels.owner_kind ?? '', labels.owner_name ?? '');
    }
    case Kind.ReplicaSetOwner: {
      const ns = pick(labels, 'namespace');
      const rs = labels.replicaset ?? '';
      if (ns === '' || rs === '') return 'invalid';
      return classified(kind, ns + SEP + rs, labels.owner_kind ?? '', labels.owner_name ?? '');
    }
    case Kind.PodLabels: {
      const pod = podKey(labels);
      return pod === undefined ? 'invalid' : classified(kind, pod, labelSetOf(labels));
    }
    case Kind.ServiceSelector: {
      const ns = pick(labels, 'namespace');
      const service = labels.service ?? '';
      return ns === '' || service === '' ? 'invalid' : classified(kind, ns + SEP + service, labelSetOf(labels));
    }
    default:
      return 'ignored';
  }
}
