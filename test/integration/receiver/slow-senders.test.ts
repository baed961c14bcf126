// Slow senders against the real receiver and broker: one tenant holding 64 uploads that send 5
// bytes and go silent plus 8 uploads declaring Content-Length 16 MiB must not keep another tenant
// out (the in-flight slot is taken once the body is complete, bytes are charged as they arrive,
// and each tenant holds at most its share of the in-flight bytes); a body stalled past
// BODY_TIMEOUT ends with 503 + Retry-After (never a 4xx, which Prometheus drops), counted as
// `body-timeout`, and its capacity comes back.
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { post, rawPost, rejectedByReason } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1 } from '../../support/remote-write-fixtures.ts';
import { startTestService, uniqueTopic, waitReady } from '../../support/service.ts';

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const HOG = 'slow-hog';
const OTHER = 'slow-other';
const BODY_TIMEOUT_MS = 6_000;

const normalRequest = (pod: string) =>
  snappyCompress(writeRequestV1([{ labels: { __name__: 'container_cpu_allocation', cluster_id: 'slow-senders', pod }, samples: [{ t: T0, v: 0.5 }] }]));

interface Held {
  request: http.ClientRequest;
  settled: boolean;
  answer: Promise<{ status: number; headers: http.IncomingHttpHeaders } | { error: string }>;
}

/** An upload that sends `first` (or only its headers) and then nothing; it ends when the server ends it. */
function holdUpload(url: string, tenant: string, declared: number | undefined, first: Uint8Array | undefined): Held {
  const headers: Record<string, string> = { ...RW1_HEADERS, 'cloud-account-id': tenant };
  if (declared === undefined) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = String(declared);
  const { answer, request } = rawPost(url, headers, first ? [first] : [], { endBody: false, timeoutMs: 60_000 });
  if (!first) request.flushHeaders();
  const held: Held = {
    request,
    settled: false,
    answer: answer.then(
      (a) => ({ status: a.status, headers: a.headers }),
      (err: Error) => ({ error: err.message }),
    ),
  };
  void held.answer.then(() => (held.settled = true));
  return held;
}

/** A receiver on the shared broker, warmed up: its topic exists and its producer is connected before the clock matters. */
async function startReceiver(env: Record<string, string>): Promise<RunningService> {
  const service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: uniqueTopic('slow-senders'), ...env });
  await waitReady(service);
  expect((await post(`${service.url}/api/v1/write`, normalRequest('warm-up'), { ...RW1_HEADERS, 'cloud-account-id': OTHER })).status).toBe(204);
  return service;
}

describe('slow senders', () => {
  let service: RunningService;
  const held: Held[] = [];

  beforeAll(async () => {
    service = await startReceiver({ BODY_TIMEOUT: `${BODY_TIMEOUT_MS}ms` });
  });
  afterAll(async () => {
    for (const h of held) h.request.destroy();
    await service?.stop();
  });

  it('another tenant gets its 2xx while one tenant holds 64 stalled uploads and 8 declaring 16 MiB', async () => {
    const url = `${service.url}/api/v1/write`;
    const five = new Uint8Array([0xff, 0x01, 0x02, 0x03, 0x04]);
    for (let i = 0; i < 64; i++) held.push(holdUpload(url, HOG, i % 2 === 0 ? 1024 : undefined, five));
    for (let i = 0; i < 8; i++) held.push(holdUpload(url, HOG, 16 * 1024 * 1024, undefined));
    // Every upload is connected and has sent what it sends before the other tenant's request.
    await expect.poll(() => held.filter((h) => h.request.socket && !h.request.socket.connecting).length, { timeout: 5_000 }).toBe(72);
    await new Promise((r) => setTimeout(r, 500));

    const sentAt = performance.now();
    const res = await post(url, normalRequest('while-slow'), { ...RW1_HEADERS, 'cloud-account-id': OTHER }, BODY_TIMEOUT_MS - 2_000);
    console.log(`slow senders: the other tenant's request answered ${res.status} in ${(performance.now() - sentAt).toFixed(0)} ms while ${held.length} uploads were held`);
    expect(res.status).toBe(204);
    // It completed while the hog's uploads were still open: none of them was answered or closed.
    expect(held.filter((h) => h.settled)).toEqual([]);
    expect(held.filter((h) => h.request.socket?.destroyed ?? true)).toEqual([]);
  });

  it('a body stalled past BODY_TIMEOUT ends with 503 + Retry-After, counted as body-timeout, and the capacity comes back', async () => {
    const answers = await Promise.all(held.map((h) => h.answer));
    const statuses = new Map<string, number>();
    for (const a of answers) {
      const key = 'status' in a ? String(a.status) : 'closed';
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    console.log(`slow senders: the held uploads ended as ${JSON.stringify(Object.fromEntries(statuses))}`);
    for (const a of answers) {
      // Never a 4xx: the sender would drop the batch.
      if ('status' in a) {
        expect(a.status).toBe(503);
        expect(a.headers['retry-after']).toMatch(/^\d+$/);
      }
    }
    expect(statuses.get('503') ?? 0).toBeGreaterThan(0);
    expect((await rejectedByReason(service.url))['body-timeout']).toBe(held.length);
    const res = await post(`${service.url}/api/v1/write`, normalRequest('after-timeout'), { ...RW1_HEADERS, 'cloud-account-id': HOG });
    expect(res.status).toBe(204);
  });
});

describe('slow senders: the per-tenant share of in-flight bytes', () => {
  let service: RunningService;
  const held: Held[] = [];
  const PART = 256 * 1024;

  beforeAll(async () => {
    service = await startReceiver({ MAX_INFLIGHT_BYTES: '1MiB', MAX_REQUEST_BYTES: '512KiB', TENANT_INFLIGHT_SHARE: '0.5' });
  });
  afterAll(async () => {
    for (const h of held) h.request.destroy();
    await service?.stop();
  });

  it('a tenant whose unfinished uploads hold all the bytes it may hold leaves the rest to the others', async () => {
    const url = `${service.url}/api/v1/write`;
    const inflightBytes = async () => Number(/^k8s_expenses_receiver_inflight_bytes (\S+)$/m.exec(await (await fetch(`${service.url}/metrics`)).text())?.[1]);
    // Four uploads, one after the other, of 256 KiB less a byte of a 256 KiB body: together
    // MAX_INFLIGHT_BYTES less 4 bytes. Each is in (its bytes charged) or refused before the next.
    for (let i = 0; i < 4; i++) {
      held.push(holdUpload(url, HOG, PART, new Uint8Array(PART - 1).fill(i + 1)));
      await expect.poll(async () => (await inflightBytes()) + (PART - 1) * held.filter((h) => h.settled).length, { timeout: 10_000 }).toBe((i + 1) * (PART - 1));
    }
    const hogHeld = await inflightBytes();

    const res = await post(url, normalRequest('beside-the-hog'), { ...RW1_HEADERS, 'cloud-account-id': OTHER });
    console.log(`slow senders: with the hog holding ${hogHeld} of 1048576 bytes, the other tenant's request answered ${res.status}`);
    expect(hogHeld).toBe(2 * (PART - 1));
    expect(res.status).toBe(204);
    // The hog's uploads over its share were refused with a status it retries.
    for (const h of held.filter((x) => x.settled)) {
      const a = await h.answer;
      expect('status' in a ? a.status : 'closed').toSatisfy((s) => s === 503 || s === 'closed');
    }
  });
});
