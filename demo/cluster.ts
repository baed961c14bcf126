// The simulated cluster behind the demo exporter at any instant: which pods of the inventory
// (inventory.ts) exist, with Kubernetes-shaped names: ReplicaSets that roll over, a Deployment that
// scales, CronJob Jobs that appear and finish, a StatefulSet with its PVC, a DaemonSet, a bare pod.
// Everything is a pure function of (seed, instant): the same seed and clock give the same pods,
// names and values, with no state kept between scrapes.
import type { ClusterSnapshot, DemoEgress, DemoPod } from './cluster-types.ts';
import { container, CRON_JOBS, DEMO_NAMESPACES, DEMO_NODES, GIB, HOUR, KIB, MINUTE, NODE_A, NODE_B, NO_EGRESS, replicatedSpecs, type CronJobSpec, type ReplicatedSpec } from './inventory.ts';
import { between, hash32, safeString, uuid } from './seeded.ts';

/** When the cluster's long-running pods started (counters grow from here). */
export const CLUSTER_START_MS = Date.UTC(2024, 0, 1);

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
