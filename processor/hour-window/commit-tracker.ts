// Which offset of a partition may be committed. A record may be committed once no hour it fed can
// still change, and the hour before the oldest such hour is kept too, because a sample's interval
// reaches back to the series' previous sample: a restart replays that hour as context so the
// rebuilt hours come out exactly as before. Records are kept as runs, one per rise in the newest
// hour they fed, so the bookkeeping stays a handful of entries per partition.
import { HOUR_MS } from '../../core/hours.ts';

interface Run {
  /** Offset of the first record of the run. */
  start: bigint;
  /** Newest hour any record of the run fed (-Infinity for records without samples). */
  maxHour: number;
}

export interface CommitTracker {
  /** Notes a processed record; `maxHour` is the newest hour its samples fell in. */
  note(offset: bigint, maxHour: number): void;
  /**
   * The offset to commit (next record to read) when every hour before `floorHour` is settled:
   * records feeding `floorHour - 1` or later stay uncommitted.
   */
  commitPoint(floorHour: number): bigint | undefined;
  /** Forgets runs before a committed offset. */
  committed(offset: bigint): void;
  readonly runs: number;
}

export function createCommitTracker(): CommitTracker {
  const runs: Run[] = [];
  let next: bigint | undefined;
  return {
    note(offset, maxHour) {
      next = offset + 1n;
      const last = runs.at(-1);
      // Merging a record into a run with a newer hour only delays its commit: always safe.
      if (last && maxHour <= last.maxHour) return;
      runs.push({ start: offset, maxHour });
    },
    commitPoint(floorHour) {
      if (next === undefined) return undefined;
      const keepFrom = floorHour - HOUR_MS;
      const first = runs.find((r) => r.maxHour >= keepFrom);
      return first ? first.start : next;
    },
    committed(offset) {
      // A run starting before `offset` but still needed is never cut: commitPoint returns run starts.
      while (runs.length > 0 && runs[0].start < offset && (runs.length === 1 ? next! <= offset : runs[1].start <= offset)) runs.shift();
    },
    get runs() {
      return runs.length;
    },
  };
}
