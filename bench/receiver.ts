// End-to-end receiver benchmark: kubecost-shaped Prometheus remote-write traffic over loopback to
// receivers running as processes of their own, side by side on the same generator.
//
//   npm run bench:receiver                   ours, Kafka mode: the compiled service (node
//                                            dist/service/main.js, ROLE=receiver) -> the broker on
//                                            127.0.0.1:9092 (started for the run when none answers)
//   npm run bench:receiver -- --peers        ours in Kafka mode AND embedded mode (npm start: no
//                                            configuration, processor in the same process), then
//                                            VictoriaMetrics and Prometheus' receiver (Debian
//                                            packages), one after the other in each round
//   npm run bench:receiver -- --embedded     ours, embedded: npm start, and the receiver side alone
//   npm run bench:receiver -- --cpu-prof     ours under `node --cpu-prof`: top functions, areas, GC
//
// Other options (defaults in brackets):
//   --runs N [1]             rounds; each round runs every target once (fresh process, fresh storage),
//                            rotating which goes first; figures are medians over rounds and the
//                            ratios ours / peer are taken within a round before the median
//   --concurrency N [8]      connections, one request in flight on each (like Prometheus shards)
//   --tenants N [4]          tenants (the tenant header of each request)
//   --clusters N [7]         clusters per tenant; a tenant's requests mix series of all its clusters,
//                            so our receiver turns each request into one record per cluster
//   --series N [20000]       series in total; every request carries --samples-per-request [2000]
//   --samples N [2000000]    measured samples (or --seconds [15], whichever comes first)
//   --warmup-samples N [4000000] / --warmup-seconds N [15]   warm-up of every target before measuring,
//                            whichever ends first: a Node process just started spends more CPU per
//                            sample while V8 compiles its hot code and sizes its heaps (our Kafka-mode
//                            receiver, CPU-s per million samples over 500,000-sample windows from
//                            start, three runs: 1.72-1.88 in the first, 1.36-1.52 after 1.5 million,
//                            1.12-1.34 from 3.5 million on); each target gets the same warm-up
//   --env KEY=VALUE          extra environment for our receiver (repeatable), e.g. KAFKA_COMPRESSION=gzip
//   --node-arg=ARG           extra node option for our receiver (repeatable), e.g. --node-arg=--max-semi-space-size=64
//   --skip-decode            skip the in-process decode figure
//   --only ours|peers        with --peers: run only our receivers or only the peers
//   --receiver-root DIR      run the dist/ of another checkout of the project (A/B comparisons)
//   --broker-warmup-seconds N [180 when the bench starts the broker, else 0]
//                            traffic through our Kafka-mode receiver before round 1, not measured:
//                            a broker JVM just started spends several times its settled CPU per
//                            record while its JIT compiles (measured, pass by pass: 1.6-2.4 CPU-s
//                            per million samples in its first 20 s, 0.5-0.6 after a minute, 0.3-0.4
//                            after two and a half), and on shared cores that CPU is taken from our
//                            receiver; production brokers run for weeks
//
// Figures per target: samples/s (2xx answers only), p50/p99 latency per request, receiver
// CPU-seconds per million samples (utime+stime of the receiver process from /proc/<pid>/stat,
// every thread, over the measured window plus whatever it kept doing after the last answer until
// it went idle, such as VictoriaMetrics' background merges or our processor catching up; the
// window alone is shown too), the broker's CPU per million samples separately, peak RSS (VmHWM),
// and GC share (ours: main-thread GC pauses over main-thread CPU, from nodejs_gc_duration_seconds;
// Go peers: GC CPU from GODEBUG=gctrace=1 over process CPU). The load generator is this
// process and shares the machine's cores with the receiver (and the broker): its own CPU is
// reported, and so is the CPU other processes used meanwhile and the load average. The request
// bodies are generated before anything is measured, with recent timestamps and one stream per
// series set so each series arrives in time order (Prometheus' TSDB refuses out-of-order samples).
// The last line is one JSON object with every figure.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareRecords, type RecordOptions } from '../receiver/cluster-records.ts';
import { decodeRemoteWrite } from '../receiver/decode/index.ts';
import { SERVICE_COMMAND } from '../service/node-flags.ts';
import { formatProfile } from './cpu-profile.ts';
import { kubecostRequests } from './kubecost-traffic.ts';
import type { LoadBody } from './load-client.ts';
import { stopAll } from './managed-process.ts';
import { startPrometheus, startVictoriaMetrics, type RunningTarget } from './peers.ts';
import { measureRun, type LoadPlan, type RunResult } from './receiver-measure.ts';
import { printReport, printRun, type TargetFigures } from './receiver-report.ts';
import { buildOurs, deleteTopics, ensureBroker, OURS_LABEL, startOurs, type Broker, type OursKind, type OursOptions, type StartedOurs } from './receiver-targets.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opt } = parseArgs({
  options: {
    embedded: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
    tenants: { type: 'string', default: '4' },
    clusters: { type: 'string', default: '7' },
    series: { type: 'string', default: '20000' },
    'samples-per-request': { type: 'string', default: '2000' },
    samples: { type: 'string', default: '2000000' },
    seconds: { type: 'string', default: '15' },
    'warmup-samples': { type: 'string', default: '4000000' },
    'warmup-seconds': { type: 'string', default: '15' },
    runs: { type: 'string', default: '1' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'boolean', default: false },
    'skip-decode': { type: 'boolean', default: false },
    only: { type: 'string' },
    broker: { type: 'string', default: '127.0.0.1:9092' },
    'receiver-root': { type: 'string' },
    'broker-warmup-seconds': { type: 'string' },
  },
  strict: true,
});

