// Keeps repeated warnings from flooding the log while something stays broken (a broker that is
// down, a misconfigured sender retrying every few seconds): during the first `burstWindowMs` after
// creation at most `burst` lines pass in total, and at all times at most one line per cause per
// `perCauseIntervalMs`. A line that passes reports how many of its cause were held back since the
// last one, so nothing is hidden, only summarised.

export interface LogLimiterOptions {
  /** Lines allowed in total during the first burstWindowMs (default 6). */
  burst?: number;
  /** Default 15 s. */
  burstWindowMs?: number;
  /** Default 60 s. */
  perCauseIntervalMs?: number;
  /** Causes remembered at most; the oldest is forgotten past this (default 1000). */
  maxCauses?: number;
  now?: () => number;
}

export interface LogDecision {
  allowed: boolean;
  /** Lines of this cause held back since its last allowed line (only when allowed). */
  suppressed: number;
}

export interface LogLimiter {
  allow(cause: string): LogDecision;
}

/**
 * Writes a warning when the limiter lets `cause` through, saying how many were held back before it.
 * The cause is what makes two lines "the same": a message and the error it reports, not their data.
 */
export function warnLimited(
  log: { warn(obj: object, msg?: string): void },
  limiter: LogLimiter,
  cause: string,
  obj: object,
  msg: string,
): void {
  const { allowed, suppressed } = limiter.allow(cause);
  if (!allowed) return;
  if (suppressed === 0) log.warn(obj, msg);
  else log.warn({ ...obj, suppressed }, `${msg} (${suppressed} more like this since the last one)`);
}

export function createLogLimiter(options: LogLimiterOptions = {}): LogLimiter {
  const burst = options.burst ?? 6;
  const burstWindowMs = options.burstWindowMs ?? 15_000;
  const interval = options.perCauseIntervalMs ?? 60_000;
  const maxCauses = options.maxCauses ?? 1000;
  const now = options.now ?? Date.now;
  const started = now();
  let total = 0;
  const causes = new Map<string, { last: number; held: number }>();
  return {
    allow(cause) {
      const t = now();
      let entry = causes.get(cause);
      const inBurstWindow = t - started < burstWindowMs;
      const causeAllows = entry === undefined || t - entry.last >= interval;
      if (!causeAllows || (inBurstWindow && total >= burst)) {
        if (entry === undefined) {
          entry = { last: -Infinity, held: 0 };
          remember(cause, entry);
        }
        entry.held++;
        return { allowed: false, suppressed: 0 };
      }
      const suppressed = entry?.held ?? 0;
      remember(cause, { last: t, held: 0 });
      total++;
      return { allowed: true, suppressed };
    },
  };

  function remember(cause: string, entry: { last: number; held: number }): void {
    causes.delete(cause);
    causes.set(cause, entry);
    if (causes.size > maxCauses) causes.delete(causes.keys().next().value!);
  }
}
