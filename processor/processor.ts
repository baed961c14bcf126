// The processor: consumes records, feeds the cost model, writes hourly rows, commits offsets.
//
// Exactly once, end to end: a sample is counted once by the model (it de-duplicates by series and
// timestamp); rows are written with a rising version, so the newest replaces the older ones under
// FINAL; offsets are committed only after the rows the records fed are stored, and never past a
// record that still feeds an hour that can change (or the hour before it, which a rebuild needs
// as context). A restart therefore rebuilds every hour that can still change, exactly.
import type { Logger } from 'pino';
import { decodeRecord, FORMAT_VERSION, seriesHash, seriesLabels, type RecordSeries } from '../ingest/record-format.ts';
import type { InboundRecord, RecordConsumer } from '../ingest/record-log.ts';
import { isClosed, isSettled, type LifecycleRules } from './hour-lifecycle.ts';
import { HOUR_MS, hourOf } from '../core/hours.ts';
import type { ProcessorMetrics } from './metrics.ts';
import {
  clusterState,
  createPartitionState,
  encodeCommitMetadata,
  markChanged,
  partitionFloor,
  settledBefore,
  type ClusterState,
  type PartitionState,
} from './partition-state.ts';
import type { HourlyCostModel, SampleCounts } from './cost-model-port.ts';

export interface RowSink<Row> {
  /** One batched insert; rejects when the rows are not stored. */
  write(rows: Row[]): Promise<void>;
}

export interface ProcessorOptions<ModelRow, Row> {
  consumer: RecordConsumer;
  sink: RowSink<Row>;
  /** One model per partition, so a revoked partition's state goes away whole. */
  createModel(): HourlyCostModel<ModelRow>;
  /** Turns the model's rows into stored rows with their finality and version. */
  toRows(rows: ModelRow[], final: boolean, version: number, now: number): Row[];
  rules: LifecycleRules;
  flushIntervalMs: number;
  metrics: ProcessorMetrics;
  logger: Logger;
  /**
   * Longest interval one sample stands for (MAX_SAMPLE_GAP, the model's maxSampleGapMs): a sample
   * that close to its hour's start can change the hour before (see markChanged). Default 5 min.
   */
  maxSampleGapMs?: number;
  /** Retry delay after a failed write, doubling up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  now?(): number;
}

export interface Processor {
  start(): Promise<void>;
  /** Writes what changed and commits what is settled; resolves once stored (retrying on failure). */
  flush(): Promise<void>;
  isReady(): boolean;
  /** Stops consuming, stores and commits what was consumed, then returns. */
  close(): Promise<void>;
}

interface Partition<ModelRow> extends PartitionState {
  model: HourlyCostModel<ModelRow>;
}

interface PlannedHour {
  cluster: ClusterState;
  hour: number;
  seq: number;
  final: boolean;
}

