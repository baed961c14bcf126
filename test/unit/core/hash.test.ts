import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBytes, hashString, hashWords } from '../../../core/hash.ts';

const halves = (run: (out: Uint32Array) => void): [number, number] => {
  const out = new Uint32Array(2);
  run(out);
  return [out[0], out[1]];
};

describe('series identity hash', () => {
  // Outputs of the hash as first written (lanes kept in module state): series identities must not
  // change when the code computing them does.
  it('keeps the outputs it had: bytes, strings and words', () => {
    const w = new Uint32Array([0, 1, 0xffffffff]);
    expect(halves((o) => hashBytes(Buffer.from(''), 0, 0, o))).toEqual([3954623016, 3611298738]);
    expect(halves((o) => hashBytes(Buffer.from('a'), 0, 1, o))).toEqual([2141232806, 778083091]);
    expect(halves((o) => hashBytes(Buffer.from('abc'), 0, 3, o))).toEqual([3360318173, 1603873453]);
    expect(halves((o) => hashBytes(Buffer.from('kube-system'), 0, 11, o))).toEqual([1052683856, 845985096]);
    expect(halves((o) => hashString('', o))).toEqual([3954623016, 3611298738]);
    expect(halves((o) => hashString('namespace', o))).toEqual([653396570, 3602089438]);
    expect(halves((o) => hashWords(w, 0, 0, o))).toEqual([3954623016, 3611298738]);
    expect(halves((o) => hashWords(w, 0, 3, o))).toEqual([1345766573, 884112713]);
  });

  it('hashes words as the bytes they are made of (little-endian), wherever they lie', () => {
    fc.assert(
      fc.property(fc.uint32Array({ maxLength: 40 }), fc.nat(5), (words, pad) => {
        const padded = new Uint32Array(pad + words.length);
        padded.set(words, pad);
        const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
        expect(halves((o) => hashWords(padded, pad, pad + words.length, o))).toEqual(halves((o) => hashBytes(bytes, 0, bytes.length, o)));
      }),
    );
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
