// Codecs of produced batches (KAFKA_COMPRESSION) compared on the Kafka adapter (ingest/kafka/),
// same records, same semantics as the service (idempotent producer, acks from all in-sync
// replicas, one merged send at a time; consumer group with manual commits).
//
//   npm run bench:kafka-codecs                     3 runs against 127.0.0.1:9092 (BENCH_KAFKA_BROKERS)
//   npm run bench:kafka-codecs -- --runs 5
//   npm run bench:kafka-codecs -- --compressions gzip,lz4
//
// Records: kubecost-shaped remote-write requests (bench/kubecost-traffic.ts; BENCH_TENANTS
// clusters x BENCH_SERIES series x BENCH_SCRAPES scrapes, 2,000 samples per request) decoded and
// turned into records by the receiver's own code (decodeRemoteWrite, prepareRecords).
//
// Each phase runs in a fresh process (bench/kafka-codec-run.ts), so CPU, GC and peak RSS are one
// codec's alone:
// - produce, per codec: one publish() per request, BENCH_CONCURRENCY [16] in flight (as
//   concurrent HTTP requests do), after a 10% warm-up. Records/s and samples/s acknowledged,
//   CPU-seconds per million samples (every thread; main thread alone too), GC pauses per million
//   samples and as a share of the main thread's CPU, p50/p99 publish latency, peak RSS, the
//   broker's CPU, and the bytes the topic takes in the broker's log.
// - consume, per codec: that codec's whole topic, in a fresh group, every record decoded with
//   decodeRecord (samples/s decoded), from the first batch to the last: what the processor pays.
// Codecs rotate which goes first in each run, and ratios (codec / gzip) are taken within a run
// before the median, so a change of machine load between runs cancels out. The machine is
// shared: the CPU other processes used during each phase is reported too.
// The last line is one JSON object with every figure.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { compressionAvailable, type Compression } from '../ingest/kafka/compression.ts';
import type { PhaseResult } from './kafka-codec-run.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    compressions: { type: 'string', default: 'none,gzip,snappy,lz4' },
  },
});
const RUNS = Number(opt.runs);
const CODECS = (opt.compressions.split(',') as Compression[]).filter((c) => {
  if (compressionAvailable(c)) return true;
  console.log(`${c}: not available on Node ${process.version}; skipped`);
  return false;
});
/** What the ratios are taken against: the service's default before LZ4 was measured. */
const BASE_CODEC: Compression = 'gzip';
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());

async function phase(args: string[]): Promise<PhaseResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'kafka-codec-run.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: process.env,
    maxBuffer: 16 * 2 ** 20,
    timeout: 600_000,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as PhaseResult;
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The figures compared, derived from one phase's result. */
function figures(r: PhaseResult) {
  const million = r.samples / 1e6;
  return {
    records_per_s: r.records / r.wall_s,
    samples_per_s: r.samples / r.wall_s,
    cpu_s_per_m_samples: r.cpu_s / million,
    main_cpu_s_per_m_samples: r.main_thread_cpu_s / million,
    gc_ms_per_m_samples: r.gc_ms / million,
    gc_share_of_main_thread: r.gc_ms / 1000 / r.main_thread_cpu_s,
    p50_ms: r.p50_ms ?? NaN,
    p99_ms: r.p99_ms ?? NaN,
    peak_rss_mb: r.peak_rss_mb,
    rss_added_mb: r.peak_rss_mb - r.rss_before_mb,
    broker_cpu_s_per_m_samples: r.broker_cpu_s === null ? NaN : r.broker_cpu_s / million,
    others_cores: r.others_cores,
    log_bytes_per_sample: r.topic_bytes === undefined ? NaN : r.topic_bytes / r.topic_samples,
  };
}
type Figures = ReturnType<typeof figures>;
const FIGURES = [
  'records_per_s',
  'samples_per_s',
  'cpu_s_per_m_samples',
  'main_cpu_s_per_m_samples',
  'gc_ms_per_m_samples',
  'gc_share_of_main_thread',
  'p50_ms',
  'p99_ms',
  'peak_rss_mb',
  'rss_added_mb',
  'broker_cpu_s_per_m_samples',
  'others_cores',
  'log_bytes_per_sample',
] as const satisfies readonly (keyof Figures)[];

const key = (r: { phase: string; compression: string }) => `${r.phase}/${r.compression}`;

/** Bytes `topic` takes in the broker's log directories (every partition, every replica). */
async function topicBytes(topic: string): Promise<number | undefined> {
  const admin = new Admin({ clientId: 'bench-kafka-codecs', bootstrapBrokers: brokers });
  try {
    const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions: Array.from({ length: PARTITIONS }, (_, i) => i) }] });
    let bytes = 0;
    for (const broker of dirs) for (const dir of broker.results) for (const t of dir.topics) if (t.name === topic) for (const p of t.partitions) bytes += Number(p.partitionSize);
    return bytes;
  } catch {
    return undefined;
  } finally {
    await admin.close();
  }
}

async function deleteTopics(topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: 'bench-kafka-codecs', bootstrapBrokers: brokers });
  try {
    await admin.deleteTopics({ topics });
  } catch (err) {
    console.error(`could not delete the benchmark topics: ${(err as Error).message}`);
  } finally {
    await admin.close();
  }
}