export function createProcessor<ModelRow, Row>(options: ProcessorOptions<ModelRow, Row>): Processor {
  const { consumer, metrics, rules } = options;
  const log = options.logger.child({ component: 'processor' });
  const now = options.now ?? Date.now;
  const reachBackMs = options.maxSampleGapMs ?? 300_000;
  const partitions = new Map<number, Partition<ModelRow>>();
  const starting = new Map<number, Promise<Partition<ModelRow>>>();
  let lastVersion = 0;
  let sinkHealthy = true;
  let paused = false;
  let closed = false;
  let flushing: Promise<void> | undefined;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  // Rows of a later write must replace earlier ones: microseconds of wall time, strictly rising.
  const nextVersion = (): number => (lastVersion = Math.max(lastVersion + 1, now() * 1000));

  const partitionFor = async (partition: number): Promise<Partition<ModelRow>> => {
    const existing = partitions.get(partition);
    if (existing) return existing;
    let pending = starting.get(partition);
    if (!pending) {
      pending = consumer.partitionStart(partition).then((start) => {
        const state: Partition<ModelRow> = { ...createPartitionState(partition, start), model: options.createModel() };
        partitions.set(partition, state);
        log.info(
          { partition, committed: start.committed?.toString(), end: start.end.toString(), contextFloor: state.contextFloor, clusterFloors: Object.fromEntries(state.clusterFloors) },
          'partition state started',
        );
        return state;
      });
      starting.set(partition, pending);
      void pending.finally(() => starting.delete(partition));
    }
    return pending;
  };

  const addCounts = (counts: SampleCounts, tooLate: number): void => {
    if (counts.accepted) metrics.samples.inc({ result: 'accepted' }, counts.accepted);
    if (counts.duplicate) metrics.samples.inc({ result: 'duplicate' }, counts.duplicate);
    if (counts.ignored) metrics.samples.inc({ result: 'ignored' }, counts.ignored);
    if (counts.invalid) metrics.samples.inc({ result: 'invalid' }, counts.invalid);
    if (tooLate) metrics.samples.inc({ result: 'too_late' }, tooLate);
  };

  // One counts object and one labels function for every series: the model reads the labels only
  // for a series new to it, synchronously, and no per-series object is allocated on the hot path.
  const counts: SampleCounts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0, late: 0 };
  const seriesHashOut = new Uint32Array(2);
  let labelsRecord: RecordSeries | undefined;
  let labelsSeries = 0;
  const labelsOf = (): Record<string, string> => seriesLabels(labelsRecord!, labelsSeries);
  /** The newest sample of the record being ingested that went to the model so far. */
  let ingested = -Infinity;

  /**
   * Feeds one decoded record to the model; returns the newest hour it fed (-Infinity: none).
   * Samples at or after the cluster's floor are added; earlier ones are too late (their hours are
   * settled: rows final, state gone) and only counted.
   */
  const ingest = (p: Partition<ModelRow>, c: ClusterState, rec: RecordSeries): number => {
    const { timestamps, values, stale, sampleStart } = rec;
    counts.accepted = counts.duplicate = counts.ignored = counts.invalid = counts.late = 0;
    let tooLate = 0;
    let newest = -Infinity;
    ingested = -Infinity;
    let markedFrom = NaN;
    let markedTo = NaN;
    let markedBack = false;
    labelsRecord = rec;
    for (let s = 0; s < rec.seriesCount; s++) {
      const from = sampleStart[s];
      const to = sampleStart[s + 1];
      if (from === to) continue;
      let min = Infinity;
      let max = -Infinity;
      for (let i = from; i < to; i++) {
        const t = timestamps[i];
        if (t < min) min = t;
        if (t > max) max = t;
      }
      labelsSeries = s;
      const accepted = counts.accepted;
      if (min >= c.floor) {
        seriesHash(rec, s, seriesHashOut);
        p.model.addHashedSeries(c.tenant, c.cluster, seriesHashOut, labelsOf, timestamps, values, stale, from, to, counts);
      } else {
        // Rare: samples before the floor. Only the others go to the model.
        const keep: number[] = [];
        for (let i = from; i < to; i++) if (timestamps[i] >= c.floor) keep.push(i);
        tooLate += to - from - keep.length;
        if (keep.length === 0) continue;
        min = Infinity;
        for (const i of keep) if (timestamps[i] < min) min = timestamps[i];
        const ts = Float64Array.from(keep, (i) => timestamps[i]);
        const vs = Float64Array.from(keep, (i) => values[i]);
        const st = Uint8Array.from(keep, (i) => stale[i]);
        seriesHash(rec, s, seriesHashOut);
        p.model.addHashedSeries(c.tenant, c.cluster, seriesHashOut, labelsOf, ts, vs, st, 0, keep.length, counts);
      }
      if (max > c.watermark) c.watermark = max;
      if (max > newest) ingested = newest = max;
      if (counts.accepted > accepted) {
        const fromHour = hourOf(min);
        const toHour = hourOf(max);
        const reachesBack = min - fromHour < reachBackMs;
        // Series of a record mostly span the same hours: marking them once is enough (no flush
        // can run before the record is done).
        if (fromHour !== markedFrom || toHour !== markedTo || (reachesBack && !markedBack)) {
          markChanged(c, fromHour, toHour, reachesBack);
          markedFrom = fromHour;
          markedTo = toHour;
          markedBack = reachesBack;
        }
      }
    }
    labelsRecord = undefined;
    addCounts(counts, tooLate);
    return newest === -Infinity ? -Infinity : hourOf(newest);
  };

  const onRecords = async (partition: number, records: InboundRecord[], end: bigint): Promise<void> => {
    inFlight++;
    try {
      await handleRecords(partition, records, end);
    } finally {
      if (--inFlight === 0) idle?.();
    }
  };

  const handleRecords = async (partition: number, records: InboundRecord[], end: bigint): Promise<void> => {
    const p = await partitionFor(partition);
    for (const record of records) {
      if (record.offset < p.next) continue; // already seen (a re-delivery after a rebalance)
      metrics.records.inc();
      let newestHour = -Infinity;
      try {
        if (record.formatVersion !== FORMAT_VERSION) throw new Error(`unsupported format-version ${record.formatVersion}`);
        const rec = decodeRecord(record.value);
        const c = clusterState(p, record.tenant, record.cluster);
        if (record.timestamp > c.lastArrival) c.lastArrival = record.timestamp;
        ingested = -Infinity;
        newestHour = ingest(p, c, rec);
      } catch (err) {
        // A record can fail half-way (a malformed labels block is only found when a new series'
        // labels are read): what it fed before that stays, so it is kept like a whole record.
        newestHour = ingested === -Infinity ? -Infinity : hourOf(ingested);
        metrics.poisonRecords.inc({ reason: (err as Error).name ?? 'Error' });
        log.error({ partition, offset: record.offset.toString(), tenant: record.tenant, cluster: record.cluster, err }, 'skipping a record that cannot be decoded');
      }
      p.tracker.note(record.offset, newestHour);
      p.next = record.offset + 1n;
    }
    metrics.consumerLag.set({ partition: String(partition) }, Number(end - p.next));
  };

  const plan = (t: number): { rows: Row[]; planned: PlannedHour[]; finalRows: number } => {
    const rows: Row[] = [];
    const planned: PlannedHour[] = [];
    let finalRows = 0;
    const version = nextVersion();
    for (const p of partitions.values()) {
      const replaying = p.next < p.replayEnd;
      for (const c of p.clusters.values()) {
        // While a backlog is read, record times are old: a cluster is not silent just because of them.
        const clock = replaying ? { watermark: c.watermark, lastArrival: Infinity } : c;
        for (const [hour, mark] of c.hours) {
          if (hour < c.contextFloor) continue;
          const final = isClosed(hour, clock, t, rules);
          if (mark.seq === mark.writtenSeq && (mark.writtenFinal || !final)) continue;
          const hourRows = options.toRows(p.model.rows(c.tenant, c.cluster, hour), final, version, t);
          for (const row of hourRows) rows.push(row);
          if (final) finalRows += hourRows.length;
          planned.push({ cluster: c, hour, seq: mark.seq, final });
        }
      }
    }
    return { rows, planned, finalRows };
  };

  const settle = (t: number): void => {
    for (const p of partitions.values()) {
      const replaying = p.next < p.replayEnd;
      for (const c of p.clusters.values()) {
        const clock = replaying ? { watermark: c.watermark, lastArrival: Infinity } : c;
        const hours = [...c.hours.keys()].sort((a, b) => a - b);
        let floor = c.floor;
        for (const hour of hours) {
          const mark = c.hours.get(hour)!;
          const done = hour < c.contextFloor || (mark.writtenFinal && mark.seq === mark.writtenSeq);
          // Hours settle oldest first, so the floor only moves forward.
          if (!done || !isSettled(hour, clock, t, rules)) break;
          c.hours.delete(hour);
          floor = hour + HOUR_MS;
        }
        if (floor > c.floor) {
          c.floor = floor;
          p.model.evictBefore(c.tenant, c.cluster, floor);
        }
      }
    }
  };

  /**
   * The offset to commit for a partition and its metadata. The offset keeps every record that
   * feeds an hour at or after the partition floor, or the hour before it (a rebuild's context).
   * The metadata names, besides the floor, every cluster whose own floor differs from it, so that
   * a restart settles each cluster where this process had settled it.
   */
  const commitFor = (p: Partition<ModelRow>): { offset: bigint; metadata: string } | undefined => {
    let floor = partitionFloor(p);
    const offset = p.tracker.commitPoint(floor);
    if (offset === undefined) return undefined;
    if (!Number.isFinite(floor)) {
      // Nothing can change any more: the newest settled hour boundary (the others are listed).
      floor = Math.max(p.contextFloor, ...[...p.clusters.values()].map(settledBefore));
    }
    const clusters = new Map<string, number>();
    // Clusters of an earlier commit not seen since: nothing changed for them.
    for (const [id, clusterFloor] of p.clusterFloors) if (!p.clusters.has(id)) clusters.set(id, clusterFloor);
    for (const [id, c] of p.clusters) clusters.set(id, settledBefore(c));
    for (const [id, clusterFloor] of clusters) if (clusterFloor === floor || !Number.isFinite(clusterFloor)) clusters.delete(id);
    return { offset, metadata: encodeCommitMetadata(floor, clusters) };
  };

  const commit = async (): Promise<void> => {
    const commits: { partition: number; offset: bigint; metadata: string }[] = [];
    for (const p of partitions.values()) {
      const next = commitFor(p);
      if (next === undefined) continue;
      const advances = p.lastCommitted === undefined || next.offset > p.lastCommitted;
      // Hours settled while the offset stays (a run of records still feeds a newer hour): the same
      // offset again with the new floors, so a restart does not rebuild and rewrite hours whose
      // too-late samples this process has been dropping.
      const refreshes = next.offset === p.lastCommitted && next.metadata !== p.committedMetadata;
      if (advances || refreshes) commits.push({ partition: p.partition, ...next });
    }
    await consumer.commit(commits);
    for (const c of commits) {
      const p = partitions.get(c.partition);
      if (!p) continue;
      p.lastCommitted = c.offset;
      p.committedMetadata = c.metadata;
      p.tracker.committed(c.offset);
    }
  };

  const writeWithRetry = async (rows: Row[]): Promise<boolean> => {
    let delay = options.retryDelayMs ?? 500;
    for (;;) {
      try {
        await options.sink.write(rows);
        if (!sinkHealthy) log.info('ClickHouse writes succeed again');
        sinkHealthy = true;
        if (paused && !closed) {
          consumer.resume();
          paused = false;
        }
        return true;
      } catch (err) {
        metrics.writeFailures.inc();
        if (sinkHealthy) log.error({ err, rows: rows.length }, 'cannot write rows to ClickHouse; retrying, nothing is committed meanwhile');
        sinkHealthy = false;
        if (!paused) {
          // Stop reading so state does not grow while nothing can be stored.
          consumer.pause();
          paused = true;
        }
        if (closed && delay > (options.maxRetryDelayMs ?? 30_000)) return false;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, options.maxRetryDelayMs ?? 30_000);
      }
    }
  };

  const flushOnce = async (): Promise<void> => {
    const started = process.hrtime.bigint();
    const t = now();
    const { rows, planned, finalRows } = plan(t);
    if (rows.length > 0 && !(await writeWithRetry(rows))) return;
    for (const item of planned) {
      const mark = item.cluster.hours.get(item.hour);
      if (!mark) continue;
      mark.writtenSeq = item.seq;
      if (item.final) mark.writtenFinal = true;
    }
    metrics.rowsWritten.inc({ final: 'true' }, finalRows);
    metrics.rowsWritten.inc({ final: 'false' }, rows.length - finalRows);
    settle(t);
    await commit();
    updateGauges(t);
    metrics.flushDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };

  const updateGauges = (t: number): void => {
    let open = 0;
    let bytes = 0;
    for (const p of partitions.values()) {
      bytes += p.model.stateBytes();
      for (const c of p.clusters.values()) {
        open += c.hours.size;
        if (Number.isFinite(c.watermark)) metrics.newestSampleAge.set({ tenant: c.tenant, cluster: c.cluster }, Math.max(0, (t - c.watermark) / 1000));
      }
    }
    metrics.openHours.set(open);
    metrics.stateBytes.set(bytes);
  };

  const flush = (): Promise<void> => {
    // One flush at a time; a flush asked for during one runs right after it.
    const run = (flushing ?? Promise.resolve()).then(flushOnce);
    flushing = run.catch((err: unknown) => log.error({ err }, 'flush failed'));
    return run;
  };

  return {
    async start() {
      await consumer.start({
        onRecords,
        onRevoked(revoked) {
          for (const partition of revoked) {
            partitions.delete(partition);
            metrics.consumerLag.remove({ partition: String(partition) });
          }
        },
      });
      timer = setInterval(() => void flush().catch(() => undefined), options.flushIntervalMs);
      timer.unref();
    },
    flush,
    isReady() {
      return consumer.isReady() && sinkHealthy;
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      // Stop fetching, let the batch in hand finish, store and commit it, then leave the group.
      consumer.pause();
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      await flush().catch(() => undefined);
      await consumer.close();
    },
  };
}
