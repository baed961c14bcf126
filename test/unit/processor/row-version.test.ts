import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowVersion, VERSION_BASE } from '../../../processor/row-version.ts';

describe('rowVersion', () => {
  it('lies above every version earlier releases stored (microseconds of wall time) until 2112', () => {
    expect(rowVersion(0n, false)).toBe(VERSION_BASE);
    expect(VERSION_BASE).toBeGreaterThan(Date.UTC(2112, 0, 1) * 1000);
  });

  it('rises with the offset read, and a final row wins over a provisional one at the same offset', () => {
    expect(rowVersion(7n, false)).toBe(2 ** 52 + 14);
    expect(rowVersion(7n, true)).toBe(2 ** 52 + 15);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 51n - 2n }), fc.boolean(), fc.boolean(), (offset, a, b) => {
        expect(rowVersion(offset + 1n, a)).toBeGreaterThan(rowVersion(offset, b));
        expect(Number.isSafeInteger(rowVersion(offset + 1n, true))).toBe(true);
      }),
    );
  });

  it('refuses an offset whose version would not be exact', () => {
    expect(Number.isSafeInteger(rowVersion(2n ** 51n - 1n, true))).toBe(true);
    expect(() => rowVersion(2n ** 51n, false)).toThrow(/below 2\^51/);
    expect(() => rowVersion(-1n, false)).toThrow(RangeError);
  });
});
