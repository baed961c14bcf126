import fc from 'fast-check';
import snappyjs from 'snappyjs';
import { describe, expect, it, vi } from 'vitest';
import { kubecostRequest } from '../../../../bench/kubecost-traffic.ts';
import { DecodeError } from '../../../../receiver/decode/decode-error.ts';
import { SnappyError, snappyDecode, snappyDecodedLength } from '../../../../receiver/decode/snappy.ts';
import { countingReads, hex, seeded, thrown } from './helpers.ts';

const MiB = 1024 * 1024;

function expectSnappyError(fn: () => unknown, reason: 'too_large' | 'corrupt_snappy'): SnappyError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(SnappyError);
  expect(err).toBeInstanceOf(DecodeError);
  expect((err as SnappyError).reason).toBe(reason);
  return err as SnappyError;
}

describe('snappyDecodedLength', () => {
  it('reads the varint header', () => {
    expect(snappyDecodedLength(hex('00'))).toBe(0);
    expect(snappyDecodedLength(hex('7f'))).toBe(127);
    expect(snappyDecodedLength(hex('8001'))).toBe(128);
    expect(snappyDecodedLength(hex('ffffffff0f'))).toBe(2 ** 32 - 1);
    expect(snappyDecodedLength(snappyjs.compress(new Uint8Array(123456)))).toBe(123456);
  });

  it('throws corrupt_snappy on a truncated or overlong header', () => {
    expectSnappyError(() => snappyDecodedLength(new Uint8Array(0)), 'corrupt_snappy');
    expectSnappyError(() => snappyDecodedLength(hex('80')), 'corrupt_snappy');
    expectSnappyError(() => snappyDecodedLength(hex('ffffffff')), 'corrupt_snappy');
    expectSnappyError(() => snappyDecodedLength(hex('ffffffffff01')), 'corrupt_snappy');
  });
});

