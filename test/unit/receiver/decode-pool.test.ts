// The decode worker threads against the main thread on the same bodies: the same records byte for
// byte and the same answers for bad bodies; a worker that dies fails only its own requests (500)
// and is replaced; small bodies cut from Node's shared buffer pool are copied, not transferred;
// closing the receiver's server ends the threads.
import { readdirSync } from 'node:fs';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { Log } from '../../../core/log.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../service/config.ts';
import { decodeRecord } from '../../../ingest/record-format.ts';
import type { OutboundRecord, RecordPublisher } from '../../../ingest/record-log.ts';
import { bodyForTransfer } from '../../../receiver/decode-messages.ts';
import { decodeThreadsFor, decodeWorkerEntry, startDecodePool } from '../../../receiver/decode-pool.ts';
import { classifyError } from '../../../receiver/errors.ts';
import { registerReceiver } from '../../../receiver/index.ts';
import { createReceiverMetrics } from '../../../receiver/metrics.ts';
import { mainThreadDecoder, type DecodeSettings, type RequestDecoder } from '../../../receiver/request-decode.ts';
import {
  RW1_HEADERS,
  RW2_CONTENT_TYPE,
  snappyCompress,
  snappyHeader,
  writeRequestV1,
  writeRequestV1Pairs,
  writeRequestV2,
  type FixtureSeries,
} from '../../support/remote-write-fixtures.ts';

const T = Date.UTC(2026, 0, 1, 12);
const SETTINGS: DecodeSettings = {
  maxDecodedBytes: 1 << 20,
  records: { clusterLabel: 'cluster_id', maxSampleFutureMs: 600_000, maxRecordBytes: 16 * 1024, maxLabelsPerSeries: 30, maxLabelNameBytes: 1024, maxLabelValueBytes: 2048 },
};
const V1 = RW1_HEADERS['content-type'];

const series = (i: number, cluster: string): FixtureSeries => ({
  labels: { __name__: 'container_cpu_allocation', cluster_id: cluster, namespace: `ns-${i % 7}`, pod: `pod-${i}`, container: 'app' },
  samples: [{ t: T - 60_000 - (i % 5) * 1000, v: i / 8 }],
});
/** Several clusters, records split by maxRecordBytes, well over the shared pool's 4 KiB. */
const large = writeRequestV1(Array.from({ length: 600 }, (_, i) => series(i, ['eu-1', 'us-1', '', 'ap-2'][i % 4])));
const small = writeRequestV1([series(1, 'eu-1'), series(2, 'us-1')]);
/** 100 empty series in 200 bytes: more series than the decoded size allows (maxDecodedBytes / 16 = 64). */
const manyEmpty = new Uint8Array(200).map((_, i) => (i % 2 === 0 ? 0x0a : 0));

const BODIES: Array<[string, Uint8Array, string | undefined, DecodeSettings?]> = [
  ['a large 1.0 request of four clusters', snappyCompress(large), V1],
  ['a small 1.0 request', snappyCompress(small), V1],
  ['a 2.0 request', snappyCompress(writeRequestV2([series(1, 'eu-1'), series(2, 'eu-1')])), RW2_CONTENT_TYPE],
  ['no Content-Type', snappyCompress(small), undefined],
  [
    'invalid series among valid ones',
    snappyCompress(
      writeRequestV1Pairs([
        { labels: [['__name__', 'a'], ['pod', 'x'], ['pod', 'y']], samples: [{ t: T, v: 1 }] },
        { labels: [['__name__', 'b']], samples: [{ t: T + 3_600_000, v: 1 }] },
        { labels: [['__name__', 'c'], ['cluster_id', 'eu-1']], samples: [{ t: T, v: 1 }] },
      ]),
    ),
    V1,
  ],
  ['corrupt snappy', Uint8Array.of(0x0a, 0xfc, 0xf0, 0xff, 0xff, 0xff), V1],
  ['a truncated snappy body', snappyCompress(large).subarray(0, 3000), V1],
  ['malformed protobuf', snappyCompress(Uint8Array.of(0x0a, 0x05, 0x0a)), V1],
  ['a declared length over the limit', snappyHeader(SETTINGS.maxDecodedBytes + 1, [0]), V1],
  ['more series than the decoded size allows', snappyCompress(manyEmpty), V1, { ...SETTINGS, maxDecodedBytes: 1024 }],
  ['a JSON Content-Type', snappyCompress(small), 'application/json'],
  ['an unknown proto=', snappyCompress(small), 'application/x-protobuf;proto=io.prometheus.write.v3.Request'],
];

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };
const open: RequestDecoder[] = [];
afterEach(async () => {
  for (const decoder of open.splice(0)) await decoder.close();
});

