// When hours settle and the cluster's floor moves. An hour settles once it is past its late window
// and its final rows, reflecting every change, are stored; hours settle oldest first, so the floor
// only moves forward. Samples before the floor are too late: their hours' state is gone.
import { isSettled, windowClock, type LifecycleRules } from './hour-lifecycle.ts';
import { HOUR_MS } from '../../core/hours.ts';
import type { ClusterState } from './partition-state.ts';

/** The floor the cluster may move to at `now` (its current floor when no hour settles). */
export function settledFloor(cluster: ClusterState, replaying: boolean, now: number, rules: LifecycleRules): number {
  const clock = windowClock(cluster, replaying);
  let floor = cluster.floor;
  for (const hour of [...cluster.hours.keys()].sort((a, b) => a - b)) {
    const mark = cluster.hours.get(hour)!;
    // Context hours (below the floor of a restart) are never written: done once settled.
    const stored = hour < cluster.contextFloor || (mark.writtenFinal && mark.seq === mark.writtenSeq);
    if (!stored || !isSettled(hour, clock, now, rules)) break;
    floor = hour + HOUR_MS;
  }
  return floor;
}

/** Moves the floor and drops the hours before it; false when it does not move (nothing to evict). */
export function moveFloor(cluster: ClusterState, floor: number): boolean {
  if (floor <= cluster.floor) return false;
  for (const hour of cluster.hours.keys()) if (hour < floor) cluster.hours.delete(hour);
  cluster.floor = floor;
  return true;
}
