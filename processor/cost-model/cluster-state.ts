// The state of one (tenant, cluster): its series, the hours that have samples, and how far it has
// been evicted. Adding samples happens here: the in-order append is the hot path; anything else
// (retries, out-of-order arrivals, samples of evicted hours) decodes and re-encodes the stream.
import { HOUR_MS } from '../../core/hours.ts';
import { HourSums } from './hour-sums.ts';
import { Kind, Reading, readingOf } from './metrics.ts';
import { RejectedSeries, type Rejection } from './rejected-series.ts';
import { SampleBuffer } from './sample-streams.ts';
import { SeriesTable } from './series-table.ts';
import type { SampleCounts, NumberColumn } from './types.ts';
import type { WordArena } from './word-arena.ts';

const MAX_TS = 2 ** 53;
/**
 * The largest value a sample may have (RULES.md section 1). No quantity, counter or price comes near
 * it, and below it every product the rules form (value x interval x price, summed over an hour)
 * stays far inside the doubles: a sample of 1e308 once overflowed a cost to Infinity.
 */
const MAX_SAMPLE_VALUE = 1e18;
const scratch = new SampleBuffer();

/** A repeated sample keeps the larger value; a value beats a stale marker. Order-independent. */
function replaces(newStale: boolean, newValue: number, oldStale: number, oldValue: number): boolean {
  if (oldStale === 1) return !newStale;
  return !newStale && newValue > oldValue;
}

export class ClusterState {
  readonly table: SeriesTable;
  /** Samples before this hour start have been evicted (-Infinity: nothing evicted yet). */
  evictedBefore = -Infinity;
  /** Hour starts holding at least one sample. */
  readonly hours = new Set<number>();
  /** Per-hour value sums of the series read as a mean (working set). */
  readonly sums = new HourSums();
  /** Series known not to be usable, and why. Bounded, see remember(). */
  private readonly rejected = new RejectedSeries();
  private lastHour = NaN;

  constructor(
    readonly tenant: string,
    readonly cluster: string,
    arena: WordArena,
  ) {
    this.table = new SeriesTable(arena);
  }

  rejectedKind(h1: number, h2: number): Rejection | undefined {
    return this.rejected.get(h1, h2);
  }

  remember(h1: number, h2: number, what: Rejection): void {
    // A cache, not state: when it grows past a bound it is dropped and refilled (the labels of a
    // rejected series are then read once more).
    if (this.rejected.size >= 100_000) this.rejected.clear();
    this.rejected.set(h1, h2, what);
  }

  rejectedBytes(): number {
    return this.rejected.bytes();
  }

  /** Adds samples [start, end) to a series' row. */
  addSamples(row: number, timestamps: NumberColumn, values: NumberColumn, stale: NumberColumn | null, start: number, end: number, counts: SampleCounts): void {
    const streams = this.table.streams;
    const kind = this.table.kind[row];
    if (readingOf(kind) === Reading.Presence) {
      this.addMarks(row, timestamps, values, stale, start, end, counts);
      return;
    }
    const quantise = kind === Kind.CpuUsage;
    const mean = kind === Kind.WorkingSet;
    for (let i = start; i < end; i++) {
      const ts = timestamps[i];
      let v = values[i];
      const isStale = (stale !== null && stale[i] !== 0) || v !== v;
      if (!Number.isInteger(ts) || ts < 0 || ts >= MAX_TS || (!isStale && (v < 0 || v > MAX_SAMPLE_VALUE))) {
        counts.invalid++;
        continue;
      }
      if (isStale) v = NaN;
      else {
        v += 0; // -0 becomes +0: equal values must have equal bits
        // CPU seconds are kept in whole milliseconds: a millisecond over a one-minute scrape is
        // 2e-5 cores, below the noise of scrape timing, and integer values take half the bits.
        if (quantise) v = Math.round(v * 1e3);
        else if (mean) v = Math.round(v); // whole bytes: sums of integers are exact in any order
      }
      if (ts < this.evictedBefore) {
        if (!mean) this.addLate(row, ts, v, isStale); // a mean needs no previous sample
        counts.late++;
        continue;
      }
      // A mean series keeps only timestamps in its stream (value 0) and its values in `sums`.
      const held = mean && !isStale ? 0 : v;
      let ok: boolean | 'duplicate';
      if (streams.isEmpty(row) || ts > streams.lastTs[row]) ok = streams.append(row, ts, held, isStale);
      else if (ts === streams.lastTs[row] && streams.lastEquals(row, held, isStale)) ok = 'duplicate';
      else ok = this.insert(row, ts, held, isStale, mean);
      if (ok === 'duplicate') counts.duplicate++;
      else if (!ok) counts.invalid++;
      else {
        if (mean && !isStale) this.sums.add(row, ts, v);
        counts.accepted++;
        const hour = ts - (ts % HOUR_MS);
        if (hour !== this.lastHour) {
          this.hours.add(hour);
          this.lastHour = hour;
        }
      }
    }
  }

