// The remote-write route on its own: Fastify's inject, a fake record publisher, real admission,
// metrics and decoding. What the sender is told, what is published, counted and logged, and that
// the in-flight slot comes back whatever happens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecord, seriesLabels } from '../../../ingest/record-format.ts';
import { PublishError, type OutboundRecord, type RecordPublisher } from '../../../ingest/record-log.ts';
import { createAdmission, type Admission } from '../../../receiver/admission.ts';
import { createReceiverMetrics } from '../../../receiver/metrics.ts';
import { REMOTE_WRITE_PATHS, remoteWriteRoutes, type RemoteWriteOptions } from '../../../receiver/remote-write-route.ts';
import { tenantFromHeader } from '../../../receiver/tenant.ts';
import {
  RW1_HEADERS,
  RW2_HEADERS,
  snappyCompress,
  snappyHeader,
  writeRequestV1,
  writeRequestV1Pairs,
  writeRequestV2,
  type FixtureSeries,
} from '../../support/remote-write-fixtures.ts';

const T = Date.UTC(2026, 0, 1, 12);
const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_DECODED_BYTES = 256 * 1024;

const series = (pod: string, v: number, cluster = 'eu-1'): FixtureSeries => ({
  labels: { __name__: 'container_cpu_allocation', cluster_id: cluster, namespace: 'shop', pod },
  samples: [{ t: T - 60_000, v }],
});
const V1_BODY = snappyCompress(writeRequestV1([series('api-1', 0.25), series('api-2', 0.5), series('db-0', 2, 'us-1')]));

interface Logged {
  level: number;
  msg: string;
  code?: string;
  status?: number;
  address?: string;
  userAgent?: string;
  tenant?: string;
  suppressed?: number;
  err?: { type: string; message: string; stack: string };
}

interface Harness {
  app: FastifyInstance;
  admission: Admission;
  registry: Registry;
  published: OutboundRecord[][];
  logs: Logged[];
  clock: { t: number };
}

type Publish = (records: readonly OutboundRecord[]) => Promise<void>;

