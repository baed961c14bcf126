// Optional per-tenant sample rate limit (a token bucket per tenant). Off by default: Prometheus
// drops a batch answered 429 unless `retry_on_http_429: true` is set, and losing billing data is
// worse than slowing down.

interface RateLimiter {
  /** Takes `samples` tokens; returns whole seconds to wait when the tenant is over its rate. */
  take(tenant: string, samples: number, now: number): number | undefined;
}

export function createRateLimiter(samplesPerSecond: number, burst: number): RateLimiter {
  const capacity = burst > 0 ? burst : samplesPerSecond * 10;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(tenant, samples, now) {
      let bucket = buckets.get(tenant);
      if (!bucket) buckets.set(tenant, (bucket = { tokens: capacity, at: now }));
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * samplesPerSecond);
      bucket.at = now;
      // A request bigger than the burst passes when the bucket is full, or it could never pass.
      const cost = Math.min(samples, capacity);
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return undefined;
      }
      return Math.max(1, Math.ceil((cost - bucket.tokens) / samplesPerSecond));
    },
  };
}
