import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBytes, hashPairs, hashString } from '../../../core/hash.ts';

const halves = (run: (out: Uint32Array) => void): [number, number] => {
  const out = new Uint32Array(2);
  run(out);
  return [out[0], out[1]];
};

describe('series identity hash', () => {
  // Outputs of the hash as first written (lanes kept in module state): series identities must not
  // change when the code computing them does.
  it('keeps the outputs it had: bytes and strings', () => {
    expect(halves((o) => hashBytes(Buffer.from(''), 0, 0, o))).toEqual([3954623016, 3611298738]);
    expect(halves((o) => hashBytes(Buffer.from('a'), 0, 1, o))).toEqual([2141232806, 778083091]);
    expect(halves((o) => hashBytes(Buffer.from('abc'), 0, 3, o))).toEqual([3360318173, 1603873453]);
    expect(halves((o) => hashBytes(Buffer.from('kube-system'), 0, 11, o))).toEqual([1052683856, 845985096]);
    expect(halves((o) => hashString('', o))).toEqual([3954623016, 3611298738]);
    expect(halves((o) => hashString('namespace', o))).toEqual([653396570, 3602089438]);
  });

  it('hashes pairs of words with one lane per half: the low halves decide out[0], both out[1]', () => {
    const empty = halves((o) => hashPairs(new Uint32Array(0), 0, 0, o));
    expect(empty).toEqual(halves((o) => hashBytes(Buffer.alloc(0), 0, 0, o)));
    const words = new Uint32Array([0x12345678, 0x9abcdef0, 7, 8]);
    const base = halves((o) => hashPairs(words, 0, 4, o));
    const highChanged = Uint32Array.from(words);
    highChanged[3] ^= 1;
    const changed = halves((o) => hashPairs(highChanged, 0, 4, o));
    expect(changed[0]).toBe(base[0]);
    expect(changed[1]).not.toBe(base[1]);
    const lowChanged = Uint32Array.from(words);
    lowChanged[2] ^= 1;
    expect(halves((o) => hashPairs(lowChanged, 0, 4, o))[0]).not.toBe(base[0]);
  });

  it('gives distinct sequences of random 64-bit hashes distinct results, order included', () => {
    // Sequences of 8 to 40 words, each one word off a base sequence or two pairs swapped and a bit flipped:
    // a collision among them would be a 1-in-10^9 event for a 64-bit hash.
    let x = 7;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const base = Uint32Array.from({ length: 40 }, next);
    const inputs = new Set<string>();
    const outputs = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const n = 8 + 2 * (i % 17);
      const w = base.slice(0, n);
      if (i % 2 === 0) w[next() % n] = next();
      else {
        const p = 2 * (next() % (n / 2));
        const q = 2 * (next() % (n / 2));
        [w[p], w[p + 1], w[q], w[q + 1]] = [w[q], w[q + 1], w[p], w[p + 1]];
        w[next() % n] ^= 1 << next() % 32;
      }
      inputs.add(w.join());
      outputs.add(halves((o) => hashPairs(w, 0, n, o)).join(':'));
    }
    expect(inputs.size).toBeGreaterThan(50_000);
    expect(outputs.size).toBe(inputs.size);
  });

  it('hashes a byte range the same wherever it lies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 7 }), (bytes, before) => {
        const all = Buffer.concat([before, bytes, before]);
        expect(halves((o) => hashBytes(all, before.length, before.length + bytes.length, o))).toEqual(halves((o) => hashBytes(bytes, 0, bytes.length, o)));
      }),
    );
  });
});
