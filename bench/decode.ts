// Decode-stage benchmark on kubecost-shaped remote-write requests (2,000 series of 9-10 labels,
// one sample each, as Prometheus sends them with max_samples_per_send = 2000).
//
//   npm run bench:decode [-- --rounds 15 --ms 250 --series 2000]
//
// Compares, on one core (this process is single-threaded), in samples per second:
//   snappy:   snappyjs.uncompress vs our bounds-checked snappyDecode
//   protobuf: protobufjs (reflection, official .proto) vs our decoder (growable arrays, and the
//             pre-count variant), plus our 2.0 decoder on the same series
//   full:     snappyjs + protobufjs vs decodeRemoteWrite (1.0 and 2.0), and decode + validateSeries
// Each variant runs for --ms per round, variants interleaved, --rounds rounds after a warm-up;
// the figure is the median round. The last line is one JSON object with every figure.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import snappyjs from 'snappyjs';
import { CONTENT_TYPE_V1, CONTENT_TYPE_V2, kubecostRequests, type KubecostRequest } from './kubecost-traffic.ts';
import { decodeRemoteWrite } from '../receiver/decode/index.ts';
import { validateSeries } from '../receiver/decode/labels.ts';
import { decodeWriteRequestV1, decodeWriteRequestV1Precount } from '../receiver/decode/remote-write-v1.ts';
import { decodeRequestV2 } from '../receiver/decode/remote-write-v2.ts';
import { snappyDecode } from '../receiver/decode/snappy.ts';
import { decompressNative, nativeSnappy, snappyDecoder } from '../receiver/decode/snappy-block.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 15);
const ROUND_MS = arg('ms', 250);
const SERIES = arg('series', 2000);
const MAX_DECODED = 64 * 1024 * 1024;
const LIMITS = { maxDecodedBytes: MAX_DECODED };
const LABEL_LIMITS = { maxLabelsPerSeries: 30, maxLabelNameBytes: 1024, maxLabelValueBytes: 2048 };

const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto');
const root = new protobuf.Root().loadSync([path.join(protoDir, 'remote.proto')], { keepCase: true });
const WriteRequest = root.lookupType('prometheus.WriteRequest');

// 8 distinct requests: 4 tenants (clusters) x 2 consecutive scrapes.
const traffic = { seed: 42, tenants: 4, seriesPerTenant: SERIES, samplesPerRequest: SERIES, scrapes: 2 };
const v1: KubecostRequest[] = [...kubecostRequests(traffic)];
const v2: KubecostRequest[] = [...kubecostRequests({ ...traffic, protocol: 2 })];
const samplesPerPass = v1.reduce((n, r) => n + r.sampleCount, 0);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Variant {
  readonly key: string;
  readonly label: string;
  readonly run: () => void;
}

let sink = 0; // keeps results observable so nothing is optimised away

