// The simulated cluster behind the demo exporter: three nodes (one that the pricing source does not
// know), Deployments whose ReplicaSets roll over, a scaling Deployment, an Argo Rollout, a
// StatefulSet with a PVC, a DaemonSet, CronJobs whose Jobs appear and finish, a bare pod and a
// LoadBalancer service. Everything is a pure function of (seed, instant): the same seed and clock
// give the same pods, names and values, with no state kept between scrapes.
import { between, hash32, safeString, unit, uuid } from './seeded.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** When the cluster's long-running pods started (counters grow from here). */
export const CLUSTER_START_MS = Date.UTC(2024, 0, 1);

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

const REGION = 'eu-west-1';

export const DEMO_NODES: readonly DemoNode[] = [
  {
    name: 'ip-10-0-1-17.eu-west-1.compute.internal',
    instanceType: 'm5.xlarge',
    region: REGION,
    zone: 'eu-west-1a',
    providerId: 'aws:///eu-west-1a/i-0a1b2c3d4e5f60718',
    cpuCores: 4,
    ramBytes: 16 * GIB,
    gpus: 0,
    prices: { cpu: 0.0315, ram: 0.0042, gpu: 0 },
  },
  {
    name: 'ip-10-0-2-44.eu-west-1.compute.internal',
    instanceType: 'g4dn.xlarge',
    region: REGION,
    zone: 'eu-west-1b',
    providerId: 'aws:///eu-west-1b/i-0b2c3d4e5f6071829',
    cpuCores: 4,
    ramBytes: 16 * GIB,
    gpus: 1,
    prices: { cpu: 0.0315, ram: 0.0042, gpu: 0.3328 },
  },
  {
    // An instance type the pricing source does not list yet: no price series at all.
    name: 'ip-10-0-3-91.eu-west-1.compute.internal',
    instanceType: 'm8a.large',
    region: REGION,
    zone: 'eu-west-1c',
    providerId: 'aws:///eu-west-1c/i-0c3d4e5f607182930',
    cpuCores: 2,
    ramBytes: 8 * GIB,
    gpus: 0,
  },
];

const [NODE_A, NODE_B, NODE_C] = DEMO_NODES.map((n) => n.name);

export const DEMO_NAMESPACES: readonly DemoNamespace[] = [
  { name: 'shop', labels: { team: 'checkout', env: 'prod' }, watchedByKsm: true },
  { name: 'data', labels: { team: 'platform', env: 'prod' }, watchedByKsm: true },
  { name: 'ml', labels: { team: 'research', env: 'prod' }, watchedByKsm: true },
  { name: 'batch', labels: { team: 'analytics', env: 'prod' }, watchedByKsm: true },
  { name: 'logging', labels: { team: 'platform' }, watchedByKsm: true },
  { name: 'legacy', labels: { team: 'billing' }, watchedByKsm: false },
  { name: 'default', labels: {}, watchedByKsm: true },
];

const NO_EGRESS: DemoEgress = { sameZone: 0, crossZone: 0, crossRegion: 0, internet: 0 };

function container(name: string, image: string, cpuRequest: number | undefined, ramRequestMiB: number | undefined, cpuUse: number, ramUseMiB: number, gpus = 0): DemoContainer {
  return { name, image, cpuRequest, ramRequest: ramRequestMiB === undefined ? undefined : ramRequestMiB * MIB, gpus, cpuUse, ramUse: ramUseMiB * MIB };
}

/** A Deployment (or Argo Rollout): `replicas` pods per ReplicaSet generation, a new generation every `rolloutEveryMs`. */
interface ReplicatedSpec {
  namespace: string;
  name: string;
  ownerKind: 'Deployment' | 'Rollout';
  /** Replicas, possibly changing every `scaleStepMs` (slot 0 always runs). */
  replicas: number | ((step: number) => number);
  scaleStepMs?: number;
  rolloutEveryMs?: number;
  nodes: readonly string[];
  labels: Record<string, string>;
  containers: DemoContainer[];
  egress?: DemoEgress;
}

interface CronJobSpec {
  namespace: string;
  name: string;
  everyMs: number;
  minRunMs: number;
  maxRunMs: number;
  nodes: readonly string[];
  labels: Record<string, string>;
  containers: DemoContainer[];
  egress?: DemoEgress;
}

const KIB = 1024;

const workerReplicas = (seed: number) => (step: number) => 1 + Math.floor(unit(seed, 'worker-replicas', step) * 4);

