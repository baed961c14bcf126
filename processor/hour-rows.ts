// The rows one write of an hour stores: the model's rows of the hour, finished (finality, version,
// time), and a deletion row for each key that may be live in the table but is no longer among them
// (hour-window/stored-keys.ts). A row that cannot be stored (a number that is not finite) is
// dropped, counted and logged once per cluster-hour; its key counts as still there, so the row
// stored before it, if any, stays rather than being deleted.
import type { Log } from '../core/log.ts';
import type { HourlyCostModel } from './cost-model-port.ts';
import type { HourWrite } from './hour-window/flush-plan.ts';
import type { HourMark } from './hour-window/partition-state.ts';
import { vanishedKeys } from './hour-window/stored-keys.ts';
import type { ProcessorMetrics } from './metrics.ts';

/**
 * Turns a model row into the stored row: its finality, the write's version (row-version.ts) and
 * time (epoch ms). Undefined when the row cannot be stored (a number that is not finite).
 */
export type FinishRow<ModelRow, Row> = (row: ModelRow, final: boolean, version: number, writtenAt: number) => Row | undefined;

/** How rows that vanish from an hour are deleted. */
export interface RowDeletion<ModelRow, Row> {
  /** A model row's key within its (tenant, cluster, hour). */
  keyOf(row: ModelRow): string;
  /** The stored row that deletes `key` of an hour, with the write's finality, version and time. */
  deletionRow(tenant: string, cluster: string, hour: number, key: string, final: boolean, version: number, writtenAt: number): Row;
}

export interface HourRowsOptions<ModelRow, Row> {
  finishRow: FinishRow<ModelRow, Row>;
  /** Without it, rows are only ever added or replaced (keys are not followed). */
  deletion?: RowDeletion<ModelRow, Row>;
  metrics: ProcessorMetrics;
  log: Pick<Log, 'warn'>;
}

/** What one write of an hour added to the batch. */
export interface HourRows {
  /** Rows of the model (finished and stored). */
  rows: number;
  /** Deletion rows. */
  deletions: number;
  /** The hour's current keys (when keys are followed): noted as stored once the batch is. */
  keys: Set<string> | undefined;
}

/** Appends the rows of one write of an hour to `out`. */
export type AddHourRows<ModelRow, Row> = (model: HourlyCostModel<ModelRow>, write: HourWrite, version: number, writtenAt: number, out: Row[]) => HourRows;

export function createHourRows<ModelRow, Row>(options: HourRowsOptions<ModelRow, Row>): AddHourRows<ModelRow, Row> {
  const { finishRow, deletion, metrics, log } = options;
  // Hours whose dropped rows were logged: once per cluster-hour (gone with the hour's mark).
  const loggedDrops = new WeakSet<HourMark>();

  const dropped = (write: HourWrite, mark: HourMark | undefined): void => {
    metrics.rowsDropped.inc({ reason: 'non_finite' });
    if (!mark || loggedDrops.has(mark)) return;
    loggedDrops.add(mark);
    const { tenant, cluster } = write.cluster;
    log.warn(
      { tenant, cluster, hour: new Date(write.hour).toISOString() },
      'not writing a row with a number that is not finite (its samples are out of any sane range); the row stored before, if any, stays',
    );
  };

  return (model, write, version, writtenAt, out) => {
    const { tenant, cluster } = write.cluster;
    const mark = write.cluster.hours.get(write.hour);
    const keys = deletion ? new Set<string>() : undefined;
    let rows = 0;
    for (const row of model.rows(tenant, cluster, write.hour)) {
      keys?.add(deletion!.keyOf(row));
      const finished = finishRow(row, write.final, version, writtenAt);
      if (finished === undefined) {
        dropped(write, mark);
        continue;
      }
      out.push(finished);
      rows++;
    }
    let deletions = 0;
    if (deletion && keys && mark) {
      for (const key of vanishedKeys(mark, keys)) {
        out.push(deletion.deletionRow(tenant, cluster, write.hour, key, write.final, version, writtenAt));
        deletions++;
      }
    }
    return { rows, deletions, keys };
  };
}
