// Every limit of the receiver with small configured values, against the real service and broker:
// body and decoded size (413, also for chunked bodies and decompression bombs, without the
// memory), label limits and future samples (400 naming the problems while the valid rest IS
// published), saturation (503 + Retry-After, fast), the per-tenant rate limit (429 + Retry-After),
// the metric allowlist, and a walk through every status code of the reference table with the
// rejection counted by reason in /metrics. Kafka down (own broker) answers 503, even when some
// series were invalid: the valid rest could not be stored, so the sender must retry.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { startBroker, type BrokerHandle } from '../../support/kafka-broker.ts';
import { collectTopic, type TopicCollector } from '../../support/kafka-collector.ts';
import { metricValue, post, rawPost, rejectedByReason, type HttpAnswer } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, writeRequestV1Pairs, type FixtureSeries, snappyHeader } from '../../support/remote-write-fixtures.ts';
import { startTestService, uniqueTopic, waitFor, waitReady } from '../../support/service.ts';

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const TENANT = 'limits-tenant';
const HEADERS = { ...RW1_HEADERS, 'cloud-account-id': TENANT };

const LIMITS = {
  MAX_REQUEST_BYTES: '8KiB',
  MAX_DECODED_BYTES: '32KiB',
  MAX_LABELS_PER_SERIES: '8',
  MAX_LABEL_NAME_BYTES: '32',
  MAX_LABEL_VALUE_BYTES: '64',
  MAX_SAMPLE_FUTURE: '1m',
  TENANT_RATE_LIMIT: '10',
  TENANT_RATE_BURST: '100',
  // Everything the cost model reads; other names are dropped on purpose.
  METRIC_ALLOWLIST: '(node|container|kube)_.+',
};

