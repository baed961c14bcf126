import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtobufError } from '../../../../receiver/decode/protobuf-wire.ts';
import { decodeSample, newSampleColumns, sampleColumnsOf, type SampleColumns } from '../../../../receiver/decode/samples.ts';
import { pb, thrown, varintBytes } from './helpers.ts';

const T0 = 1_704_067_200_000;

/** A series holding `samples` (each a Sample payload) and, after them, `trailer` bytes of the series. */
function series(samples: number[][], trailer: number[] = []): Uint8Array {
  return pb.msg(...samples.map((s) => pb.len(2, s)), trailer);
}

/** Decodes every sample field of `bytes` the way the decoders do: the tag, then decodeSample from just after it. */
function decodeAll(bytes: Uint8Array, out: SampleColumns = newSampleColumns(4, Infinity)): { out: SampleColumns; ends: number[] } {
  const ends: number[] = [];
  let pos = 0;
  while (pos < bytes.length && bytes[pos] === 0x12) {
    pos = decodeSample(bytes, pos + 1, bytes.length, out, pos);
    ends.push(pos);
  }
  return { out, ends };
}

const plain = (out: SampleColumns) => {
  const c = sampleColumnsOf(out);
  return Array.from({ length: out.count }, (_, i) => ({ t: c.timestamps[i], v: c.values[i], stale: c.stale[i] }));
};

function expectProtobufError(fn: () => unknown, reason: ProtobufError['reason'], offset?: number): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ProtobufError);
  expect((err as ProtobufError).reason).toBe(reason);
  if (offset !== undefined) expect((err as ProtobufError).offset).toBe(offset);
}

describe('decodeSample', () => {
  it('appends value and timestamp and returns the position after the sample', () => {
    const bytes = series([[...pb.f64(1, 0.25), ...pb.varint(2, T0)], [...pb.varint(2, T0 + 1), ...pb.f64(1, -3)]], [0x0a, 0x00]);
    const { out, ends } = decodeAll(bytes);
    expect(plain(out)).toEqual([
      { t: T0, v: 0.25, stale: 0 },
      { t: T0 + 1, v: -3, stale: 0 },
    ]);
    // Each sample is 2 + 9 + 7 bytes; the series goes on after the second.
    expect(ends).toEqual([18, 36]);
  });

  it('reads missing fields as 0 and keeps the last of a repeated one (proto3)', () => {
    const { out } = decodeAll(series([[], [...pb.f64(1, 1), ...pb.varint(2, 5), ...pb.f64(1, 2), ...pb.varint(2, 6)]]));
    expect(plain(out)).toEqual([
      { t: 0, v: 0, stale: 0 },
      { t: 6, v: 2, stale: 0 },
    ]);
  });

  it('keeps value bits exactly and marks only the stale NaN stale', () => {
    const { out } = decodeAll(series([pb.f64bits(1, 0x7ff00000, 0x00000002), pb.f64bits(1, 0x7ff00000, 0x00000003), pb.f64bits(1, 0x7ff80000, 0)]));
    const words = new Uint32Array(out.values.buffer, out.values.byteOffset, out.count * 2);
    expect([...words]).toEqual([0x00000002, 0x7ff00000, 0x00000003, 0x7ff00000, 0, 0x7ff80000]);
    expect([...sampleColumnsOf(out).stale]).toEqual([1, 0, 0]);
  });

  it('reads timestamps of every length exactly, negative ones included, and refuses those beyond ±(2^53-1)', () => {
    const ts = [0, 127, 128, T0, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER, -1, -T0, -Number.MAX_SAFE_INTEGER];
    const { out } = decodeAll(series(ts.map((t) => pb.varint(2, t))));
    expect([...sampleColumnsOf(out).timestamps]).toEqual(ts);
    for (const t of [2n ** 53n, -(2n ** 53n)]) expectProtobufError(() => decodeAll(series([pb.varint(2, t)])), 'invalid', 3);
  });

  it('accepts non-minimal tags and lengths, unknown fields of any number, and samples of 128 bytes or more', () => {
    const value = pb.f64(1, 1.5).slice(1);
    const padded = [0x89, 0x80, 0x00, ...value, 0x90, 0x00, ...varintBytes(T0)]; // tags 0x09 and 0x10 over 3 and 2 bytes
    const unknown = [...pb.len(200, 'x'.repeat(150)), ...pb.varint(3, 7), ...pb.i32(15, 1)];
    const long = [...unknown, ...pb.f64(1, 2.5), ...pb.varint(2, T0 + 1)];
    // The first sample's length written over two bytes.
    const bytes = pb.msg([0x12, 0x80 | padded.length, 0x00, ...padded], pb.len(2, long));
    const { out, ends } = decodeAll(bytes);
    expect(plain(out)).toEqual([
      { t: T0, v: 1.5, stale: 0 },
      { t: T0 + 1, v: 2.5, stale: 0 },
    ]);
    expect(ends.at(-1)).toBe(bytes.length);
  });

  it('grows its columns past the first capacity', () => {
    const values = Array.from({ length: 100 }, (_, i) => i / 4);
    const { out } = decodeAll(series(values.map((v, i) => [...pb.f64(1, v), ...pb.varint(2, T0 + i)])), newSampleColumns(1, Infinity));
    expect(plain(out)).toEqual(values.map((v, i) => ({ t: T0 + i, v, stale: 0 })));
  });

  it('refuses more samples than its limit, at the field of the one too many', () => {
    const bytes = series([pb.f64(1, 1), pb.f64(1, 2), pb.f64(1, 3)]);
    expectProtobufError(() => decodeAll(bytes, newSampleColumns(1, 2)), 'too_large', 22);
  });

  it('refuses malformed samples at the offset of what is wrong', () => {
    const truncatedDouble = pb.msg([0x12, 0x05, 0x09, 1, 2, 3, 4]);
    expectProtobufError(() => decodeAll(truncatedDouble), 'malformed', 2);
    const pastSeries = pb.msg([0x12, 0x09, ...pb.f64(1, 1).slice(0, 8)]);
    expectProtobufError(() => decodeAll(pastSeries), 'malformed', 0);
    const wrongWireType = series([pb.varint(1, 5)]);
    expectProtobufError(() => decodeAll(wrongWireType), 'malformed', 2);
    const fieldZero = series([[0x00, 0x01]]);
    expectProtobufError(() => decodeAll(fieldZero), 'malformed', 2);
    const truncatedTimestamp = pb.msg([0x12, 0x03, 0x10, 0x80, 0x80]);
    expectProtobufError(() => decodeAll(truncatedTimestamp), 'malformed', 3);
  });

  it('never reads a byte past its sample, whatever follows', () => {
    const outcome = (bytes: Uint8Array, end: number, out: SampleColumns) => {
      try {
        return decodeSample(bytes, 1, end, out, 0);
      } catch (err) {
        return String(err);
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 8 }), (payload, after) => {
        const bytes = pb.msg(pb.len(2, payload), [...after]);
        const end = bytes.length - after.length;
        // The same outcome with or without the bytes after the sample.
        const out = newSampleColumns(1, Infinity);
        const followed = outcome(bytes, end, out);
        expect(followed).toEqual(outcome(bytes.subarray(0, end), end, newSampleColumns(1, Infinity)));
        expect(out.count).toBe(typeof followed === 'number' ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });
});
