import { describe, expect, it } from 'vitest';
import { validateHistogram } from '../../../../receiver/decode/histogram.ts';
import { ProtobufError } from '../../../../receiver/decode/protobuf-wire.ts';
import { pb, protoRoot, thrown } from './helpers.ts';

/** A Histogram message encoded by protobufjs from the official schema (1.0 or 2.0). */
function encode(type: 'prometheus.Histogram' | 'io.prometheus.write.v2.Histogram', obj: object): Uint8Array {
  const T = protoRoot().lookupType(type);
  const err = T.verify(obj);
  if (err) throw new Error(`fixture does not verify: ${err}`);
  return T.encode(T.fromObject(obj)).finish();
}

/**
 * Validates `payload` as the histograms field of a series (tag, length, payload) followed by two
 * more bytes of the series, and returns where validation stopped: the end of the field.
 */
function validate(payload: Uint8Array): number {
  const series = pb.msg(pb.len(4, payload), [0x0a, 0x00]);
  const end = validateHistogram(series, 1, series.length);
  expect(end).toBe(series.length - 2);
  return end;
}

/** `offset` is counted from the start of the payload. */
function expectMalformed(payload: Uint8Array, offset: number): void {
  const err = thrown(() => validate(payload));
  expect(err).toBeInstanceOf(ProtobufError);
  expect((err as ProtobufError).reason).toBe('malformed');
  const header = pb.len(4, payload).length - payload.length;
  expect((err as ProtobufError).offset - header).toBe(offset);
}

describe('validateHistogram', () => {
  const integer = {
    count_int: 12,
    sum: 3.5,
    schema: -2,
    zero_threshold: 1e-128,
    zero_count_int: 1,
    negative_spans: [{ offset: -1, length: 2 }],
    negative_deltas: [1, -1],
    positive_spans: [{ offset: 0, length: 3 }, { offset: 2, length: 1 }],
    positive_deltas: [2, 1, -3, 4],
    reset_hint: 2, // NO
    timestamp: 1_704_067_200_000,
  };
  const float = {
    count_float: 12.5,
    sum: -1,
    zero_count_float: 0.5,
    negative_counts: [1.5, 2],
    positive_counts: [0.25],
    positive_spans: [{ offset: 0, length: 1 }],
    custom_values: [0.1, 1, 10],
    timestamp: -5,
  };

  it.each(['prometheus.Histogram', 'io.prometheus.write.v2.Histogram'] as const)('accepts integer and float histograms of %s, packed or not', (type) => {
    expect(() => validate(encode(type, integer))).not.toThrow();
    expect(() => validate(encode(type, float))).not.toThrow();
    // Unpacked repeated fields are valid protobuf too.
    expect(() => validate(pb.msg(pb.varint(12, 3), pb.varint(12, 4), pb.f64(13, 1.5), pb.f64(16, 2)))).not.toThrow();
    expect(() => validate(new Uint8Array(0))).not.toThrow();
  });

  it('skips unknown fields', () => {
    expect(() => validate(pb.msg(pb.len(17, 'future'), pb.varint(40, 1), pb.i32(99, 7), pb.varint(1, 3)))).not.toThrow();
  });

  it('refuses known fields with the wrong wire type, at their tag', () => {
    expectMalformed(pb.msg(pb.varint(1, 1), pb.f64(4, 1)), 2); // schema is a varint
    expectMalformed(pb.msg(pb.varint(3, 1)), 0); // sum is a double
    expectMalformed(pb.msg(pb.varint(11, 1)), 0); // positive_spans is a message
    expectMalformed(pb.msg(pb.len(11, pb.f64(1, 1))), 2); // a span's offset is a varint
  });

  it('refuses truncated doubles, packed doubles that are not whole, and lengths past the end', () => {
    // A double cut by the histogram's own length, though the series has the bytes: not read.
    const series = pb.msg([0x22, 0x05], pb.f64(3, 1));
    expect((thrown(() => validateHistogram(series, 1, series.length)) as ProtobufError).offset).toBe(3);
    expectMalformed(pb.msg(pb.f64(3, 1)).subarray(0, 5), 1);
    expectMalformed(pb.msg(pb.len(13, [1, 2, 3, 4, 5, 6, 7, 8, 9])), 1);
    expectMalformed(pb.msg([0x5a, 0x05, 0x08]), 1);
    expectMalformed(pb.msg(pb.len(12, [0x80])), 2); // a packed delta cut short
  });
});