const num = (name: keyof typeof opt): number => {
  const v = Number(opt[name]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} expects a positive number, got ${String(opt[name])}`);
  return v;
};
const CONCURRENCY = num('concurrency');
const TENANTS = num('tenants');
const CLUSTERS = num('clusters');
const SERIES = num('series');
const PER_REQUEST = num('samples-per-request');
const MEASURE_SAMPLES = num('samples');
const MEASURE_SECONDS = num('seconds');
const WARMUP_SAMPLES = num('warmup-samples');
const WARMUP_SECONDS = num('warmup-seconds');
const RUNS = num('runs');
const EXTRA_ENV: Record<string, string> = {};
for (const kv of opt.env ?? []) {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new Error(`--env expects KEY=VALUE, got ${kv}`);
  EXTRA_ENV[kv.slice(0, eq)] = kv.slice(eq + 1);
}
const NODE_ARGS = opt['node-arg'] ?? [];
const RECEIVER_ROOT = opt['receiver-root'] ? path.resolve(opt['receiver-root']) : PROJECT_ROOT;
const ONLY = opt.only;
if (ONLY !== undefined && ONLY !== 'ours' && ONLY !== 'peers') throw new Error('--only expects ours or peers');
const BROKER = opt.broker!;
const BROKER_WARMUP = opt['broker-warmup-seconds'];
if (BROKER_WARMUP !== undefined && !(Number(BROKER_WARMUP) >= 0)) throw new Error(`--broker-warmup-seconds expects a number of seconds, got ${BROKER_WARMUP}`);
const TENANT_HEADER = 'cloud-account-id';
const CORES = os.availableParallelism();

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtInt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const MB = 1024 * 1024;

process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

// -------------------------------------------------------------------------------------------
// Traffic, generated before anything is measured
// -------------------------------------------------------------------------------------------

const SCRAPE_INTERVAL_MS = 60_000;
const requestsPerScrape = TENANTS * Math.ceil(SERIES / TENANTS / PER_REQUEST);
// One sample per series per scrape: a scrape is SERIES samples in requestsPerScrape requests.
const SCRAPES = Math.ceil(((WARMUP_SAMPLES + MEASURE_SAMPLES) * 1.02) / SERIES + (CONCURRENCY * 2) / requestsPerScrape);
// Recent timestamps, ending a minute ago: Prometheus' TSDB and VictoriaMetrics' retention both
// accept them (2024 samples would be refused as out of bounds, or dropped as out of retention),
// and our receiver's future bound is never near.
const START_MS = Math.floor((Date.now() - (SCRAPES + 1) * SCRAPE_INTERVAL_MS) / 1000) * 1000;

console.log(`receiver benchmark: node ${process.version}, ${CORES} cores, ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const genStart = performance.now();
const bodies: LoadBody[] = [];
let rawBytes = 0;
let scrape = -1;
let inScrape = 0;
for (const r of kubecostRequests({
  seed: 20240601,
  tenants: TENANTS,
  clustersPerTenant: CLUSTERS,
  seriesPerTenant: Math.ceil(SERIES / TENANTS),
  samplesPerRequest: PER_REQUEST,
  scrapes: SCRAPES,
  startMs: START_MS,
  scrapeIntervalMs: SCRAPE_INTERVAL_MS,
})) {
  rawBytes += r.raw.length;
  if (r.scrape !== scrape) {
    scrape = r.scrape;
    inScrape = 0;
  }
  // Every scrape yields the same requests (tenant by tenant, chunk by chunk) with the same series.
  const stream = inScrape++;
  bodies.push({ body: Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength), tenant: r.tenant, samples: r.sampleCount, contentType: r.contentType, stream });
}
const bodyBytes = bodies.reduce((n, b) => n + b.body.length, 0);
const totalSamples = bodies.reduce((n, b) => n + b.samples, 0);
console.log(
  `  traffic: ${TENANTS} tenants x ${CLUSTERS} clusters (each request mixes the series of its tenant's clusters), ${fmtInt(SERIES)} series of 9-10 labels, ` +
    `${PER_REQUEST} samples per request, ${SCRAPES} scrapes 60 s apart = ${bodies.length} distinct requests (${fmtInt(totalSamples)} samples), ` +
    `${fmtInt(rawBytes / bodies.length)} B protobuf -> ${fmtInt(bodyBytes / bodies.length)} B snappy each; generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s (not measured)`,
);
console.log(
  `  load: ${CONCURRENCY} keep-alive connections, one request in flight each; warm-up ${fmtInt(WARMUP_SAMPLES)} samples or ${WARMUP_SECONDS} s, ` +
    `then ${fmtInt(MEASURE_SAMPLES)} samples or ${MEASURE_SECONDS} s measured; every request is sent once per run (each run starts a fresh receiver)`,
);

