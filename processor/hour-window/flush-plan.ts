// Which hours a flush writes, and with which finality. An hour's rows are written again whenever
// a sample changed it since its rows were stored, and once more when it closes, so that its stored
// rows turn final even when nothing changed. Hours below a cluster's context floor were settled
// before a restart: they are rebuilt only as context and never written again.
import { isClosed, windowClock, type LifecycleRules } from './hour-lifecycle.ts';
import { isReplaying, type ClusterState, type HourMark, type PartitionState } from './partition-state.ts';

/** One hour a flush writes: `seq` is the change its rows reflect, `final` whether they are final. */
export interface HourWrite {
  readonly cluster: ClusterState;
  readonly hour: number;
  readonly seq: number;
  readonly final: boolean;
}

/** Whether the stored rows of an hour are behind: it changed since, or it closed since. */
export function needsWrite(mark: HourMark, final: boolean): boolean {
  return mark.seq !== mark.writtenSeq || (final && !mark.writtenFinal);
}

/** The hours of one partition a flush at `now` writes, in the order its clusters and hours were first seen. */
export function planFlush(state: PartitionState, now: number, rules: LifecycleRules): HourWrite[] {
  const writes: HourWrite[] = [];
  const replaying = isReplaying(state);
  for (const cluster of state.clusters.values()) {
    const clock = windowClock(cluster, replaying);
    for (const [hour, mark] of cluster.hours) {
      if (hour < cluster.contextFloor) continue;
      const final = isClosed(hour, clock, now, rules);
      if (needsWrite(mark, final)) writes.push({ cluster, hour, seq: mark.seq, final });
    }
  }
  return writes;
}

/**
 * Records that the rows of the planned hours are stored. A change that came in while they were
 * written has a newer seq, so the hour stays behind and the next flush writes it again. The stored
 * finality is the last write's: an hour that closed by silence and was reopened by new samples of
 * it is stored provisional again, so it is written final once more when it closes again.
 */
export function markWritten(writes: readonly HourWrite[]): void {
  for (const { cluster, hour, seq, final } of writes) {
    const mark = cluster.hours.get(hour);
    if (!mark) continue;
    mark.writtenSeq = seq;
    mark.writtenFinal = final;
  }
}
