// Cardinality against the real receiver and broker, authentication off: invented tenant headers do
// not grow /metrics without bound (the first tenants keep their label, later ones are `other`),
// and TENANT_MAX_CLUSTERS refuses a tenant's clusters beyond the limit with 400
// too-many-clusters while the series of its known clusters in the same request are stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TENANT_LABELS } from '../../../receiver/metrics.ts';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { collectTopic, type TopicCollector } from '../../support/kafka-collector.ts';
import { metricValue, post, rejectedByReason } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1 } from '../../support/remote-write-fixtures.ts';
import { startTestService, uniqueTopic, waitReady } from '../../support/service.ts';

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;

const request = (...clusters: string[]) =>
  snappyCompress(writeRequestV1(clusters.map((cluster) => ({ labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', cluster_id: cluster }, samples: [{ t: T0, v: 0.1 }] }))));

describe('receiver cardinality', () => {
  let service: RunningService;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-cardinality');

  beforeAll(async () => {
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1', TENANT_MAX_CLUSTERS: '2' });
    await waitReady(service);
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  const url = () => `${service.url}/api/v1/write`;
  const exposition = async () => (await fetch(`${service.url}/metrics`)).text();
  const lines = (text: string) => text.split('\n').filter((l) => l !== '').length;
  /** Sends one request for each of `count` new tenants, 20 at a time. */
  async function tenants(prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 20) {
      const batch = Array.from({ length: Math.min(20, count - i) }, (_, k) => post(url(), request('c1'), { ...RW1_HEADERS, 'cloud-account-id': `${prefix}-${i + k}` }));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(204);
    }
  }

  it('300 tenant headers, then 300 more, do not grow /metrics past the tenant label cap', async () => {
    const before = lines(await exposition());
    await tenants('card-a', 300);
    const afterFirst = await exposition();
    await tenants('card-b', 300);
    const afterSecond = await exposition();
    console.log(`cardinality: /metrics lines ${before} before, ${lines(afterFirst)} after 300 tenant headers, ${lines(afterSecond)} after 300 more (cap ${MAX_TENANT_LABELS} tenants + other)`);
    expect(lines(afterSecond)).toBe(lines(afterFirst));
    const labels = new Set([...afterSecond.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]));
    expect(labels.size).toBeLessThanOrEqual(MAX_TENANT_LABELS + 1);
    expect(labels.has('other')).toBe(true);
    // Nothing is lost from the counts: the 600 requests are all there, most of them as `other`.
    const answered = metricValue(afterSecond, 'k8s_expenses_receiver_requests_total', { status: '204' });
    expect(answered).toBeGreaterThanOrEqual(600);
    expect(metricValue(afterSecond, 'k8s_expenses_receiver_requests_total', { status: '204', tenant: 'other' })).toBeGreaterThanOrEqual(600 - MAX_TENANT_LABELS);
  });

  it('TENANT_MAX_CLUSTERS: a third cluster is refused with 400 too-many-clusters; the known clusters of the same request are stored', async () => {
    const headers = { ...RW1_HEADERS, 'cloud-account-id': 'card-clusters' };
    expect((await post(url(), request('k1'), headers)).status).toBe(204);
    expect((await post(url(), request('k2'), headers)).status).toBe(204);
    const before = await rejectedByReason(service.url);
    const refused = await post(url(), request('k1', 'k3'), headers);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('(too-many-clusters)');
    expect(refused.text).toContain('"k3"');
    expect((await rejectedByReason(service.url))['too-many-clusters']).toBe((before['too-many-clusters'] ?? 0) + 1);
    // (Under tenant="other": the first test used up the tenant labels.)
    const samples = metricValue(await exposition(), 'k8s_expenses_receiver_samples_rejected_total', { reason: 'too_many_clusters' });
    expect(samples).toBe(1);
    // Known clusters keep working, and another tenant has its own count.
    expect((await post(url(), request('k2'), headers)).status).toBe(204);
    expect((await post(url(), request('k3'), { ...RW1_HEADERS, 'cloud-account-id': 'card-clusters-2' })).status).toBe(204);
    const got = await collector.waitFor((all) => all.filter((s) => s.tenant === 'card-clusters').length >= 4, 20_000, "card-clusters' series");
    const stored = got.filter((s) => s.tenant === 'card-clusters').map((s) => s.cluster);
    expect(stored.sort()).toEqual(['k1', 'k1', 'k2', 'k2']);
  });
});
