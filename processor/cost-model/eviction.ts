// Dropping the hours before a given hour without changing any later hour's rows. A later hour
// needs, of the evicted samples, only each series' last one: the previous sample of its first
// kept sample (the interval rule, counter increases). That sample stays as the stream's anchor.
import type { ClusterState } from './cluster-state.ts';
import { SampleBuffer } from './sample-streams.ts';
import { firstAtOrAfter } from './hour-reading.ts';
import { Kind, Reading, readingOf } from './metrics.ts';

const buf = new SampleBuffer();

export function evictBefore(state: ClusterState, hourStartMs: number, silentSeriesRetentionMs: number): void {
  const table = state.table;
  const streams = table.streams;
  let removed = 0;
  for (let row = 0; row < table.rowCount; row++) {
    if (table.kind[row] === 0) continue;
    streams.decode(row, buf);
    if (buf.n === 0) {
      table.remove(row); // every sample it was sent was invalid
      removed++;
      continue;
    }
    const kept = firstAtOrAfter(buf, hourStartMs);
    if (kept === 0) continue; // nothing before the hour
    const reading = readingOf(table.kind[row]);
    if (reading === Reading.Presence || table.kind[row] === Kind.WorkingSet) {
      // Read per hour only, never through a previous sample: no anchor to keep.
      if (kept === buf.n) {
        table.remove(row);
        removed++;
      } else streams.rewrite(row, buf, kept, buf.n, false, reading === Reading.Presence);
      continue;
    }
    if (kept === buf.n) {
      // Silent since before the hour: keep only the last sample, for a while.
      const last = buf.n - 1;
      if (buf.ts[last] < hourStartMs - silentSeriesRetentionMs) {
        table.remove(row);
        removed++;
      } else if (!(last === 0 && buf.first === 1)) streams.rewrite(row, buf, last, buf.n, true);
      continue;
    }
    if (kept === 1 && buf.first === 1) continue; // only the anchor lies before the hour
    streams.rewrite(row, buf, kept - 1, buf.n, true);
  }
  if (removed > 0) table.rebuildIndex();
  state.sums.evictBefore(hourStartMs);
  table.compactStrings();
  if (hourStartMs > state.evictedBefore) state.evictedBefore = hourStartMs;
  for (const hour of state.hours) if (hour < hourStartMs) state.hours.delete(hour);
  state.forgetLastHour();
}