// -------------------------------------------------------------------------------------------
// Decode-only figure: the same bodies, in this process, one core
// -------------------------------------------------------------------------------------------

const RECORD_OPTIONS: RecordOptions = {
  // The service's defaults (service/config.ts).
  clusterLabel: 'cluster_id',
  maxSampleFutureMs: 10 * 60_000,
  maxRecordBytes: 900 * 1024,
  maxLabelsPerSeries: 40,
  maxLabelNameBytes: 1024,
  maxLabelValueBytes: 4096,
};
const MAX_DECODED = 64 * MB;

interface DecodeFigures {
  decode: number;
  decodeAndRecords: number;
  decodeRuns: number[];
  decodeAndRecordsRuns: number[];
}

function decodeFigures(): DecodeFigures {
  const set = bodies.slice(0, Math.min(bodies.length, 48));
  const perPass = set.reduce((n, b) => n + b.samples, 0);
  let sink = 0;
  const variants = {
    decode: () => {
      for (const b of set) sink += decodeRemoteWrite(b.body, b.contentType, MAX_DECODED).write.seriesCount;
    },
    decodeAndRecords: () => {
      const now = Date.now();
      for (const b of set) {
        const { write } = decodeRemoteWrite(b.body, b.contentType, MAX_DECODED);
        sink += prepareRecords(write, b.tenant, now, RECORD_OPTIONS).records.length;
      }
    },
  };
  const measure = (fn: () => void, ms: number) => {
    let samples = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      samples += perPass;
      elapsed = performance.now() - start;
    } while (elapsed < ms);
    return samples / (elapsed / 1000);
  };
  measure(variants.decode, 400);
  measure(variants.decodeAndRecords, 400);
  const decodeRuns: number[] = [];
  const decodeAndRecordsRuns: number[] = [];
  for (let i = 0; i < 9; i++) {
    decodeRuns.push(measure(variants.decode, 300));
    decodeAndRecordsRuns.push(measure(variants.decodeAndRecords, 300));
  }
  if (sink === -1) console.log(sink);
  return { decode: median(decodeRuns), decodeAndRecords: median(decodeAndRecordsRuns), decodeRuns, decodeAndRecordsRuns };
}

let decode: DecodeFigures | undefined;
if (!opt['skip-decode']) {
  decode = decodeFigures();
  console.log(
    `  decode only (decodeRemoteWrite: snappy + protobuf, in-process, one core): ${fmtInt(decode.decode)} samples/s per core; ` +
      `decode + prepareRecords (validation, grouping, record encoding): ${fmtInt(decode.decodeAndRecords)} samples/s per core (median of 9 rounds)`,
  );
}

// -------------------------------------------------------------------------------------------
// Targets, run round by round
// -------------------------------------------------------------------------------------------

interface Target {
  key: string;
  label: string;
  ours?: OursKind;
  start(runIndex: number): Promise<StartedOurs | RunningTarget>;
}

const kafkaTopics: string[] = [];
const oursOptions: OursOptions = { root: RECEIVER_ROOT, broker: BROKER, tenantHeader: TENANT_HEADER, env: EXTRA_ENV, nodeArgs: NODE_ARGS, cpuProf: !!opt['cpu-prof'] };
const variant = [...Object.entries(EXTRA_ENV).map(([k, v]) => `${k}=${v}`), ...NODE_ARGS, ...(opt['receiver-root'] ? [`from ${opt['receiver-root']}`] : [])].join(' ');
const ours = (kind: OursKind): Target => ({
  key: `ours_${kind}`,
  label: OURS_LABEL[kind] + (variant ? ` (${variant})` : ''),
  ours: kind,
  start: (i) => startOurs(kind, i, oursOptions, kafkaTopics),
});
const PEERS: Target[] = [
  { key: 'victoria_metrics', label: 'VictoriaMetrics (decode + storage)', start: () => startVictoriaMetrics() },
  { key: 'prometheus', label: 'Prometheus receiver (decode + TSDB)', start: () => startPrometheus() },
];
const targets: Target[] = opt.peers
  ? [...(ONLY === 'peers' ? [] : [ours('kafka'), ours('embedded_all')]), ...(ONLY === 'ours' ? [] : PEERS)]
  : opt.embedded
    ? [ours('embedded_all'), ours('embedded_receiver')]
    : ONLY === 'peers'
      ? PEERS
      : [ours('kafka')];

