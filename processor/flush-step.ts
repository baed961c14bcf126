// One flush: the rows of every hour the hour window says is behind are computed and written in one
// batch, then the hours are marked written, settled hours are dropped (from the window and the
// model), and offsets are committed as far as the window allows. The order is what makes it
// exactly once: nothing is committed before the rows its records fed are stored.
import type { Log } from '../core/log.ts';
import type { RecordConsumer } from '../ingest/record-log.ts';
import { nextCommit, noteCommitted, type PartitionCommit } from './hour-window/commit-point.ts';
import { markWritten, planFlush, type HourWrite } from './hour-window/flush-plan.ts';
import type { LifecycleRules } from './hour-window/hour-lifecycle.ts';
import { isReplaying, type HourMark } from './hour-window/partition-state.ts';
import { moveFloor, settledFloor } from './hour-window/settling.ts';
import type { ProcessorMetrics } from './metrics.ts';
import type { Partition } from './partition.ts';
import { rowVersion } from './row-version.ts';
import type { RowWriter } from './row-writer.ts';

/**
 * Turns a model row into the stored row: its finality, the write's version (row-version.ts) and
 * time (epoch ms). Undefined when the row cannot be stored (a number that is not finite): it is
 * dropped, counted and logged, and the row stored before it, if any, stays.
 */
export type FinishRow<ModelRow, Row> = (row: ModelRow, final: boolean, version: number, writtenAt: number) => Row | undefined;

export interface FlushStepOptions<ModelRow, Row> {
  /** The partitions held now (revoked ones leave the map). */
  partitions: ReadonlyMap<number, Partition<ModelRow>>;
  writer: RowWriter<Row>;
  finishRow: FinishRow<ModelRow, Row>;
  commit: RecordConsumer['commit'];
  rules: LifecycleRules;
  metrics: ProcessorMetrics;
  log: Pick<Log, 'warn'>;
  now: () => number;
}

/** Runs one flush; resolves once its rows are stored and its offsets committed. */
export type FlushStep = () => Promise<void>;

export function createFlushStep<ModelRow, Row>(options: FlushStepOptions<ModelRow, Row>): FlushStep {
  const { partitions, writer, finishRow, rules, metrics, log, now } = options;
  // Hours whose dropped rows were logged: once per cluster-hour (gone with the hour's mark).
  const loggedDrops = new WeakSet<HourMark>();

  const dropped = (write: HourWrite): void => {
    metrics.rowsDropped.inc({ reason: 'non_finite' });
    const mark = write.cluster.hours.get(write.hour);
    if (!mark || loggedDrops.has(mark)) return;
    loggedDrops.add(mark);
    const { tenant, cluster } = write.cluster;
    log.warn(
      { tenant, cluster, hour: new Date(write.hour).toISOString() },
      'not writing a row with a number that is not finite (its samples are out of any sane range); the row stored before, if any, stays',
    );
  };

  const rowsToWrite = (t: number): { rows: Row[]; writes: HourWrite[]; finalRows: number } => {
    const rows: Row[] = [];
    const writes: HourWrite[] = [];
    let finalRows = 0;
    for (const p of partitions.values()) {
      for (const write of planFlush(p, t, rules)) {
        const version = rowVersion(p.next, write.final);
        const hourRows = p.model.rows(write.cluster.tenant, write.cluster.cluster, write.hour);
        for (const row of hourRows) {
          const finished = finishRow(row, write.final, version, t);
          if (finished === undefined) {
            dropped(write);
            continue;
          }
          rows.push(finished);
          if (write.final) finalRows++;
        }
        writes.push(write);
      }
    }
    return { rows, writes, finalRows };
  };

  const settle = (t: number): void => {
    for (const p of partitions.values()) {
      const replaying = isReplaying(p);
      for (const c of p.clusters.values()) {
        const floor = settledFloor(c, replaying, t, rules);
        if (moveFloor(c, floor)) p.model.evictBefore(c.tenant, c.cluster, floor);
      }
    }
  };

  const commit = async (): Promise<void> => {
    const commits: PartitionCommit[] = [];
    for (const p of partitions.values()) {
      const next = nextCommit(p);
      if (next) commits.push(next);
    }
    await options.commit(commits);
    for (const c of commits) {
      const p = partitions.get(c.partition);
      if (p) noteCommitted(p, c);
    }
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

  return async () => {
    const started = process.hrtime.bigint();
    const t = now();
    const { rows, writes, finalRows } = rowsToWrite(t);
    if (rows.length > 0) await writer.write(rows);
    markWritten(writes);
    metrics.rowsWritten.inc({ final: 'true' }, finalRows);
    metrics.rowsWritten.inc({ final: 'false' }, rows.length - finalRows);
    settle(t);
    await commit();
    updateGauges(t);
    metrics.flushDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };
}
