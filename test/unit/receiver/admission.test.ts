import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../receiver/admission.ts';

describe('admission', () => {
  it('refuses past the request bound and admits again after a release', () => {
    const a = createAdmission({ maxRequests: 2, maxBytes: 1000 });
    const t1 = a.tryAcquire(10)!;
    const t2 = a.tryAcquire(10)!;
    expect(a.tryAcquire(10)).toBeUndefined();
    t1.release();
    t1.release(); // idempotent
    expect(a.requests).toBe(1);
    expect(a.tryAcquire(10)).toBeDefined();
    t2.release();
  });

  it('refuses bytes past the bound, counting decompressed growth', () => {
    const seen: [number, number][] = [];
    const a = createAdmission({ maxRequests: 10, maxBytes: 100 }, (r, b) => seen.push([r, b]));
    const t1 = a.tryAcquire(40)!;
    expect(t1.grow(40)).toBe(true); // alone, it may grow
    const t2 = a.tryAcquire(15)!;
    expect(t2.grow(10)).toBe(false); // 80 + 15 + 10 > 100
    expect(a.tryAcquire(30)).toBeUndefined();
    t1.release();
    t2.release();
    expect([a.requests, a.bytes]).toEqual([0, 0]);
    expect(seen.at(-1)).toEqual([0, 0]);
  });

  it('admits one oversized request when idle, so the size limits (413) decide, not saturation', () => {
    const a = createAdmission({ maxRequests: 10, maxBytes: 100 });
    const t = a.tryAcquire(500)!;
    expect(t).toBeDefined();
    expect(t.grow(5000)).toBe(true);
    expect(a.tryAcquire(1)).toBeUndefined();
    t.release();
  });
});