const runs = new Map<string, RunResult[]>(targets.map((t) => [t.key, []]));
const versions = new Map<string, string>();
let broker: Broker | undefined;

try {
  if (targets.some((t) => t.ours)) {
    console.log(`  our receiver: ${SERVICE_COMMAND.join(' ')} in ${RECEIVER_ROOT === PROJECT_ROOT ? 'this checkout' : RECEIVER_ROOT} (built first when its sources are newer)`);
    await buildOurs(RECEIVER_ROOT);
  }
  if (targets.some((t) => t.ours === 'kafka')) {
    broker = await ensureBroker(BROKER, PROJECT_ROOT);
    await warmBroker(broker, Number(BROKER_WARMUP ?? (broker.startedHere ? 180 : 0)));
  }
  for (let round = 0; round < RUNS; round++) {
    console.log(`\nround ${round + 1}/${RUNS} (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
    // Rotated, so no target always runs first (on a warmer or a quieter machine).
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      const target = await t.start(round);
      versions.set(t.key, target.version);
      const r = await measureRun(target, plan(), t.ours === 'kafka' ? broker?.pid : undefined);
      runs.get(t.key)!.push(r);
      printRun(t.label, r);
      if (r.profile) console.log(formatProfile(r.profile));
    }
  }
} finally {
  await stopAll();
  if (!broker?.startedHere) await deleteTopics(BROKER, kafkaTopics);
  await broker?.stop();
}

/**
 * Sends traffic through fresh Kafka-mode receivers for `seconds`, in passes of at most 10 s, and
 * prints the broker's CPU per million samples of each pass, so a reader sees it settle.
 */
async function warmBroker(b: Broker, seconds: number): Promise<void> {
  if (seconds <= 0 || b.pid === undefined) return;
  const until = performance.now() + seconds * 1000;
  const perPass: string[] = [];
  for (let pass = 0; performance.now() < until; pass++) {
    const target = await startOurs('kafka', 1000 + pass, oursOptions, kafkaTopics);
    const left = Math.max(1, (until - performance.now()) / 1000);
    const r = await measureRun(target, { ...plan(), warmupSamples: 1, warmupSeconds: 1, measureSeconds: Math.min(10, left) }, b.pid);
    perPass.push((r.brokerCpuSecondsPerMillion ?? NaN).toFixed(2));
  }
  console.log(`  broker warm-up: ${seconds} s of our Kafka-mode traffic, not measured; broker CPU-s per million samples, pass by pass: ${perPass.join(', ')}`);
}

function plan(): LoadPlan {
  return { bodies, tenantHeader: TENANT_HEADER, concurrency: CONCURRENCY, warmupSamples: WARMUP_SAMPLES, warmupSeconds: WARMUP_SECONDS, measureSamples: MEASURE_SAMPLES, measureSeconds: MEASURE_SECONDS };
}

const figures: TargetFigures[] = targets.map((t) => ({ key: t.key, label: t.label, version: versions.get(t.key) ?? '', runs: runs.get(t.key)! }));
printReport(figures, {
  decode: decode ? { decodePerCore: decode.decode, decodeAndRecordsPerCore: decode.decodeAndRecords } : undefined,
  mode: opt.peers ? 'peers' : opt.embedded ? 'embedded' : 'kafka',
  cores: CORES,
  env: EXTRA_ENV,
  nodeArgs: NODE_ARGS,
  receiverRoot: opt['receiver-root'] ?? null,
  load: {
    concurrency: CONCURRENCY,
    tenants: TENANTS,
    clusters_per_tenant: CLUSTERS,
    series: SERIES,
    samples_per_request: PER_REQUEST,
    distinct_requests: bodies.length,
    avg_body_bytes: Math.round(bodyBytes / bodies.length),
    avg_protobuf_bytes: Math.round(rawBytes / bodies.length),
    warmup_samples: WARMUP_SAMPLES,
    measured_samples: MEASURE_SAMPLES,
    max_seconds: MEASURE_SECONDS,
  },
});
