// End-to-end receiver benchmark: kubecost-shaped Prometheus remote-write traffic over loopback to
// the receiver running as its own process, backed by the real broker (or the embedded log).
//
//   npm run bench:receiver                      receiver (ROLE=receiver) -> Kafka on 127.0.0.1:9092
//   npm run bench:receiver -- --embedded        the embedded log instead of Kafka (two figures:
//                                               ROLE=all, and the receiver side alone)
//   npm run bench:receiver -- --peers           also VictoriaMetrics and Prometheus, same load
//
// Other options (defaults in brackets):
//   --concurrency N [8]      connections, one request in flight on each (like Prometheus shards)
//   --tenants N [4]          tenants (clusters), each with its own series
//   --series N [24000]       series in total; every request carries --samples-per-request [2000]
//   --samples N [2000000]    measured samples (or --seconds [15], whichever comes first)
//   --warmup-samples N [400000] / --warmup-seconds N [5]   warm-up before measuring
//   --runs N [1]             repeat each target N times (fresh process each); figures are medians
//   --env KEY=VALUE          extra environment for our receiver (repeatable), e.g. KAFKA_COMPRESSION=none
//   --node-arg=ARG           extra node option for our receiver (repeatable), e.g. --node-arg=--max-semi-space-size=64
//   --cpu-prof               run our receiver under `node --cpu-prof` and summarise the measured window
//   --skip-decode            skip the in-process decode figure
//   --only ours|peers        run only our receiver(s) or only the peers
//   --receiver-root DIR      run our receiver from another checkout of the project (A/B comparisons)
//
// Figures: samples/s (2xx answers only), p50/p99 latency per request, receiver CPU-seconds per
// million samples (utime+stime of the receiver process from /proc/<pid>/stat, every thread
// included, over the measured window plus whatever it kept doing after the last answer until it
// went idle, such as VictoriaMetrics' background flushes; the window alone is shown too) and peak
// RSS (VmHWM). The load generator is this process and shares the machine's cores with the
// receiver (and the broker): its own CPU is reported, and so is the CPU other processes used
// meanwhile. The request bodies are generated before anything is measured, with recent
// timestamps and one stream per series set so each series arrives in time order (Prometheus'
// TSDB refuses out-of-order samples). The last line is one JSON object with every figure.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { prepareRecords, type RecordOptions } from '../receiver/cluster-records.ts';
import { decodeRemoteWrite } from '../receiver/decode/index.ts';
import { formatProfile, summariseProfile, type ProfileSummary } from './cpu-profile.ts';
import { kubecostRequests } from './kubecost-traffic.ts';
import { LoadClient, quantile, type LoadBody } from './load-client.ts';
import { freePort, portOpen, startProcess, stopAll, waitHttpOk } from './managed-process.ts';
import { startPrometheus, startVictoriaMetrics, type RunningTarget } from './peers.ts';
import { machineCpu, pidListeningOn, processCpuSeconds, processMemory, threadCpuDelta, threadCpuSeconds } from './proc-stats.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