async function main(): Promise<void> {
  const results: { run: number; result: PhaseResult }[] = [];
  for (let runIndex = 0; runIndex < RUNS; runIndex++) {
    const order = CODECS.map((_, i) => CODECS[(i + runIndex) % CODECS.length]);
    const stamp = Date.now();
    const topics: { codec: Compression; topic: string; records: number }[] = [];
    for (const codec of order) {
      const topic = `bench-kafka-codecs-${stamp}-${codec}`;
      const r = await phase(['produce', codec, topic]);
      r.topic_bytes = await topicBytes(topic);
      topics.push({ codec, topic, records: r.topic_records });
      results.push({ run: runIndex, result: r });
      console.log(`run ${runIndex + 1} produce ${codec}: ${Math.round(r.samples / r.wall_s).toLocaleString('en-US')} samples/s, ${r.cpu_s.toFixed(2)} CPU-s, GC ${r.gc_ms.toFixed(0)} ms, others ${r.others_cores} cores`);
    }
    for (const { codec, topic, records } of topics) {
      const r = await phase(['consume', codec, topic, String(records)]);
      results.push({ run: runIndex, result: r });
      console.log(`run ${runIndex + 1} consume ${codec}: ${Math.round(r.samples / r.wall_s).toLocaleString('en-US')} samples/s, ${r.cpu_s.toFixed(2)} CPU-s, GC ${r.gc_ms.toFixed(0)} ms, others ${r.others_cores} cores`);
    }
    await deleteTopics(topics.map((t) => t.topic));
  }

  // Medians per (phase, codec), and medians of the within-run ratios codec / gzip.
  const groups = new Map<string, PhaseResult[]>();
  for (const { result } of results) groups.set(key(result), [...(groups.get(key(result)) ?? []), result]);
  const medians = new Map<string, Figures>();
  for (const [k, rs] of groups) {
    const per = rs.map(figures);
    medians.set(k, Object.fromEntries(FIGURES.map((f) => [f, median(per.map((p) => p[f]))])) as Figures);
  }
  const ratios = new Map<string, Figures>();
  for (const k of groups.keys()) {
    const [ph] = k.split('/');
    const base = `${ph}/${BASE_CODEC}`;
    if (k === base) continue;
    const perRun = results
      .filter(({ result }) => key(result) === k)
      .flatMap(({ run: runIndex, result }) => {
        const other = results.find((x) => x.run === runIndex && key(x.result) === base);
        if (!other) return [];
        const a = figures(result);
        const b = figures(other.result);
        return [Object.fromEntries(FIGURES.map((f) => [f, a[f] / b[f]])) as Figures];
      });
    if (perRun.length > 0) ratios.set(k, Object.fromEntries(FIGURES.map((f) => [f, median(perRun.map((p) => p[f]))])) as Figures);
  }

  const n = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
  console.log(`\nmedians of ${RUNS} runs (shared, loaded machine: see "others" for the CPU other processes used)`);
  console.log('| phase | codec | records/s | samples/s | CPU-s / M samples | main-thread CPU-s / M | GC ms / M | GC share of main | p50 ms | p99 ms | peak RSS MB (+ over records) | broker CPU-s / M | log bytes / sample | others (cores) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [k, f] of [...medians].sort(([a], [b]) => b.localeCompare(a))) {
    const [ph, codec] = k.split('/');
    console.log(
      `| ${ph} | ${codec} | ${n(f.records_per_s)} | ${n(f.samples_per_s)} | ${n(f.cpu_s_per_m_samples, 2)} | ${n(f.main_cpu_s_per_m_samples, 2)} | ${n(f.gc_ms_per_m_samples)} | ${n(f.gc_share_of_main_thread * 100)}% | ${n(f.p50_ms, 1)} | ${n(f.p99_ms, 1)} | ${n(f.peak_rss_mb)} (+${n(f.rss_added_mb)}) | ${n(f.broker_cpu_s_per_m_samples, 2)} | ${n(f.log_bytes_per_sample, 2)} | ${n(f.others_cores, 2)} |`,
    );
  }
  console.log(`\ncodec / ${BASE_CODEC}, median of within-run ratios (< 1: the codec uses less / is lower)`);
  console.log('| phase | codec | samples/s | CPU-s / M | main-thread CPU-s / M | GC ms / M | p50 | p99 | peak RSS | broker CPU-s / M | log bytes |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [k, f] of [...ratios].sort(([a], [b]) => b.localeCompare(a))) {
    const [ph, codec] = k.split('/');
    console.log(
      `| ${ph} | ${codec} | ${n(f.samples_per_s, 2)} | ${n(f.cpu_s_per_m_samples, 2)} | ${n(f.main_cpu_s_per_m_samples, 2)} | ${n(f.gc_ms_per_m_samples, 2)} | ${n(f.p50_ms, 2)} | ${n(f.p99_ms, 2)} | ${n(f.peak_rss_mb, 2)} | ${n(f.broker_cpu_s_per_m_samples, 2)} | ${n(f.log_bytes_per_sample, 2)} |`,
    );
  }
  const json = {
    bench: 'kafka-codecs',
    node: process.version,
    runs: RUNS,
    brokers,
    traffic: { tenants: Number(process.env.BENCH_TENANTS ?? 6), series: Number(process.env.BENCH_SERIES ?? 2000), scrapes: Number(process.env.BENCH_SCRAPES ?? 120), concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16) },
    medians: Object.fromEntries(medians),
    [`ratios_over_${BASE_CODEC}`]: Object.fromEntries(ratios),
    runs_raw: results,
  };
  console.log(JSON.stringify(json));
}

await main();
