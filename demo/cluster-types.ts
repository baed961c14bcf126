// The shapes of the simulated cluster (cluster.ts): nodes, pods and what else the exporter reports.

export interface NodePrices {
  /** $ per core-hour. */
  cpu: number;
  /** $ per GiB-hour. */
  ram: number;
  /** $ per GPU-hour. */
  gpu: number;
}

export interface DemoNode {
  name: string;
  instanceType: string;
  region: string;
  zone: string;
  providerId: string;
  cpuCores: number;
  ramBytes: number;
  gpus: number;
  /** Absent for a node the pricing source did not know: the exporter sends no price series for it. */
  prices?: NodePrices;
  /** A spot (preemptible) instance: kubecost_node_is_spot 1. */
  spot: boolean;
  /**
   * The kube-state-metrics generation that reports the node's capacity: 1.x has one series per
   * resource (kube_node_status_capacity_cpu_cores, ..._memory_bytes), 2.x one series with a
   * `resource` label; 'both' while a cluster runs the two side by side during an upgrade.
   */
  ksm: '1.x' | '2.x' | 'both';
  /** Node labels under their pre-1.17 beta names (beta.kubernetes.io/instance-type, failure-domain.beta...). */
  betaLabels: boolean;
}

export interface DemoContainer {
  name: string;
  image: string;
  /** Requested cores (absent: no request, as in a quickly started debug pod). */
  cpuRequest?: number;
  ramRequest?: number;
  gpus: number;
  /** Average cores used; the actual rate swings ±30 % around it. */
  cpuUse: number;
  /** Average working set in bytes; swings ±15 %. */
  ramUse: number;
}

/** Bytes per second a pod sends, by destination. */
export interface DemoEgress {
  sameZone: number;
  crossZone: number;
  crossRegion: number;
  internet: number;
}

export interface DemoPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  startMs: number;
  /** Set once the pod's containers have stopped (a finished Job): only kube-state-metrics still lists it. */
  endMs?: number;
  owner?: { kind: string; name: string };
  /** Pod labels as in Kubernetes (unsanitised keys). */
  labels: Record<string, string>;
  containers: DemoContainer[];
  pvc?: { claim: string; volume: string; bytes: number };
  egress: DemoEgress;
}

export interface DemoNamespace {
  name: string;
  labels: Record<string, string>;
  /** kube-state-metrics runs with a namespace allow-list; pods elsewhere only have the cost exporter's series. */
  watchedByKsm: boolean;
}

export interface DemoReplicaSet {
  namespace: string;
  name: string;
  ownerKind: string;
  ownerName: string;
}

export interface DemoJob {
  namespace: string;
  name: string;
  cronJob: string;
}

export interface DemoService {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  ingressIp: string;
  /** $ per hour. */
  hourlyCost: number;
}

export interface DemoVolume {
  name: string;
  providerId: string;
  /** $ per GiB-hour. */
  gibHourCost: number;
}

export interface ClusterSnapshot {
  atMs: number;
  nodes: DemoNode[];
  namespaces: DemoNamespace[];
  pods: DemoPod[];
  replicaSets: DemoReplicaSet[];
  jobs: DemoJob[];
  services: DemoService[];
  volumes: DemoVolume[];
  management: { provisioner: string; hourlyCost: number };
  /** $ per GiB by destination class. */
  egressPrices: { zone: number; region: number; internet: number };
}
