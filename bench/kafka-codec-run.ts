// One measured phase of bench/kafka-codecs.ts, in a process of its own so that CPU, garbage
// collection and peak RSS belong to one codec alone:
//
//   node --import tsx bench/kafka-codec-run.ts produce <compression> <topic>
//   node --import tsx bench/kafka-codec-run.ts consume <compression> <topic> <records>
//
// Prints one JSON line (PhaseResult). Traffic comes from environment variables set by the
// orchestrator (BENCH_TENANTS, BENCH_SERIES, BENCH_SCRAPES, BENCH_PARTITIONS, BENCH_CONCURRENCY,
// BENCH_KAFKA_BROKERS), so every phase of every run sees the same records.
import { pino } from 'pino';
import type { Compression } from '../ingest/kafka/compression.ts';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import { decodeRecord } from '../ingest/record-format.ts';
import type { OutboundRecord, RecordPublisher } from '../ingest/record-log.ts';
import { gcRecorder, type GcFigures } from './gc-recorder.ts';
import { kubecostRequests } from './kubecost-traffic.ts';
import { quantile } from './load-client.ts';
import { receiverRecords } from './receiver-records.ts';
import { machineCpu, pidListeningOn, processCpuSeconds, processMemory, threadCpuSeconds } from './proc-stats.ts';

const HOUR = 3_600_000;
const TENANTS = Number(process.env.BENCH_TENANTS ?? 6);
const SERIES = Number(process.env.BENCH_SERIES ?? 2000);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 120);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
/** Requests published before the measured window, so connections, JIT and buffers are warm. */
const WARMUP_FRACTION = 0.1;
const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'error' });

export interface PhaseResult {
  phase: 'produce' | 'consume';
  compression: Compression;
  records: number;
  samples: number;
  /** Records in the topic after a produce phase (warm-up included): what a consume phase reads. */
  topic_records: number;
  topic_samples: number;
  /** Bytes the topic takes in the broker's log after a produce phase (set by the orchestrator). */
  topic_bytes?: number;
  wall_s: number;
  /** Every thread of this process (main, GC helpers, libuv pool). */
  cpu_s: number;
  main_thread_cpu_s: number;
  /** Sum of GC pauses seen by the main thread (perf_hooks 'gc' entries). */
  gc_ms: number;
  gc_major_ms: number;
  gc_count: number;
  /** Publish calls (one request's records each): latency until acknowledged. */
  p50_ms: number | null;
  p99_ms: number | null;
  peak_rss_mb: number;
  /** RSS once the records were built, before the client connected. */
  rss_before_mb: number;
  /** The broker's CPU meanwhile (when it runs on this machine). */
  broker_cpu_s: number | null;
  /** CPU the rest of the machine used meanwhile (other processes, this broker included), in cores. */
  others_cores: number;
}

/** Remote-write requests of several clusters, turned into records by the receiver's own code; one entry per request. */
function buildRequests(): { requests: OutboundRecord[][]; samples: number[] } {
  const tenantNames = Array.from({ length: TENANTS }, (_, i) => `tenant-${Math.floor(i / 2) + 1}`);
  const startMs = Math.floor(Date.now() / HOUR) * HOUR - Math.ceil(SCRAPES / 60 + 1) * HOUR;
  const requests: OutboundRecord[][] = [];
  const samples: number[] = [];
  const now = Date.now();
  for (const req of kubecostRequests({ seed: 1, tenants: TENANTS, tenantNames, seriesPerTenant: SERIES, samplesPerRequest: 2000, startMs, scrapes: SCRAPES })) {
    const prepared = receiverRecords(req, now);
    requests.push(prepared.records);
    samples.push(prepared.samples);
  }
  return { requests, samples };
}

interface Window {
  wall: number;
  cpu: number;
  main: number;
  broker: number | undefined;
  machineBusy: number;
}

const brokerPid = pidListeningOn(Number(brokers[0].split(':')[1] ?? 9092));

function sample(): Window {
  const u = process.cpuUsage();
  return {
    wall: performance.now(),
    cpu: (u.user + u.system) / 1e6,
    main: threadCpuSeconds(process.pid).get('main thread') ?? NaN,
    broker: brokerPid === undefined ? undefined : processCpuSeconds(brokerPid),
    machineBusy: machineCpu().busy,
  };
}