function replicatedSpecs(seed: number): ReplicatedSpec[] {
  return [
    {
      namespace: 'shop',
      name: 'web',
      ownerKind: 'Deployment',
      replicas: 3,
      rolloutEveryMs: 24 * HOUR,
      nodes: [NODE_A, NODE_C, NODE_A],
      labels: { app: 'web', team: 'checkout', tier: 'frontend' },
      containers: [container('nginx', 'nginx:1.27', 0.1, 128, 0.04, 60), container('app', 'shop/web:4.2.1', 0.25, 512, 0.18, 380)],
      egress: { sameZone: 0, crossZone: 10 * KIB, crossRegion: 0, internet: 60 * KIB },
    },
    {
      namespace: 'shop',
      name: 'api',
      ownerKind: 'Deployment',
      replicas: 2,
      rolloutEveryMs: 2 * HOUR,
      nodes: [NODE_A, NODE_C],
      labels: { app: 'api', team: 'checkout', tier: 'backend' },
      containers: [container('api', 'shop/api:7.0.3', 0.5, 1024, 0.35, 700)],
      egress: { sameZone: 30 * KIB, crossZone: 20 * KIB, crossRegion: 0, internet: 5 * KIB },
    },
    {
      // Scales between 1 and 4 replicas every 15 minutes, using more CPU than it requests.
      namespace: 'shop',
      name: 'worker',
      ownerKind: 'Deployment',
      replicas: workerReplicas(seed),
      scaleStepMs: 15 * MINUTE,
      nodes: [NODE_A, NODE_B, NODE_C, NODE_A],
      labels: { app: 'worker', team: 'checkout', tier: 'backend' },
      containers: [container('worker', 'shop/worker:7.0.3', 0.2, 256, 0.3, 240)],
    },
    {
      namespace: 'shop',
      name: 'payments',
      ownerKind: 'Rollout',
      replicas: 2,
      rolloutEveryMs: 6 * HOUR,
      nodes: [NODE_A, NODE_C],
      labels: { app: 'payments', team: 'payments', tier: 'backend' },
      containers: [container('payments', 'shop/payments:3.1.0', 0.25, 384, 0.12, 300)],
      egress: { sameZone: 0, crossZone: 0, crossRegion: 0, internet: 2 * KIB },
    },
    {
      namespace: 'ml',
      name: 'trainer',
      ownerKind: 'Deployment',
      replicas: 1,
      nodes: [NODE_B],
      labels: { app: 'trainer', team: 'research' },
      containers: [container('trainer', 'ml/trainer:0.9.0', 2, 8192, 1.6, 6500, 1)],
      egress: { sameZone: 0, crossZone: 0, crossRegion: 40 * KIB, internet: 0 },
    },
    {
      // kube-state-metrics does not watch `legacy`: no kube_replicaset_owner, so the workload is
      // inferred from the ReplicaSet name.
      namespace: 'legacy',
      name: 'billing-v1',
      ownerKind: 'Deployment',
      replicas: 1,
      nodes: [NODE_C],
      labels: { app: 'billing', team: 'billing' },
      containers: [container('billing', 'legacy/billing:1.14', 0.25, 512, 0.05, 420)],
    },
  ];
}

const CRON_JOBS: readonly CronJobSpec[] = [
  {
    // Every 5 minutes, each run taking 5.5 to 8 minutes: one or two Jobs are always running.
    namespace: 'batch',
    name: 'report',
    everyMs: 5 * MINUTE,
    minRunMs: 5.5 * MINUTE,
    maxRunMs: 8 * MINUTE,
    nodes: [NODE_A, NODE_C],
    labels: { app: 'report', team: 'analytics' },
    containers: [container('report', 'batch/report:2.3.0', 0.5, 1024, 0.45, 800)],
    egress: { sameZone: 0, crossZone: 0, crossRegion: 200 * KIB, internet: 0 },
  },
  {
    namespace: 'batch',
    name: 'cleanup',
    everyMs: 15 * MINUTE,
    minRunMs: 1 * MINUTE,
    maxRunMs: 2.5 * MINUTE,
    nodes: [NODE_B, NODE_C],
    labels: { app: 'cleanup', team: 'analytics' },
    containers: [container('cleanup', 'batch/cleanup:1.0.4', 0.1, 128, 0.08, 90)],
  },
];

/** How long a finished Job's pod stays listed (its ttlSecondsAfterFinished). */
export const FINISHED_POD_TTL_MS = 2 * MINUTE;

