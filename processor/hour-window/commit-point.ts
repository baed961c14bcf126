// What offset of a partition may be committed, and what the commit's metadata holds. The offset
// keeps every record that feeds an hour at or after the partition floor, or the hour before it (a
// rebuild's context). The metadata names, besides the floor, every cluster whose own floor differs
// from it, so that a restart settles each cluster where this process had settled it.
import { encodeCommitMetadata } from './commit-metadata.ts';
import { partitionFloor, settledBefore, type PartitionState } from './partition-state.ts';

export interface PartitionCommit {
  readonly partition: number;
  /** The next record to read after a restart. */
  readonly offset: bigint;
  readonly metadata: string;
}

/** The offset the partition may commit now and its metadata; undefined before its first record. */
export function commitPoint(state: PartitionState): PartitionCommit | undefined {
  let floor = partitionFloor(state);
  const offset = state.tracker.commitPoint(floor);
  if (offset === undefined) return undefined;
  if (!Number.isFinite(floor)) {
    // Nothing can change any more: the newest settled hour boundary (the others are listed).
    floor = Math.max(state.contextFloor, ...[...state.clusters.values()].map(settledBefore));
  }
  const clusters = new Map<string, number>();
  // Clusters of an earlier commit not seen since: nothing changed for them.
  for (const [id, clusterFloor] of state.clusterFloors) if (!state.clusters.has(id)) clusters.set(id, clusterFloor);
  for (const [id, c] of state.clusters) clusters.set(id, settledBefore(c));
  for (const [id, clusterFloor] of clusters) if (clusterFloor === floor || !Number.isFinite(clusterFloor)) clusters.delete(id);
  return { partition: state.partition, offset, metadata: encodeCommitMetadata(floor, clusters) };
}

/**
 * The commit a flush makes for the partition, if any: when the offset advances, and also when
 * hours settled while the offset stayed (a run of records still feeds a newer hour): the same
 * offset again with the new floors, so a restart does not rebuild and rewrite hours whose too-late
 * samples this process has been dropping.
 */
export function nextCommit(state: PartitionState): PartitionCommit | undefined {
  const next = commitPoint(state);
  if (next === undefined) return undefined;
  const advances = state.lastCommitted === undefined || next.offset > state.lastCommitted;
  const refreshes = next.offset === state.lastCommitted && next.metadata !== state.committedMetadata;
  return advances || refreshes ? next : undefined;
}

/** Records a stored commit: the tracker forgets the records before it. */
export function noteCommitted(state: PartitionState, commit: PartitionCommit): void {
  state.lastCommitted = commit.offset;
  state.committedMetadata = commit.metadata;
  state.tracker.committed(commit.offset);
}