const { values: opt } = parseArgs({
  options: {
    embedded: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
    tenants: { type: 'string', default: '4' },
    series: { type: 'string', default: '24000' },
    'samples-per-request': { type: 'string', default: '2000' },
    samples: { type: 'string', default: '2000000' },
    seconds: { type: 'string', default: '15' },
    'warmup-samples': { type: 'string', default: '400000' },
    'warmup-seconds': { type: 'string', default: '5' },
    runs: { type: 'string', default: '1' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'boolean', default: false },
    'skip-decode': { type: 'boolean', default: false },
    only: { type: 'string' },
    broker: { type: 'string', default: '127.0.0.1:9092' },
    'receiver-root': { type: 'string' },
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
const RUN_OURS = ONLY !== 'peers';
const RUN_PEERS = opt.peers || ONLY === 'peers';
const BROKER = opt.broker!;
const TENANT_HEADER = 'cloud-account-id';
const TAIL_MAX_SECONDS = 15;
const CORES = os.availableParallelism();

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 0) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
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
const neededRequests = Math.ceil(((WARMUP_SAMPLES + MEASURE_SAMPLES) / PER_REQUEST) * 1.02) + CONCURRENCY;
const SCRAPES = Math.ceil(neededRequests / requestsPerScrape);
// Recent timestamps, ending a minute ago: Prometheus' TSDB and VictoriaMetrics' retention both
// accept them (2024 samples would be refused as out of bounds, or dropped as out of retention),
// and our receiver's future bound is never near.
const START_MS = Math.floor((Date.now() - (SCRAPES + 1) * SCRAPE_INTERVAL_MS) / 1000) * 1000;

console.log(`receiver benchmark: node ${process.version}, ${CORES} cores, ${os.cpus()[0]?.model ?? 'cpu'}`);
const genStart = performance.now();
const bodies: LoadBody[] = [];
let rawBytes = 0;
let scrape = -1;
let inScrape = 0;
for (const r of kubecostRequests({
  seed: 20240601,
  tenants: TENANTS,
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
  `  traffic: ${TENANTS} tenants, ${fmtInt(SERIES)} series of 9-10 labels, ${PER_REQUEST} samples per request, ${SCRAPES} scrapes 60 s apart = ` +
    `${bodies.length} distinct requests (${fmtInt(totalSamples)} samples), ${fmtInt(rawBytes / bodies.length)} B protobuf -> ${fmtInt(bodyBytes / bodies.length)} B snappy each; ` +
    `generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s (not measured)`,
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
// Broker
// -------------------------------------------------------------------------------------------

interface Broker {
  pid?: number;
  startedHere: boolean;
  stop(): Promise<void>;
}

async function ensureBroker(): Promise<Broker> {
  const [host, portText] = BROKER.split(':');
  const port = Number(portText);
  if (await portOpen(port)) {
    const pid = host === '127.0.0.1' || host === 'localhost' ? pidListeningOn(port) : undefined;
    console.log(`  broker: using the one already listening on ${BROKER}${pid ? ` (pid ${pid})` : ''}; other users of it add to its CPU figure`);
    return { pid, startedHere: false, stop: async () => undefined };
  }
  if (host !== '127.0.0.1') throw new Error(`nothing listens on ${BROKER} and only a local broker can be started`);
  const dir = `data/bench-kafka-${port}`;
  console.log(`  broker: nothing on ${BROKER}; starting one (scripts/kafka-broker.sh start --fresh --port ${port} --dir ${dir}) ...`);
  await run('bash', ['scripts/kafka-broker.sh', 'start', '--fresh', '--port', String(port), '--dir', dir], { cwd: PROJECT_ROOT });
  const pidFile = path.join(PROJECT_ROOT, dir, 'broker.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : pidListeningOn(port);
  console.log(`  broker: started (pid ${pid}); it is stopped at the end`);
  return {
    pid,
    startedHere: true,
    async stop() {
      await run('bash', ['scripts/kafka-broker.sh', 'stop', '--port', String(port), '--dir', dir], { cwd: PROJECT_ROOT });
      rmSync(path.join(PROJECT_ROOT, dir), { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------------
// Our receiver as its own process
// -------------------------------------------------------------------------------------------

type OursKind = 'kafka' | 'embedded_all' | 'embedded_receiver';

interface StartedOurs extends RunningTarget {
  profileDir?: string;
  logErrors?: () => string[];
}

const OURS_LABEL: Record<OursKind, string> = {
  kafka: 'ours, ROLE=receiver -> Kafka',
  embedded_all: 'ours, embedded log, ROLE=all (+processor)',
  embedded_receiver: 'ours, embedded log, receiver side only',
};

const kafkaTopics: string[] = [];

async function startOurs(kind: OursKind, runIndex: number): Promise<StartedOurs> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-receiver-'));
  const profileDir = opt['cpu-prof'] ? mkdtempSync(path.join(os.tmpdir(), 'bench-receiver-prof-')) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    TENANT_HEADER,
  };
  let entry = 'service/main.ts';
  if (kind === 'kafka') {
    const topic = `bench-receiver-${Date.now()}-${runIndex}`;
    kafkaTopics.push(topic);
    Object.assign(env, { ROLE: 'receiver', KAFKA_BROKERS: BROKER, KAFKA_TOPIC: topic });
  } else if (kind === 'embedded_all') {
    Object.assign(env, { ROLE: 'all', SQL_PORT: String(await freePort()) });
  } else {
    entry = 'bench/embedded-receiver.ts';
  }
  Object.assign(env, EXTRA_ENV);
  const nodeArgs = [...NODE_ARGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const proc = startProcess(OURS_LABEL[kind], process.execPath, [...nodeArgs, '--import', 'tsx', entry], { cwd: RECEIVER_ROOT, env });
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/ready`, proc, 120_000);
  } catch (err) {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    key: `ours_${kind}`,
    label: OURS_LABEL[kind],
    pid: proc.pid,
    writeUrl: `http://127.0.0.1:${port}/api/v1/write`,
    version: 'working tree',
    profileDir,
    // Error lines it logged (pino levels 50 and 60), from the tail of its output.
    logErrors: () => proc.output().split('\n').filter((l) => /"level":(5|6)\d/.test(l)),
    async stop() {
      // ROLE=all drains the processor (flushes to the embedded ClickHouse) before it exits.
      await proc.stop(120_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface OursMetrics {
  /** Heap and external memory (prom-client's default metrics), MB. */
  memory: Record<string, number>;
  /** Samples the receiver published, and the processor consumed (ROLE=all), so far. */
  published: number;
  consumed: number;
}

/** The sum of every series of `name` in a text exposition (NaN when absent). */
function metricSum(text: string, name: string): number {
  let sum = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[1]);
  return sum;
}

/** Our receiver's own figures from its /metrics. */
async function oursMetrics(writeUrl: string): Promise<OursMetrics | undefined> {
  try {
    const text = await (await fetch(new URL('/metrics', writeUrl), { signal: AbortSignal.timeout(5_000) })).text();
    return {
      memory: {
        rss: metricSum(text, 'process_resident_memory_bytes') / MB,
        heap_total: metricSum(text, 'nodejs_heap_size_total_bytes') / MB,
        heap_used: metricSum(text, 'nodejs_heap_size_used_bytes') / MB,
        external: metricSum(text, 'nodejs_external_memory_bytes') / MB,
      },
      published: metricSum(text, 'k8s_expenses_receiver_samples_published_total'),
      consumed: metricSum(text, 'k8s_expenses_processor_samples_total'),
    };
  } catch {
    return undefined;
  }
}

// -------------------------------------------------------------------------------------------
// One measured run against one target
// -------------------------------------------------------------------------------------------

interface RunResult {
  samplesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Receiver CPU over the measured window plus the tail after it, per million 2xx samples. */
  cpuSecondsPerMillion: number;
  /** The same over the measured window only. */
  cpuSecondsPerMillionWindow: number;
  /** How long the target kept working after the last answer. */
  tailSeconds: number;
  /** Receiver CPU-seconds per second of the window: cores in use. */
  cores: number;
  peakRssMB: number;
  rssEndMB: number;
  loadgenCpuSecondsPerMillion: number;
  brokerCpuSecondsPerMillion: number | undefined;
  /** Cores busy with processes other than the receiver, this load generator and the broker. */
  otherCores: number;
  okSamples: number;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  failures: string[];
  wrapped: boolean;
  threads: Record<string, number>;
  /** Our receiver's own view of its memory at the end of the window (prom-client default metrics), MB. */
  heap?: Record<string, number>;
  /** ROLE=all: samples published by the receiver and consumed by the processor by the end of the window (warm-up included). */
  processor?: { published: number; consumed: number };
  /** Error lines the receiver logged over its life. */
  errors?: string[];
  /** The measured window in CLOCK_MONOTONIC microseconds (the clock of V8's CPU profiles). */
  windowUs: [number, number];
  profile?: ProfileSummary;
}

async function measureRun(target: StartedOurs | RunningTarget, brokerPid: number | undefined): Promise<RunResult> {
  const client = new LoadClient({ writeUrl: target.writeUrl, tenantHeader: TENANT_HEADER }, bodies, CONCURRENCY);
  let result: RunResult;
  try {
    const warm = await client.run({ concurrency: CONCURRENCY, startIndex: 0, maxSamples: WARMUP_SAMPLES, maxSeconds: WARMUP_SECONDS });
    if (warm.okRequests === 0) throw new Error(`${target.label}: no 2xx answer during the warm-up: ${JSON.stringify(warm.statuses)} ${warm.failures.join(' | ')}`);

    const cpu0 = processCpuSeconds(target.pid)!;
    const threads0 = threadCpuSeconds(target.pid);
    const broker0 = brokerPid ? processCpuSeconds(brokerPid) : undefined;
    const self0 = process.cpuUsage();
    const machine0 = machineCpu();
    const t0 = process.hrtime.bigint();

    const m = await client.run({ concurrency: CONCURRENCY, startIndex: warm.nextIndex, maxSamples: MEASURE_SAMPLES, maxSeconds: MEASURE_SECONDS });

    const t1 = process.hrtime.bigint();
    const cpu1 = processCpuSeconds(target.pid)!;
    const threads1 = threadCpuSeconds(target.pid);
    const broker1 = brokerPid ? processCpuSeconds(brokerPid) : undefined;
    const self1 = process.cpuUsage(self0);
    const machine1 = machineCpu();
    const metrics = target.key.startsWith('ours_') ? await oursMetrics(target.writeUrl) : undefined;

    // Work deferred past the last answer counts too (VictoriaMetrics flushes and merges in the
    // background, our processor catches up, GC finishes): the target's CPU is followed until it
    // uses under 5% of a core over half a second, for at most TAIL_MAX_SECONDS.
    const tailStart = performance.now();
    let last = processCpuSeconds(target.pid) ?? cpu1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = processCpuSeconds(target.pid) ?? last;
      const used = now - last;
      last = now;
      if (used < 0.025 || performance.now() - tailStart > TAIL_MAX_SECONDS * 1000) break;
    }
    const tailSeconds = (performance.now() - tailStart) / 1000;
    const tailCpu = last - cpu1;
    const mem = processMemory(target.pid);

    const wall = Number(t1 - t0) / 1e9;
    const millions = m.okSamples / 1e6;
    const receiverCpu = cpu1 - cpu0;
    const selfCpu = (self1.user + self1.system) / 1e6;
    const brokerCpu = broker0 !== undefined && broker1 !== undefined ? broker1 - broker0 : undefined;
    const busy = machine1.busy - machine0.busy;
    result = {
      samplesPerSec: m.okSamples / m.seconds,
      p50Ms: quantile(m.latenciesMs, 0.5),
      p99Ms: quantile(m.latenciesMs, 0.99),
      cpuSecondsPerMillion: (receiverCpu + tailCpu) / millions,
      cpuSecondsPerMillionWindow: receiverCpu / millions,
      tailSeconds,
      cores: receiverCpu / wall,
      peakRssMB: (mem?.peakRssBytes ?? NaN) / MB,
      rssEndMB: (mem?.rssBytes ?? NaN) / MB,
      loadgenCpuSecondsPerMillion: selfCpu / millions,
      brokerCpuSecondsPerMillion: brokerCpu === undefined ? undefined : brokerCpu / millions,
      otherCores: Math.max(0, (busy - receiverCpu - selfCpu - (brokerCpu ?? 0)) / wall),
      okSamples: m.okSamples,
      seconds: m.seconds,
      requests: m.requests,
      statuses: m.statuses,
      failures: m.failures,
      wrapped: m.wrapped,
      threads: Object.fromEntries(
        Object.entries(threadCpuDelta(threads0, threads1))
          .filter(([, s]) => s > 0.005)
          .sort((a, b) => b[1] - a[1])
          .map(([k, s]) => [k, Math.round(s * 100) / 100]),
      ),
      windowUs: [Number(t0 / 1000n), Number(t1 / 1000n)],
      heap: metrics?.memory,
      processor: metrics && Number.isFinite(metrics.consumed) ? { published: metrics.published, consumed: metrics.consumed } : undefined,
    };
  } finally {
    client.close();
    await target.stop();
  }
  result.errors = (target as StartedOurs).logErrors?.();
  const profileDir = (target as StartedOurs).profileDir;
  if (profileDir) {
    // tsx's loader runs in a worker thread that writes its own profile; the main thread's is
    // CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile (thread id 0).
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    const file = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
    if (file) {
      const [from, to] = result.windowUs;
      result.profile = summariseProfile(path.join(profileDir, file), from, to);
      console.log(`    cpu profile kept in ${path.join(profileDir, file)}`);
    } else {
      console.log(`    no .cpuprofile was written in ${profileDir} (the process did not exit cleanly?)`);
    }
  }
  return result;
}

interface TargetFigures {
  key: string;
  label: string;
  version: string;
  runs: RunResult[];
  median: {
    samplesPerSec: number;
    p50Ms: number;
    p99Ms: number;
    cpuSecondsPerMillion: number;
    cpuSecondsPerMillionWindow: number;
    cores: number;
    peakRssMB: number;
    loadgenCpuSecondsPerMillion: number;
    brokerCpuSecondsPerMillion: number;
    otherCores: number;
  };
}

function summarise(key: string, label: string, version: string, runs: RunResult[]): TargetFigures {
  const med = (f: (r: RunResult) => number | undefined) => median(runs.map((r) => f(r) ?? NaN));
  return {
    key,
    label,
    version,
    runs,
    median: {
      samplesPerSec: med((r) => r.samplesPerSec),
      p50Ms: med((r) => r.p50Ms),
      p99Ms: med((r) => r.p99Ms),
      cpuSecondsPerMillion: med((r) => r.cpuSecondsPerMillion),
      cpuSecondsPerMillionWindow: med((r) => r.cpuSecondsPerMillionWindow),
      cores: med((r) => r.cores),
      peakRssMB: med((r) => r.peakRssMB),
      loadgenCpuSecondsPerMillion: med((r) => r.loadgenCpuSecondsPerMillion),
      brokerCpuSecondsPerMillion: med((r) => r.brokerCpuSecondsPerMillion),
      otherCores: med((r) => r.otherCores),
    },
  };
}

function printRun(label: string, r: RunResult): void {
  const bad = Object.entries(r.statuses).filter(([s]) => !s.startsWith('2'));
  console.log(
    `    ${label}: ${fmtInt(r.samplesPerSec)} samples/s over ${r.seconds.toFixed(1)} s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ` +
      `${r.cpuSecondsPerMillion.toFixed(2)} CPU-s/M (${r.cpuSecondsPerMillionWindow.toFixed(2)} in the window at ${r.cores.toFixed(2)} cores, the rest in ${r.tailSeconds.toFixed(1)} s after it), peak RSS ${r.peakRssMB.toFixed(0)} MB; ` +
      `load generator ${r.loadgenCpuSecondsPerMillion.toFixed(2)} CPU-s/M` +
      (r.brokerCpuSecondsPerMillion !== undefined ? `, broker ${r.brokerCpuSecondsPerMillion.toFixed(2)} CPU-s/M` : '') +
      `, other processes ${r.otherCores.toFixed(2)} cores` +
      (bad.length ? `; NON-2xx: ${JSON.stringify(Object.fromEntries(bad))} e.g. ${r.failures[0]}` : '') +
      (r.wrapped ? '; (bodies were re-sent: not enough distinct requests)' : ''),
  );
  console.log(`      receiver threads (CPU-s in window): ${Object.entries(r.threads).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.heap) console.log(`      receiver memory at the end (MB, from its /metrics): ${Object.entries(r.heap).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  if (r.processor) {
    const share = r.processor.consumed / r.processor.published;
    console.log(
      `      processor (same process): consumed ${fmtInt(r.processor.consumed)} of the ${fmtInt(r.processor.published)} samples published by the end of the window (${(share * 100).toFixed(0)}%)` +
        (share < 0.5 ? ' - it fell far behind or stopped, so this row does NOT show the cost of receiver + processor' : ''),
    );
  }
  if (r.errors?.length) {
    console.log(`      the receiver logged ${r.errors.length} error line(s) over its life (start-up included); last: ${r.errors[r.errors.length - 1].slice(0, 300)}`);
  }
  const stopped = (r.errors ?? []).find((l) => /consumer stopped/.test(l));
  if (stopped) console.log(`      WARNING: the processor's consumer stopped during the run: ${stopped.slice(0, 600)}`);
}

// -------------------------------------------------------------------------------------------
// Main
// -------------------------------------------------------------------------------------------

const results: TargetFigures[] = [];
let broker: Broker | undefined;

async function runTarget(key: string, label: string, start: (runIndex: number) => Promise<StartedOurs | RunningTarget>, brokerPid?: number): Promise<void> {
  console.log(`\n${label}:`);
  const runs: RunResult[] = [];
  let version = '';
  for (let i = 0; i < RUNS; i++) {
    const target = await start(i);
    version = target.version;
    const r = await measureRun(target, brokerPid);
    runs.push(r);
    printRun(`run ${i + 1}/${RUNS}`, r);
    if (r.profile) console.log(formatProfile(r.profile));
  }
  results.push(summarise(key, label, version, runs));
}

async function deleteTopics(): Promise<void> {
  if (kafkaTopics.length === 0 || broker?.startedHere) return;
  const admin = new Admin(createKafka({ brokers: [BROKER], clientId: 'bench-receiver', requestTimeoutMs: 10_000, retries: 1 }).options());
  try {
    await admin.deleteTopics({ topics: kafkaTopics });
  } catch (err) {
    // A receiver that never started never created its topic.
    if (!/does not host this topic-partition/.test((err as Error).message)) {
      console.log(`  (could not delete the benchmark topics ${kafkaTopics.join(', ')}: ${(err as Error).message})`);
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

try {
  if (RUN_OURS) {
    if (opt.embedded) {
      await runTarget('ours_embedded_all', OURS_LABEL.embedded_all, (i) => startOurs('embedded_all', i));
      await runTarget('ours_embedded_receiver', OURS_LABEL.embedded_receiver, (i) => startOurs('embedded_receiver', i));
    } else {
      broker = await ensureBroker();
      const env = [...Object.entries(EXTRA_ENV).map(([k, v]) => `${k}=${v}`), ...NODE_ARGS, ...(opt['receiver-root'] ? [`from ${opt['receiver-root']}`] : [])].join(' ');
      await runTarget('ours_kafka', OURS_LABEL.kafka + (env ? ` (${env})` : ''), (i) => startOurs('kafka', i), broker.pid);
    }
  }
  if (RUN_PEERS) {
    await runTarget('victoria_metrics', 'VictoriaMetrics (decode + storage)', () => startVictoriaMetrics());
    await runTarget('prometheus', 'Prometheus --web.enable-remote-write-receiver (decode + TSDB)', () => startPrometheus());
  }
} finally {
  await stopAll();
  await deleteTopics();
  await broker?.stop();
}

// -------------------------------------------------------------------------------------------
// Report
// -------------------------------------------------------------------------------------------

console.log('');
console.log(
  `summary (${RUNS > 1 ? `median of ${RUNS} runs` : 'one run'}; receiver CPU from /proc: CPU-s/M counts the measured window plus the work the receiver ` +
    `did after the last answer until idle, (window) the window alone; load generator and broker share the same ${CORES} cores):`,
);
const header = ['target', 'samples/s', 'p50 ms', 'p99 ms', 'CPU-s/M', '(window)', 'cores', 'peak RSS', 'loadgen CPU-s/M', 'broker CPU-s/M', 'others (cores)'];
const widths = [44, 11, 8, 8, 9, 10, 7, 10, 16, 15, 15];
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('');
console.log(row(header));
for (const t of results) {
  const m = t.median;
  console.log(
    row([
      t.label.slice(0, widths[0] - 1),
      fmtInt(m.samplesPerSec),
      m.p50Ms.toFixed(1),
      m.p99Ms.toFixed(1),
      m.cpuSecondsPerMillion.toFixed(2),
      m.cpuSecondsPerMillionWindow.toFixed(2),
      m.cores.toFixed(2),
      `${m.peakRssMB.toFixed(0)} MB`,
      m.loadgenCpuSecondsPerMillion.toFixed(2),
      Number.isFinite(m.brokerCpuSecondsPerMillion) ? m.brokerCpuSecondsPerMillion.toFixed(2) : '-',
      m.otherCores.toFixed(2),
    ]),
  );
}

const ours = results.filter((t) => t.key.startsWith('ours_'));
const peers = results.filter((t) => !t.key.startsWith('ours_'));
const ratios: Record<string, Record<string, { samples_per_s: number | null; cpu_per_sample: number | null; peak_rss: number | null }>> = {};
if (ours.length && peers.length) {
  console.log('');
  console.log('ours relative to each peer (samples/s: higher is better; CPU per sample and RSS: lower is better):');
  for (const o of ours) {
    ratios[o.key] = {};
    for (const p of peers) {
      const r = {
        samples_per_s: round(o.median.samplesPerSec / p.median.samplesPerSec, 2),
        cpu_per_sample: round(o.median.cpuSecondsPerMillion / p.median.cpuSecondsPerMillion, 2),
        peak_rss: round(o.median.peakRssMB / p.median.peakRssMB, 2),
      };
      ratios[o.key][p.key] = r;
      console.log(`  ${o.label} vs ${p.label}: samples/s x${r.samples_per_s}, CPU per sample x${r.cpu_per_sample}, peak RSS x${r.peak_rss}`);
    }
  }
}

const goals: Record<string, boolean | null> = {};
console.log('');
console.log('targets:');
if (decode) {
  goals.decode_1m_per_core = decode.decode >= 1_000_000;
  console.log(`  decode >= 1,000,000 samples/s per core: ${fmtInt(decode.decode)} ${goals.decode_1m_per_core ? 'MET' : 'NOT MET'}`);
}
for (const o of ours) {
  const consumerStopped = o.runs.some((r) => (r.errors ?? []).some((l) => /consumer stopped/.test(l)));
  if (consumerStopped) {
    goals[`${o.key}_200k_per_s`] = null;
    goals[`${o.key}_rss_under_300mb`] = null;
    console.log(`  ${o.label}: NOT MEASURABLE: the processor's consumer stopped during the run, so the figures above are the receiver's with an idle processor`);
    continue;
  }
  const e2e = o.median.samplesPerSec >= 200_000;
  const rss = o.median.peakRssMB < 300;
  goals[`${o.key}_200k_per_s`] = e2e;
  goals[`${o.key}_rss_under_300mb`] = rss;
  console.log(`  ${o.label}: end to end >= 200,000 samples/s: ${fmtInt(o.median.samplesPerSec)} ${e2e ? 'MET' : 'NOT MET'}; peak RSS < 300 MB: ${o.median.peakRssMB.toFixed(0)} MB ${rss ? 'MET' : 'NOT MET'}`);
}
const vm = peers.find((p) => p.key === 'victoria_metrics');
if (vm) {
  for (const o of ours) {
    console.log(
      `  beyond: VictoriaMetrics' rate at its CPU cost: ${o.label} ${fmtInt(o.median.samplesPerSec)} vs ${fmtInt(vm.median.samplesPerSec)} samples/s, ` +
        `${o.median.cpuSecondsPerMillion.toFixed(2)} vs ${vm.median.cpuSecondsPerMillion.toFixed(2)} CPU-s/M`,
    );
  }
}
if (opt.embedded && RUN_OURS) {
  console.log(
    '  note: ROLE=all runs the processor (cost model + embedded ClickHouse) in the receiver\'s process, so its CPU and RSS include the processor; ' +
      'the "receiver side only" row runs the same receiver and embedded log (bench/embedded-receiver.ts) without the processor.',
  );
}
const busyOthers = results.filter((t) => t.median.otherCores > 0.1);
if (busyOthers.length) {
  console.log(`  note: other processes used CPU during ${busyOthers.map((t) => `${t.label} (${t.median.otherCores.toFixed(2)} cores)`).join(', ')}: the machine was not quiet, figures are pessimistic`);
}

const jsonTarget = (t: TargetFigures) => ({
  label: t.label,
  version: t.version,
  runs: t.runs.length,
  samples_per_s: round(t.median.samplesPerSec),
  p50_ms: round(t.median.p50Ms, 1),
  p99_ms: round(t.median.p99Ms, 1),
  cpu_seconds_per_million_samples: round(t.median.cpuSecondsPerMillion, 3),
  cpu_seconds_per_million_samples_window_only: round(t.median.cpuSecondsPerMillionWindow, 3),
  cores: round(t.median.cores, 2),
  peak_rss_mb: round(t.median.peakRssMB, 1),
  loadgen_cpu_seconds_per_million_samples: round(t.median.loadgenCpuSecondsPerMillion, 3),
  broker_cpu_seconds_per_million_samples: round(t.median.brokerCpuSecondsPerMillion, 3),
  other_processes_cores: round(t.median.otherCores, 2),
  non_2xx: t.runs.reduce((n, r) => n + Object.entries(r.statuses).filter(([s]) => !s.startsWith('2')).reduce((a, [, c]) => a + c, 0), 0),
  samples_per_s_runs: t.runs.map((r) => round(r.samplesPerSec)),
  ...(t.runs.some((r) => r.processor)
    ? {
        processor_consumed_share: t.runs.map((r) => (r.processor ? round(r.processor.consumed / r.processor.published, 2) : null)),
        processor_consumer_stopped: t.runs.some((r) => (r.errors ?? []).some((l) => /consumer stopped/.test(l))),
      }
    : {}),
  ...(t.runs[0]?.profile ? { profile_areas_self_pct: Object.fromEntries(t.runs[0].profile.areasSelf.slice(0, 12).map((a) => [a.area, a.pct])) } : {}),
});

console.log(
  JSON.stringify({
    bench: 'receiver',
    mode: opt.embedded ? 'embedded' : 'kafka',
    node: process.version,
    cores: CORES,
    env: EXTRA_ENV,
    node_args: NODE_ARGS,
    receiver_root: opt['receiver-root'] ?? null,
    load: {
      concurrency: CONCURRENCY,
      tenants: TENANTS,
      series: SERIES,
      samples_per_request: PER_REQUEST,
      distinct_requests: bodies.length,
      avg_body_bytes: Math.round(bodyBytes / bodies.length),
      avg_protobuf_bytes: Math.round(rawBytes / bodies.length),
      warmup_samples: WARMUP_SAMPLES,
      measured_samples: MEASURE_SAMPLES,
      max_seconds: MEASURE_SECONDS,
    },
    decode: decode
      ? { decode_samples_per_s_per_core: round(decode.decode), decode_and_records_samples_per_s_per_core: round(decode.decodeAndRecords) }
      : null,
    targets: Object.fromEntries(results.map((t) => [t.key, jsonTarget(t)])),
    ratios,
    goals,
  }),
);
