// Processor benchmark: samples/s consumed and aggregated per core from a realistic topic, and rows/s
// written to the embedded ClickHouse engine. Ends with one JSON line. Target: >= 1,000,000 samples/s
// per core.
//
//   npm run bench:processor                  Kafka (BENCH_KAFKA_BROKERS, default 127.0.0.1:9092; a
//                                            broker is started with scripts/kafka-broker.sh when
//                                            none answers there, and stopped at the end)
//   npm run bench:processor -- --embedded    the embedded on-disk log instead of Kafka
//   npm run bench:processor -- --cpu-prof    also profiles the main thread over the consume phase
//                                            (V8's sampling profiler, in process): areas and top
//                                            functions by self time; the profile file is kept
//
// The topic is built the way the service builds it: kubecost-shaped remote-write requests
// (bench/kubecost-traffic.ts; BENCH_TENANTS clusters of BENCH_SERIES series, BENCH_SCRAPES one-minute
// scrapes) are decoded and turned into records by the receiver's own code (decodeRemoteWrite,
// prepareRecords), then published with the service's publisher (KAFKA_COMPRESSION's default codec,
// or BENCH_COMPRESSION). Then the real processor (real consumer, real cost model, real chdb sink) reads it:
// - consume: from the first batch to the last record, with no flush in between: what consuming and
//   aggregating costs. CPU time is process.cpuUsage() (every thread: Kafka client, decompression, GC) and, on
//   Linux, the main thread's alone; what the other threads used (V8's concurrent marking, sweeping
//   and optimising compiler) and the main thread's GC pauses are printed beside it.
// - write: one flush of every hour's rows to the embedded engine (rows/s of the insert), wired as
//   the service wires it: pod rows to k8s_expenses and node rows to k8s_node_expenses, keys followed
//   for deletion rows (the stored keys of each hour are read first, as after a restart), negative
//   idle counted as hours close.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ingestConfigShape } from '../ingest/config.ts';
import { openEmbeddedLog, type EmbeddedLog } from '../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer, createEmbeddedPublisher } from '../ingest/embedded/embedded-transport.ts';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaConsumer } from '../ingest/kafka/kafka-consumer.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import type { OutboundRecord, RecordConsumer, RecordPublisher } from '../ingest/record-log.ts';
import { openClickHouse } from '../processor/clickhouse/client.ts';
import { costModelRows, costRowDeletion, createCostRowSink, finishCostRow, isNodeRow, negativeIdleCounter, type CostRow, type StoredCostRow } from '../processor/clickhouse/cost-rows.ts';
import { migrate } from '../processor/clickhouse/migrations.ts';
import { createCostModel } from '../processor/cost-model/index.ts';
import { createProcessorMetrics } from '../processor/metrics.ts';
import { createProcessor } from '../processor/processor.ts';
import { formatProfile, summariseProfile } from './cpu-profile.ts';
import { gcRecorder } from './gc-recorder.ts';
import { kubecostRequests } from './kubecost-traffic.ts';
import { receiverRecords } from './receiver-records.ts';
import { threadCpuSeconds } from './proc-stats.ts';

const execFileAsync = promisify(execFile);
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOUR = 3_600_000;
const TARGET = 1_000_000;

const embedded = process.argv.includes('--embedded');
const cpuProf = process.argv.includes('--cpu-prof');
const TENANTS = Number(process.env.BENCH_TENANTS ?? 6);
const SERIES = Number(process.env.BENCH_SERIES ?? 2000);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 180);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const COMPRESSION = ingestConfigShape.KAFKA_COMPRESSION.parse(process.env.BENCH_COMPRESSION);
const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'error' });

