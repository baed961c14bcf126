// Hostile input against one running service process: corrupt snappy, the body that hangs snappyjs,
// headers declaring gigabytes, truncated and random protobuf inside valid snappy, mutations of real
// 1.0 and 2.0 requests, wrong content types and encodings, missing / malformed / spoofed tenants,
// oversized bodies, and thousands of seeded random byte strings. Structurally invalid requests get
// a 4xx; bytes that happen to form a valid request may get a 2xx; nothing gets a 5xx or hangs, the
// process survives and still works, and /metrics counts every rejection by its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers } from '../../support/env.ts';
import { collectTopic, type TopicCollector } from '../../support/kafka-collector.ts';
import { post, rawPost, rejectedByReason } from '../../support/net.ts';
import { RW1_HEADERS, RW2_HEADERS, snappyCompress, writeRequestV1, writeRequestV2, type FixtureSeries, snappyHeader } from '../../support/remote-write-fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic } from '../../support/service.ts';

// Fixed (and in the past on any clock), so the seeded cases are the same bytes on every run.
const T0 = Date.UTC(2024, 0, 1);
const TENANT = 'hostile-tenant';
const V1 = { ...RW1_HEADERS, 'cloud-account-id': TENANT };
const V2 = { ...RW2_HEADERS, 'cloud-account-id': TENANT };
const REQUEST_TIMEOUT_MS = 10_000;
const CONCURRENCY = 8;
const MAX_REQUEST_BYTES = 64 * 1024;

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes(n: number): Uint8Array<ArrayBuffer> {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

/** The snappy block format with literals only: the compressor cannot rearrange what we want to send. */
function snappyLiteral(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out: number[] = [...snappyHeader(data.length)];
  for (let i = 0; i < data.length; i += 60) {
    const chunk = data.subarray(i, i + 60);
    out.push((chunk.length - 1) << 2, ...chunk);
  }
  return new Uint8Array(out);
}

interface Case {
  kind: string;
  body: Uint8Array<ArrayBuffer> | undefined;
  headers: Record<string, string>;
  /** Allowed statuses; default: any 2xx or 4xx. */
  expect?: number[];
}

const realSeries: FixtureSeries[] = [
  { labels: { __name__: 'container_cpu_allocation', namespace: 'shop', pod: 'web-1', container: 'app', node: 'n1', cluster_id: 'hostile' }, samples: [{ t: T0, v: 0.25 }, { t: T0 + 60_000, v: 0.5 }] },
  { labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', instance_type: 'm5.large', cluster_id: 'hostile' }, samples: [{ t: T0, v: 0.096 }] },
  { labels: { __name__: 'kube_pod_labels', namespace: 'shop', pod: 'web-1', label_app: 'web', cluster_id: 'hostile' }, samples: [{ t: T0, v: 1 }] },
];

function buildCases(): Case[] {
  const rnd = prng(20261123);
  const cases: Case[] = [];
  const v1Raw = writeRequestV1(realSeries);
  const v2Raw = writeRequestV2(realSeries.map((s) => ({ ...s, exemplars: [{ labels: { trace_id: 'abc' }, v: 1, t: T0 }], metadata: { type: 'GAUGE' as const, help: 'h', unit: '' } })));
  const v1Body = snappyCompress(v1Raw);

  // Corrupt snappy, each a different decoder check.
  const corrupt: [string, number[]][] = [
    ['snappyjs hang body (literal length wraps negative)', [0x0a, 0xfc, 0xf0, 0xff, 0xff, 0xff]],
    ['empty header', [0x80]],
    ['header of 6 bytes', [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ['literal past the end of the input', [0x05, 0x10, 0x41]],
    ['copy with offset 0', [0x08, 0x00, 0x41, 0x01, 0x00]],
    ['copy before the start of the output', [0x08, 0x00, 0x41, 0x0d, 0x09]],
    ['output longer than declared', [0x01, 0x04, 0x41, 0x42]],
    ['output shorter than declared', [0x03, 0x00, 0x41]],
    ['truncated 4-byte copy', [0x10, 0x00, 0x41, 0x03, 0x01]],
    ['literal length bytes missing', [0x10, 0xf0]],
    ['declares more than 22x its size', [...snappyHeader(100_000), 0x00, 0x41]],
  ];
  for (const [kind, bytes] of corrupt) cases.push({ kind: `corrupt snappy: ${kind}`, body: new Uint8Array(bytes), headers: V1, expect: [400] });
  cases.push({ kind: 'empty body', body: new Uint8Array(0), headers: V1, expect: [400] });
  cases.push({ kind: 'no body at all', body: undefined, headers: V1, expect: [400] });

  // Headers declaring gigabytes (the limit is 1 MiB here): refused from the header, before allocating.
  for (const n of [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 - 1, 1024 ** 2 + 1]) {
    cases.push({ kind: `snappy header declaring ${n} bytes`, body: snappyHeader(n, [0x00, 0x41]), headers: V1, expect: [413] });
    cases.push({ kind: `snappy header declaring ${n} bytes (2.0)`, body: snappyHeader(n, [0x00, 0x41]), headers: V2, expect: [413] });
  }

  // Every prefix of a real 1.0 request, inside valid snappy; a prefix that ends on a field boundary
  // is a valid shorter request.
  for (let n = 0; n < v1Raw.length; n++) cases.push({ kind: 'truncated protobuf (1.0)', body: snappyLiteral(v1Raw.subarray(0, n)), headers: V1 });
  for (let n = 0; n < v2Raw.length; n++) cases.push({ kind: 'truncated protobuf (2.0)', body: snappyLiteral(v2Raw.subarray(0, n)), headers: V2 });
  // Every prefix of the compressed body: truncated snappy.
  for (let n = 1; n < v1Body.length; n++) cases.push({ kind: 'truncated snappy', body: v1Body.slice(0, n), headers: V1, expect: [400] });

  // Random protobuf inside valid snappy, and real requests with bytes flipped (before and after compression).
  for (let i = 0; i < 500; i++) {
    const raw = rnd.bytes(rnd.int(300));
    cases.push({ kind: 'random protobuf in valid snappy', body: snappyCompress(raw), headers: i % 2 ? V2 : V1 });
  }
  for (let i = 0; i < 400; i++) {
    const raw = new Uint8Array(i % 2 ? v2Raw : v1Raw);
    for (let k = 1 + rnd.int(4); k > 0; k--) raw[rnd.int(raw.length)] = rnd.int(256);
    cases.push({ kind: 'mutated protobuf in valid snappy', body: snappyCompress(raw), headers: i % 2 ? V2 : V1 });
  }
  for (let i = 0; i < 300; i++) {
    const body = new Uint8Array(v1Body);
    for (let k = 1 + rnd.int(3); k > 0; k--) body[rnd.int(body.length)] = rnd.int(256);
    cases.push({ kind: 'mutated snappy', body, headers: V1 });
  }

  // Random byte strings as bodies: at least 2,000, short and long.
  for (let i = 0; i < 2_200; i++) {
    const length = i % 10 === 0 ? rnd.int(20_000) : rnd.int(200);
    cases.push({ kind: 'random bytes', body: rnd.bytes(length), headers: i % 3 === 2 ? V2 : V1 });
  }

  // Wrong content type or encoding.
  for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/x-protobuf;proto=io.prometheus.write.v3.Request', 'application/x-protobuf;proto=prometheus.WriteRequest;proto=io.prometheus.write.v2.Request', 'application/protobuf', 'multipart/form-data; boundary=x']) {
    cases.push({ kind: `content type ${type}`, body: v1Body, headers: { ...V1, 'content-type': type }, expect: [415] });
  }
  for (const encoding of ['gzip', 'zstd', 'deflate', 'br', 'snappy, gzip', 'x-snappy-framed']) {
    cases.push({ kind: `content encoding ${encoding}`, body: v1Body, headers: { ...V1, 'content-encoding': encoding }, expect: [415] });
  }

  // Missing, malformed and spoofed tenants.
  const { 'cloud-account-id': _tenant, ...noTenant } = V1;
  cases.push({ kind: 'tenant missing', body: v1Body, headers: noTenant, expect: [400] });
  for (const bad of ['a/b', '..', '.', 'x'.repeat(151), 'tenant with spaces', 'tenant;drop', '%2e%2e', 'ümlaut']) {
    cases.push({ kind: `tenant malformed ${bad.slice(0, 20)}`, body: v1Body, headers: { ...V1, 'cloud-account-id': bad }, expect: [400] });
  }
  cases.push({
    kind: 'tenant spoofed by labels',
    body: snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', tenant_id: 'victim', cloud_account_id: 'victim', cluster_id: 'hostile-spoof' }, samples: [{ t: T0, v: 9 }] }])),
    headers: V1,
    expect: [204],
  });

  // Timestamps the record format cannot carry exactly: refused as invalid series (400), never
  // published as a record the processor cannot decode. Beyond ±2^53 the decoder refuses them.
  for (const t of [-(2 ** 52) + 12_345, -1, -(2 ** 53) + 1, 2 ** 60, -(2 ** 60)]) {
    cases.push({ kind: `timestamp ${t}`, body: snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', cluster_id: 'hostile-time' }, samples: [{ t, v: 1 }] }])), headers: V1, expect: [400] });
  }

  // Over MAX_REQUEST_BYTES.
  cases.push({ kind: 'oversized body', body: rnd.bytes(MAX_REQUEST_BYTES + 1), headers: V1, expect: [413] });
  return cases;
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

describe('hostile input', () => {
  let service: ServiceProcess;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-hostile');

  beforeAll(async () => {
    service = await startServiceProcess({
      env: {
        ROLE: 'receiver',
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_TOPIC: topic,
        KAFKA_TOPIC_PARTITIONS: '2',
        MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES),
        MAX_DECODED_BYTES: '1MiB',
        LOG_LEVEL: 'warn',
      },
    });
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  it('answers every hostile request with a 4xx (or a 2xx for bytes that form a valid request), never a 5xx or a hang', async () => {
    const cases = buildCases();
    expect(cases.filter((c) => c.kind === 'random bytes').length).toBeGreaterThanOrEqual(2_000);
    const before = await rejectedByReason(service.url);
    const answers = await pool(cases, CONCURRENCY, async (c) => {
      try {
        const res = await post(`${service.url}/api/v1/write`, c.body, c.headers, REQUEST_TIMEOUT_MS);
        return { c, status: res.status, reason: /\(([a-z-]+)\)\n?$/.exec(res.text)?.[1] };
      } catch (err) {
        return { c, status: -1, reason: `no answer: ${(err as Error).message}` };
      }
    });
    const bad = answers.filter(({ c, status }) => (c.expect ? !c.expect.includes(status) : !((status >= 200 && status < 300) || (status >= 400 && status < 500))));
    expect(bad.map(({ c, status, reason }) => `${c.kind}: ${status} ${reason ?? ''} body=${Buffer.from(c.body ?? []).subarray(0, 32).toString('hex')}`)).toEqual([]);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    // Every refusal names its reason in the answer.
    expect(answers.filter((a) => a.status >= 400 && !a.reason)).toEqual([]);

    // /metrics counts exactly the refusals the answers named, reason by reason.
    const after = await rejectedByReason(service.url);
    const counted: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) counted[k] = v - (before[k] ?? 0);
    const named: Record<string, number> = {};
    for (const a of answers) if (a.status >= 400) named[a.reason!] = (named[a.reason!] ?? 0) + 1;
    expect(counted).toEqual(named);
    for (const reason of ['corrupt-snappy', 'corrupt-protobuf', 'decoded-too-large', 'body-too-large', 'unsupported-media-type', 'unsupported-encoding', 'tenant-missing', 'tenant-invalid']) {
      expect(counted[reason], reason).toBeGreaterThan(0);
    }

    const byStatus: Record<number, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    console.info(`hostile: ${answers.length} requests, by status ${JSON.stringify(byStatus)}, by reason ${JSON.stringify(named)}`);
  });

  it('refuses a chunked oversized body and a body that stops early, and survives clients that vanish', async () => {
    const big = new Uint8Array(MAX_REQUEST_BYTES * 2);
    const chunks = [];
    for (let i = 0; i < big.length; i += 4096) chunks.push(big.subarray(i, i + 4096));
    expect((await rawPost(`${service.url}/api/v1/write`, { ...V1, 'transfer-encoding': 'chunked' }, chunks).answer).status).toBe(413);
    // Clients that declare a body and go away mid-way, many times over: slots must come back.
    for (let i = 0; i < 100; i++) {
      const { request, answer } = rawPost(`${service.url}/api/v1/write`, { ...V1, 'content-length': '5000' }, [new Uint8Array(100)], { endBody: false });
      answer.catch(() => undefined);
      setTimeout(() => request.destroy(), 5);
    }
    await new Promise((r) => setTimeout(r, 500));
    const ok = await post(`${service.url}/api/v1/write`, snappyCompress(writeRequestV1(realSeries)), V1);
    expect(ok.status).toBe(204);
  });

  it('is still alive and healthy, accepts a valid request, and the spoofed labels did not change the tenant', async () => {
    // No request was logged as a server-side failure, nothing fatal was logged.
    expect(service.logs.filter((l) => (typeof l.status === 'number' && l.status >= 500) || (l.level ?? 0) >= 60)).toEqual([]);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
    const res = await post(`${service.url}/api/v1/write`, snappyCompress(writeRequestV1(realSeries)), V1);
    expect(res.status).toBe(204);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'hostile-spoof') && all.some((s) => s.cluster === 'hostile'));
    expect(new Set(got.map((s) => s.tenant))).toEqual(new Set([TENANT]));
    // Whatever the random requests that passed put in the topic, every record can be decoded.
    expect(collector.undecodable).toEqual([]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/k8s_expenses_receiver_inflight_requests 0/);
  });
});
