// Partition states for the hour window's tests, built through the window's own functions.
import { HOUR_MS } from '../../../../core/hours.ts';
import { encodeCommitMetadata } from '../../../../processor/hour-window/commit-metadata.ts';
import type { LifecycleRules } from '../../../../processor/hour-window/hour-lifecycle.ts';
import { clusterState, createPartitionState, type ClusterState, type HourMark, type PartitionState } from '../../../../processor/hour-window/partition-state.ts';

export const H = HOUR_MS;
export const MIN = 60_000;
/** 2026-11-23T10:00Z */
export const H0 = Date.UTC(2026, 10, 23, 10);
/** HOUR_GRACE 5 min, LATE_WINDOW 3 h, IDLE_FINALIZE 30 min (the defaults). */
export const RULES: LifecycleRules = { graceMs: 5 * MIN, lateWindowMs: 3 * H, idleFinalizeMs: 30 * MIN };

/** A partition taken over with an earlier commit (or none), read up to `end`. */
export function partition(start: { committed?: bigint; floor?: number; clusters?: Record<string, number>; end?: bigint } = {}): PartitionState {
  const metadata = start.floor === undefined ? undefined : encodeCommitMetadata(start.floor, new Map(Object.entries(start.clusters ?? {})));
  const state = createPartitionState(0, { committed: start.committed, metadata, end: start.end ?? 0n });
  state.next = start.end ?? start.committed ?? 0n;
  return state;
}

export type MarkSpec = Partial<HourMark> & { hour: number };

/** A cluster of the partition with the given hour marks (default: new, not written) and clocks. */
export function cluster(state: PartitionState, name: string, hours: MarkSpec[], clock: { watermark?: number; lastArrival?: number; floor?: number } = {}): ClusterState {
  const c = clusterState(state, 't', name);
  for (const { hour, seq = 1, writtenSeq = 0, writtenFinal = false } of hours) c.hours.set(hour, { seq, writtenSeq, writtenFinal });
  if (clock.watermark !== undefined) c.watermark = clock.watermark;
  if (clock.lastArrival !== undefined) c.lastArrival = clock.lastArrival;
  if (clock.floor !== undefined) c.floor = clock.floor;
  return c;
}

/** A mark whose rows are stored, final or not. */
export const stored = (hour: number, final: boolean): MarkSpec => ({ hour, seq: 2, writtenSeq: 2, writtenFinal: final });
