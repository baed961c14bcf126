// The simulated cluster of `npm run demo`: deterministic, realistic enough to exercise every series
// the cost model reads, and alive: Jobs start and finish, ReplicaSets roll over, a Deployment scales,
// counters only grow.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clusterAt, FINISHED_POD_TTL_MS } from '../../../demo/cluster.ts';
import { demoExposition } from '../../../demo/exporter.ts';
import { parseExposition, type ParsedSample } from '../../../demo/exposition.ts';
import { DEMO_NODES } from '../../../demo/inventory.ts';

const T0 = Date.UTC(2026, 2, 10, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const samplesAt = (t: number, seed = 42) => parseExposition(demoExposition(seed, t)).samples;
const named = (samples: ParsedSample[], name: string) => samples.filter((s) => s.name === name);
const key = (s: ParsedSample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

/** The metric names the cost model classifies, read from its table so a new one shows up here. */
function modelMetricNames(): string[] {
  const source = readFileSync(fileURLToPath(new URL('../../../processor/cost-model/metrics.ts', import.meta.url)), 'utf8');
  const names = [...source.matchAll(/\['([a-z_]+)', Kind\.[A-Za-z]+\]/g)].map((m) => m[1]);
  expect(names.length).toBeGreaterThan(15);
  return names;
}

describe('demo cluster', () => {
  it('is a pure function of the seed and the clock', () => {
    expect(demoExposition(42, T0)).toBe(demoExposition(42, T0));
    expect(demoExposition(7, T0)).not.toBe(demoExposition(42, T0));
    expect(demoExposition(42, T0 + 15_000)).not.toBe(demoExposition(42, T0));
  });

  it('exports every series the cost model reads', () => {
    const names = new Set(samplesAt(T0).map((s) => s.name));
    for (const name of modelMetricNames()) expect(names.has(name), name).toBe(true);
    for (const name of ['kube_namespace_labels', 'kube_pod_container_status_running', 'kubecost_node_is_spot']) expect(names.has(name), name).toBe(true);
  });

  it('declares a TYPE for every family, counters ending in _total', () => {
    const { samples, types } = parseExposition(demoExposition(42, T0));
    for (const s of samples) expect(types.get(s.name), s.name).toMatch(/^(gauge|counter)$/);
    for (const [name, type] of types) expect(type === 'counter', name).toBe(name.endsWith('_total'));
  });

  it('prices two nodes; the third has no price series at all', () => {
    const samples = samplesAt(T0);
    const [a, gpu, unpriced] = DEMO_NODES;
    for (const metric of ['node_cpu_hourly_cost', 'node_ram_hourly_cost', 'node_total_hourly_cost']) {
      expect(new Set(named(samples, metric).map((s) => s.labels.node)), metric).toEqual(new Set([a.name, gpu.name]));
    }
    expect(named(samples, 'node_gpu_hourly_cost').map((s) => s.labels.node)).toEqual([gpu.name]);
    for (const s of named(samples, 'node_cpu_hourly_cost')) {
      expect(Object.keys(s.labels).sort()).toEqual(['instance', 'instance_type', 'node', 'provider_id', 'region']);
    }
    expect(samples.some((s) => s.name.startsWith('node_') && s.labels.node === unpriced.name)).toBe(false);
    // Its pods still run there.
    expect(named(samples, 'container_cpu_allocation').some((s) => s.labels.node === unpriced.name)).toBe(true);
  });

  it('runs every kind of workload, with Kubernetes-shaped names', () => {
    const c = clusterAt(42, T0);
    const kinds = new Set(c.pods.map((p) => p.owner?.kind ?? ''));
    expect(kinds).toEqual(new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', '']));
    expect(new Set(c.replicaSets.map((r) => r.ownerKind))).toEqual(new Set(['Deployment', 'Rollout']));
    for (const p of c.pods.filter((x) => x.owner?.kind === 'ReplicaSet')) {
      expect(p.owner!.name).toBe(`${p.name.slice(0, p.name.lastIndexOf('-'))}`);
      expect(p.name).toMatch(/-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.owner!.name.endsWith(`-${p.labels['pod-template-hash']}`)).toBe(true);
    }
    for (const p of c.pods.filter((x) => x.owner?.kind === 'Job')) {
      const scheduledMinute = Number(/-(\d{8})$/.exec(p.owner!.name)![1]);
      expect(p.startMs - scheduledMinute * MINUTE).toBe(2_000);
    }
    const daemonSet = c.pods.filter((p) => p.owner?.kind === 'DaemonSet');
    expect(daemonSet.map((p) => p.node).sort()).toEqual(DEMO_NODES.map((n) => n.name).sort());
    const postgres = c.pods.find((p) => p.name === 'postgres-0')!;
    expect(postgres.pvc?.claim).toBe('data-postgres-0');
    expect(c.volumes.map((v) => v.name)).toEqual([postgres.pvc!.volume]);
  });

  it('over two hours: Jobs appear and finish, ReplicaSets roll, a Deployment scales, counters only grow', () => {
    const reportJobs = new Set<string>();
    const workerCounts = new Set<number>();
    const apiReplicaSets = new Set<string>();
    const lastCounter = new Map<string, number>();
    const seenRunning = new Map<string, number>();
    let finishedSeen = 0;
    for (let t = T0; t <= T0 + 2 * HOUR; t += 15_000) {
      const samples = samplesAt(t);
      const c = clusterAt(42, t);
      const running = c.pods.filter((p) => p.startMs <= t && (p.endMs === undefined || t < p.endMs));
      // One or two `report` Jobs are always running, so a short demo always shows one.
      const reports = running.filter((p) => p.owner?.kind === 'Job' && p.owner.name.startsWith('report-'));
      expect(reports.length, new Date(t).toISOString()).toBeGreaterThanOrEqual(1);
      for (const p of reports) reportJobs.add(p.owner!.name);
      workerCounts.add(running.filter((p) => p.labels.app === 'worker').length);
      for (const p of running.filter((x) => x.labels.app === 'api')) apiReplicaSets.add(p.owner!.name);
      // A finished Job's pod: kube-state-metrics says running=0, the cost exporter has nothing.
      for (const p of c.pods.filter((x) => x.endMs !== undefined)) {
        finishedSeen++;
        expect(t - p.endMs!).toBeLessThan(FINISHED_POD_TTL_MS);
        expect(named(samples, 'kube_pod_container_status_running').filter((s) => s.labels.pod === p.name).map((s) => s.value)).toEqual([0]);
        expect(named(samples, 'container_cpu_allocation').some((s) => s.labels.pod === p.name)).toBe(false);
      }
      for (const s of samples) {
        if (s.name !== 'container_cpu_usage_seconds_total' && s.name !== 'kubecost_pod_network_egress_bytes_total') continue;
        const k = key(s);
        const previous = lastCounter.get(k);
        if (previous !== undefined && seenRunning.get(k) === t - 15_000) expect(s.value, k).toBeGreaterThanOrEqual(previous);
        lastCounter.set(k, s.value);
        seenRunning.set(k, t);
      }
      // Allocation is max(request, usage).
      const requests = new Map(
        named(samples, 'kube_pod_container_resource_requests')
          .filter((s) => s.labels.resource === 'cpu')
          .map((s) => [`${s.labels.pod}/${s.labels.container}`, s.value]),
      );
      for (const s of named(samples, 'container_cpu_allocation')) {
        expect(s.value).toBeGreaterThanOrEqual(requests.get(`${s.labels.pod}/${s.labels.container}`) ?? 0);
      }
    }
    expect(reportJobs.size).toBeGreaterThanOrEqual(20);
    expect(finishedSeen).toBeGreaterThan(0);
    expect(workerCounts.size).toBeGreaterThan(1);
    expect(apiReplicaSets.size).toBeGreaterThanOrEqual(2);
  });

  it("sends kube_pod_owner and kube_pod_labels from both exporters, and no kube_replicaset_owner where kube-state-metrics doesn't look", () => {
    const samples = samplesAt(T0);
    const web = named(samples, 'kube_pod_labels').filter((s) => s.labels.label_app === 'web');
    expect(web.some((s) => s.labels.uid !== undefined && s.labels.label_tier === undefined)).toBe(true);
    expect(web.some((s) => s.labels.uid === undefined && s.labels.label_tier === 'frontend')).toBe(true);
    const legacy = named(samples, 'kube_pod_owner').filter((s) => s.labels.namespace === 'legacy');
    expect(legacy.length).toBe(1);
    expect(named(samples, 'kube_replicaset_owner').some((s) => s.labels.namespace === 'legacy')).toBe(false);
    // The bare pod: kube-state-metrics says <none>.
    expect(named(samples, 'kube_pod_owner').find((s) => s.labels.pod === 'debug-shell' && s.labels.uid)?.labels.owner_kind).toBe('<none>');
  });
});
