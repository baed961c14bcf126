// When an hour of one (tenant, cluster) closes and when it settles, from event time (the newest
// sample seen for that cluster) or, for a cluster that stopped sending, from wall-clock time.
//
// An hour goes through three phases:
//   open     its rows are provisional (is_final = 0) and rewritten as samples arrive;
//   closed   its rows are final; a late sample (within LATE_WINDOW) still rewrites them, still final;
//   settled  past the late window: once its final rows are stored its state is dropped, the
//            cluster's floor moves past it and later samples for it are counted as too late.
import { HOUR_MS } from '../../core/hours.ts';

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

export type HourPhase = 'open' | 'closed' | 'settled';

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

/** A settled hour is closed too (the late window only adds time), so one check after the other suffices. */
export function hourPhase(hour: number, clock: ClusterClock, now: number, rules: LifecycleRules): HourPhase {
  if (!isClosed(hour, clock, now, rules)) return 'open';
  return isSettled(hour, clock, now, rules) ? 'settled' : 'closed';
}

/**
 * The clock a cluster's hours go by. While a backlog is read (a restart's replay, or a new group
 * reading history), record arrival times are old: they say nothing about whether the cluster went
 * silent, so hours then close and settle by event time only.
 */
export function windowClock(clock: ClusterClock, replaying: boolean): ClusterClock {
  return replaying ? { watermark: clock.watermark, lastArrival: Infinity } : clock;
}