  /**
   * Presence series (owner, labels, selectors): only the last non-stale sample of each hour is
   * read, so only that one is kept. A sample at or before the one held for its hour changes nothing
   * and is a duplicate (a resent sample always is one); a stale marker says nothing about presence
   * and is ignored.
   */
  private addMarks(row: number, timestamps: NumberColumn, values: NumberColumn, stale: NumberColumn | null, start: number, end: number, counts: SampleCounts): void {
    const streams = this.table.streams;
    for (let i = start; i < end; i++) {
      const ts = timestamps[i];
      if (!Number.isInteger(ts) || ts < 0 || ts >= MAX_TS) {
        counts.invalid++;
        continue;
      }
      const v = values[i];
      if ((stale !== null && stale[i] !== 0) || v !== v) {
        counts.ignored++;
        continue;
      }
      if (ts < this.evictedBefore) {
        counts.late++;
        continue;
      }
      const hour = ts - (ts % HOUR_MS);
      const last = streams.lastTs[row];
      // Both computed for every sample: the first samples of a cluster all start empty streams,
      // and a comparison the code compiled then had never run threw it away at the next sample.
      const empty = streams.isEmpty(row);
      const laterHour = ts > last && last - (last % HOUR_MS) !== hour;
      let ok: boolean | 'duplicate' = true;
      if (empty || laterHour) ok = streams.appendMark(row, ts);
      else if (ts > last) streams.replaceLastMark(row, ts);
      else if (ts === last) ok = 'duplicate';
      else ok = this.insertMark(row, ts, hour);
      if (ok === 'duplicate') counts.duplicate++;
      else if (!ok) counts.invalid++;
      else {
        counts.accepted++;
        this.hours.add(hour);
      }
    }
  }

  private insertMark(row: number, ts: number, hour: number): boolean | 'duplicate' {
    const streams = this.table.streams;
    streams.decode(row, scratch);
    const buf = scratch;
    for (let i = 0; i < buf.n; i++) {
      const t = buf.ts[i];
      if (t - (t % HOUR_MS) !== hour) continue;
      if (t >= ts) return 'duplicate'; // this one, or a later sample of the hour, is held
      buf.ts[i] = ts;
      return streams.rewrite(row, buf, 0, buf.n, false, true);
    }
    let at = 0;
    while (at < buf.n && buf.ts[at] < ts) at++;
    insertAt(buf, at, ts, 0, false);
    return streams.rewrite(row, buf, 0, buf.n, false, true);
  }

  /** Drops the cached "last hour added" (after eviction removed hours). */
  forgetLastHour(): void {
    this.lastHour = NaN;
  }

  /** A sample at or before the newest held one: a duplicate, or an insertion in the middle. */
  private insert(row: number, ts: number, v: number, isStale: boolean, keepFirst: boolean): boolean | 'duplicate' {
    const streams = this.table.streams;
    streams.decode(row, scratch);
    const buf = scratch;
    let lo = 0;
    let hi = buf.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buf.ts[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    if (lo < buf.n && buf.ts[lo] === ts) {
      // A mean series holds no values to compare: its first sample at a timestamp stays.
      if (!keepFirst && replaces(isStale, v, buf.stale[lo], buf.val[lo])) {
        buf.val[lo] = v;
        buf.stale[lo] = isStale ? 1 : 0;
        if (!streams.rewrite(row, buf, 0, buf.n, buf.first === 1)) return false;
      }
      return 'duplicate';
    }
    insertAt(buf, lo, ts, v, isStale);
    return streams.rewrite(row, buf, 0, buf.n, buf.first === 1);
  }

  /** A sample of an evicted hour: it may only become the series' anchor (its previous sample). */
  private addLate(row: number, ts: number, v: number, isStale: boolean): void {
    const streams = this.table.streams;
    streams.decode(row, scratch);
    const buf = scratch;
    if (buf.first === 1) {
      if (ts < buf.ts[0]) return;
      if (ts === buf.ts[0] && !replaces(isStale, v, buf.stale[0], buf.val[0])) return;
      buf.ts[0] = ts;
      buf.val[0] = v;
      buf.stale[0] = isStale ? 1 : 0;
    } else insertAt(buf, 0, ts, v, isStale);
    streams.rewrite(row, buf, 0, buf.n, true);
  }
}

function insertAt(buf: SampleBuffer, at: number, ts: number, v: number, isStale: boolean): void {
  buf.push(0, 0, 0);
  buf.ts.copyWithin(at + 1, at, buf.n - 1);
  buf.val.copyWithin(at + 1, at, buf.n - 1);
  buf.stale.copyWithin(at + 1, at, buf.n - 1);
  buf.ts[at] = ts;
  buf.val[at] = v;
  buf.stale[at] = isStale ? 1 : 0;
}