/** A valid request of `count` series, `samplesEach` samples each, that compresses poorly (random label values). */
function bulkyRequest(count: number, samplesEach = 1, name = 'container_cpu_allocation', cluster = 'limits-bulk'): Uint8Array<ArrayBuffer> {
  const series: FixtureSeries[] = [];
  for (let i = 0; i < count; i++) {
    series.push({
      labels: { __name__: name, pod: `pod-${Math.random().toString(36).slice(2)}-${i}`, cluster_id: cluster },
      samples: Array.from({ length: samplesEach }, (_, k) => ({ t: T0 + k * 1000, v: Math.random() })),
    });
  }
  return snappyCompress(writeRequestV1(series));
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-limits-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('receiver limits', () => {
  let service: RunningService;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-limits');

  beforeAll(async () => {
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2', ...LIMITS });
    await waitReady(service);
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  const url = () => `${service.url}/api/v1/write`;

  it('413 for a body over MAX_REQUEST_BYTES, declared by Content-Length', async () => {
    const body = bulkyRequest(400);
    expect(body.length).toBeGreaterThan(8 * 1024);
    const res = await post(url(), body, HEADERS);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/MAX_REQUEST_BYTES/);
    expect(res.text).toContain('(body-too-large)');
  });

  it('413 for a chunked body (no Content-Length) that grows over MAX_REQUEST_BYTES', async () => {
    const body = bulkyRequest(400);
    const chunks = [];
    for (let i = 0; i < body.length; i += 1000) chunks.push(body.subarray(i, i + 1000));
    const { answer } = rawPost(url(), { ...HEADERS, 'transfer-encoding': 'chunked' }, chunks);
    const res = await answer;
    expect(res.status).toBe(413);
    expect(res.text).toContain('(body-too-large)');
    // A chunked body under the limit is fine.
    const small = bulkyRequest(3, 1, 'container_cpu_allocation', 'limits-chunked');
    const ok = await rawPost(url(), { ...HEADERS, 'transfer-encoding': 'chunked' }, [small.subarray(0, 10), small.subarray(10)]).answer;
    expect(ok.status).toBe(204);
  });

  it('413 for a decompression bomb: a tiny body declaring 4 GiB, refused from its header without the memory', async () => {
    const bomb = snappyHeader(4 * 1024 ** 3, [0x00, 0x41]);
    expect(bomb.length).toBeLessThan(10);
    const before = await rejectedByReason(service.url);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      const res = await post(url(), bomb, HEADERS);
      expect(res.status).toBe(413);
      expect(res.text).toContain('(decoded-too-large)');
      // The declared size, read from the header: nothing was decompressed to find it out.
      expect(res.text).toMatch(/4294967296 bytes declared.*MAX_DECODED_BYTES/);
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    const after = await rejectedByReason(service.url);
    expect(after['decoded-too-large'] - (before['decoded-too-large'] ?? 0)).toBe(20);
  });

  it('413 for an honest body that really decompresses past MAX_DECODED_BYTES', async () => {
    // 64 KiB of repetitive protobuf compresses to a few KiB: under MAX_REQUEST_BYTES, over MAX_DECODED_BYTES.
    const series: FixtureSeries[] = Array.from({ length: 700 }, () => ({ labels: { __name__: 'container_cpu_allocation', pod: 'same-pod', cluster_id: 'limits-honest' }, samples: [{ t: T0, v: 1 }] }));
    const raw = writeRequestV1(series);
    const body = snappyCompress(raw);
    expect(raw.length).toBeGreaterThan(32 * 1024);
    expect(body.length).toBeLessThan(8 * 1024);
    const res = await post(url(), body, HEADERS);
    expect(res.status).toBe(413);
    expect(res.text).toContain('(decoded-too-large)');
  });

  // Each invalid series travels with a valid one, which must still be published.
  const invalidCases: { reason: string; labels: [string, string][]; t?: number; message: RegExp }[] = [
    { reason: 'too_many_labels', labels: [['__name__', 'container_cpu_allocation'], ...Array.from({ length: 8 }, (_, i): [string, string] => [`l${i}`, 'v'])], message: /9 labels, more than the limit of 8/ },
    { reason: 'label_name_too_long', labels: [['__name__', 'container_cpu_allocation'], ['a'.repeat(33), 'v']], message: /33 bytes, more than the limit of 32/ },
    { reason: 'label_value_too_long', labels: [['__name__', 'container_cpu_allocation'], ['pod', 'p'.repeat(65)]], message: /65 bytes, more than the limit of 64/ },
    { reason: 'missing_metric_name', labels: [['pod', 'nameless']], message: /no metric name/ },
    { reason: 'missing_metric_name', labels: [['__name__', ''], ['pod', 'empty-name']], message: /empty metric name/ },
    { reason: 'duplicate_label_name', labels: [['__name__', 'container_cpu_allocation'], ['pod', 'a'], ['pod', 'b']], message: /duplicate label name pod/ },
    { reason: 'empty_label_name', labels: [['', 'x'], ['__name__', 'container_cpu_allocation']], message: /empty label name/ },
    { reason: 'unsorted_labels', labels: [['pod', 'a'], ['__name__', 'container_cpu_allocation']], message: /not sorted/ },
    { reason: 'invalid_label_name', labels: [['__name__', 'container_cpu_allocation'], ['pod-name', 'a']], message: /invalid label name/ },
    { reason: 'sample_too_far_in_future', labels: [['__name__', 'container_cpu_allocation'], ['pod', 'tomorrow']], t: Date.now() + 5 * 60_000, message: /more than 60s ahead/ },
    // Far before 1970: such a timestamp once made a record the processor could not decode.
    { reason: 'sample_before_1970', labels: [['__name__', 'container_cpu_allocation'], ['pod', 'ancient']], t: -(2 ** 52) + 12_345, message: /-4503599627358151 ms, before 1970/ },
  ];

  it.each(invalidCases.map((c, i) => ({ ...c, i })))('400 naming $reason, while the valid series of the same request is in Kafka ($i)', async ({ reason, labels, t, message, i }) => {
    const cluster = `limits-invalid-${i}`;
    const rejectedBefore = metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_samples_rejected_total', { tenant: TENANT, reason });
    const body = snappyCompress(
      writeRequestV1Pairs([
        { labels: [['__name__', 'container_cpu_allocation'], ['cluster_id', cluster], ['pod', 'valid']], samples: [{ t: T0, v: 0.5 }] },
        { labels, samples: [{ t: t ?? T0, v: 1 }, { t: (t ?? T0) + 1000, v: 2 }] },
      ]),
    );
    const res = await post(url(), body, HEADERS);
    expect(res.status).toBe(400);
    expect(res.text).toContain('(invalid-series)');
    expect(res.text).toMatch(/1 of 2 series dropped/);
    expect(res.text).toContain(reason);
    expect(res.text).toMatch(message);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === cluster), 20_000, `the valid series of ${reason}`);
    expect(got.filter((s) => s.cluster === cluster)).toEqual([
      expect.objectContaining({ tenant: TENANT, labels: { __name__: 'container_cpu_allocation', cluster_id: cluster, pod: 'valid' }, samples: [{ t: T0, v: 0.5 }] }),
    ]);
    const rejectedAfter = metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_samples_rejected_total', { tenant: TENANT, reason });
    expect(rejectedAfter - rejectedBefore).toBe(2);
  });

  it('names at most the first five problems when many series are invalid', async () => {
    const body = snappyCompress(
      writeRequestV1Pairs([
        { labels: [['__name__', 'container_cpu_allocation'], ['cluster_id', 'limits-many'], ['pod', 'valid']], samples: [{ t: T0, v: 0.5 }] },
        ...Array.from({ length: 7 }, (_, k) => ({ labels: [['pod', `nameless-${k}`]] as [string, string][], samples: [{ t: T0, v: 1 }] })),
      ]),
    );
    const res = await post(url(), body, HEADERS);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/7 of 8 series dropped/);
    expect(res.text.match(/missing_metric_name/g)).toHaveLength(5);
    expect(res.text).toContain('nameless-4');
    expect(res.text).not.toContain('nameless-5');
    await collector.waitFor((all) => all.some((s) => s.cluster === 'limits-many'));
  });

  it('429 with Retry-After when a tenant is over TENANT_RATE_LIMIT; other tenants are not affected', async () => {
    const greedy = { ...RW1_HEADERS, 'cloud-account-id': 'greedy-tenant' };
    // The burst (100 samples) lets the first request through, the bucket is then empty.
    const first = await post(url(), bulkyRequest(5, 20, 'container_cpu_allocation', 'limits-rate'), greedy);
    expect(first.status).toBe(204);
    const second = await post(url(), bulkyRequest(5, 20, 'container_cpu_allocation', 'limits-rate-refused'), greedy);
    expect(second.status).toBe(429);
    expect(second.text).toContain('(rate-limited)');
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // 100 samples missing at 10/s: about 10 s.
    expect(retryAfter).toBeLessThanOrEqual(11);
    expect((await post(url(), bulkyRequest(5, 1, 'container_cpu_allocation', 'limits-rate-other'), HEADERS)).status).toBe(204);
    await collector.waitFor((all) => all.some((s) => s.cluster === 'limits-rate-other'));
    expect(collector.series().filter((s) => s.cluster === 'limits-rate-refused')).toEqual([]);
    expect(collector.series().filter((s) => s.cluster === 'limits-rate')).toHaveLength(5);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, 'k8s_expenses_receiver_samples_rejected_total', { tenant: 'greedy-tenant', reason: 'rate_limited' })).toBe(100);
  });

  it('METRIC_ALLOWLIST: other metrics are dropped on purpose (204), the allowed ones reach Kafka', async () => {
    const series: FixtureSeries[] = [
      { labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', cluster_id: 'limits-allow' }, samples: [{ t: T0, v: 0.031 }] },
      { labels: { __name__: 'container_cpu_allocation', pod: 'p', cluster_id: 'limits-allow' }, samples: [{ t: T0, v: 0.5 }] },
      { labels: { __name__: 'go_goroutines', job: 'kubecost', cluster_id: 'limits-allow' }, samples: [{ t: T0, v: 42 }] },
      { labels: { __name__: 'up', job: 'kubecost', cluster_id: 'limits-allow' }, samples: [{ t: T0, v: 1 }, { t: T0 + 1000, v: 1 }] },
      // Anchored: a name that merely contains an allowed prefix is not allowed.
      { labels: { __name__: 'x_node_cpu', cluster_id: 'limits-allow' }, samples: [{ t: T0, v: 1 }] },
    ];
    const ignoredBefore = metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_samples_ignored_total', { reason: 'not_allowlisted' });
    const res = await post(url(), snappyCompress(writeRequestV1(series)), HEADERS);
    expect(res.status).toBe(204);
    await collector.waitFor((all) => all.filter((s) => s.cluster === 'limits-allow').length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(collector.series().filter((s) => s.cluster === 'limits-allow').map((s) => s.labels.__name__).sort()).toEqual(['container_cpu_allocation', 'node_cpu_hourly_cost']);
    const ignoredAfter = metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_samples_ignored_total', { reason: 'not_allowlisted' });
    expect(ignoredAfter - ignoredBefore).toBe(4);
  });
});

