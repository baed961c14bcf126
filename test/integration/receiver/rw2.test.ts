// Remote write 2.0 against the real service and broker: requests built with protobufjs from the
// official schema (symbols, labels_refs, samples, histograms, exemplars, metadata, created
// timestamp); the three X-Prometheus-Remote-Write-*-Written headers carry exact counts on every
// answer, errors included; the samples arrive in Kafka with their labels resolved from the symbols.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { collectTopic, type TopicCollector } from '../../support/kafka-collector.ts';
import { post, type HttpAnswer } from '../../support/net.ts';
import { RW2_HEADERS, snappyCompress, writeRequestV2, type FixtureSeriesV2 } from '../../support/remote-write-fixtures.ts';
import { startTestService, uniqueTopic, waitReady } from '../../support/service.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';

// Relative to the clock, so the future-sample limit never bites on a machine with another date.
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const TENANT = { 'cloud-account-id': 'rw2-tenant' };

function written(res: HttpAnswer) {
  return {
    samples: res.headers.get('x-prometheus-remote-write-samples-written'),
    histograms: res.headers.get('x-prometheus-remote-write-histograms-written'),
    exemplars: res.headers.get('x-prometheus-remote-write-exemplars-written'),
  };
}

describe('remote write 2.0', () => {
  let service: RunningService;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-rw2');

  beforeAll(async () => {
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2' });
    await waitReady(service);
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  const write = (series: FixtureSeriesV2[], headers: Record<string, string> = {}) =>
    post(`${service.url}/api/v1/write`, snappyCompress(writeRequestV2(series)), { ...RW2_HEADERS, ...TENANT, ...headers });

  it('decodes symbols, samples, histograms, exemplars and metadata; answers 204 with exact written counts', async () => {
    const series: FixtureSeriesV2[] = [
      {
        labels: { __name__: 'container_cpu_allocation', namespace: 'shop', pod: 'web-1', container: 'app', cluster_id: 'rw2-a' },
        samples: [
          { t: T0, v: 0.25 },
          { t: T0 + 60_000, v: 0.5 },
        ],
        exemplars: [{ labels: { trace_id: 'abc123' }, v: 0.3, t: T0 }],
        metadata: { type: 'GAUGE', help: 'Percent of a single CPU used in a minute', unit: '' },
        createdTimestamp: T0 - 3_600_000,
      },
      {
        // Shares symbols with the first series ("shop", "cluster_id", "rw2-a", ...).
        labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', instance_type: 'm5.large', namespace: 'shop', cluster_id: 'rw2-a' },
        samples: [{ t: T0, v: 0.096 }],
        exemplars: [
          { labels: { trace_id: 'def456' }, v: 0.1, t: T0 },
          { labels: { trace_id: 'ghi789', span_id: 's1' }, v: 0.2, t: T0 + 1 },
        ],
        metadata: { type: 'GAUGE', help: 'Hourly cost per vCPU', unit: 'dollars' },
      },
      {
        // Native histograms only: counted as written, nothing forwarded (the cost model uses none).
        labels: { __name__: 'http_request_duration_seconds', job: 'api', cluster_id: 'rw2-a' },
        samples: [],
        histograms: [
          { t: T0, count: 10, sum: 2.5 },
          { t: T0 + 60_000, count: 12, sum: 3 },
        ],
        metadata: { type: 'HISTOGRAM', help: 'Request latency', unit: 'seconds' },
      },
    ];
    const res = await write(series);
    expect(res.status, res.text).toBe(204);
    expect(written(res)).toEqual({ samples: '3', histograms: '2', exemplars: '3' });

    const got = await collector.waitFor((all) => all.filter((s) => s.cluster === 'rw2-a').length >= 2, 20_000, 'the rw2-a series');
    const mine = got.filter((s) => s.cluster === 'rw2-a').sort((a, b) => a.labels.__name__.localeCompare(b.labels.__name__));
    expect(mine).toEqual([
      { tenant: 'rw2-tenant', cluster: 'rw2-a', headers: { tenant: 'rw2-tenant', cluster: 'rw2-a', 'format-version': String(FORMAT_VERSION) }, labels: series[0].labels, samples: series[0].samples },
      { tenant: 'rw2-tenant', cluster: 'rw2-a', headers: { tenant: 'rw2-tenant', cluster: 'rw2-a', 'format-version': String(FORMAT_VERSION) }, labels: series[1].labels, samples: series[1].samples },
    ]);
  });

  it('accepts a metadata-only request with zero counts', async () => {
    const res = await write([{ labels: { __name__: 'kube_pod_labels', cluster_id: 'rw2-meta' }, samples: [], metadata: { type: 'GAUGE', help: 'pod labels', unit: '' } }]);
    expect(res.status, res.text).toBe(204);
    expect(written(res)).toEqual({ samples: '0', histograms: '0', exemplars: '0' });
  });

  it('accepts the proto parameter quoted and with spaces (media type parameters are case-insensitive)', async () => {
    const res = await write([{ labels: { __name__: 'up', cluster_id: 'rw2-quoted' }, samples: [{ t: T0, v: 1 }] }], {
      'content-type': 'application/x-protobuf; Proto="io.prometheus.write.v2.Request"',
    });
    expect(res.status, res.text).toBe(204);
    expect(written(res)).toEqual({ samples: '1', histograms: '0', exemplars: '0' });
    await collector.waitFor((all) => all.some((s) => s.cluster === 'rw2-quoted'), 20_000, 'the rw2-quoted series');
  });

  it('answers 415 to an unknown proto= message, naming it', async () => {
    const body = snappyCompress(writeRequestV2([{ labels: { __name__: 'up' }, samples: [{ t: T0, v: 1 }] }]));
    const res = await post(`${service.url}/api/v1/write`, body, { ...RW2_HEADERS, ...TENANT, 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' });
    expect(res.status).toBe(415);
    expect(res.text).toMatch(/io\.prometheus\.write\.v3\.Request/);
  });

  it('on a partial write answers 400 naming the first problems, with the counts of what was written', async () => {
    const res = await write([
      { labels: { __name__: 'container_cpu_allocation', pod: 'ok-1', cluster_id: 'rw2-partial' }, samples: [{ t: T0, v: 1 }, { t: T0 + 60_000, v: 2 }], exemplars: [{ labels: { trace_id: 'x' }, v: 1, t: T0 }] },
      { labels: { pod: 'no-name', cluster_id: 'rw2-partial' }, samples: [{ t: T0, v: 3 }] },
      { labels: { __name__: 'container_cpu_allocation', pod: 'ok-2', cluster_id: 'rw2-partial' }, samples: [{ t: T0, v: 4 }] },
      { labels: { __name__: 'container_cpu_allocation', pod: 'future', cluster_id: 'rw2-partial' }, samples: [{ t: Date.now() + 3_600_000, v: 5 }] },
    ]);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/2 of 4 series dropped/);
    expect(res.text).toMatch(/missing_metric_name/);
    expect(res.text).toMatch(/sample_too_far_in_future/);
    expect(written(res)).toEqual({ samples: '3', histograms: '0', exemplars: '1' });

    const got = await collector.waitFor((all) => all.filter((s) => s.cluster === 'rw2-partial').length >= 2, 20_000, 'the valid rest');
    // Give a stray record a moment to show up, then check that only the valid series arrived.
    await new Promise((r) => setTimeout(r, 300));
    const pods = collector.series().filter((s) => s.cluster === 'rw2-partial').map((s) => s.labels.pod).sort();
    expect(pods).toEqual(['ok-1', 'ok-2']);
    expect(got.find((s) => s.labels.pod === 'ok-1')!.samples).toEqual([{ t: T0, v: 1 }, { t: T0 + 60_000, v: 2 }]);
  });

  it('sends zero counts on answers refused before decoding (tenant, corrupt body)', async () => {
    const body = snappyCompress(writeRequestV2([{ labels: { __name__: 'up' }, samples: [{ t: T0, v: 1 }] }]));
    const noTenant = await post(`${service.url}/api/v1/write`, body, { ...RW2_HEADERS });
    expect(noTenant.status).toBe(400);
    expect(written(noTenant)).toEqual({ samples: '0', histograms: '0', exemplars: '0' });

    const corrupt = await post(`${service.url}/api/v1/write`, new Uint8Array([0x05, 0xff, 0xff, 0xff]), { ...RW2_HEADERS, ...TENANT });
    expect(corrupt.status).toBe(400);
    expect(written(corrupt)).toEqual({ samples: '0', histograms: '0', exemplars: '0' });

    // The same refusal with the proto parameter written differently still carries the counts.
    const quoted = await post(`${service.url}/api/v1/write`, body, { ...RW2_HEADERS, 'content-type': 'application/x-protobuf; proto="io.prometheus.write.v2.Request"' });
    expect(quoted.status).toBe(400);
    expect(written(quoted)).toEqual({ samples: '0', histograms: '0', exemplars: '0' });
  });

  it('answers 400 to a 2.0 body that references a symbol outside the table', async () => {
    // symbols ["", "__name__"], one series with labels_refs [1, 7]: 7 is out of range.
    const bytes = new Uint8Array([0x22, 0x00, 0x22, 0x08, ...Buffer.from('__name__'), 0x2a, 0x04, 0x0a, 0x02, 0x01, 0x07]);
    const res = await post(`${service.url}/api/v1/write`, snappyCompress(bytes), { ...RW2_HEADERS, ...TENANT });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/symbol reference 7/);
    expect(written(res)).toEqual({ samples: '0', histograms: '0', exemplars: '0' });
  });

  it('keeps 1.0 answers free of the 2.0 headers', async () => {
    const res = await post(`${service.url}/api/v1/write`, new Uint8Array([0x00]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...TENANT });
    expect(res.status).toBe(204);
    expect(written(res)).toEqual({ samples: null, histograms: null, exemplars: null });
  });
});