let open: FastifyInstance | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function receiver(options: { publish?: Publish; shuttingDown?: boolean; maxInflightRequests?: number } = {}): Promise<Harness> {
  const published: OutboundRecord[][] = [];
  const logs: Logged[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  // As the service sets it up: no line per request, the route logs refusals itself.
  const app = Fastify({ loggerInstance: logger as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  const registry = new Registry();
  const admission = createAdmission({ maxRequests: options.maxInflightRequests ?? 8, maxBytes: 16 * 1024 * 1024, tenantShare: 1 });
  const clock = { t: T };
  const publisher: RecordPublisher = {
    async publish(records) {
      if (options.publish) await options.publish(records);
      published.push([...records]);
    },
    isReady: () => true,
    close: async () => {},
  };
  const routeOptions: RemoteWriteOptions = {
    records: { clusterLabel: 'cluster_id', maxSampleFutureMs: 600_000, maxRecordBytes: 1 << 20, maxLabelsPerSeries: 30, maxLabelNameBytes: 1024, maxLabelValueBytes: 2048 },
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxDecodedBytes: MAX_DECODED_BYTES,
    bodyTimeoutMs: 5_000,
    publisher,
    admission,
    metrics: createReceiverMetrics(registry),
    tenantFromRequest: (request) => tenantFromHeader(request.headers['x-tenant'], 'X-Tenant'),
    isShuttingDown: () => options.shuttingDown ?? false,
    now: () => clock.t,
  };
  await app.register(remoteWriteRoutes, routeOptions);
  await app.ready();
  open = app;
  return { app, admission, registry, published, logs, clock };
}

function post(h: Harness, body: Uint8Array, headers: Record<string, string> = {}, remoteAddress = '10.1.2.3') {
  return h.app.inject({
    method: 'POST',
    url: '/api/v1/write',
    payload: Buffer.from(body),
    headers: { ...RW1_HEADERS, 'x-tenant': 'acme', 'user-agent': 'Prometheus/3.1.0', ...headers },
    remoteAddress,
  });
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  const found = metric.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

const rejected = (h: Harness, reason: string) => counter(h.registry, 'k8s_expenses_receiver_requests_rejected_total', { reason });
const writtenHeaders = (headers: Record<string, unknown>) => [
  headers['x-prometheus-remote-write-samples-written'],
  headers['x-prometheus-remote-write-histograms-written'],
  headers['x-prometheus-remote-write-exemplars-written'],
];
/** The refusal lines the route wrote (Fastify's own lines carry no code). */
const refusals = (h: Harness) => h.logs.filter((l) => l.code !== undefined);

function expectSlotsBack(h: Harness): void {
  expect({ requests: h.admission.requests, bytes: h.admission.bytes }).toEqual({ requests: 0, bytes: 0 });
}

describe('remote-write route: accepted writes', () => {
  it('answers 204 once the records are published, one record per cluster with every sample', async () => {
    const h = await receiver();
    const res = await post(h, V1_BODY);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(h.published).toHaveLength(1);
    const records = h.published[0].map((r) => {
      const rec = decodeRecord(r.value);
      return {
        tenant: r.tenant,
        cluster: r.cluster,
        samples: r.samples,
        series: Array.from({ length: rec.seriesCount }, (_, i) => [seriesLabels(rec, i).pod, rec.values[rec.sampleStart[i]], rec.timestamps[rec.sampleStart[i]]]),
      };
    });
    expect(records).toEqual([
      { tenant: 'acme', cluster: 'eu-1', samples: 2, series: [['api-1', 0.25, T - 60_000], ['api-2', 0.5, T - 60_000]] },
      { tenant: 'acme', cluster: 'us-1', samples: 1, series: [['db-0', 2, T - 60_000]] },
    ]);
    // A 1.0 sender gets no 2.0 headers.
    expect(writtenHeaders(res.headers)).toEqual([undefined, undefined, undefined]);
    expect(await counter(h.registry, 'k8s_expenses_receiver_samples_published_total', { tenant: 'acme' })).toBe(3);
    expect(await counter(h.registry, 'k8s_expenses_receiver_requests_total', { status: '204', tenant: 'acme' })).toBe(1);
    expect(refusals(h)).toEqual([]);
    expectSlotsBack(h);
  });

  it.each(REMOTE_WRITE_PATHS)('accepts writes on %s', async (url) => {
    const h = await receiver();
    const res = await h.app.inject({ method: 'POST', url, payload: Buffer.from(V1_BODY), headers: { ...RW1_HEADERS, 'x-tenant': 'acme' } });
    expect(res.statusCode).toBe(204);
    expect(h.published).toHaveLength(1);
  });

  it('tells a 2.0 sender how many samples, histograms and exemplars were written', async () => {
    const h = await receiver();
    const body = writeRequestV2([
      { ...series('api-1', 1), exemplars: [{ labels: { trace_id: 'abc' }, v: 1, t: T - 60_000 }] },
      { ...series('api-2', 2), histograms: [{ t: T - 60_000, count: 3, sum: 1.5 }] },
    ]);
    const res = await post(h, snappyCompress(body), RW2_HEADERS);
    expect(res.statusCode).toBe(204);
    expect(writtenHeaders(res.headers)).toEqual(['2', '1', '1']);
    expectSlotsBack(h);
  });
});

describe('remote-write route: the record log fails', () => {
  it.each([
    ['unavailable', 'log-unavailable', '1'],
    ['timeout', 'log-timeout', '1'],
    ['closed', 'shutting-down', '5'],
  ] as const)('PublishError %s answers 503 %s with Retry-After %s, and nothing is acknowledged', async (reason, code, retryAfter) => {
    const h = await receiver({ publish: async () => Promise.reject(new PublishError(`the log is ${reason}`, reason)) });
    const res = await post(h, V1_BODY);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(res.body).toContain(`(${code})`);
    expect(await rejected(h, code)).toBe(1);
    expect(await counter(h.registry, 'k8s_expenses_receiver_samples_rejected_total', { tenant: 'acme', reason: 'log_unavailable' })).toBe(3);
    expect(h.published).toEqual([]);
    expect(refusals(h).map((l) => [l.level, l.code])).toEqual([[40, code]]);
    expectSlotsBack(h);
  });

  it('answers 503 shutting-down without reading the body once shutdown has begun', async () => {
    let calls = 0;
    const h = await receiver({ shuttingDown: true, publish: async () => void calls++ });
    const res = await post(h, V1_BODY);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toContain('(shutting-down)');
    expect(calls).toBe(0);
    expectSlotsBack(h);
  });

  it('carries the written counts on a 2.0 answer that failed: nothing written', async () => {
    const h = await receiver({ publish: async () => Promise.reject(new PublishError('down', 'unavailable')) });
    const res = await post(h, snappyCompress(writeRequestV2([series('api-1', 1)])), RW2_HEADERS);
    expect(res.statusCode).toBe(503);
    expect(writtenHeaders(res.headers)).toEqual(['0', '0', '0']);
  });
});

describe('remote-write route: an unexpected error is a defect', () => {
  it('answers 500 internal (no Retry-After, nothing leaked), counts it, and logs it at error level with the stack', async () => {
    const h = await receiver({ publish: async () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'send')")) });
    const res = await post(h, V1_BODY);
    expect(res.statusCode).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.body).toBe('the receiver failed unexpectedly (internal)\n');
    expect(await rejected(h, 'internal')).toBe(1);
    expect(await rejected(h, 'log-unavailable')).toBe(0);
    expect(await counter(h.registry, 'k8s_expenses_receiver_samples_rejected_total', { tenant: 'acme', reason: 'internal' })).toBe(3);
    const [line] = refusals(h);
    expect(line).toMatchObject({ level: 50, code: 'internal', status: 500, address: '10.1.2.3', userAgent: 'Prometheus/3.1.0', tenant: 'acme' });
    expect(line.msg).toContain("Cannot read properties of undefined (reading 'send')");
    expect(line.err?.type).toBe('TypeError');
    expect(line.err?.stack).toContain('remote-write-route.test.ts');
    expectSlotsBack(h);
  });

  it('carries the written counts on a 2.0 answer of 500', async () => {
    const h = await receiver({ publish: async () => Promise.reject(new Error('bug')) });
    const res = await post(h, snappyCompress(writeRequestV2([series('api-1', 1)])), RW2_HEADERS);
    expect(res.statusCode).toBe(500);
    expect(writtenHeaders(res.headers)).toEqual(['0', '0', '0']);
    expectSlotsBack(h);
  });
});

describe('remote-write route: refused requests', () => {
  const garbageSnappy = Uint8Array.of(0x0a, 0xfc, 0xf0, 0xff, 0xff, 0xff);
  const corruptProtobuf = snappyCompress(Uint8Array.of(0x0a, 0x05, 0x0a));
  const cases: Array<[string, Uint8Array, Record<string, string>, number, string]> = [
    ['no tenant', V1_BODY, { 'x-tenant': '' }, 400, 'tenant-missing'],
    ['an ill-formed tenant', V1_BODY, { 'x-tenant': 'a/b' }, 400, 'tenant-invalid'],
    ['an empty body', new Uint8Array(0), {}, 400, 'corrupt-snappy'],
    ['a body that is not snappy', garbageSnappy, {}, 400, 'corrupt-snappy'],
    ['snappy around a broken protobuf message', corruptProtobuf, {}, 400, 'corrupt-protobuf'],
    ['a body over MAX_REQUEST_BYTES', new Uint8Array(MAX_REQUEST_BYTES + 1), {}, 413, 'body-too-large'],
    ['a snappy header over MAX_DECODED_BYTES', snappyHeader(MAX_DECODED_BYTES + 1, [0]), {}, 413, 'decoded-too-large'],
    ['a JSON body', V1_BODY, { 'content-type': 'application/json' }, 415, 'unsupported-media-type'],
    ['an unknown proto=', V1_BODY, { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' }, 415, 'unsupported-media-type'],
    ['gzip', V1_BODY, { 'content-encoding': 'gzip' }, 415, 'unsupported-encoding'],
  ];

  it.each(cases)('%s: %i %s, counted, nothing published, the slot released', async (_what, body, headers, status, code) => {
    const h = await receiver();
    const res = await post(h, body, headers);
    expect(res.statusCode).toBe(status);
    expect(res.body).toMatch(new RegExp(`\\(${code}\\)\\n$`));
    expect(await rejected(h, code)).toBe(1);
    expect(h.published).toEqual([]);
    expect(refusals(h).map((l) => [l.level, l.code, l.status])).toEqual([[30, code, status]]);
    expectSlotsBack(h);
  });

  it('stores the valid series of a partly invalid request and answers 400 invalid-series naming the problem', async () => {
    const h = await receiver();
    const body = writeRequestV1Pairs([
      { labels: [['__name__', 'container_cpu_allocation'], ['pod', 'good']], samples: [{ t: T - 60_000, v: 1 }] },
      { labels: [['__name__', 'container_cpu_allocation'], ['pod', 'a'], ['pod', 'b']], samples: [{ t: T - 60_000, v: 1 }] },
    ]);
    const res = await post(h, snappyCompress(body));
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('1 of 2 series dropped; first: duplicate_label_name');
    expect(res.body).toMatch(/\(invalid-series\)\n$/);
    expect(h.published.flat().map((r) => r.samples)).toEqual([1]);
    expectSlotsBack(h);
  });

  it('answers a refused 2.0 request with the written counts, before decoding or after', async () => {
    const h = await receiver();
    const noTenant = await post(h, snappyCompress(writeRequestV2([series('api-1', 1)])), { ...RW2_HEADERS, 'x-tenant': '' });
    expect(noTenant.statusCode).toBe(400);
    expect(writtenHeaders(noTenant.headers)).toEqual(['0', '0', '0']);
    const partly = writeRequestV2([series('api-1', 1), { labels: { pod: 'no-name' }, samples: [{ t: T - 60_000, v: 1 }] }]);
    const invalid = await post(h, snappyCompress(partly), RW2_HEADERS);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('missing_metric_name');
    expect(writtenHeaders(invalid.headers)).toEqual(['1', '0', '0']);
    expectSlotsBack(h);
  });

  it('answers 503 saturated with Retry-After while the in-flight slots are held, and gives them back', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const h = await receiver({ maxInflightRequests: 1, publish: () => held });
    const first = post(h, V1_BODY);
    await expect.poll(() => h.admission.requests).toBe(1);
    const second = await post(h, V1_BODY);
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.body).toContain('(saturated)');
    release();
    expect((await first).statusCode).toBe(204);
    expectSlotsBack(h);
  });
});

describe('remote-write route: refusal log lines', () => {
  it('names the sender (address, user agent, tenant) and holds back repeats per code and address, then says how many', async () => {
    const h = await receiver();
    const gzip = { 'content-encoding': 'gzip' };
    for (let i = 0; i < 5; i++) expect((await post(h, V1_BODY, gzip, '10.0.0.1')).statusCode).toBe(415);
    await post(h, V1_BODY, gzip, '10.0.0.2');
    await post(h, V1_BODY, { 'x-tenant': '' }, '10.0.0.1');
    expect(refusals(h).map((l) => [l.code, l.address, l.userAgent, l.tenant, l.suppressed])).toEqual([
      ['unsupported-encoding', '10.0.0.1', 'Prometheus/3.1.0', 'acme', 0],
      ['unsupported-encoding', '10.0.0.2', 'Prometheus/3.1.0', 'acme', 0],
      ['tenant-missing', '10.0.0.1', 'Prometheus/3.1.0', undefined, 0],
    ]);
    // Every refusal is still counted, logged or not.
    expect(await rejected(h, 'unsupported-encoding')).toBe(6);

    h.clock.t += 60_000;
    await post(h, V1_BODY, gzip, '10.0.0.1');
    expect(refusals(h).at(-1)).toMatchObject({ code: 'unsupported-encoding', address: '10.0.0.1', suppressed: 4 });
  });
});
