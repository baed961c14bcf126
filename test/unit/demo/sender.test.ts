// The demo sender: the text format parser, labelling like a Prometheus scrape with honor_labels,
// remote write 1.0 bodies and headers, and retries on 5xx.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoExporter } from '../../../demo/exporter.ts';
import { ExpositionParseError, parseExposition, renderExposition } from '../../../demo/exposition.ts';
import { encodeWriteRequest, sendWithRetry } from '../../../demo/remote-write.ts';
import { scrapeToSeries, startSender } from '../../../demo/sender.ts';

const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

interface Decoded {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number | { toNumber(): number } }[] }[];
}

function decode(body: Uint8Array): Decoded {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync('remote.proto', { keepCase: true });
  const type = root.lookupType('prometheus.WriteRequest');
  return type.toObject(type.decode(new Uint8Array(snappy.uncompress(body))), { longs: Number, defaults: true }) as Decoded;
}

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A receiver answering with the statuses given, in turn (the last one repeats). */
async function fakeReceiver(statuses: number[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)];
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `answer ${status}` : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('parseExposition', () => {
  it('reads HELP/TYPE, escaped label values, special values and timestamps', () => {
    const text = [
      '# HELP a_total A counter',
      '# TYPE a_total counter',
      'a_total{x="q\\"uote",y="back\\\\slash",z="new\\nline"} 12.5',
      'b NaN',
      'c{} +Inf 1700000000000',
      'd{e="1",} -Inf',
      '',
    ].join('\n');
    const { samples, types } = parseExposition(text);
    expect(types.get('a_total')).toBe('counter');
    expect(samples[0]).toEqual({ name: 'a_total', labels: { x: 'q"uote', y: 'back\\slash', z: 'new\nline' }, value: 12.5 });
    expect(samples[1].value).toBeNaN();
    expect(samples[2]).toEqual({ name: 'c', labels: {}, value: Infinity, timestampMs: 1_700_000_000_000 });
    expect(samples[3]).toEqual({ name: 'd', labels: { e: '1' }, value: -Infinity });
  });

  it('round-trips what renderExposition writes', () => {
    const series = [{ name: 'm', labels: { a: 'x"y\\z\nw', b: '' }, value: 0.25 }];
    expect(parseExposition(renderExposition(series, { m: { help: 'h', type: 'gauge' } })).samples).toEqual([{ ...series[0] }]);
  });

  it.each([
    ['m{a="x} 1', /line 1: unterminated value of label a/],
    ['ok 1\nm{a=x} 1', /line 2: expected ="\.\.\."/],
    ['m{a="1",a="2"} 1', /label a appears twice/],
    ['m one', /"one" is not a sample value/],
    ['{a="1"} 1', /expected a metric name/],
  ])('refuses %j', (text, message) => {
    expect(() => parseExposition(text)).toThrow(ExpositionParseError);
    expect(() => parseExposition(text)).toThrow(message);
  });
});

describe('scrapeToSeries', () => {
  it("labels like a scrape with honor_labels: the exporter's labels win, external labels fill in", () => {
    const text = 'm{instance="node-1",namespace="shop"} 1\nn{cluster_id="own"} 2\n';
    const series = scrapeToSeries(text, { job: 'kubecost', instance: 'exporter:9003' }, { cluster_id: 'demo-cluster' }, 1000);
    expect(series).toEqual([
      { labels: { job: 'kubecost', instance: 'node-1', namespace: 'shop', __name__: 'm', cluster_id: 'demo-cluster' }, samples: [{ t: 1000, v: 1 }] },
      { labels: { job: 'kubecost', instance: 'exporter:9003', cluster_id: 'own', __name__: 'n' }, samples: [{ t: 1000, v: 2 }] },
    ]);
  });
});

describe('sendWithRetry', () => {
  it('sends the same body again after 5xx until it is accepted', async () => {
    const receiver = await fakeReceiver([503, 500, 204]);
    cleanups.push(receiver.close);
    const body = encodeWriteRequest([{ labels: { __name__: 'x' }, samples: [{ t: 1, v: 1 }] }]);
    const retries: string[] = [];
    const result = await sendWithRetry(receiver.url, body, { headers: {}, minBackoffMs: 1, onRetry: (reason) => retries.push(reason) });
    expect(result).toEqual({ status: 204, attempts: 3 });
    expect(retries).toEqual(['HTTP 503: answer 503', 'HTTP 500: answer 500']);
    expect(new Set(receiver.received.map((r) => r.body.toString('hex')))).toEqual(new Set([Buffer.from(body).toString('hex')]));
  });

  it('drops a batch refused with 4xx, without retrying', async () => {
    const receiver = await fakeReceiver([401]);
    cleanups.push(receiver.close);
    const result = await sendWithRetry(receiver.url, encodeWriteRequest([]), { headers: {} });
    expect(result).toEqual({ status: 401, attempts: 1, error: 'answer 401' });
  });

  it('stops retrying when aborted', async () => {
    const receiver = await fakeReceiver([503]);
    cleanups.push(receiver.close);
    const abort = new AbortController();
    const sending = sendWithRetry(receiver.url, encodeWriteRequest([]), { headers: {}, minBackoffMs: 10, signal: abort.signal });
    // Abort once it has retried at least once (a fixed delay is too short on a loaded machine).
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBeGreaterThan(1);
    abort.abort();
    const result = await sending;
    expect(result.status).toBe(503);
  });
});