function portAnswers(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function brokerScript(...args: string[]): Promise<void> {
  await execFileAsync('bash', [path.join(PROJECT_ROOT, 'scripts', 'kafka-broker.sh'), ...args], { cwd: PROJECT_ROOT, timeout: 240_000 });
}

/** Remote-write requests of several clusters (two per tenant), decoded and turned into records by the receiver's code. */
function buildRecords(): { records: OutboundRecord[]; samples: number; requests: number } {
  const tenantNames = Array.from({ length: TENANTS }, (_, i) => `tenant-${Math.floor(i / 2) + 1}`);
  const startMs = Math.floor(Date.now() / HOUR) * HOUR - Math.ceil(SCRAPES / 60 + 1) * HOUR;
  const records: OutboundRecord[] = [];
  let samples = 0;
  let requests = 0;
  const now = Date.now();
  for (const req of kubecostRequests({ seed: 1, tenants: TENANTS, tenantNames, seriesPerTenant: SERIES, samplesPerRequest: 2000, startMs, scrapes: SCRAPES })) {
    const prepared = receiverRecords(req, now);
    records.push(...prepared.records);
    samples += prepared.samples;
    requests++;
  }
  return { records, samples, requests };
}

/** Publishes every record, a request's records per call, several calls in flight (as concurrent requests do). */
async function publishAll(publisher: RecordPublisher, records: OutboundRecord[]): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < records.length; i++) {
    const p: Promise<void> = publisher.publish([records[i]]).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

interface Transport {
  label: string;
  consumer: RecordConsumer;
  close(): Promise<void>;
}

async function kafkaTransport(records: OutboundRecord[], cleanup: (() => Promise<void>)[]): Promise<Transport> {
  if (!(await portAnswers(brokers[0]))) {
    if (process.env.BENCH_KAFKA_BROKERS) throw new Error(`no Kafka broker answers at ${brokers[0]}`);
    console.log('starting a Kafka broker on 127.0.0.1:9092 (scripts/kafka-broker.sh)');
    await brokerScript('start');
    cleanup.push(() => brokerScript('stop'));
  }
  const kafka = createKafka({ brokers, clientId: 'bench-processor', requestTimeoutMs: 30_000, retries: 5 });
  const topic = `bench-processor-${Date.now()}`;
  const publisher = createKafkaPublisher(kafka, { topic, partitions: PARTITIONS, replicationFactor: -1, produceTimeoutMs: 30_000, compression: COMPRESSION, maxGroupBytes: 8 * 2 ** 20 }, logger);
  publisher.start();
  for (let i = 0; !publisher.isReady(); i++) {
    if (i > 300) throw new Error('the publisher did not connect');
    await new Promise((r) => setTimeout(r, 100));
  }
  const started = performance.now();
  await publishAll(publisher, records);
  console.log(`published ${records.length} records to topic ${topic} (${PARTITIONS} partitions, ${COMPRESSION}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await publisher.close();
  cleanup.push(async () => {
    const admin = new Admin(kafka.options());
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });
  const consumer = createKafkaConsumer(kafka, { topic, partitions: PARTITIONS, replicationFactor: -1, groupId: `${topic}-group` }, logger);
  return { label: `Kafka ${brokers.join(',')}`, consumer, close: async () => undefined };
}

async function embeddedTransport(records: OutboundRecord[], dir: string): Promise<Transport> {
  const log: EmbeddedLog = await openEmbeddedLog({ dir: path.join(dir, 'log'), segmentBytes: 64 * 2 ** 20, logger });
  const publisher = createEmbeddedPublisher(log);
  const started = performance.now();
  await publishAll(publisher, records);
  console.log(`appended ${records.length} records to the embedded log in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await publisher.close();
  return { label: 'embedded log', consumer: createEmbeddedConsumer(log, 'bench', logger), close: () => log.close() };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function mainThreadSeconds(): number | undefined {
  return threadCpuSeconds(process.pid).get('main thread');
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** V8's sampling profiler on this thread, started and stopped around the consume phase. */
function mainThreadProfiler() {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
  return {
    start: () => post('Profiler.enable').then(() => post('Profiler.start')),
    /** Stops profiling and writes the profile to `file`. */
    async stop(file: string): Promise<void> {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
    },
  };
}

async function main(): Promise<void> {
  const cleanup: (() => Promise<void>)[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-processor-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  try {
    let t = performance.now();
    const { records, samples, requests } = buildRecords();
    console.log(
      `traffic: ${TENANTS} clusters x ${SERIES} series x ${SCRAPES} scrapes = ${fmt(samples)} samples in ${fmt(requests)} requests, ${fmt(records.length)} records (built in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );

    const transport = embedded ? await embeddedTransport(records, dir) : await kafkaTransport(records, cleanup);
    cleanup.push(() => transport.close());

    const client = await openClickHouse({ DATA_DIR: dir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' }, logger);
    cleanup.push(() => client.close());
    await migrate(client, { database: 'default' });
    const sink = createCostRowSink(client, { database: 'default' });
    const written = { rows: 0, nodeRows: 0, deletions: 0, seconds: 0, last: [] as StoredCostRow[] };

    // The consume phase starts with the first batch (a Kafka group join is not consuming).
    let first: { wall: number; cpu: number; main: number | undefined; mono: bigint } | undefined;
    // The second half of the records alone: the rate once the JIT has compiled the hot path, which a
    // running processor pays once, and a consume phase of a few seconds pays in full.
    let delivered = 0;
    let half: { cpu: number; records: number } | undefined;
    const gc = gcRecorder();
    const profiler = cpuProf ? mainThreadProfiler() : undefined;
    const consumer: RecordConsumer = {
      ...transport.consumer,
      start: (handlers) =>
        transport.consumer.start({
          ...handlers,
          onRecords(partition, batch, end) {
            if (!first) {
              gc.start();
              void profiler?.start();
            }
            first ??= { wall: performance.now(), cpu: cpuSeconds(), main: mainThreadSeconds(), mono: process.hrtime.bigint() };
            if (!half && delivered >= records.length / 2) half = { cpu: cpuSeconds(), records: delivered };
            delivered += batch.length;
            return handlers.onRecords(partition, batch, end);
          },
        }),
    };
    const registry = new Registry();
    const metrics = createProcessorMetrics(registry);
    const processor = createProcessor<CostRow, StoredCostRow>({
      consumer,
      sink: {
        async write(rows) {
          const started = performance.now();
          // Batches of 50k rows, as the sink expects.
          for (let i = 0; i < rows.length; i += 50_000) await sink.write(rows.slice(i, i + 50_000));
          written.seconds += (performance.now() - started) / 1000;
          written.rows += rows.length;
          for (const row of rows) {
            if (isNodeRow(row)) written.nodeRows++;
            if (row.is_deleted) written.deletions++;
          }
          written.last = rows;
        },
        storedKeys: (tenant, cluster, hours) => sink.storedKeys(tenant, cluster, hours),
      },
      createModel: () => costModelRows(createCostModel()),
      finishRow: finishCostRow,
      deletion: costRowDeletion,
      onClosedRow: negativeIdleCounter(metrics.negativeIdle),
      rules: { graceMs: 5 * 60_000, lateWindowMs: 3 * HOUR, idleFinalizeMs: 30 * 60_000 },
      // No flush while consuming: the consume phase measures consuming and aggregating only.
      flushIntervalMs: 24 * HOUR,
      metrics,
      logger,
    });

    await processor.start();
    const consumed = async () => (await metrics.records.get()).values[0]?.value ?? 0;
    while ((await consumed()) < records.length) await new Promise((r) => setTimeout(r, 5));
    const end = { wall: performance.now(), cpu: cpuSeconds(), main: mainThreadSeconds(), mono: process.hrtime.bigint() };
    const profileFile = path.join(tmpdir(), `bench-processor-${Date.now()}.cpuprofile`);
    await profiler?.stop(profileFile);
    const gcFigures = await gc.stop();
    const start = first!;
    const wall = (end.wall - start.wall) / 1000;
    const cpu = end.cpu - start.cpu;
    const main = start.main !== undefined && end.main !== undefined ? end.main - start.main : undefined;
    const secondHalf = half ? Math.round(((samples / records.length) * (records.length - half.records)) / (end.cpu - half.cpu)) : null;
    const accepted = (await metrics.samples.get()).values.find((v) => v.labels.result === 'accepted')?.value ?? 0;

    t = performance.now();
    const cpuBeforeFlush = cpuSeconds();
    await processor.flush();
    const flushWall = (performance.now() - t) / 1000;
    const flushCpu = cpuSeconds() - cpuBeforeFlush;
    const stateBytes = (await metrics.stateBytes.get()).values[0]?.value ?? 0;
    await processor.close();

    // The sink at the batch size it is built for: the flushed rows again (same keys, a newer
    // version) until there are 50,000, in one insert.
    const bulk: StoredCostRow[] = [];
    for (let i = 0; bulk.length < 50_000 && written.last.length > 0; i++) bulk.push({ ...written.last[i % written.last.length], version: written.last[0].version + 1 + Math.floor(i / written.last.length) });
    t = performance.now();
    await sink.write(bulk);
    const bulkSeconds = (performance.now() - t) / 1000;

    const result = {
      bench: 'processor',
      transport: embedded ? 'embedded' : 'kafka',
      node: process.version,
      clusters: TENANTS,
      series_per_cluster: SERIES,
      scrapes: SCRAPES,
      samples,
      records: records.length,
      samples_accepted: accepted,
      consume_wall_s: Number(wall.toFixed(3)),
      consume_cpu_s: Number(cpu.toFixed(3)),
      consume_main_thread_cpu_s: main === undefined ? null : Number(main.toFixed(3)),
      consume_main_thread_gc_ms: Math.round(gcFigures.gcMs),
      consume_main_thread_gc_major_ms: Math.round(gcFigures.gcMajorMs),
      samples_per_s_wall: Math.round(samples / wall),
      samples_per_s_per_core: Math.round(samples / cpu),
      samples_per_s_main_thread: main === undefined ? null : Math.round(samples / main),
      samples_per_s_per_core_second_half: secondHalf,
      rows_written: written.rows,
      node_rows_written: written.nodeRows,
      deletion_rows_written: written.deletions,
      rows_per_s_written: Math.round(written.rows / written.seconds),
      rows_per_s_written_50k_batch: Math.round(bulk.length / bulkSeconds),
      flush_wall_s: Number(flushWall.toFixed(3)),
      flush_cpu_s: Number(flushCpu.toFixed(3)),
      state_bytes: stateBytes,
      target_samples_per_s_per_core: TARGET,
      meets_target: samples / cpu >= TARGET,
    };
    console.log(`transport: ${transport.label}`);
    // Under `node --cpu-prof`, the consume phase in the profile's clock (for bench/cpu-profile.ts).
    if (process.execArgv.some((a) => a.startsWith('--cpu-prof'))) console.log(`consume window (monotonic us): ${start.mono / 1000n} ${end.mono / 1000n}`);
    console.log(`consume + aggregate: ${fmt(samples)} samples in ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU${main === undefined ? '' : ` (${main.toFixed(2)} s on the main thread)`}`);
    console.log(`  ${fmt(result.samples_per_s_per_core)} samples/s per core (process CPU), ${fmt(result.samples_per_s_wall)} samples/s wall${main === undefined ? '' : `, ${fmt(result.samples_per_s_main_thread!)} samples/s per main-thread CPU second`}`);
    if (secondHalf !== null) console.log(`  second half of the records alone (the JIT warmed up): ${fmt(secondHalf)} samples/s per core (process CPU)`);
    console.log(
      `  main-thread GC pauses: ${fmt(gcFigures.gcMs)} ms in ${gcFigures.gcCount} (${fmt(gcFigures.gcMajorMs)} ms major)${main === undefined ? '' : `; other threads (V8 marking, sweeping, optimising compiler; libuv pool): ${(cpu - main).toFixed(2)} s CPU`}`,
    );
    if (profiler) {
      console.log(`main thread over the consume phase (profile kept in ${profileFile}):`);
      console.log(formatProfile(summariseProfile(profileFile)));
    }
    console.log(`write: ${fmt(written.rows)} rows (${fmt(written.nodeRows)} of them node rows, ${fmt(written.deletions)} deletion rows) in ${written.seconds.toFixed(2)} s = ${fmt(result.rows_per_s_written)} rows/s (flush ${flushWall.toFixed(2)} s wall, ${flushCpu.toFixed(2)} s CPU incl. computing rows)`);
    console.log(`  the sink at its batch size: ${fmt(bulk.length)} rows in one insert in ${bulkSeconds.toFixed(2)} s = ${fmt(result.rows_per_s_written_50k_batch)} rows/s`);
    console.log(`target ${fmt(TARGET)} samples/s per core: ${result.meets_target ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify(result));
  } finally {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  }
}

await main();
