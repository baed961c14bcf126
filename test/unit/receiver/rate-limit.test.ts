import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../receiver/rate-limit.ts';

describe('per-tenant rate limit', () => {
  it('allows the burst, then asks to wait the seconds the refill needs', () => {
    const limiter = createRateLimiter(1000, 5000);
    expect(limiter.take('a', 5000, 0)).toBeUndefined();
    expect(limiter.take('a', 2000, 0)).toBe(2); // 2000 tokens at 1000/s
    expect(limiter.take('a', 2000, 2000)).toBeUndefined(); // refilled 2000 after 2 s
  });

  it('keeps tenants apart', () => {
    const limiter = createRateLimiter(10, 10);
    expect(limiter.take('a', 10, 0)).toBeUndefined();
    expect(limiter.take('a', 1, 0)).toBe(1);
    expect(limiter.take('b', 10, 0)).toBeUndefined();
  });

  it('lets a request larger than the burst through when the bucket is full', () => {
    const limiter = createRateLimiter(100, 0); // burst defaults to 10 x rate = 1000
    expect(limiter.take('a', 5000, 0)).toBeUndefined();
    expect(limiter.take('a', 5000, 0)).toBe(10);
  });
});
