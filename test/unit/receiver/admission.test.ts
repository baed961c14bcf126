import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../receiver/admission.ts';

describe('admission', () => {
  it('refuses a slot past the request bound and gives one again after a release', () => {
    const a = createAdmission({ maxRequests: 2, maxBytes: 1000, tenantShare: 1 });
    const t1 = a.open('acme');
    const t2 = a.open('acme');
    const t3 = a.open('acme');
    expect([t1.takeSlot(), t2.takeSlot(), t3.takeSlot()]).toEqual([true, true, false]);
    expect(t1.takeSlot()).toBe(true); // already held: no second slot
    expect(a.requests).toBe(2);
    t1.release();
    t1.release(); // idempotent
    expect(a.requests).toBe(1);
    expect(t3.takeSlot()).toBe(true);
    t2.release();
    t3.release();
    expect(a.requests).toBe(0);
  });

  it('an open request holds nothing until its bytes arrive: any number of silent uploads leaves room', () => {
    const a = createAdmission({ maxRequests: 2, maxBytes: 100, tenantShare: 1 });
    const silent = Array.from({ length: 1000 }, () => a.open('hog'));
    expect([a.requests, a.bytes]).toEqual([0, 0]);
    const other = a.open('other');
    expect(other.grow(90)).toBe(true);
    expect(other.takeSlot()).toBe(true);
    other.release();
    for (const t of silent) t.release();
    expect([a.requests, a.bytes]).toEqual([0, 0]);
  });

  it('refuses bytes past the bound, counting body bytes and decompressed growth', () => {
    const seen: [number, number][] = [];
    const a = createAdmission({ maxRequests: 10, maxBytes: 100, tenantShare: 1 }, (r, b) => seen.push([r, b]));
    const t1 = a.open('acme');
    expect(t1.grow(40)).toBe(true);
    expect(t1.grow(40)).toBe(true); // alone, it may grow
    const t2 = a.open('acme');
    expect(t2.grow(15)).toBe(true);
    expect(t2.grow(10)).toBe(false); // 80 + 15 + 10 > 100
    expect(a.open('acme').grow(30)).toBe(false);
    t1.release();
    t2.release();
    expect([a.requests, a.bytes]).toEqual([0, 0]);
    expect(seen.at(-1)).toEqual([0, 0]);
  });

  it('lets one oversized request through when it holds all the bytes, so the size limits (413) decide, not saturation', () => {
    const a = createAdmission({ maxRequests: 10, maxBytes: 100, tenantShare: 0.5 });
    const t = a.open('acme');
    expect(t.grow(500)).toBe(true);
    expect(t.grow(5000)).toBe(true);
    expect(a.open('other').grow(1)).toBe(false);
    t.release();
    expect(a.bytes).toBe(0);
  });

  it("holds each tenant to its share of bytes and slots, leaving the rest to the others", () => {
    const a = createAdmission({ maxRequests: 8, maxBytes: 1000, tenantShare: 0.5 });
    const hog = Array.from({ length: 8 }, () => a.open('hog'));
    // Bytes: 500 of 1000 for one tenant.
    expect(hog.map((t) => t.grow(100))).toEqual([true, true, true, true, true, false, false, false]);
    // Slots: 4 of 8 for one tenant.
    expect(hog.map((t) => t.takeSlot())).toEqual([true, true, true, true, false, false, false, false]);
    const other = Array.from({ length: 4 }, () => a.open('other'));
    expect(other.map((t) => t.grow(100) && t.takeSlot())).toEqual([true, true, true, true]);
    expect([a.requests, a.bytes]).toEqual([8, 900]);
    // A third tenant finds the slots full: the bound overall still holds.
    expect(a.open('third').takeSlot()).toBe(false);
    for (const t of [...hog, ...other]) t.release();
    expect([a.requests, a.bytes]).toEqual([0, 0]);
    // Once released, the hog may use its share again.
    const again = a.open('hog');
    expect(again.grow(500) && again.takeSlot()).toBe(true);
    again.release();
  });

  it('gives a tenant at least one slot whatever the share', () => {
    const a = createAdmission({ maxRequests: 1, maxBytes: 100, tenantShare: 0.1 });
    const t = a.open('acme');
    expect(t.takeSlot()).toBe(true);
    t.release();
  });

  it('nothing is charged to a released ticket', () => {
    const a = createAdmission({ maxRequests: 1, maxBytes: 100, tenantShare: 1 });
    const t = a.open('acme');
    t.release();
    expect([t.grow(10), t.takeSlot()]).toEqual([false, false]);
    expect([a.requests, a.bytes]).toEqual([0, 0]);
  });
});
