// What the processor holds for one partition: the cost model's state for the clusters whose
// records land there, each cluster's clocks and hours, and the offsets still needed for replay.
import { createCommitTracker, type CommitTracker } from './commit-tracker.ts';
import type { ClusterClock } from './hour-lifecycle.ts';
import { HOUR_MS } from './hours.ts';

export interface HourMark {
  /** Bumped whenever a sample changes the hour (or the hour after it, through intervals). */
  seq: number;
  /** The seq whose rows are stored. */
  writtenSeq: number;
  writtenFinal: boolean;
}

export interface ClusterState extends ClusterClock {
  readonly tenant: string;
  readonly cluster: string;
  /** Hours before this are settled: their samples are dropped as too late. */
  floor: number;
  readonly hours: Map<number, HourMark>;
}

export interface PartitionState {
  readonly partition: number;
  readonly clusters: Map<string, ClusterState>;
  readonly tracker: CommitTracker;
  /** Hours before this were settled before a restart: rebuilt only as context, never written. */
  contextFloor: number;
  /**
   * The partition's end when this process took it: records before it are a backlog (a restart's
   * replay, or a new group reading history), whose record times say nothing about whether a
   * cluster went silent, so hours close only by event time until it is read.
   */
  replayEnd: bigint;
  /** Next offset to read. */
  next: bigint;
  lastCommitted: bigint | undefined;
}

/** Commit metadata: the floor lets a restart tell replayed context from hours it must write. */
export interface CommitMetadata {
  v: 1;
  floor: number;
}

export function encodeCommitMetadata(floor: number): string {
  return JSON.stringify({ v: 1, floor } satisfies CommitMetadata);
}

export function decodeCommitMetadata(text: string | undefined): number {
  if (!text) return -Infinity;
  try {
    const parsed = JSON.parse(text) as Partial<CommitMetadata>;
    return parsed.v === 1 && typeof parsed.floor === 'number' ? parsed.floor : -Infinity;
  } catch {
    return -Infinity;
  }
}

export function createPartitionState(partition: number, start: { committed: bigint | undefined; metadata: string | undefined; end: bigint }): PartitionState {
  const contextFloor = decodeCommitMetadata(start.metadata);
  return {
    partition,
    clusters: new Map(),
    tracker: createCommitTracker(),
    contextFloor,
    replayEnd: start.end,
    next: start.committed ?? 0n,
    lastCommitted: start.committed,
  };
}

export function clusterState(state: PartitionState, tenant: string, cluster: string): ClusterState {
  const id = `${tenant}\u0000${cluster}`;
  let c = state.clusters.get(id);
  if (!c) {
    // During a replay the hour before the context floor is not needed: drop it like a late sample.
    const floor = Number.isFinite(state.contextFloor) ? state.contextFloor - HOUR_MS : -Infinity;
    state.clusters.set(id, (c = { tenant, cluster, floor, hours: new Map(), watermark: -Infinity, lastArrival: -Infinity }));
  }
  return c;
}

/**
 * Samples were added to hours fromHour..toHour. The hour after changes too: the first sample
 * there stands for the time since its predecessor, which may be one of these.
 */
export function markChanged(c: ClusterState, fromHour: number, toHour: number): void {
  for (let h = fromHour; h <= toHour; h += HOUR_MS) {
    const mark = c.hours.get(h);
    if (mark) mark.seq++;
    else c.hours.set(h, { seq: 1, writtenSeq: 0, writtenFinal: false });
  }
  const after = c.hours.get(toHour + HOUR_MS);
  if (after) after.seq++;
}

/**
 * The oldest hour that can still change, over all clusters of the partition (Infinity when none).
 * Context hours rebuilt below the floor of a restart do not count: the floor never goes back.
 */
export function partitionFloor(state: PartitionState): number {
  let floor = Infinity;
  for (const c of state.clusters.values()) for (const h of c.hours.keys()) if (h < floor && h >= state.contextFloor) floor = h;
  return floor;
}
