// Pod to workload, labels, exported_* labels.
import { describe, expect, it } from 'vitest';
import { every, Feed, H, L, MIN, type Labels } from './fixtures.ts';

function podWith(feed: Feed, pod: string, extra: Labels[] = []): void {
  feed.add(L.cpuAlloc({ pod }), every(H, H + 60 * MIN, MIN, 0.1));
  for (const labels of extra) feed.add(labels, every(H, H + 60 * MIN, MIN, 1));
}

describe('workloads and labels', () => {
  it('a ReplicaSet pod resolves to its Deployment through kube_replicaset_owner', () => {
    const feed = new Feed();
    podWith(feed, 'web-7d9f8b6c5-x2x9z', [L.owner({ pod: 'web-7d9f8b6c5-x2x9z' }, 'ReplicaSet', 'web-7d9f8b6c5'), L.rsOwner('shop', 'web-7d9f8b6c5', 'Deployment', 'web')]);
    const row = feed.row('web-7d9f8b6c5-x2x9z');
    expect([row.workload_kind, row.workload, row.workload_inferred]).toEqual(['deployment', 'web', false]);
  });

  it('without kube_replicaset_owner the pod-template hash is stripped and the workload flagged inferred', () => {
    const feed = new Feed();
    podWith(feed, 'api-5c7b9d4f8-abcde', [L.owner({ pod: 'api-5c7b9d4f8-abcde' }, 'ReplicaSet', 'api-5c7b9d4f8'), L.podLabels({ pod: 'api-5c7b9d4f8-abcde' }, { app: 'api', pod_template_hash: '5c7b9d4f8' })]);
    podWith(feed, 'cache-b2c4d6f8g-zzzzz', [L.owner({ pod: 'cache-b2c4d6f8g-zzzzz' }, 'ReplicaSet', 'cache-b2c4d6f8g')]);
    expect(feed.row('api-5c7b9d4f8-abcde')).toMatchObject({ workload_kind: 'deployment', workload: 'api', workload_inferred: true });
    expect(feed.row('cache-b2c4d6f8g-zzzzz')).toMatchObject({ workload_kind: 'deployment', workload: 'cache', workload_inferred: true });
  });

  it('a ReplicaSet without owner, or whose name has no template hash, is its own workload', () => {
    const feed = new Feed();
    podWith(feed, 'legacy-abc12', [L.owner({ pod: 'legacy-abc12' }, 'ReplicaSet', 'legacy'), L.rsOwner('shop', 'legacy', '<none>', '<none>')]);
    podWith(feed, 'plain-x', [L.owner({ pod: 'plain-x' }, 'ReplicaSet', 'plain-rs-v1')]);
    expect(feed.row('legacy-abc12')).toMatchObject({ workload_kind: 'replicaset', workload: 'legacy', workload_inferred: false });
    expect(feed.row('plain-x')).toMatchObject({ workload_kind: 'replicaset', workload: 'plain-rs-v1', workload_inferred: false });
  });

  it('StatefulSet, DaemonSet and Job owners give lower-case kinds', () => {
    const feed = new Feed();
    podWith(feed, 'db-0', [L.owner({ pod: 'db-0' }, 'StatefulSet', 'db')]);
    podWith(feed, 'agent-x7', [L.owner({ pod: 'agent-x7' }, 'DaemonSet', 'agent')]);
    podWith(feed, 'migrate-v2-q8', [L.owner({ pod: 'migrate-v2-q8' }, 'Job', 'migrate-v2')]);
    expect(feed.row('db-0')).toMatchObject({ workload_kind: 'statefulset', workload: 'db' });
    expect(feed.row('agent-x7')).toMatchObject({ workload_kind: 'daemonset', workload: 'agent' });
    expect(feed.row('migrate-v2-q8')).toMatchObject({ workload_kind: 'job', workload: 'migrate-v2' });
  });

  it("a CronJob's Job keeps kind job with its 8- or 10-digit suffix stripped", () => {
    const feed = new Feed();
    podWith(feed, 'report-28451520-k2', [L.owner({ pod: 'report-28451520-k2' }, 'Job', 'report-28451520')]);
    podWith(feed, 'backup-1709287200-p1', [L.owner({ pod: 'backup-1709287200-p1' }, 'Job', 'backup-1709287200')]);
    podWith(feed, 'odd-123456789-p1', [L.owner({ pod: 'odd-123456789-p1' }, 'Job', 'odd-123456789')]);
    expect(feed.row('report-28451520-k2')).toMatchObject({ workload_kind: 'job', workload: 'report' });
    expect(feed.row('backup-1709287200-p1')).toMatchObject({ workload_kind: 'job', workload: 'backup' });
    expect(feed.row('odd-123456789-p1')).toMatchObject({ workload_kind: 'job', workload: 'odd-123456789' });
  });

  it('a bare pod has an empty workload kind and name', () => {
    const feed = new Feed();
    podWith(feed, 'debug', [L.owner({ pod: 'debug' }, '<none>', '<none>')]);
    podWith(feed, 'no-owner-series');
    expect(feed.row('debug')).toMatchObject({ workload_kind: '', workload: '', workload_inferred: false });
    expect(feed.row('no-owner-series')).toMatchObject({ workload_kind: '', workload: '' });
  });

  it('owner and label series sent by both kube-state-metrics and the cost exporter count once', () => {
    const feed = new Feed();
    const pod = { pod: 'web-1' };
    feed.add(L.cpuPrice('node-a'), every(H, H + 60 * MIN, MIN, 0.04));
    podWith(feed, 'web-1', [
      L.owner(pod, 'StatefulSet', 'web', 'kube-state-metrics'),
      L.owner(pod, 'StatefulSet', 'web', 'kubecost'),
      L.podLabels(pod, { app: 'web' }, 'kube-state-metrics'),
      L.podLabels(pod, { app: 'web', team: 'shop' }, 'kubecost'),
    ]);
    const rows = feed.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workload_kind: 'statefulset', workload: 'web', labels: { app: 'web', team: 'shop' } });
    expect(rows[0].cpu_cost).toBeCloseTo(0.1 * 0.04, 15);
  });

  it('labels are the pod labels without the label_ prefix, the newest value winning', () => {
    const feed = new Feed();
    feed.add(L.cpuAlloc({ pod: 'web-1' }), every(H, H + 60 * MIN, MIN, 0.1));
    feed.add(L.podLabels({ pod: 'web-1' }, { app: 'web', version: 'v1' }), [...every(H, H + 20 * MIN, MIN, 1), [H + 20 * MIN, 'stale']]);
    feed.add(L.podLabels({ pod: 'web-1' }, { app: 'web', version: 'v2' }), every(H + 20 * MIN, H + 60 * MIN, MIN, 1));
    expect(feed.row('web-1').labels).toEqual({ app: 'web', version: 'v2' });
  });

  it('exported_namespace / exported_pod / exported_container stand in when the plain labels are absent', () => {
    const feed = new Feed();
    feed.add({ __name__: 'container_cpu_allocation', exported_namespace: 'shop', exported_pod: 'web-1', exported_container: 'app', node: 'node-a' }, every(H, H + 60 * MIN, MIN, 1));
    // Scraped without honor_labels: the plain labels are the exporter's own pod, exported_* the series'.
    feed.add(
      { __name__: 'container_cpu_allocation', namespace: 'kubecost', pod: 'kubecost-cost-analyzer-0', exported_namespace: 'shop', exported_pod: 'web-2', container: 'app', node: 'node-a' },
      every(H, H + 60 * MIN, MIN, 2),
    );
    expect(feed.row('web-1').cpu_core_hours).toBe(1);
    expect(feed.row('web-2').cpu_core_hours).toBe(2);
    expect(feed.rows().map((r) => r.namespace)).toEqual(['shop', 'shop']);
  });
});