describe('saturation', () => {
  let service: RunningService;
  const topic = uniqueTopic('receiver-saturation');

  beforeAll(async () => {
    // One tenant may hold all of it here: the per-tenant share is the slow-senders test's subject.
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1', MAX_INFLIGHT_REQUESTS: '2', MAX_INFLIGHT_BYTES: '64KiB', TENANT_INFLIGHT_SHARE: '1' });
    await waitReady(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  const url = () => `${service.url}/api/v1/write`;
  const inflightBytes = async () => metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_inflight_bytes');
  const inflight = async () => metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_inflight_requests');

  /**
   * A request that sends `sent` bytes of a body one byte longer and then nothing: it holds those
   * bytes. (Its declared size must fit in what is free when it comes, or it is refused at once.)
   */
  function holdBytes(sent: number) {
    const { request, answer } = rawPost(url(), { ...HEADERS, 'content-length': String(sent + 1) }, [new Uint8Array(sent)], { endBody: false, timeoutMs: 60_000 });
    answer.catch(() => undefined);
    return request;
  }

  it('503 with Retry-After at once when unfinished bodies hold MAX_INFLIGHT_BYTES; the bytes come back when the holders go away', async () => {
    const holders = [holdBytes(32 * 1024)];
    await waitFor(async () => (await inflightBytes()) === 32 * 1024, 5_000, 'one body holding 32 KiB');
    holders.push(holdBytes(32 * 1024 - 16));
    await waitFor(async () => (await inflightBytes()) === 64 * 1024 - 16, 5_000, 'two bodies holding 64 KiB less 16 bytes');
    const body = bulkyRequest(2, 1, 'container_cpu_allocation', 'sat-1');
    // The holders keep their slots until destroyed below: a request that waited for a slot instead
    // of being refused would never be answered here.
    const inflightBefore = await inflight();
    for (let i = 0; i < 50; i++) {
      const res = await post(url(), body, HEADERS);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.text).toContain('(saturated)');
    }
    // None of the refused requests took a slot.
    expect(await inflight()).toBe(inflightBefore);
    const before = await rejectedByReason(service.url);
    for (const h of holders) h.destroy();
    await waitFor(async () => (await inflightBytes()) === 0, 5_000, 'the aborted requests to release their bytes');
    expect((await post(url(), body, HEADERS)).status).toBe(204);
    // Counted as what they are, not as Kafka trouble.
    const after = await rejectedByReason(service.url);
    expect((after['client-aborted'] ?? 0) - (before['client-aborted'] ?? 0)).toBe(2);
    expect(after['log-unavailable'] ?? 0).toBe(before['log-unavailable'] ?? 0);
  });

  it('503 when MAX_INFLIGHT_BYTES are held, also by the decoded size; memory does not grow with refused load', async () => {
    const holder = holdBytes(60 * 1024);
    await waitFor(async () => (await inflightBytes()) === 60 * 1024, 5_000, 'one body holding 60 KiB');
    const remaining = 64 * 1024 - 60 * 1024;
    // A body declared larger than what is left is refused before it is read (nothing is reserved).
    const large = bulkyRequest(200, 1, 'container_cpu_allocation', 'sat-2');
    expect(large.length).toBeGreaterThan(remaining);
    const refusedEarly = await post(url(), large, HEADERS);
    expect(refusedEarly.status).toBe(503);
    expect(refusedEarly.headers.get('retry-after')).toBe('1');
    // A body that fits is read, but its decoded size is added once the snappy header tells it:
    // over the bound, refused before decompressing.
    const series: FixtureSeries[] = Array.from({ length: 120 }, (_, i) => ({ labels: { __name__: 'container_cpu_allocation', pod: `p${i}`, cluster_id: 'sat-3' }, samples: [{ t: T0, v: 1 }] }));
    const raw = writeRequestV1(series);
    const fits = snappyCompress(raw);
    expect(fits.length).toBeLessThan(remaining);
    expect(fits.length + raw.length).toBeGreaterThan(remaining);
    const refusedLate = await post(url(), fits, HEADERS);
    expect(refusedLate.status).toBe(503);
    expect(refusedLate.headers.get('retry-after')).toBe('1');
    expect(refusedEarly.text).toMatch(/\d+ bytes in flight, no room for \d+ more/);
    expect(refusedLate.text).not.toMatch(/no room/);

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const payload = bulkyRequest(400);
    const answers = await Promise.all(Array.from({ length: 400 }, () => post(url(), payload, HEADERS)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);

    holder.destroy();
    await waitFor(async () => (await inflightBytes()) === 0, 5_000, 'the aborted request to release its bytes');
    expect((await post(url(), fits, HEADERS)).status).toBe(204);
    expect((await post(url(), large, HEADERS)).status).toBe(204);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, 'k8s_expenses_receiver_inflight_bytes')).toBe(0);
  });
});

describe('every status code of the reference table', () => {
  let main: RunningService;
  let auth: RunningService;
  let tight: RunningService;
  const topic = uniqueTopic('receiver-status-table');

  beforeAll(async () => {
    const tenants = path.join(dir, 'tenants.json');
    const hash = createHash('sha256').update('table-token').digest('hex');
    writeFileSync(tenants, JSON.stringify({ tenants: [{ id: 'table-a', tokens_sha256: [hash] }, { id: 'table-b', tokens_sha256: [] }] }));
    const common = { ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1' };
    [main, auth, tight] = await Promise.all([
      startTestService({ ...common, ...LIMITS, TENANT_RATE_LIMIT: '1', TENANT_RATE_BURST: '10' }),
      startTestService({ ...common, TENANTS_FILE: tenants }),
      startTestService({ ...common, MAX_INFLIGHT_BYTES: '64KiB', TENANT_INFLIGHT_SHARE: '1', BODY_TIMEOUT: '2s', TENANT_MAX_CLUSTERS: '1' }),
    ]);
    await Promise.all([waitReady(main), waitReady(auth), waitReady(tight)]);
  });
  afterAll(async () => {
    await Promise.all([main?.stop(), auth?.stop(), tight?.stop()]);
  });

  const good = (cluster = 'table') => snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', cluster_id: cluster }, samples: [{ t: T0, v: 1 }] }]));
  /** An upload that sends `sent` bytes of a longer body and then nothing, answered as fetch would be. */
  const stalled = (sent: number) => {
    const { request, answer } = rawPost(`${tight.url}/api/v1/write`, { ...HEADERS, 'content-length': String(sent + 1000) }, [new Uint8Array(sent)], { endBody: false, timeoutMs: 60_000 });
    const answered = answer.then((a): HttpAnswer => ({ status: a.status, headers: new Headers(a.headers as Record<string, string>), text: a.text }));
    answered.catch(() => undefined);
    return { request, answered };
  };
  const send = (service: () => RunningService, body: Uint8Array<ArrayBuffer>, headers: Record<string, string>) => () => post(`${service().url}/api/v1/write`, body, headers);

  interface Row {
    status: number;
    reason?: string;
    service: () => RunningService;
    request: () => Promise<HttpAnswer>;
    retryAfter?: boolean;
  }
  const rows: Row[] = [
    { status: 204, service: () => main, request: send(() => main, good(), HEADERS) },
    { status: 400, reason: 'tenant-missing', service: () => main, request: send(() => main, good(), RW1_HEADERS) },
    { status: 400, reason: 'tenant-invalid', service: () => main, request: send(() => main, good(), { ...RW1_HEADERS, 'cloud-account-id': '..' }) },
    { status: 400, reason: 'corrupt-snappy', service: () => main, request: send(() => main, new Uint8Array([0x0a, 0xfc, 0xf0, 0xff, 0xff, 0xff]), HEADERS) },
    { status: 400, reason: 'corrupt-protobuf', service: () => main, request: send(() => main, snappyCompress(new Uint8Array([0x0a, 0x05, 0x01])), HEADERS) },
    {
      status: 400,
      reason: 'too-many-clusters',
      service: () => tight,
      request: async () => {
        const headers = { ...RW1_HEADERS, 'cloud-account-id': 'table-clusters' };
        expect((await post(`${tight.url}/api/v1/write`, good('first'), headers)).status).toBe(204);
        return post(`${tight.url}/api/v1/write`, good('second'), headers);
      },
    },
    {
      status: 400,
      reason: 'invalid-series',
      service: () => main,
      request: send(() => main, snappyCompress(writeRequestV1Pairs([{ labels: [['pod', 'x']], samples: [{ t: T0, v: 1 }] }])), HEADERS),
    },
    { status: 401, reason: 'auth-missing', service: () => auth, request: send(() => auth, good(), RW1_HEADERS) },
    { status: 401, reason: 'auth-invalid', service: () => auth, request: send(() => auth, good(), { ...RW1_HEADERS, authorization: 'Bearer nope' }) },
    { status: 403, reason: 'tenant-mismatch', service: () => auth, request: send(() => auth, good(), { ...RW1_HEADERS, authorization: 'Bearer table-token', 'cloud-account-id': 'table-b' }) },
    { status: 413, reason: 'body-too-large', service: () => main, request: send(() => main, bulkyRequest(400), HEADERS) },
    { status: 413, reason: 'decoded-too-large', service: () => main, request: send(() => main, snappyHeader(2 ** 32, [0]), HEADERS) },
    { status: 415, reason: 'unsupported-media-type', service: () => main, request: send(() => main, good(), { ...HEADERS, 'content-type': 'application/json' }) },
    { status: 415, reason: 'unsupported-encoding', service: () => main, request: send(() => main, good(), { ...HEADERS, 'content-encoding': 'gzip' }) },
    {
      status: 429,
      reason: 'rate-limited',
      retryAfter: true,
      service: () => main,
      request: async () => {
        // A burst of 10 samples: the first request empties the bucket, the second is refused.
        const headers = { ...RW1_HEADERS, 'cloud-account-id': 'table-greedy' };
        expect((await post(`${main.url}/api/v1/write`, bulkyRequest(10), headers)).status).toBe(204);
        return post(`${main.url}/api/v1/write`, bulkyRequest(10), headers);
      },
    },
    {
      status: 503,
      reason: 'saturated',
      retryAfter: true,
      service: () => tight,
      request: async () => {
        const { request } = stalled(64 * 1024);
        try {
          await waitFor(async () => metricValue(await (await fetch(`${tight.url}/metrics`)).text(), 'k8s_expenses_receiver_inflight_bytes') === 64 * 1024, 1_500, 'the held bytes');
          return await post(`${tight.url}/api/v1/write`, good(), HEADERS);
        } finally {
          request.destroy();
        }
      },
    },
    { status: 503, reason: 'body-timeout', retryAfter: true, service: () => tight, request: () => stalled(10).answered },
  ];

  it.each(rows.map((r) => ({ ...r, name: `${r.status} ${r.reason ?? ''}` })))('$name', async (row) => {
    const before = await rejectedByReason(row.service().url);
    const res = await row.request();
    expect(res.status, res.text).toBe(row.status);
    const after = await rejectedByReason(row.service().url);
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
    if (row.reason) {
      expect(res.text).toContain(`(${row.reason})`);
      expect(delta).toEqual({ [row.reason]: 1 });
    } else {
      expect(delta).toEqual({});
    }
    if (row.retryAfter) expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    else expect(res.headers.get('retry-after')).toBeNull();
  });
});

describe('Kafka down (own broker)', () => {
  let broker: BrokerHandle;
  let service: RunningService;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-limits-down');

  beforeAll(async () => {
    broker = await startBroker({ port: 19492, fresh: true });
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: broker.brokers.join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1', KAFKA_PRODUCE_TIMEOUT: '3s' });
    await waitReady(service);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
    await broker?.stop();
  });

  it('503 with Retry-After when the valid rest of a partly invalid request cannot be published; the retry is stored', async () => {
    const body = snappyCompress(
      writeRequestV1Pairs([
        { labels: [['__name__', 'node_cpu_hourly_cost'], ['cluster_id', 'down'], ['node', 'n1']], samples: [{ t: T0, v: 0.1 }] },
        { labels: [['node', 'nameless']], samples: [{ t: T0, v: 1 }] },
      ]),
    );
    expect((await post(`${service.url}/api/v1/write`, good(), HEADERS)).status).toBe(204);
    await broker.stop();
    const before = await rejectedByReason(service.url);
    // Answered while the broker is still down (it starts again only below): the produce deadline,
    // not the client's own retries, decides when to give up.
    const res = await post(`${service.url}/api/v1/write`, body, HEADERS, 20_000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(res.text).toMatch(/Kafka/);
    const after = await rejectedByReason(service.url);
    const reasons = Object.keys(after).filter((k) => after[k] !== (before[k] ?? 0));
    expect(reasons).toHaveLength(1);
    expect(['log-unavailable', 'log-timeout']).toContain(reasons[0]);

    await broker.start();
    await waitReady(service, 90_000);
    const retried = await post(`${service.url}/api/v1/write`, body, HEADERS, 20_000);
    expect(retried.status).toBe(400);
    expect(retried.text).toContain('(invalid-series)');
    collector = await collectTopic(broker.brokers, topic);
    await collector.waitFor((all) => all.some((s) => s.cluster === 'down'), 30_000, 'the valid series after the retry');
  });

  function good() {
    return snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', node: 'n0', cluster_id: 'up' }, samples: [{ t: T0, v: 1 }] }]));
  }
});
