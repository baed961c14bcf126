// What the simulated cluster runs: its nodes (one that the pricing source does not know), its
// namespaces, and the workloads whose pods cluster.ts derives for any instant.
import type { DemoContainer, DemoEgress, DemoNamespace, DemoNode } from './cluster-types.ts';
import { unit } from './seeded.ts';

export const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
export const KIB = 1024;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

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
    spot: false,
    ksm: '2.x',
    betaLabels: false,
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
    // A spot GPU instance, on a node pool that still runs kube-state-metrics 1.x and beta labels.
    prices: { cpu: 0.0315, ram: 0.0042, gpu: 0.3328 },
    spot: true,
    ksm: '1.x',
    betaLabels: true,
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
    spot: false,
    // Reported by both kube-state-metrics generations at once: one capacity, not two.
    ksm: 'both',
    betaLabels: false,
  },
];

export const [NODE_A, NODE_B, NODE_C] = DEMO_NODES.map((n) => n.name);

export const DEMO_NAMESPACES: readonly DemoNamespace[] = [
  { name: 'shop', labels: { team: 'checkout', env: 'prod' }, watchedByKsm: true },
  { name: 'data', labels: { team: 'platform', env: 'prod' }, watchedByKsm: true },
  { name: 'ml', labels: { team: 'research', env: 'prod' }, watchedByKsm: true },
  { name: 'batch', labels: { team: 'analytics', env: 'prod' }, watchedByKsm: true },
  { name: 'logging', labels: { team: 'platform' }, watchedByKsm: true },
  { name: 'legacy', labels: { team: 'billing' }, watchedByKsm: false },
  { name: 'default', labels: {}, watchedByKsm: true },
];

export const NO_EGRESS: DemoEgress = { sameZone: 0, crossZone: 0, crossRegion: 0, internet: 0 };

export function container(name: string, image: string, cpuRequest: number | undefined, ramRequestMiB: number | undefined, cpuUse: number, ramUseMiB: number, gpus = 0): DemoContainer {
  return { name, image, cpuRequest, ramRequest: ramRequestMiB === undefined ? undefined : ramRequestMiB * MIB, gpus, cpuUse, ramUse: ramUseMiB * MIB };
}

/** A Deployment (or Argo Rollout): `replicas` pods per ReplicaSet generation, a new generation every `rolloutEveryMs`. */
export interface ReplicatedSpec {
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

export interface CronJobSpec {
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


const workerReplicas = (seed: number) => (step: number) => 1 + Math.floor(unit(seed, 'worker-replicas', step) * 4);

export function replicatedSpecs(seed: number): ReplicatedSpec[] {
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

export const CRON_JOBS: readonly CronJobSpec[] = [
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
