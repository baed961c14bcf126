// The hour window's state for one partition: each cluster's clocks, floor and hours (what changed
// since it was written), and the offsets still needed for a replay. The cost model's state for the
// same clusters sits beside it (processor/partition.ts); nothing here knows about the model.
import { decodeCommitMetadata } from './commit-metadata.ts';
import { createCommitTracker, type CommitTracker } from './commit-tracker.ts';
import type { ClusterClock } from './hour-lifecycle.ts';
import { HOUR_MS } from '../../core/hours.ts';

export interface HourMark {
  /** Bumped whenever a sample changes the hour (or the hour after it, through intervals). */
  seq: number;
  /** The seq whose rows are stored. */
  writtenSeq: number;
  writtenFinal: boolean;
  /**
   * Keys (opaque to the window: the writer's namespace and pod) of the hour's rows that may be live
   * in the table: those this process wrote, and those read from the table before it first wrote
   * the hour (stored-keys.ts). Undefined: not known yet, to be read before the first write.
   */
  storedKeys?: Set<string>;
  /** The highest version among the rows read from the table for the hour (0 or unset: none). */
  storedVersion?: number;
}

export interface ClusterState extends ClusterClock {
  readonly tenant: string;
  readonly cluster: string;
  /** Hours before this are settled: their samples are dropped as too late. */
  floor: number;
  /** Hours before this were settled before a restart: rebuilt only as context, never written. */
  readonly contextFloor: number;
  readonly hours: Map<number, HourMark>;
}

export interface PartitionState {
  readonly partition: number;
  readonly clusters: Map<string, ClusterState>;
  readonly tracker: CommitTracker;
  /** The floor of the last commit before this process took the partition (-Infinity: none). */
  readonly contextFloor: number;
  /** Clusters that were further on than contextFloor at that commit, by clusterId(). */
  readonly clusterFloors: ReadonlyMap<string, number>;
  /**
   * The partition's end when this process took it: records before it are a backlog (a restart's
   * replay, or a new group reading history), whose record times say nothing about whether a
   * cluster went silent, so hours close only by event time until it is read.
   */
  replayEnd: bigint;
  /** Next offset to read. */
  next: bigint;
  lastCommitted: bigint | undefined;
  /** The metadata stored with the last commit. */
  committedMetadata: string | undefined;
}

/** Whether the partition is still reading the backlog it had when this process took it. */
export function isReplaying(state: PartitionState): boolean {
  return state.next < state.replayEnd;
}

export function createPartitionState(partition: number, start: { committed: bigint | undefined; metadata: string | undefined; end: bigint }): PartitionState {
  const { floor, clusters } = decodeCommitMetadata(start.metadata);
  return {
    partition,
    clusters: new Map(),
    tracker: createCommitTracker(),
    contextFloor: floor,
    clusterFloors: clusters,
    replayEnd: start.end,
    next: start.committed ?? 0n,
    lastCommitted: start.committed,
    committedMetadata: start.metadata,
  };
}

export function clusterId(tenant: string, cluster: string): string {
  return `${tenant}\u0000${cluster}`;
}

export function clusterState(state: PartitionState, tenant: string, cluster: string): ClusterState {
  const id = clusterId(tenant, cluster);
  let c = state.clusters.get(id);
  if (!c) {
    const contextFloor = state.clusterFloors.get(id) ?? state.contextFloor;
    // During a replay the hour before the context floor is not needed: drop it like a late sample.
    const floor = Number.isFinite(contextFloor) ? contextFloor - HOUR_MS : -Infinity;
    state.clusters.set(id, (c = { tenant, cluster, floor, contextFloor, hours: new Map(), watermark: -Infinity, lastArrival: -Infinity }));
  }
  return c;
}

/** Hours before this are settled for the cluster (in this process, or before a restart). */
export function settledBefore(c: ClusterState): number {
  return Math.max(c.floor, c.contextFloor);
}

/**
 * Samples were added to hours fromHour..toHour. Through the interval rule (a sample stands for the
 * time since its predecessor; a series' first sample, or the first after a stale marker, stands for
 * the time to its successor) the neighbouring hours can change too:
 * - the hour after: its first sample may now have a new predecessor;
 * - the hour before, when `reachesBack` (the oldest new sample is within MAX_SAMPLE_GAP of its hour's
 *   start): its last sample may be a first sample that now has a successor, e.g. a pod that started
 *   in the last scrape interval of the hour. Left unmarked, that hour kept the row written before
 *   the successor arrived, or not, depending on when flushes happened.
 * `storedNothing`: the samples come from a record after the backlog this process took over, so an
 * hour they open was never written by anyone (no need to read what the table holds for it).
 */
export function markChanged(c: ClusterState, fromHour: number, toHour: number, reachesBack = false, storedNothing = false): void {
  if (reachesBack) {
    const before = c.hours.get(fromHour - HOUR_MS);
    if (before) before.seq++;
  }
  for (let h = fromHour; h <= toHour; h += HOUR_MS) {
    const mark = c.hours.get(h);
    if (mark) mark.seq++;
    else c.hours.set(h, storedNothing ? { seq: 1, writtenSeq: 0, writtenFinal: false, storedKeys: new Set() } : { seq: 1, writtenSeq: 0, writtenFinal: false });
  }
  const after = c.hours.get(toHour + HOUR_MS);
  if (after) after.seq++;
}

/**
 * The oldest hour that can still change, over all clusters of the partition (Infinity when none).
 * Context hours rebuilt below a cluster's floor of a restart do not count: the floor never goes back.
 */
export function partitionFloor(state: PartitionState): number {
  let floor = Infinity;
  for (const c of state.clusters.values()) for (const h of c.hours.keys()) if (h < floor && h >= c.contextFloor) floor = h;
  return floor;
}
