// What the stored rows of k8s_expenses and k8s_node_expenses have in common: columns listed with
// their ClickHouse types, a model row finished with its write's finality, version and time (and
// refused when a number is not finite), deletion rows built from the columns, and the checks and
// text forms of the key and version columns.
import { HOUR_MS } from '../../core/hours.ts';

/** A table's columns in order, with their ClickHouse types (a test compares them with the table). */
export type Columns<Row> = readonly (readonly [name: keyof Row & string, type: string])[];

/** The columns every stored row adds to its model row. */
export interface WriteColumns {
  /** false while the hour is open (provisional), true once it closed (UInt8 column). */
  is_final: boolean;
  /** Write version (processor/row-version.ts: from the partition offset read): the highest one per key wins. */
  version: number;
  /** A deletion row: the key is gone from its hour (FINAL leaves it out). Default false. */
  is_deleted?: boolean;
  /** Epoch milliseconds of the write. */
  updated_at: number;
}

/** The names of the number columns (Float64, nullable or not). */
export function numberColumns<Row>(columns: Columns<Row>): (keyof Row & string)[] {
  return columns.filter(([, type]) => type === 'Float64' || type === 'Nullable(Float64)').map(([name]) => name);
}

/**
 * The stored row of a model row, or undefined when one of `numbers` is not finite: JSON would carry
 * it as null, which ClickHouse stores as 0, a silent wrong cost (the model refuses the samples that
 * could cause it, so this is the last guard, not the rule).
 */
export function finishRow<ModelRow extends object>(row: ModelRow, numbers: readonly string[], final: boolean, version: number, writtenAt: number): (ModelRow & WriteColumns) | undefined {
  for (const name of numbers) {
    const value = (row as Record<string, unknown>)[name] as number | null;
    if (value !== null && !Number.isFinite(value)) return undefined;
  }
  return { ...row, is_final: final, version, updated_at: writtenAt };
}

const MAP = Symbol('a new empty map');
/** What a deletion row holds in a column of each type (its key, flags and version are set apart). */
const EMPTY_BY_TYPE: Readonly<Record<string, unknown>> = {
  'LowCardinality(String)': '',
  String: '',
  Float64: 0,
  'Nullable(Float64)': null,
  'Map(String, String)': MAP,
  UInt8: false,
};

/**
 * A deletion row: `key` (the key columns within the hour), is_deleted, the write's finality, version
 * and time, and nothing else (zeros, nulls and empty strings).
 */
export function deletionRowOf<Row>(
  columns: Columns<Row>,
  where: { tenant: string; cluster: string; hour: number },
  key: Partial<Row>,
  write: { final: boolean; version: number; writtenAt: number },
): Row {
  const row: Record<string, unknown> = {};
  for (const [name, type] of columns) row[name] = EMPTY_BY_TYPE[type] === MAP ? {} : EMPTY_BY_TYPE[type];
  return {
    ...row,
    tenant_id: where.tenant,
    cluster: where.cluster,
    hour: where.hour,
    ...key,
    is_final: write.final,
    version: write.version,
    is_deleted: true,
    updated_at: write.writtenAt,
  } as Row;
}

/** Throws a TypeError for a row that would be stored under a wrong key or version. */
export function checkHourAndVersion(row: { hour: number; version: number }, what: string): void {
  if (!Number.isInteger(row.hour) || row.hour % HOUR_MS !== 0) {
    throw new TypeError(`${what}.hour must be the epoch milliseconds of a whole hour, got ${row.hour}`);
  }
  if (!Number.isSafeInteger(row.version) || row.version < 0) {
    throw new TypeError(`${what}.version must be a non-negative safe integer, got ${row.version}`);
  }
}

/** "2024-05-01 13:00:00.000": the text form DateTime64(3) parses without best-effort settings. */
export function formatDateTime64(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}