function pod(seed: number, p: Omit<DemoPod, 'uid' | 'egress'> & { egress?: DemoEgress }): DemoPod {
  return { ...p, uid: uuid(seed, 'pod', p.namespace, p.name, p.startMs), egress: p.egress ?? NO_EGRESS };
}

/** The step at which slot `slot`'s current run of steps began (slot 0 runs from the cluster start). */
function runStart(replicas: (step: number) => number, slot: number, step: number): number {
  if (slot === 0) return Number.NEGATIVE_INFINITY;
  let s = step;
  while (s > step - 10_000 && replicas(s - 1) > slot) s--;
  return s;
}

function replicatedPods(seed: number, spec: ReplicatedSpec, nowMs: number, out: ClusterSnapshot): void {
  const replicas = typeof spec.replicas === 'number' ? () => spec.replicas as number : spec.replicas;
  const stepMs = spec.scaleStepMs ?? HOUR;
  const step = Math.floor(nowMs / stepMs);
  const seenRs = new Set<string>();
  const offset = between(seed, 0, 6 * HOUR, spec.namespace, spec.name, 'offset');
  for (let slot = 0; slot < replicas(step); slot++) {
    // Slots roll 20 s apart, so during a rollout the old and the new ReplicaSet both have pods.
    const lag = slot * 20_000;
    const every = spec.rolloutEveryMs;
    const generation = every === undefined ? 0 : Math.floor((nowMs - lag - offset) / every);
    const generationStart = every === undefined ? CLUSTER_START_MS + offset : generation * every + offset;
    const firstStep = runStart(replicas, slot, step);
    const startMs = Math.max(generationStart + lag, Number.isFinite(firstStep) ? firstStep * stepMs + lag : Number.NEGATIVE_INFINITY);
    const hash = safeString(10, seed, spec.namespace, spec.name, 'template', generation);
    const rs = `${spec.name}-${hash}`;
    const name = `${rs}-${safeString(5, seed, rs, slot, startMs)}`;
    if (!seenRs.has(rs)) {
      seenRs.add(rs);
      out.replicaSets.push({ namespace: spec.namespace, name: rs, ownerKind: spec.ownerKind, ownerName: spec.name });
    }
    out.pods.push(
      pod(seed, {
        namespace: spec.namespace,
        name,
        node: spec.nodes[slot % spec.nodes.length],
        startMs,
        owner: { kind: 'ReplicaSet', name: rs },
        labels: { ...spec.labels, 'pod-template-hash': hash },
        containers: spec.containers,
        egress: spec.egress,
      }),
    );
  }
}

function cronJobPods(seed: number, spec: CronJobSpec, nowMs: number, out: ClusterSnapshot): void {
  const oldest = nowMs - spec.maxRunMs - FINISHED_POD_TTL_MS - spec.everyMs;
  for (let scheduled = Math.floor(nowMs / spec.everyMs) * spec.everyMs; scheduled > oldest; scheduled -= spec.everyMs) {
    // Kubernetes names a CronJob's Job after its scheduled time in minutes since the epoch.
    const job = `${spec.name}-${Math.floor(scheduled / MINUTE)}`;
    const startMs = scheduled + 2_000;
    const endMs = startMs + between(seed, spec.minRunMs, spec.maxRunMs, job, 'run');
    if (startMs > nowMs || endMs + FINISHED_POD_TTL_MS <= nowMs) continue;
    out.jobs.push({ namespace: spec.namespace, name: job, cronJob: spec.name });
    out.pods.push(
      pod(seed, {
        namespace: spec.namespace,
        name: `${job}-${safeString(5, seed, job)}`,
        node: spec.nodes[hash32(seed, job) % spec.nodes.length],
        startMs,
        endMs: endMs <= nowMs ? endMs : undefined,
        owner: { kind: 'Job', name: job },
        labels: { ...spec.labels, 'job-name': job },
        containers: spec.containers,
        egress: spec.egress,
      }),
    );
  }
}