describe('snappyDecode round trips against snappyjs.compress', () => {
  it('decodes realistic remote-write bodies exactly like snappyjs', () => {
    for (const seed of [1, 2, 3]) {
      const req = kubecostRequest(2000, seed);
      const ours = snappyDecode(req.body, 64 * MiB);
      expect(Buffer.from(ours).equals(Buffer.from(req.raw))).toBe(true);
      expect(Buffer.from(ours).equals(Buffer.from(snappyjs.uncompress(req.body)))).toBe(true);
    }
  });

  it('handles empty input', () => {
    expect(snappyDecode(snappyjs.compress(new Uint8Array(0)), 10)).toEqual(new Uint8Array(0));
  });

  it('round-trips random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        const out = snappyDecode(snappyjs.compress(data), 1 * MiB);
        expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('round-trips repetitive data (long, overlapping copies)', () => {
    const arbRepetitive = fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5000 }), fc.uint8Array({ maxLength: 100 }))
      .map(([unit, times, tail]) => {
        const out = new Uint8Array(unit.length * times + tail.length);
        for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
        out.set(tail, unit.length * times);
        return out;
      });
    fc.assert(
      fc.property(arbRepetitive, (data) => {
        const out = snappyDecode(snappyjs.compress(data), 1 * MiB);
        expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('round-trips large inputs with long literals (multi-byte literal lengths)', () => {
    const rand = seeded(3);
    const data = new Uint8Array(300_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 70_000 < 60_000 ? Math.floor(rand() * 256) : 65;
    const out = snappyDecode(snappyjs.compress(data), 1 * MiB);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
  });

  it('decodes hand-made blocks using every element kind', () => {
    // 'abcd' literal, then copy-1 (len 4, offset 4), copy-2 (len 2, offset 6), copy-4 (len 1, offset 1).
    const body = hex('0b' + '0c61626364' + '0104' + '060600' + '0301000000');
    expect(Buffer.from(snappyDecode(body, 100)).toString()).toBe('abcdabcdcdd');
    // Overlapping copy: 'a' then copy offset 1 length 9 → 'aaaaaaaaaa'.
    expect(Buffer.from(snappyDecode(hex('0a' + '0061' + '1501'), 100)).toString()).toBe('a'.repeat(10));
    // Literal with a 1-byte length (60): 61 bytes.
    const lit = new Uint8Array(61).fill(0x41);
    expect(snappyDecode(Uint8Array.from([61, 60 << 2, 60, ...lit]), 100)).toEqual(lit);
  });
});

describe('snappyDecode on hostile input', () => {
  /** Decodes `body` through countingReads; returns the error and the bytes read. */
  function refusal(body: Uint8Array, max: number, reason: 'too_large' | 'corrupt_snappy') {
    const { view, reads } = countingReads(body, 1000);
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      const err = expectSnappyError(() => snappyDecode(view, max), reason);
      return { err, reads: reads(), allocated: allocations.mock.calls.map(([n]) => n) };
    } finally {
      allocations.mockRestore();
    }
  }

  it('stops at once on the body that makes snappyjs loop forever (a 4-byte literal length that wraps negative)', () => {
    const { err, reads, allocated } = refusal(hex('0afcf0ffffff'), 64 * MiB, 'corrupt_snappy');
    // The length is read as the unsigned 0xfffffff0 (+1), never as a negative number.
    expect(err.message).toBe('snappy: literal of 4294967281 bytes runs past the end of the input');
    expect(reads).toBeLessThanOrEqual(6);
    expect(allocated).toEqual([10]);
  });

  it('rejects a header declaring ~4 GiB as too_large from the header alone, allocating nothing', () => {
    for (const header of ['ffffffff0f', '8080808010', 'ffffffff7f']) {
      const { err, reads, allocated } = refusal(hex(header + '00' + '41'), 32 * MiB, 'too_large');
      expect(err.declaredLength).toBeGreaterThanOrEqual(2 ** 32 - 1);
      expect(reads).toBe(5);
      expect(allocated).toEqual([]);
    }
  });

  it('rejects a declared length no input of this size could produce, even without a limit, allocating nothing', () => {
    // 1 GiB declared in a 7-byte body: at most ~22 output bytes per input byte exist.
    const { err, reads, allocated } = refusal(hex('80808080040041'), Number.MAX_SAFE_INTEGER, 'corrupt_snappy');
    expect(err.message).toMatch(/impossible for 7 input bytes/);
    expect(reads).toBe(5);
    expect(allocated).toEqual([]);
  });

  it('reads no more bytes of a valid body than it has, and allocates its output once (the checks above are not vacuous)', () => {
    const body = snappyjs.compress(Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 13));
    const { view, reads } = countingReads(body, body.length);
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      expect(snappyDecode(view, 5000).length).toBe(5000);
      expect(allocations.mock.calls).toEqual([[5000]]);
    } finally {
      allocations.mockRestore();
    }
    expect(reads()).toBeLessThanOrEqual(body.length);
  });

  it('checks the limit against the declared length exactly', () => {
    const body = snappyjs.compress(new Uint8Array(1000).fill(7));
    expect(snappyDecode(body, 1000).length).toBe(1000);
    expectSnappyError(() => snappyDecode(body, 999), 'too_large');
  });

  it('rejects copy offsets pointing before the start of the output', () => {
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' /* 'abcd' */ + '0105'), 100), 'corrupt_snappy'); // copy-1 offset 5 > 4
    expectSnappyError(() => snappyDecode(hex('04' + '0501' + '00'), 100), 'corrupt_snappy'); // a copy before any output
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '060500'), 100), 'corrupt_snappy'); // copy-2 offset 5 > 4
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '07ffffffff'), 100), 'corrupt_snappy'); // copy-4 offset 2^32-1
  });

  it('rejects a zero copy offset', () => {
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '0100'), 100), 'corrupt_snappy');
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '060000'), 100), 'corrupt_snappy');
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '0700000000'), 100), 'corrupt_snappy');
  });

  it('rejects literals running past the end of the input', () => {
    expectSnappyError(() => snappyDecode(hex('05' + '10616263'), 100), 'corrupt_snappy'); // 5-byte literal, 3 present
    expectSnappyError(() => snappyDecode(hex('10' + 'f0'), 1000), 'corrupt_snappy'); // its length byte missing
    expectSnappyError(() => snappyDecode(hex('10' + 'f463'), 1000), 'corrupt_snappy'); // one of two length bytes
    expectSnappyError(() => snappyDecode(hex('10' + 'f00f'), 1000), 'corrupt_snappy'); // 16-byte literal, none present
    expectSnappyError(() => snappyDecode(hex('10' + 'fcffffffff' + '41'), 1000), 'corrupt_snappy'); // 2^32-byte literal
  });

  it('rejects truncated copy elements', () => {
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '01'), 100), 'corrupt_snappy');
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '0603'), 100), 'corrupt_snappy');
    expectSnappyError(() => snappyDecode(hex('08' + '0c61626364' + '07030000'), 100), 'corrupt_snappy');
  });

  it('rejects output shorter or longer than declared', () => {
    expectSnappyError(() => snappyDecode(hex('05' + '08616263'), 100), 'corrupt_snappy'); // 3 of 5
    expectSnappyError(() => snappyDecode(hex('02' + '08616263'), 100), 'corrupt_snappy'); // literal of 3 > 2
    expectSnappyError(() => snappyDecode(hex('05' + '08616263' + '0103'), 100), 'corrupt_snappy'); // copy of 4, 2 left
    expect(Buffer.from(snappyDecode(hex('07' + '08616263' + '0103'), 100)).toString()).toBe('abcabca'); // exact fit
    expectSnappyError(() => snappyDecode(hex('05'), 100), 'corrupt_snappy'); // nothing after the header
  });

  it('throws only SnappyError on every truncation of a real body', () => {
    const { body } = kubecostRequest(50, 9);
    for (let cut = 0; cut < body.length; cut++) {
      const err = thrown(() => snappyDecode(body.subarray(0, cut), 64 * MiB));
      expect(err).toBeInstanceOf(SnappyError);
    }
  });

  it('never throws anything but SnappyError on random bytes (and terminates)', () => {
    const rand = seeded(11);
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 64);
      const body = new Uint8Array(len);
      for (let k = 0; k < len; k++) body[k] = Math.floor(rand() * 256);
      // Small declared lengths make successful decodes reachable.
      if (len > 0 && rand() < 0.5) body[0] = Math.floor(rand() * 40);
      try {
        const out = snappyDecode(body, 1 * MiB);
        expect(out.length).toBe(snappyDecodedLength(body));
      } catch (err) {
        expect(err).toBeInstanceOf(SnappyError);
      }
    }
  });

  it('never throws anything but SnappyError on mutated real bodies', () => {
    const { body } = kubecostRequest(100, 5);
    const rand = seeded(5);
    for (let i = 0; i < 2000; i++) {
      const mutated = Uint8Array.from(body);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
      try {
        snappyDecode(mutated, 1 * MiB);
      } catch (err) {
        expect(err).toBeInstanceOf(SnappyError);
      }
    }
  });
});
