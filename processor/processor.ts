// The processor: consumes records, feeds the cost model, writes hourly rows, commits offsets.
//
// Exactly once, end to end: a sample is counted once by the model (it de-duplicates by series and
// timestamp); rows are written with a rising version, so the newest replaces the older ones under
// FINAL; offsets are committed only after the rows the records fed are stored, and never past a
// record that still feeds an hour that can change (or the hour before it, which a rebuild needs
// as context). A restart therefore rebuilds every hour that can still change, exactly.
import type { Logger } from 'pino';
import { decodeRecord, FORMAT_VERSION, seriesKey, seriesLabels, type RecordSeries } from '../ingest/record-format.ts';
import type { InboundRecord, RecordConsumer } from '../ingest/record-log.ts';
import { isClosed, isSettled, type LifecycleRules } from './hour-lifecycle.ts';
import { HOUR_MS, hourOf } from './hours.ts';
import type { ProcessorMetrics } from './metrics.ts';
import {
  clusterState,
  createPartitionState,
  encodeCommitMetadata,
  markChanged,
  partitionFloor,
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
        log.info({ partition, committed: start.committed?.toString(), end: start.end.toString(), contextFloor: state.contextFloor }, 'partition state started');
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

  /** Feeds one decoded record to the model; returns the newest hour it fed. */
  const ingest = (p: Partition<ModelRow>, c: ClusterState, rec: RecordSeries): number => {
    let newestHour = -Infinity;
    let tooLate = 0;
    const total: SampleCounts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0 };
    for (let s = 0; s < rec.seriesCount; s++) {
      let from = rec.sampleStart[s];
      const to = rec.sampleStart[s + 1];
      if (from === to) continue;
      let timestamps = rec.timestamps.subarray(from, to);
      let values = rec.values.subarray(from, to);
      let stale = rec.stale.subarray(from, to);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < timestamps.length; i++) {
        const t = timestamps[i];
        if (t < min) min = t;
        if (t > max) max = t;
      }
      if (min < c.floor) {
        // Samples for settled hours are too late: their rows are final and their state is gone.
        const keep: number[] = [];
        for (let i = 0; i < timestamps.length; i++) if (timestamps[i] >= c.floor) keep.push(i);
        tooLate += timestamps.length - keep.length;
        if (keep.length === 0) continue;
        timestamps = Float64Array.from(keep, (i) => timestamps[i]);
        values = Float64Array.from(keep, (i) => values[i]);
        stale = Uint8Array.from(keep, (i) => stale[i]);
        min = timestamps.reduce((a, b) => Math.min(a, b), Infinity);
      }
      const counts = p.model.addSeries(c.tenant, c.cluster, seriesKey(rec, s), () => seriesLabels(rec, s), timestamps, values, stale);
      total.accepted += counts.accepted;
      total.duplicate += counts.duplicate;
      total.ignored += counts.ignored;
      total.invalid += counts.invalid;
      if (max > c.watermark) c.watermark = max;
      const hi = hourOf(max);
      if (hi > newestHour) newestHour = hi;
      if (counts.accepted > 0) markChanged(c, hourOf(min), hi);
      from = to;
    }
    addCounts(total, tooLate);
    return newestHour;
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
        newestHour = ingest(p, c, rec);
      } catch (err) {
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
          if (hour < p.contextFloor) continue;
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
          const done = hour < p.contextFloor || (mark.writtenFinal && mark.seq === mark.writtenSeq);
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

  const commit = async (): Promise<void> => {
    const commits: { partition: number; offset: bigint; metadata: string }[] = [];
    for (const p of partitions.values()) {
      let floor = partitionFloor(p);
      const offset = p.tracker.commitPoint(floor);
      if (offset === undefined || (p.lastCommitted !== undefined && offset <= p.lastCommitted)) continue;
      if (!Number.isFinite(floor)) {
        // Nothing can change any more: the floor is the newest settled hour boundary.
        floor = Math.max(p.contextFloor, ...[...p.clusters.values()].map((c) => c.floor));
      }
      commits.push({ partition: p.partition, offset, metadata: encodeCommitMetadata(floor) });
    }
    await consumer.commit(commits);
    for (const c of commits) {
      const p = partitions.get(c.partition);
      if (!p) continue;
      p.lastCommitted = c.offset;
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