function fixedPods(seed: number, out: ClusterSnapshot): void {
  const started = (key: string) => CLUSTER_START_MS + between(seed, 0, 24 * HOUR, key, 'start');
  const volume = `pvc-${uuid(seed, 'volume', 'data-postgres-0')}`;
  out.volumes.push({ name: volume, providerId: `vol-0${safeString(16, seed, volume)}`, gibHourCost: 0.08 / 730 });
  out.pods.push(
    pod(seed, {
      namespace: 'data',
      name: 'postgres-0',
      node: NODE_A,
      startMs: started('postgres-0'),
      owner: { kind: 'StatefulSet', name: 'postgres' },
      labels: { app: 'postgres', team: 'platform', 'statefulset.kubernetes.io/pod-name': 'postgres-0' },
      containers: [container('postgres', 'postgres:16.4', 1, 4096, 0.6, 3300), container('exporter', 'postgres-exporter:0.15.0', 0.05, 64, 0.01, 30)],
      pvc: { claim: 'data-postgres-0', volume, bytes: 100 * GIB },
      egress: { sameZone: 80 * KIB, crossZone: 15 * KIB, crossRegion: 0, internet: 0 },
    }),
  );
  for (const node of DEMO_NODES) {
    const name = `fluent-bit-${safeString(5, seed, 'fluent-bit', node.name)}`;
    out.pods.push(
      pod(seed, {
        namespace: 'logging',
        name,
        node: node.name,
        startMs: started(name),
        owner: { kind: 'DaemonSet', name: 'fluent-bit' },
        labels: { app: 'fluent-bit', team: 'platform' },
        containers: [container('fluent-bit', 'fluent-bit:3.1.9', 0.1, 200, 0.05, 120)],
        egress: { sameZone: 0, crossZone: 0, crossRegion: 0, internet: 8 * KIB },
      }),
    );
  }
  // A pod started by hand, without a controller and without requests.
  out.pods.push(
    pod(seed, {
      namespace: 'default',
      name: 'debug-shell',
      node: NODE_B,
      startMs: started('debug-shell'),
      labels: { run: 'debug-shell' },
      containers: [container('shell', 'busybox:1.36', undefined, undefined, 0.02, 12)],
    }),
  );
}

/** The cluster as it is at `nowMs`. */
export function clusterAt(seed: number, nowMs: number): ClusterSnapshot {
  const out: ClusterSnapshot = {
    atMs: nowMs,
    nodes: [...DEMO_NODES],
    namespaces: [...DEMO_NAMESPACES],
    pods: [],
    replicaSets: [],
    jobs: [],
    services: [{ namespace: 'shop', name: 'web', selector: { app: 'web' }, ingressIp: '203.0.113.10', hourlyCost: 0.025 }],
    volumes: [],
    management: { provisioner: 'EKS', hourlyCost: 0.1 },
    egressPrices: { zone: 0.01, region: 0.01, internet: 0.12 },
  };
  fixedPods(seed, out);
  for (const spec of replicatedSpecs(seed)) replicatedPods(seed, spec, nowMs, out);
  for (const spec of CRON_JOBS) cronJobPods(seed, spec, nowMs, out);
  return out;
}

/** Whether the pod's containers are running at `nowMs`. */
export function isRunning(p: DemoPod, nowMs: number): boolean {
  return p.startMs <= nowMs && (p.endMs === undefined || nowMs < p.endMs);
}

/** Cores a container uses at `t`, swinging ±30 % around its average with a seeded period and phase. */
function swing(seed: number, p: DemoPod, c: DemoContainer, what: string) {
  const period = between(seed, 10 * MINUTE, 60 * MINUTE, p.namespace, p.name, c.name, what, 'period');
  const phase = between(seed, 0, 2 * Math.PI, p.namespace, p.name, c.name, what, 'phase');
  return { omega: (2 * Math.PI) / period, phase };
}

export function cpuRate(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'cpu');
  return c.cpuUse * (1 + 0.3 * Math.sin(omega * (t - p.startMs) + phase));
}

/** CPU seconds used since the container started: the integral of cpuRate, so it only grows. */
export function cpuSeconds(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'cpu');
  const dt = Math.max(0, Math.min(t, p.endMs ?? t) - p.startMs);
  const wobble = (0.3 / omega) * (Math.cos(phase) - Math.cos(omega * dt + phase));
  return (c.cpuUse * (dt + wobble)) / 1000;
}

export function workingSetBytes(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'ram');
  return Math.round(c.ramUse * (1 + 0.15 * Math.sin(omega * (t - p.startMs) + phase)));
}

/** Bytes sent since the pod started, at `bytesPerSecond` (whole bytes, only growing). */
export function egressBytes(p: DemoPod, bytesPerSecond: number, t: number): number {
  const dt = Math.max(0, Math.min(t, p.endMs ?? t) - p.startMs);
  return Math.floor((bytesPerSecond * dt) / 1000);
}
