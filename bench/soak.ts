// Soak test: the service as `npm start` runs it (the compiled build, embedded mode: embedded log and
// embedded ClickHouse engine in one process), or with Kafka, under a steady kubecost-shaped load for
// a long time. Prints one line a minute (memory, latency, what the processor holds) and a summary
// that says whether memory stays flat after the warm-up (the slope of a least-squares line).
//
//   npm run soak -- --minutes 30                 embedded mode (the default of `npm start`)
//   npm run soak -- --minutes 30 --kafka 127.0.0.1:9092   ROLE=all with KAFKA_BROKERS (own topic)
//
// Options (defaults in brackets):
//   --minutes N [30]          how long the load runs
//   --clusters N [6]          clusters, spread over --tenants N [3] tenants
//   --series N [1500]         series per cluster (one request per cluster and scrape)
//   --speed X [60]            event time runs X times faster than the wall clock: a scrape of every
//                             cluster every 60/X s, its samples one minute after the previous ones.
//                             At 60 an hour of traffic passes every minute, so hours close, settle
//                             (LATE_WINDOW, 3 h by default, is 3 min), are evicted and committed, and
//                             log segments are deleted, many times over; the samples start far enough
//                             in the past never to be in the future. --speed 1 is real time.
//   --warmup-minutes N        left out of the slope [a fifth of the run, 1 to 5 min]
//   --env KEY=VALUE           extra environment for the service (repeatable)
//   --keep                    keep the data directory
//
// Memory: RSS of the service process (from /proc, every thread including the embedded engine's) and
// the V8 heap in use (nodejs_heap_size_used_bytes from its /metrics). Latency: every request's,
// from this process. A refused request (non-2xx) is retried with the same body, as Prometheus does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVICE_ARGS } from '../service/node-flags.ts';
import { CONTENT_TYPE_V1, kubecostRequests, type KubecostRequest } from './kubecost-traffic.ts';
import { quantile } from './load-client.ts';
import { freePort, startProcess, stopAll, waitHttpOk, type ManagedProcess } from './managed-process.ts';
import { processMemory } from './proc-stats.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 2 ** 20;
const SCRAPE_MS = 60_000;

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    clusters: { type: 'string', default: '6' },
    tenants: { type: 'string', default: '3' },
    series: { type: 'string', default: '1500' },
    speed: { type: 'string', default: '60' },
    'warmup-minutes': { type: 'string' },
    kafka: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
  },
});

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

const minutes = positive('minutes', opt.minutes);
const clusters = Math.round(positive('clusters', opt.clusters));
const tenants = Math.min(clusters, Math.round(positive('tenants', opt.tenants)));
const series = Math.round(positive('series', opt.series));
const speed = positive('speed', opt.speed);
const warmupMinutes = opt['warmup-minutes'] !== undefined ? Number(opt['warmup-minutes']) : Math.min(5, Math.max(1, minutes / 5));
const roundMs = SCRAPE_MS / speed;
const rounds = Math.ceil((minutes * 60_000) / roundMs);

interface Sample {
  /** Minutes since the load started. */
  at: number;
  rssMb: number;
  heapMb: number;
}

interface MinuteStats {
  latencies: number[];
  requests: number;
  refused: number;
  samples: number;
  late: number;
}

const newMinute = (): MinuteStats => ({ latencies: [], requests: 0, refused: 0, samples: 0, late: 0 });