describe('startSender', () => {
  it('scrapes the demo exporter and remote-writes 1.0 with the tenant header and the cluster label', async () => {
    const receiver = await fakeReceiver([204]);
    cleanups.push(receiver.close);
    const exporter = await startDemoExporter({ port: 0 });
    cleanups.push(exporter.close);
    const lines: string[] = [];
    const sender = startSender({ scrapeUrl: `${exporter.url}/metrics`, writeUrl: receiver.url, intervalMs: 50, scrapeTimeoutMs: 10_000, maxSamplesPerSend: 100, log: (l) => lines.push(l) });
    cleanups.push(() => sender.stop());
    await expect.poll(() => sender.totals.scrapes, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await sender.stop();

    const first = receiver.received[0];
    expect(first.headers['content-type']).toBe('application/x-protobuf');
    expect(first.headers['content-encoding']).toBe('snappy');
    expect(first.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(first.headers['cloud-account-id']).toBe('demo');
    expect(first.headers.authorization).toBeUndefined();

    // The simulated cluster's size follows the wall clock (Jobs come and go), so the bound is what
    // the exporter serves now: at least one whole scrape arrived.
    const served = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text()).samples.length;
    expect(served).toBeGreaterThan(100);
    const series = receiver.received.flatMap((r) => decode(r.body).timeseries);
    expect(series.length).toBeGreaterThanOrEqual(served);
    for (const s of series) {
      const names = s.labels.map((l) => l.name);
      expect(names).toEqual([...names].sort());
      expect(s.labels.every((l) => l.value !== '')).toBe(true);
      expect(s.labels.find((l) => l.name === 'cluster_id')?.value).toBe('demo-cluster');
      expect(s.labels.find((l) => l.name === 'job')?.value).toBe('kubecost');
    }
    expect(series.some((s) => s.labels.some((l) => l.name === '__name__' && l.value === 'up') && s.samples[0].value === 1)).toBe(true);
    // cAdvisor's pod-level cgroup series arrive without the empty container label.
    expect(series.some((s) => s.labels.some((l) => l.value === 'container_cpu_usage_seconds_total') && !s.labels.some((l) => l.name === 'container'))).toBe(true);
    expect(lines.some((l) => /sent \d+ to .* as tenant demo \(cluster demo-cluster; HTTP 204\)/.test(l))).toBe(true);
    expect(sender.totals.sent).toBeGreaterThanOrEqual(served);
  });

  it('sends a bearer token instead of the tenant header when given one', async () => {
    const receiver = await fakeReceiver([204]);
    cleanups.push(receiver.close);
    const exporter = await startDemoExporter({ port: 0 });
    cleanups.push(exporter.close);
    const sender = startSender({ scrapeUrl: `${exporter.url}/metrics`, writeUrl: receiver.url, intervalMs: 1000, token: 'secret-token', log: () => undefined });
    cleanups.push(() => sender.stop());
    await expect.poll(() => receiver.received.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(receiver.received[0].headers.authorization).toBe('Bearer secret-token');
    expect(receiver.received[0].headers['cloud-account-id']).toBeUndefined();
  });

  it('reports a failed scrape with up = 0', async () => {
    const receiver = await fakeReceiver([204]);
    cleanups.push(receiver.close);
    const lines: string[] = [];
    const sender = startSender({ scrapeUrl: 'http://127.0.0.1:9/metrics', writeUrl: receiver.url, intervalMs: 1000, log: (l) => lines.push(l) });
    cleanups.push(() => sender.stop());
    await expect.poll(() => receiver.received.length, { timeout: 5000 }).toBeGreaterThan(0);
    const [up] = decode(receiver.received[0].body).timeseries;
    expect(up.labels.find((l) => l.name === '__name__')?.value).toBe('up');
    expect(up.samples[0].value).toBe(0);
    expect(lines[0]).toMatch(/scrape of http:\/\/127\.0\.0\.1:9\/metrics failed/);
  });
});