async function pool(options: { threads?: number; settings?: DecodeSettings; entry?: URL; log?: Log } = {}) {
  const registry = new Registry();
  const metrics = createReceiverMetrics(registry);
  const decoder = await startDecodePool({ threads: options.threads ?? 2, settings: options.settings ?? SETTINGS, log: options.log ?? silent, metrics, entry: options.entry });
  open.push(decoder);
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  return { decoder, value };
}

/** The outcome as the route sees it: the decoded request, or the answer its error becomes. */
async function outcome(decoder: RequestDecoder, body: Uint8Array, contentType: string | undefined, tenant = 'acme') {
  try {
    const decoded = await decoder.decode(Buffer.from(body), contentType, tenant, T);
    // What the series cache learned depends on the thread's history, not on the request: left out.
    const { seriesRemembered: _hits, seriesLearned: _misses, seriesCacheReset: _reset, ...prepared } = decoded.prepared;
    return { decoded: { ...decoded, prepared: { ...prepared, records: prepared.records.map((r) => ({ ...r, value: r.value.toString('hex') })) } } };
  } catch (err) {
    const answer = classifyError(err);
    return { failed: { status: answer.status, code: answer.code, message: answer.message } };
  }
}

describe('decode worker threads', () => {
  it.each(BODIES)('%s: the same records, byte for byte, or the same answer as on the main thread', async (_what, body, contentType, settings = SETTINGS) => {
    const { decoder } = await pool({ settings });
    const expected = await outcome(mainThreadDecoder(settings), body, contentType);
    // Twice: the second request meets the state the first left in the worker.
    expect(await outcome(decoder, body, contentType)).toEqual(expected);
    expect(await outcome(decoder, body, contentType)).toEqual(expected);
  });

  it('decodes requests side by side on every thread, each answered with its own records', async () => {
    const { decoder } = await pool({ threads: 2 });
    const bodies = Array.from({ length: 12 }, (_, k) => snappyCompress(writeRequestV1(Array.from({ length: 50 + k }, (_, i) => series(i + 1000 * k, `c-${k}`)))));
    const decoded = await Promise.all(bodies.map((b) => decoder.decode(Buffer.from(b), V1, `tenant-${b.length}`, T)));
    decoded.forEach((d, k) => {
      expect(d.totalSamples).toBe(50 + k);
      expect(d.prepared.records.map((r) => [r.tenant, r.cluster])).toEqual([[`tenant-${bodies[k].length}`, `c-${k}`]]);
      expect(decodeRecord(d.prepared.records[0].value).seriesCount).toBe(50 + k);
    });
  });

  it('decodes a connection\'s requests on its own thread while the threads are equally busy, so that thread remembers its series', async () => {
    const { decoder } = await pool({ threads: 2 });
    const body = () => Buffer.from(snappyCompress(small));
    const remembered = async (affinity: number) => (await decoder.decode(body(), V1, 'acme', T, affinity)).prepared.seriesRemembered;
    // Connection 3's home is thread 1: its first request teaches thread 1, its next ones are known there.
    expect(await remembered(3)).toBe(0);
    expect(await remembered(3)).toBe(2);
    expect(await remembered(5)).toBe(2);
    // Connection 4's home is thread 0, which has not seen these series.
    expect(await remembered(4)).toBe(0);
    expect(await remembered(4)).toBe(2);
  });

  it('copies a small body cut from the shared buffer pool, and leaves the pool usable', async () => {
    const { decoder } = await pool({ threads: 1 });
    const body = Buffer.from(snappyCompress(small));
    const neighbour = Buffer.from('still here');
    expect(body.buffer).toBe(neighbour.buffer); // both cut from Node's pool
    const poolBytes = body.buffer.byteLength;
    await decoder.decode(body, V1, 'acme', T);
    expect(body.buffer.byteLength).toBe(poolBytes);
    expect(neighbour.toString()).toBe('still here');
    expect(Buffer.from('later').toString()).toBe('later');
    const sent = bodyForTransfer(body);
    expect(sent.body.buffer).not.toBe(body.buffer);
    expect([...sent.body]).toEqual([...body]);
    expect(sent.transfer).toEqual([sent.body.buffer]);
  });

  it('transfers a body that owns its whole buffer, without copying it', async () => {
    const { decoder } = await pool({ threads: 1 });
    const body = Buffer.from(snappyCompress(large));
    expect(body.byteOffset === 0 && body.buffer.byteLength === body.length).toBe(true);
    expect(bodyForTransfer(body).transfer).toEqual([body.buffer]);
    await decoder.decode(body, V1, 'acme', T);
    expect(body.buffer.byteLength).toBe(0); // detached: it went to the worker
  });

  it('answers 500 internal for the requests of a worker that dies, logs it once, counts it, and the next request succeeds', async () => {
    const logged: Array<[object, string | undefined]> = [];
    const log: Log = { ...silent, error: (obj, msg) => void logged.push([obj, msg]) };
    const { decoder, value } = await pool({ threads: 1, log, entry: new URL('../../support/crashing-decode-worker.ts', import.meta.url) });
    const body = snappyCompress(small);
    const [crashed, queued] = await Promise.allSettled([outcome(decoder, body, V1, 'crash'), decoder.decode(Buffer.from(body), V1, 'acme', T)]);
    expect(crashed.status === 'fulfilled' && crashed.value.failed).toMatchObject({ status: 500, code: 'internal' });
    expect(crashed.status === 'fulfilled' && crashed.value.failed?.message).toContain('decoder defect');
    // The request sent to the same worker behind it was lost with it; the sender retries it too.
    expect(queued.status).toBe('rejected');
    expect(await outcome(decoder, body, V1)).toEqual(await outcome(mainThreadDecoder(SETTINGS), body, V1));
    expect(await value('k8s_expenses_receiver_decode_worker_restarts_total')).toBe(1);
    expect(logged).toHaveLength(1);
    expect(logged[0][1]).toMatch(/decode worker stopped unexpectedly \(decoder defect\); its 2 request\(s\) were answered 500 .* DECODE_THREADS=0/);
    expect(await value('k8s_expenses_receiver_decode_requests', { state: 'decoding' })).toBe(0);
  });

  it('answers at once, 500, while a replacement cannot start, and decodes again once one does', async () => {
    const { decoder, value } = await pool({ threads: 1, entry: new URL('../../support/crashing-decode-worker.ts', import.meta.url) });
    const body = snappyCompress(small);
    process.env.FAIL_DECODE_WORKER_START = '1';
    try {
      await expect(decoder.decode(Buffer.from(body), V1, 'crash', T)).rejects.toThrow(/decode worker handling the request stopped/);
      // The replacement dies before it is ready; the next attempt waits a while.
      await expect.poll(() => value('k8s_expenses_receiver_decode_worker_restarts_total')).toBe(2);
      const refused = await outcome(decoder, body, V1);
      expect(refused.failed).toMatchObject({ status: 500, code: 'internal' });
      expect(refused.failed?.message).toContain('no decode worker is running');
    } finally {
      delete process.env.FAIL_DECODE_WORKER_START;
    }
    await expect.poll(async () => (await outcome(decoder, body, V1)).decoded?.totalSamples, { timeout: 5_000, interval: 200 }).toBe(2);
  });

  it('refuses to start when the worker cannot load, naming DECODE_THREADS', async () => {
    await expect(pool({ threads: 1, entry: new URL('./no-such-worker.ts', import.meta.url) })).rejects.toThrow(/decode worker threads could not start \(set DECODE_THREADS=0/);
  });
});

describe('the decode worker entry', () => {
  it('is the compiled module beside compiled code, and the TypeScript source beside the source', () => {
    expect(decodeWorkerEntry('file:///srv/app/dist/receiver/decode-pool.js').href).toBe('file:///srv/app/dist/receiver/decode-worker.js');
    expect(decodeWorkerEntry('file:///srv/app/receiver/decode-pool.ts').href).toBe('file:///srv/app/receiver/decode-worker.ts');
    expect(decodeWorkerEntry().pathname).toMatch(/\/receiver\/decode-worker\.ts$/);
  });
});

describe('DECODE_THREADS', () => {
  it('auto is one thread per core, up to 8, and none on one core', () => {
    expect([1, 2, 4, 16].map((cores) => decodeThreadsFor('auto', cores))).toEqual([0, 2, 4, 8]);
    expect(decodeThreadsFor(0, 16)).toBe(0);
    expect(decodeThreadsFor(3, 1)).toBe(3);
  });

  it('takes auto or a number of threads, and names the variable otherwise', () => {
    expect(loadConfig({}).DECODE_THREADS).toBe('auto');
    expect(loadConfig({ DECODE_THREADS: 'AUTO' }).DECODE_THREADS).toBe('auto');
    expect(loadConfig({ DECODE_THREADS: '0' }).DECODE_THREADS).toBe(0);
    expect(loadConfig({ DECODE_THREADS: '3' }).DECODE_THREADS).toBe(3);
    for (const bad of ['-1', 'two', '1.5', '65']) expect(() => loadConfig({ DECODE_THREADS: bad })).toThrow(/DECODE_THREADS=.*expected auto or a number of threads from 0 to 64/);
  });
});

/** The threads of this process, from /proc (worker threads are threads of the process). */
const threadCount = () => readdirSync('/proc/self/task').length;

describe('the receiver with decode threads', () => {
  it('answers what is in flight, then ends its threads when its server closes', async () => {
    const before = threadCount();
    const app = Fastify();
    const registry = new Registry();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let publishing!: () => void;
    const publishStarted = new Promise<void>((resolve) => (publishing = resolve));
    const published: OutboundRecord[] = [];
    const publisher: RecordPublisher = {
      async publish(records) {
        publishing();
        await held;
        published.push(...records);
      },
      isReady: () => true,
      close: async () => {},
    };
    const { default: pino } = await import('pino');
    await registerReceiver(app, { ...loadConfig({ DECODE_THREADS: '2' }), KAFKA_MAX_RECORD_BYTES: 1 << 20 }, publisher, registry, pino({ level: 'silent' }));
    await app.ready();
    expect(threadCount()).toBeGreaterThanOrEqual(before + 2);
    expect((await registry.getSingleMetric('k8s_expenses_receiver_decode_threads')!.get()).values[0].value).toBe(2);

    const answer = app.inject({ method: 'POST', url: '/api/v1/write', payload: Buffer.from(snappyCompress(small)), headers: { ...RW1_HEADERS, 'cloud-account-id': 'acme' } });
    await publishStarted;
    const closed = app.close();
    release();
    expect((await answer).statusCode).toBe(204);
    await closed;
    expect(published.map((r) => r.cluster)).toEqual(['eu-1', 'us-1']);
    await expect.poll(threadCount).toBe(before);
  });
});