function result(phase: PhaseResult['phase'], compression: Compression, counts: { records: number; samples: number; topic_records: number; topic_samples: number }, a: Window, b: Window, gc: GcFigures, latencies: number[], rssBefore: number): PhaseResult {
  const sorted = Float64Array.from(latencies).sort();
  const wall = (b.wall - a.wall) / 1000;
  const cpu = b.cpu - a.cpu;
  const broker = a.broker !== undefined && b.broker !== undefined ? b.broker - a.broker : undefined;
  const round = (n: number, digits = 3) => Number(n.toFixed(digits));
  return {
    phase,
    compression,
    ...counts,
    wall_s: round(wall),
    cpu_s: round(cpu),
    main_thread_cpu_s: round(b.main - a.main),
    gc_ms: round(gc.gcMs, 1),
    gc_major_ms: round(gc.gcMajorMs, 1),
    gc_count: gc.gcCount,
    p50_ms: sorted.length ? round(quantile(sorted, 0.5), 2) : null,
    p99_ms: sorted.length ? round(quantile(sorted, 0.99), 2) : null,
    peak_rss_mb: round((processMemory(process.pid)?.peakRssBytes ?? NaN) / 2 ** 20, 1),
    rss_before_mb: round(rssBefore / 2 ** 20, 1),
    broker_cpu_s: broker === undefined ? null : round(broker),
    others_cores: round(Math.max(0, b.machineBusy - a.machineBusy - cpu) / wall, 2),
  };
}

const kafka = createKafka({ brokers, clientId: 'bench-kafka-codecs', requestTimeoutMs: 30_000, retries: 5 });

async function whenReady(publisher: RecordPublisher, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!publisher.isReady()) {
    if (Date.now() > deadline) throw new Error(`the publisher was not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function produce(compression: Compression, topic: string): Promise<PhaseResult> {
  const { requests, samples } = buildRequests();
  const rssBefore = process.memoryUsage.rss();
  const publisher = createKafkaPublisher(kafka, { topic, partitions: PARTITIONS, replicationFactor: -1, compression, produceTimeoutMs: 30_000, maxGroupBytes: 8 * 2 ** 20 }, logger);
  publisher.start();
  await whenReady(publisher, 60_000);
  const warmup = Math.floor(requests.length * WARMUP_FRACTION);
  const latencies: number[] = [];
  const publishRange = async (from: number, to: number, record: boolean) => {
    const inFlight = new Set<Promise<void>>();
    for (let i = from; i < to; i++) {
      const started = performance.now();
      const p: Promise<void> = publisher.publish(requests[i]).then(() => {
        if (record) latencies.push(performance.now() - started);
        inFlight.delete(p);
      });
      inFlight.add(p);
      if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  };
  await publishRange(0, warmup, false);
  const gc = gcRecorder();
  gc.start();
  const a = sample();
  await publishRange(warmup, requests.length, true);
  const b = sample();
  const gcFigures = await gc.stop();
  await publisher.close();
  const measured = requests.slice(warmup);
  const counts = { records: measured.reduce((n, r) => n + r.length, 0), samples: samples.slice(warmup).reduce((n, s) => n + s, 0), topic_records: requests.reduce((n, r) => n + r.length, 0), topic_samples: samples.reduce((n, x) => n + x, 0) };
  return result('produce', compression, counts, a, b, gcFigures, latencies, rssBefore);
}

async function consume(compression: Compression, topic: string, expected: number): Promise<PhaseResult> {
  const rssBefore = process.memoryUsage.rss();
  const consumer = createKafkaConsumer(kafka, { topic, partitions: PARTITIONS, replicationFactor: -1, groupId: `${topic}-read-${Date.now()}` }, logger);
  const gc = gcRecorder();
  let a: Window | undefined;
  let records = 0;
  let samples = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.start({
    async onRecords(_partition, batch) {
      if (!a) {
        gc.start();
        a = sample();
      }
      for (const r of batch) {
        const decoded = decodeRecord(r.value);
        samples += decoded.sampleStart[decoded.seriesCount];
      }
      records += batch.length;
      if (records >= expected) done();
    },
    onRevoked: () => undefined,
  });
  await finished;
  const b = sample();
  const gcFigures = await gc.stop();
  await consumer.close();
  return result('consume', compression, { records, samples, topic_records: records, topic_samples: samples }, a!, b, gcFigures, [], rssBefore);
}

const [phase, compression, ...rest] = process.argv.slice(2) as [string, Compression, ...string[]];
const out = phase === 'produce' ? await produce(compression, rest[0]) : await consume(compression, rest[0], Number(rest[1]));
console.log(JSON.stringify(out));
process.exit(0);
