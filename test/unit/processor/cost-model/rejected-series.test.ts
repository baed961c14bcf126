import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RejectedSeries, type Rejection } from '../../../../processor/cost-model/rejected-series.ts';

/** What the table replaced: a Map keyed by the first half and the top 21 bits of the second. */
const keyOf = (h1: number, h2: number): number => h1 * 2 ** 21 + (h2 >>> 11);

describe('rejected series', () => {
  it('answers as a Map keyed by the first half and the top 21 bits of the second, through growth and clears', () => {
    const half = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    // Keys from a small pool (so lookups hit), some differing only in bits the key leaves out.
    const op = fc.record({ kind: fc.constantFrom('get', 'set', 'set', 'clear'), pick: fc.nat(), lowBits: fc.nat(2047), rejection: fc.constantFrom<Rejection>('ignored', 'invalid') });
    fc.assert(
      fc.property(fc.array(fc.tuple(half, half), { minLength: 1, maxLength: 300 }), fc.array(op, { maxLength: 1500 }), (pool, ops) => {
        const table = new RejectedSeries();
        const reference = new Map<number, Rejection>();
        for (const { kind, pick, lowBits, rejection } of ops) {
          const [h1, base] = pool[pick % pool.length];
          const h2 = ((base & ~2047) | lowBits) >>> 0;
          if (kind === 'clear' && pick % 20 === 0) {
            table.clear();
            reference.clear();
          } else if (kind === 'set') {
            table.set(h1, h2, rejection);
            reference.set(keyOf(h1, h2), rejection);
          }
          expect(table.get(h1, h2)).toBe(reference.get(keyOf(h1, h2)));
          expect(table.size).toBe(reference.size);
        }
        for (const [h1, h2] of pool) expect(table.get(h1, h2)).toBe(reference.get(keyOf(h1, h2)));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a hundred thousand series apart', () => {
    const table = new RejectedSeries();
    let x = 1;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const keys: [number, number][] = Array.from({ length: 100_000 }, () => [next(), next()]);
    keys.forEach(([h1, h2], i) => table.set(h1, h2, i % 3 === 0 ? 'invalid' : 'ignored'));
    expect(table.size).toBe(100_000);
    keys.forEach(([h1, h2], i) => expect(table.get(h1, h2)).toBe(i % 3 === 0 ? 'invalid' : 'ignored'));
    expect(table.get(keys[0][0], keys[0][1] ^ 2048)).toBeUndefined();
    // Its size is that of its arrays: 9 bytes a slot, at most half of the slots in use.
    expect(table.bytes()).toBe(9 * 262_144);
    table.clear();
    expect(table.bytes()).toBe(9 * 16);
  });
});
