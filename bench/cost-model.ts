// Cost-model benchmark: samples/s through the model on one core for a realistic set of clusters,
// and bytes of state per active series after three hours of one-minute scrapes. Ends with one
// JSON line. Targets: >= 1,000,000 samples/s; <= 300 bytes per active series.
//
//   npm run bench:cost-model            (BENCH_REPEATS=5 BENCH_PODS=300 to change the shape)
import v8 from 'node:v8';
import vm from 'node:vm';
import { createCostModel, newSampleCounts, type CostModel } from '../processor/cost-model/index.ts';
import { buildClusters, recordsAt, rng, type BenchRecord, type TrafficShape } from './cost-model-traffic.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const shape: TrafficShape = {
  tenants: 3,
  clustersPerTenant: 2,
  podsPerCluster: Number(process.env.BENCH_PODS ?? 300),
  nodesPerCluster: 20,
  hours: 3,
  scrapeIntervalMs: 60_000,
  startMs: Date.UTC(2024, 2, 1, 0),
  seed: 42,
};
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const scrapes = (shape.hours * 3_600_000) / shape.scrapeIntervalMs;

function generate(): BenchRecord[][] {
  const clusters = buildClusters(shape);
  const random = rng(7);
  return Array.from({ length: scrapes }, (_, i) => recordsAt(clusters, shape, i, random));
}

/** Feeds every record as the processor would: one addSeries per series, one sample each. */
function run(model: CostModel, traffic: BenchRecord[][]): { samples: number; seconds: number } {
  const counts = newSampleCounts();
  let samples = 0;
  const start = process.hrtime.bigint();
  for (const records of traffic) {
    for (const r of records) {
      const n = r.keys.length;
      for (let i = 0; i < n; i++) {
        const labels = r.labels[i];
        model.addSeries(r.tenant, r.cluster, r.keys[i], () => labels, r.timestamps, r.values, null, i, i + 1, counts);
      }
      samples += n;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (counts.invalid > 0 || counts.duplicate > 0) throw new Error(`unexpected counts ${JSON.stringify(counts)}`);
  return { samples, seconds };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const traffic = generate();
const samplesPerRun = traffic.reduce((n, records) => n + records.reduce((m, r) => m + r.keys.length, 0), 0);
console.log(`traffic: ${shape.tenants} tenants x ${shape.clustersPerTenant} clusters x ${shape.podsPerCluster} pods, ${scrapes} scrapes, ${samplesPerRun} samples per run`);

run(createCostModel(), traffic.slice(0, 30)); // warm-up

/** Full collections, with pauses so that array buffers are swept too. */
async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage();
}

// Memory first: the state of one model after the whole traffic (the traffic stays alive throughout,
// so the difference is the model's).
const before = await settle();
const model = createCostModel();
run(model, traffic);
const after = await settle();
const heapDelta = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
const series = model.seriesCount();
const stateBytes = model.stateBytes();

const rates: number[] = [];
for (let k = 0; k < repeats; k++) {
  const { samples, seconds } = run(createCostModel(), traffic);
  rates.push(samples / seconds);
  console.log(`run ${k + 1}: ${(samples / seconds / 1e6).toFixed(2)} M samples/s (${seconds.toFixed(2)} s)`);
  gc();
}

const hours = model.hours();
const rowsStart = process.hrtime.bigint();
let rowCount = 0;
for (const h of hours) rowCount += model.rows(h.tenant, h.cluster, h.hourStartMs).length;
const rowsSeconds = Number(process.hrtime.bigint() - rowsStart) / 1e9;

const result = {
  bench: 'cost-model',
  samples_per_run: samplesPerRun,
  samples_per_sec_median: Math.round(median(rates)),
  samples_per_sec_runs: rates.map(Math.round),
  active_series: series,
  state_bytes: stateBytes,
  bytes_per_active_series: Math.round(stateBytes / series),
  heap_delta_bytes_per_active_series: Math.round(heapDelta / series),
  rows_ms_per_cluster_hour: Math.round((rowsSeconds * 1000) / hours.length),
  rows: rowCount,
  target_samples_per_sec: 1_000_000,
  target_bytes_per_series: 300,
};
console.log(`state: ${series} active series, ${result.bytes_per_active_series} B/series (stateBytes), ${result.heap_delta_bytes_per_active_series} B/series (heap + array buffers delta)`);
console.log(`rows: ${rowCount} rows for ${hours.length} cluster-hours, ${result.rows_ms_per_cluster_hour} ms per cluster-hour`);
console.log(JSON.stringify(result));
