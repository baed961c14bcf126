// When an hour of one (tenant, cluster) closes and when it settles, from event time (the newest
// sample seen for that cluster) or, for a cluster that stopped sending, from wall-clock time.
import { HOUR_MS } from '../core/hours.ts';

export interface LifecycleRules {
  /** An hour closes when the watermark passes its end plus this. */
  graceMs: number;
  /** A closed hour still takes late samples for this long (event time). */
  lateWindowMs: number;
  /** A cluster silent for this long (wall clock) has its hours closed. */
  idleFinalizeMs: number;
}

export interface ClusterClock {
  /** Newest sample timestamp seen for the cluster. */
  watermark: number;
  /** When the cluster's newest record was stored in the log (wall clock). */
  lastArrival: number;
}

/** Closed: its rows are final; later changes rewrite them, still final. */
export function isClosed(hour: number, clock: ClusterClock, now: number, rules: LifecycleRules): boolean {
  return clock.watermark > hour + HOUR_MS + rules.graceMs || now - clock.lastArrival > rules.idleFinalizeMs;
}

/** Settled: past the late window, its state may be dropped once its final rows are stored. */
export function isSettled(hour: number, clock: ClusterClock, now: number, rules: LifecycleRules): boolean {
  return (
    clock.watermark > hour + HOUR_MS + rules.graceMs + rules.lateWindowMs ||
    now - clock.lastArrival > rules.idleFinalizeMs + rules.lateWindowMs
  );
}
