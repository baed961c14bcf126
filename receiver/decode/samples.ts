// Float samples, decoded the same way by the 1.0 and 2.0 decoders: `Sample { double value = 1;
// int64 timestamp = 2; }` is the same message in both schemas.
//
// Values are copied as their 8 raw bytes (two int32 words) into a Float64Array so NaN payloads
// survive, and stale markers are recognised from those raw words, never from a JS number. Nothing
// is allocated per sample: the columns grow by doubling, and the position in the body goes in and
// comes back as a plain number. Timestamps are int64 varints decoded exactly; beyond ±(2^53-1) ms
// the request is rejected (ProtobufError 'invalid', see readInt64).

import { LITTLE_ENDIAN, growFloat64, growUint8, newFloat64, newUint8 } from './columns.ts';
import { STALE_NAN_HI, STALE_NAN_LO, type DecodedWrite } from './decoded-write.ts';
import { WIRE_I64, WIRE_VARINT, fieldMask, malformed, readTag, readTimestamp, readVarint, skipUnknown, skipVarint, tooLarge } from './protobuf-wire.ts';

const SAMPLE_FIELDS = fieldMask(1, 2);
const TAG_VALUE = (1 << 3) | WIRE_I64; // 0x09
const TAG_TIMESTAMP = (2 << 3) | WIRE_VARINT; // 0x10

// Where the low and the high 32 bits of a double sit in its two int32 words.
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/** The little-endian int32 at buf[pos .. pos+3]. */
function int32At(buf: Uint8Array, pos: number): number {
  return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24);
}

/** The samples of a request under construction. */
export interface SampleColumns {
  timestamps: Float64Array;
  values: Float64Array;
  /** Int32 view of `values`' buffer: raw value words are written through it. */
  valueWords: Int32Array;
  stale: Uint8Array;
  /** Samples decoded so far. */
  count: number;
  /** The decode limit: a request with more samples is 'too_large'. */
  readonly max: number;
}

export function newSampleColumns(capacity: number, max: number): SampleColumns {
  const values = newFloat64(capacity);
  return {
    timestamps: newFloat64(capacity),
    values,
    valueWords: new Int32Array(values.buffer, values.byteOffset, values.length * 2),
    stale: newUint8(capacity),
    count: 0,
    max,
  };
}

function grow(c: SampleColumns): void {
  const used = c.count;
  c.timestamps = growFloat64(c.timestamps, used, used + 1);
  c.values = growFloat64(c.values, used, used + 1);
  c.valueWords = new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2);
  c.stale = growUint8(c.stale, used, used + 1);
}

/**
 * Decodes the length-delimited Sample at `pos` (just after its tag, which starts at `at`) inside a
 * series ending at `end`, appends it to `out`, and returns the position after it.
 */
export function decodeSample(buf: Uint8Array, pos: number, end: number, out: SampleColumns, at: number): number {
  let len = buf[pos];
  if (pos < end && len < 0x80) pos++;
  else {
    // Samples of 128 bytes or more carry unknown fields: rare enough to read the varint twice
    // rather than pass the position through shared state.
    len = readVarint(buf, pos, end);
    pos = skipVarint(buf, pos, end);
  }
  if (len > end - pos) malformed('sample runs past the end of its series', at);
  const i = out.count;
  if (i >= out.timestamps.length) grow(out);
  readSample(buf, pos, pos + len, out, i);
  if (i >= out.max) tooLarge('samples', out.max, at);
  out.count = i + 1;
  return pos + len;
}

/**
 * Reads the fields of a Sample [pos, end) into row i of the columns: a missing value or timestamp
 * is 0, a repeated one keeps the last (proto3). Kept apart from decodeSample so that each stays
 * under V8's inlining limit (460 bytes of bytecode per function): as one function it was called,
 * not inlined, once per sample from the series loops.
 */
function readSample(buf: Uint8Array, pos: number, end: number, out: SampleColumns, i: number): void {
  const timestamps = out.timestamps;
  timestamps[i] = 0;
  let lo = 0;
  let hi = 0;
  while (pos < end) {
    const tagAt = pos;
    let tag = buf[pos];
    if (tag < 0x80) pos++;
    else {
      // Non-minimal tags and unknown fields above 15 only, as above.
      tag = readTag(buf, pos, end);
      pos = skipVarint(buf, pos, end);
    }
    if (tag === TAG_VALUE) {
      if (end - pos < 8) malformed('truncated double', tagAt);
      lo = int32At(buf, pos);
      hi = int32At(buf, pos + 4);
      pos += 8;
    } else if (tag === TAG_TIMESTAMP) {
      pos = readTimestamp(buf, pos, end, timestamps, i);
    } else {
      pos = skipUnknown(buf, pos, end, tag, tagAt, SAMPLE_FIELDS);
    }
  }
  out.valueWords[i * 2 + LO] = lo;
  out.valueWords[i * 2 + HI] = hi;
  out.stale[i] = hi === STALE_NAN_HI && lo === STALE_NAN_LO ? 1 : 0;
}

/** The decoded samples as DecodedWrite columns (views of the written part, nothing copied). */
export function sampleColumnsOf(c: SampleColumns): Pick<DecodedWrite, 'timestamps' | 'values' | 'stale'> {
  return {
    timestamps: c.timestamps.subarray(0, c.count),
    values: c.values.subarray(0, c.count),
    stale: c.stale.subarray(0, c.count),
  };
}
