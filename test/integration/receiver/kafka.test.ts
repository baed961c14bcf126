// The foundation path against the real broker: a remote-write request is answered 2xx only once
// its samples can be consumed from the topic, under the right key and headers.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, type FixtureSeries } from '../../support/remote-write-fixtures.ts';
import { decodeMessage } from '../../support/records.ts';
import { consumeAll, startTestService, uniqueTopic, waitReady } from '../../support/service.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';

// Relative to now: samples further than MAX_SAMPLE_FUTURE ahead would be refused.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;

describe('receiver to Kafka', () => {
  let service: RunningService;
  const topic = uniqueTopic('receiver-kafka');

  beforeAll(async () => {
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3' });
    await waitReady(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('acknowledges a request only once its samples are in the topic, keyed by tenant and cluster', async () => {
    const series: FixtureSeries[] = [
      { labels: { __name__: 'container_cpu_allocation', namespace: 'shop', pod: 'web-1', cluster_id: 'prod-eu' }, samples: [{ t: T0, v: 0.5 }] },
      { labels: { __name__: 'container_cpu_allocation', namespace: 'shop', pod: 'web-2', cluster_id: 'prod-us' }, samples: [{ t: T0, v: 1.5 }] },
      // No cluster label: cluster "default". A tenant label inside the samples never decides the tenant.
      { labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', tenant_id: 'someone-else', cloud_account_id: 'spoofed' }, samples: [{ t: T0, v: 0.031 }, { t: T0 + 60_000, v: 0.032 }] },
    ];
    const res = await fetch(`${service.url}/api/v1/write`, {
      method: 'POST',
      headers: { ...RW1_HEADERS, 'cloud-account-id': 'acme-123' },
      body: snappyCompress(writeRequestV1(series)),
    });
    expect(res.status).toBe(204);

    const messages = await consumeAll(testBrokers(), topic, 3);
    expect(messages).toHaveLength(3);
    const decoded = messages.map(decodeMessage).sort((a, b) => a.key!.cluster.localeCompare(b.key!.cluster));
    expect(decoded.map((d) => d.key)).toEqual([
      { tenant: 'acme-123', cluster: 'default' },
      { tenant: 'acme-123', cluster: 'prod-eu' },
      { tenant: 'acme-123', cluster: 'prod-us' },
    ]);
    for (const d of decoded) expect(d.headers).toEqual({ tenant: 'acme-123', cluster: d.key!.cluster, 'format-version': String(FORMAT_VERSION) });
    expect(decoded[0].series).toEqual([{ labels: series[2].labels, samples: series[2].samples }]);
    expect(decoded[1].series).toEqual([{ labels: series[0].labels, samples: series[0].samples }]);
    expect(decoded[2].series).toEqual([{ labels: series[1].labels, samples: series[1].samples }]);
  });

  it('answers on every alias path and counts requests by status and tenant in /metrics', async () => {
    // How long decoding and publishing took, one observation of each per accepted request.
    const observed = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return ['decode', 'publish'].map((phase) => Number(text.match(new RegExp(`k8s_expenses_receiver_${phase}_duration_seconds_count (\\d+)`))?.[1] ?? -1));
    };
    const [decodesBefore, publishesBefore] = await observed();
    for (const path of ['/api/v1/receive', '/api/v1/push']) {
      const res = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { ...RW1_HEADERS, 'cloud-account-id': 'alias-tenant' },
        body: snappyCompress(writeRequestV1([{ labels: { __name__: 'up' }, samples: [{ t: T0, v: 1 }] }])),
      });
      expect(res.status, path).toBe(204);
    }
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_total\{status="204",tenant="alias-tenant"\} 2/);
    expect(metrics).toMatch(/k8s_expenses_receiver_samples_published_total\{tenant="alias-tenant"\} 2/);
    expect(await observed()).toEqual([decodesBefore + 2, publishesBefore + 2]);
  });

  it('answers a series seen before from memory, publishing the same record bytes', async () => {
    const series: FixtureSeries[] = [
      { labels: { __name__: 'container_memory_allocation_bytes', namespace: 'shop', pod: 'cache-1', cluster_id: 'prod-eu' }, samples: [{ t: T0, v: 2 ** 30 }] },
      { labels: { __name__: 'kube_pod_labels', namespace: 'shop', pod: 'cache-1', label_team: 'cart', cluster_id: 'prod-eu' }, samples: [{ t: T0, v: 1 }] },
    ];
    const hits = async () => Number((await (await fetch(`${service.url}/metrics`)).text()).match(/k8s_expenses_receiver_series_cache_lookups_total\{result="hit"\} (\d+)/)?.[1] ?? 0);
    const before = await hits();
    // Both on one connection, as a Prometheus shard sends: its requests are decoded on one thread.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.from(snappyCompress(writeRequestV1(series)));
    for (let i = 0; i < 2; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${service.url}/api/v1/write`, { method: 'POST', agent, headers: { ...RW1_HEADERS, 'cloud-account-id': 'remembered', 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(204);
    }
    agent.destroy();
    expect(await hits()).toBe(before + 2);
    const mine = (await consumeAll(testBrokers(), topic, 1)).filter((m) => decodeMessage(m).key?.tenant === 'remembered');
    expect(mine).toHaveLength(2);
    expect(Buffer.compare(mine[1].value!, mine[0].value!)).toBe(0);
    expect(decodeMessage(mine[1]).series).toEqual(series.map((s) => ({ labels: s.labels, samples: s.samples })));
  });

  it('refuses a missing or malformed tenant with 400 and a readable message, publishing nothing', async () => {
    const body = snappyCompress(writeRequestV1([{ labels: { __name__: 'up' }, samples: [{ t: T0, v: 1 }] }]));
    const missing = await fetch(`${service.url}/api/v1/write`, { method: 'POST', headers: RW1_HEADERS, body });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/Cloud-Account-Id|cloud-account-id/i);
    const bad = await fetch(`${service.url}/api/v1/write`, { method: 'POST', headers: { ...RW1_HEADERS, 'cloud-account-id': 'a/b' }, body });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/1 to 150 characters/);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_rejected_total\{reason="tenant-missing"\} 1/);
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_rejected_total\{reason="tenant-invalid"\} 1/);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: [{ name: 'kafka', ready: true }] });
  });
});
