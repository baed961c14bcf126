// One flush: the rows of every hour the hour window says is behind are computed and written in one
// batch (with deletion rows for keys the hours no longer have, see hour-rows.ts), then the hours are
// marked written, settled hours are dropped (from the window and the model), and offsets are
// committed as far as the window allows. The order is what makes it exactly once: nothing is
// committed before the rows its records fed are stored.
import type { Log } from '../core/log.ts';
import type { RecordConsumer } from '../ingest/record-log.ts';
import { nextCommit, noteCommitted, type PartitionCommit } from './hour-window/commit-point.ts';
import { markWritten, planFlush, type HourWrite } from './hour-window/flush-plan.ts';
import type { LifecycleRules } from './hour-window/hour-lifecycle.ts';
import { isReplaying } from './hour-window/partition-state.ts';
import { moveFloor, settledFloor } from './hour-window/settling.ts';
import { noteStored } from './hour-window/stored-keys.ts';
import { createHourRows, type FinishRow, type RowDeletion } from './hour-rows.ts';
import type { ProcessorMetrics } from './metrics.ts';
import type { Partition } from './partition.ts';
import { rowVersion } from './row-version.ts';
import { createSampleAgeGauge, type SampleAgeGauge } from './sample-age.ts';
import type { RowWriter } from './row-writer.ts';
import { readStoredHours } from './stored-hours.ts';

export type { FinishRow, RowDeletion } from './hour-rows.ts';

export interface FlushStepOptions<ModelRow, Row> {
  /** The partitions held now (revoked ones leave the map). */
  partitions: ReadonlyMap<number, Partition<ModelRow>>;
  writer: RowWriter<Row>;
  finishRow: FinishRow<ModelRow, Row>;
  /** Deletion rows for keys an hour no longer has (without it, rows are only added or replaced). */
  deletion?: RowDeletion<ModelRow, Row>;
  commit: RecordConsumer['commit'];
  rules: LifecycleRules;
  metrics: ProcessorMetrics;
  log: Pick<Log, 'warn'>;
  now: () => number;
  /** The newest-sample age gauge (default: one of its own). */
  sampleAge?: SampleAgeGauge;
}

/** Runs one flush; resolves once its rows are stored and its offsets committed. */
export type FlushStep = () => Promise<void>;

interface Written {
  write: HourWrite;
  version: number;
  keys: Set<string> | undefined;
}

export function createFlushStep<ModelRow, Row>(options: FlushStepOptions<ModelRow, Row>): FlushStep {
  const { partitions, writer, rules, metrics, now, deletion } = options;
  const addHourRows = createHourRows(options);
  const sampleAge = options.sampleAge ?? createSampleAgeGauge(metrics.newestSampleAge);

  const rowsToWrite = (t: number): { rows: Row[]; written: Written[]; finalRows: number; deletions: number } => {
    const rows: Row[] = [];
    const written: Written[] = [];
    let finalRows = 0;
    let deletions = 0;
    for (const p of partitions.values()) {
      for (const write of planFlush(p, t, rules)) {
        // Opened while the stored keys were read: written by the next flush, once they are known.
        if (deletion && write.cluster.hours.get(write.hour)?.storedKeys === undefined) continue;
        const version = rowVersion(p.next, write.final);
        const added = addHourRows(p.model, write, version, t, rows);
        if (write.final) finalRows += added.rows;
        deletions += added.deletions;
        written.push({ write, version, keys: added.keys });
      }
    }
    return { rows, written, finalRows, deletions };
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
      for (const c of p.clusters.values()) open += c.hours.size;
    }
    sampleAge.update(partitions.values(), t);
    metrics.openHours.set(open);
    metrics.stateBytes.set(bytes);
  };

  return async () => {
    const started = process.hrtime.bigint();
    const t = now();
    if (deletion) await readStoredHours(partitions, writer, t, rules);
    const { rows, written, finalRows, deletions } = rowsToWrite(t);
    if (rows.length > 0) await writer.write(rows);
    markWritten(written.map((w) => w.write));
    for (const { write, version, keys } of written) {
      const mark = write.cluster.hours.get(write.hour);
      if (mark && keys) noteStored(mark, keys, version);
    }
    metrics.rowsWritten.inc({ final: 'true' }, finalRows);
    metrics.rowsWritten.inc({ final: 'false' }, rows.length - deletions - finalRows);
    metrics.rowsDeleted.inc(deletions);
    settle(t);
    await commit();
    updateGauges(t);
    metrics.flushDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };
}