async function metricsOf(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

async function startService(dataDir: string): Promise<{ proc: ManagedProcess; url: string }> {
  // What `npm start` runs: the compiled build (built first when stale), then node on it.
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    SQL_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  if (opt.kafka) {
    const topic = `soak-${process.pid}-${Date.now()}`;
    Object.assign(env, { KAFKA_BROKERS: opt.kafka, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: `${topic}-group` });
  }
  for (const kv of opt.env) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--env expects KEY=VALUE, got ${kv}`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const proc = startProcess('service', process.execPath, SERVICE_ARGS, { cwd: PROJECT_ROOT, env });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(`${url}/ready`, proc, 120_000);
  return { proc, url };
}

async function send(url: string, request: KubecostRequest, minute: () => MinuteStats): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    let status = 0;
    try {
      const res = await fetch(`${url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': CONTENT_TYPE_V1, 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0', 'cloud-account-id': request.tenant },
        body: new Uint8Array(request.body),
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0;
    }
    const stats = minute();
    stats.requests++;
    stats.latencies.push(performance.now() - started);
    if (status >= 200 && status < 300) {
      stats.samples += request.sampleCount;
      return;
    }
    stats.refused++;
    if (status >= 400 && status < 500 && status !== 429) throw new Error(`the service refused a request for good: ${status}`);
    if (attempt > 100) throw new Error(`a request was refused ${attempt} times in a row (last status ${status})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'k8s-expenses-soak-'));
  const tenantNames = Array.from({ length: clusters }, (_, i) => `tenant-${(i % tenants) + 1}`);
  // Far enough in the past that the last scrape is not in the future, whatever the speed.
  const startMs = Math.floor((Date.now() - rounds * SCRAPE_MS - 2 * 3_600_000) / SCRAPE_MS) * SCRAPE_MS;
  const traffic = kubecostRequests({ seed: 11, tenants: clusters, tenantNames, seriesPerTenant: series, samplesPerRequest: series, startMs, scrapes: rounds });

  console.log(
    `soak: ${minutes} min, ${clusters} clusters of ${series} series (${tenants} tenants), a scrape of each every ${(roundMs / 1000).toFixed(2)} s ` +
      `(${Math.round((clusters * series * 1000) / roundMs)} samples/s, event time x${speed}), ${opt.kafka ? `Kafka ${opt.kafka}` : 'embedded mode'}, data in ${dataDir}`,
  );
  const { proc, url } = await startService(dataDir);
  const memory: Sample[] = [];
  let minute = newMinute();
  const began = performance.now();
  let stop = false;

  const sampleMemory = async (): Promise<Sample | undefined> => {
    const mem = processMemory(proc.pid);
    const metrics = await metricsOf(url).catch(() => undefined);
    if (!mem || !metrics) return undefined;
    const s = { at: (performance.now() - began) / 60_000, rssMb: mem.rssBytes / MB, heapMb: (metrics.get('nodejs_heap_size_used_bytes') ?? NaN) / MB };
    memory.push(s);
    return s;
  };
  const sampler = setInterval(() => void sampleMemory(), 5_000);

  const reporter = (async () => {
    for (let m = 1; !stop; m++) {
      const due = began + m * 60_000;
      while (!stop && performance.now() < due) await new Promise((r) => setTimeout(r, Math.min(1_000, due - performance.now())));
      const stats = minute;
      minute = newMinute();
      const s = await sampleMemory();
      const metrics = await metricsOf(url).catch(() => new Map<string, number>());
      const lat = Float64Array.from(stats.latencies).sort();
      console.log(
        `minute ${String(m).padStart(3)}: rss ${s?.rssMb.toFixed(0) ?? '?'} MB, heap ${s?.heapMb.toFixed(0) ?? '?'} MB, ` +
          `${stats.requests} requests (${stats.refused} refused, ${stats.late} rounds late), ${stats.samples} samples, latency p50 ${quantile(lat, 0.5).toFixed(0)} ms p99 ${quantile(lat, 0.99).toFixed(0)} ms; ` +
          `processor: ${((metrics.get('k8s_expenses_processor_state_bytes') ?? 0) / MB).toFixed(1)} MB state, ${metrics.get('k8s_expenses_processor_open_hours') ?? 0} open hours, lag ${metrics.get('k8s_expenses_processor_consumer_lag_records') ?? 0} records`,
      );
    }
  })();

  let failure: unknown;
  try {
    let round = 0;
    let batch: KubecostRequest[] = [];
    for (const request of traffic) {
      batch.push(request);
      if (batch.length < clusters) continue;
      // One request per cluster at a time: each cluster's scrapes arrive in order.
      await Promise.all(batch.map((r) => send(url, r, () => minute)));
      batch = [];
      round++;
      const due = began + round * roundMs;
      const now = performance.now();
      if (now > due + roundMs) minute.late++;
      else if (now < due) await new Promise((r) => setTimeout(r, due - now));
      if (!proc.running()) throw new Error(`the service exited: ${JSON.stringify(await proc.exited)}\n${proc.output()}`);
    }
  } catch (err) {
    failure = err;
  }
  stop = true;
  clearInterval(sampler);
  await reporter;

  const warm = memory.filter((s) => s.at >= warmupMinutes);
  const rssSlope = slope(warm.map((s) => ({ x: s.at / 60, y: s.rssMb })));
  const heapSlope = slope(warm.map((s) => ({ x: s.at / 60, y: s.heapMb })));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rssMean = mean(warm.map((s) => s.rssMb));
  const heapMean = mean(warm.map((s) => s.heapMb));
  const trend = (perHour: number, level: number) => (perHour > 0.05 * level ? 'grows' : perHour < -0.05 * level ? 'shrinks' : 'flat');
  console.log(
    `summary: ${memory.length} memory samples; after a warm-up of ${warmupMinutes} min: rss mean ${rssMean.toFixed(0)} MB, slope ${rssSlope >= 0 ? '+' : ''}${rssSlope.toFixed(1)} MB/h; ` +
      `heap mean ${heapMean.toFixed(0)} MB, slope ${heapSlope >= 0 ? '+' : ''}${heapSlope.toFixed(1)} MB/h; peak rss ${Math.max(...memory.map((s) => s.rssMb)).toFixed(0)} MB`,
  );
  if (warm.length < 12) console.log('summary: fewer than a minute of samples after the warm-up: run longer for a meaningful slope');
  else console.log(`summary: after the warm-up rss is ${trend(rssSlope, rssMean)} and heap is ${trend(heapSlope, heapMean)} (flat: the slope is within 5 % of the mean per hour)`);

  await proc.stop(30_000);
  if (!opt.keep) rmSync(dataDir, { recursive: true, force: true });
  if (failure) throw failure;
}

process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