const variants: Variant[] = [
  { key: 'snappyjs_uncompress', label: 'snappy    snappyjs.uncompress', run: () => { for (const r of v1) sink += snappyjs.uncompress(r.body).length; } },
  { key: 'snappy_ours', label: 'snappy    ours (snappyDecode)', run: () => { for (const r of v1) sink += snappyDecode(r.body, MAX_DECODED).length; } },
  ...(nativeSnappy === undefined ? [] : [{ key: 'snappy_native', label: 'snappy    native (decompressNative)', run: () => { for (const r of v1) sink += decompressNative(nativeSnappy!, r.body, MAX_DECODED).length; } }]),
  { key: 'protobufjs_decode', label: 'protobuf  protobufjs (reflection)', run: () => { for (const r of v1) sink += (WriteRequest.decode(r.raw) as unknown as { timeseries: unknown[] }).timeseries.length; } },
  { key: 'protobuf_ours_v1', label: 'protobuf  ours 1.0 (growable arrays)', run: () => { for (const r of v1) sink += decodeWriteRequestV1(r.raw).seriesCount; } },
  { key: 'protobuf_ours_v1_precount', label: 'protobuf  ours 1.0 (pre-count pass)', run: () => { for (const r of v1) sink += decodeWriteRequestV1Precount(r.raw).seriesCount; } },
  { key: 'protobuf_ours_v2', label: 'protobuf  ours 2.0 (same series)', run: () => { for (const r of v2) sink += decodeRequestV2(r.raw).seriesCount; } },
  { key: 'full_snappyjs_protobufjs', label: 'full      snappyjs + protobufjs', run: () => { for (const r of v1) sink += (WriteRequest.decode(snappyjs.uncompress(r.body)) as unknown as { timeseries: unknown[] }).timeseries.length; } },
  { key: 'full_ours_v1', label: 'full      ours 1.0 (decodeRemoteWrite)', run: () => { for (const r of v1) sink += decodeRemoteWrite(r.body, CONTENT_TYPE_V1, LIMITS).write.seriesCount; } },
  { key: 'full_ours_v2', label: 'full      ours 2.0 (decodeRemoteWrite)', run: () => { for (const r of v2) sink += decodeRemoteWrite(r.body, CONTENT_TYPE_V2, LIMITS).write.seriesCount; } },
  {
    key: 'full_ours_v1_validated',
    label: 'full      ours 1.0 + validateSeries',
    run: () => {
      for (const r of v1) {
        const { write } = decodeRemoteWrite(r.body, CONTENT_TYPE_V1, LIMITS);
        for (let s = 0; s < write.seriesCount; s++) if (validateSeries(write, s, LABEL_LIMITS)) sink++;
      }
    },
  },
];

function measure(v: Variant, ms: number): number {
  let samples = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  do {
    v.run();
    samples += samplesPerPass;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return samples / (Number(elapsed) / 1e9);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`decode benchmark: ${v1.length} kubecost requests of ${SERIES} series (${samplesPerPass} samples per pass)`);
console.log(`  1.0 body: ${Math.round(avg(v1.map((r) => r.raw.length)))} B raw, ${Math.round(avg(v1.map((r) => r.body.length)))} B snappy; 2.0 body: ${Math.round(avg(v2.map((r) => r.raw.length)))} B raw, ${Math.round(avg(v2.map((r) => r.body.length)))} B snappy`);
console.log(`  node ${process.version}, ${ROUNDS} rounds x ${ROUND_MS} ms per variant, median round, one core`);

// Warm-up: let the JIT settle on every path.
for (const v of variants) measure(v, Math.min(300, ROUND_MS));

const results = new Map<string, number[]>(variants.map((v) => [v.key, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const v of variants) results.get(v.key)!.push(measure(v, ROUND_MS));
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(12);
const figures: Record<string, number> = {};
console.log('');
console.log(`${'stage / implementation'.padEnd(42)}${'samples/s'.padStart(12)}${'min'.padStart(13)}${'max'.padStart(13)}`);
for (const v of variants) {
  const r = results.get(v.key)!;
  figures[v.key] = Math.round(median(r));
  console.log(`${v.label.padEnd(42)}${fmt(median(r))} ${fmt(Math.min(...r))} ${fmt(Math.max(...r))}`);
}
const ratio = (a: string, b: string) => Math.round((figures[a] / figures[b]) * 100) / 100;
console.log('');
console.log(`ours vs reference: snappy x${ratio('snappy_ours', 'snappyjs_uncompress')} (native x${ratio('snappy_native', 'snappyjs_uncompress')}; full decoding uses ${snappyDecoder}), protobuf x${ratio('protobuf_ours_v1', 'protobufjs_decode')}, full x${ratio('full_ours_v1', 'full_snappyjs_protobufjs')}; growable vs pre-count x${ratio('protobuf_ours_v1', 'protobuf_ours_v1_precount')}`);
if (sink === -1) console.log(sink);
console.log(JSON.stringify({ bench: 'decode', unit: 'samples_per_second_per_core', series_per_request: SERIES, rounds: ROUNDS, round_ms: ROUND_MS, node: process.version, ...figures }));
