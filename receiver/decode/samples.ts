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

/** Makes room for the next sample and returns its row; its timestamp is 0 until one is read. */
function newRow(out: SampleColumns): number {
  const i = out.count;
  if (i >= out.timestamps.length) grow(out);
  out.timestamps[i] = 0;
  return i;
}

/** Completes row i with its value (the raw words lo, hi) and counts it, within the limit. */
function commitRow(out: SampleColumns, i: number, lo: number, hi: number, at: number): void {
  if (i >= out.max) tooLarge('samples', out.max, at);
  out.valueWords[i * 2 + LO] = lo;
  out.valueWords[i * 2 + HI] = hi;
  out.stale[i] = hi === STALE_NAN_HI && lo === STALE_NAN_LO ? 1 : 0;
  out.count = i + 1;
}

/**
 * Decodes the length-delimited Sample at `pos` (just after its tag, which starts at `at`) inside a
 * series ending at `end`, appends it to `out`, and returns the position after it.
 *
 * Reads inline only a sample as Prometheus writes it (one-byte length and tags); anything else
 * goes to decodeAnySample. This keeps it small: V8 inlines a function into the series loops only
 * under 460 bytes of bytecode, and what it inlines counts against the loop's budget (920 bytes)
 * that the label decoding needs too. A first version that read every encoding itself cost the 1.0
 * decoder 7% more instructions (callgrind), for want of that budget.
 */
export function decodeSample(buf: Uint8Array, pos: number, end: number, out: SampleColumns, at: number): number {
  const len = buf[pos];
  if (pos + 1 >= end || len >= 0x80 || len > end - pos - 1) return decodeAnySample(buf, pos, end, out, at);
  const start = pos;
  const stop = pos + 1 + len;
  const i = newRow(out);
  const timestamps = out.timestamps;
  let lo = 0;
  let hi = 0;
  pos++;
  while (pos < stop) {
    const tag = buf[pos];
    if (tag === TAG_VALUE && stop - pos > 8) {
      lo = int32At(buf, pos + 1);
      hi = int32At(buf, pos + 5);
      pos += 9;
    } else if (tag === TAG_TIMESTAMP) {
      pos = readTimestamp(buf, pos + 1, stop, timestamps, i);
    } else {
      return decodeAnySample(buf, start, end, out, at);
    }
  }
  commitRow(out, i, lo, hi, at);
  return stop;
}

/** decodeSample for any valid encoding, and the errors of an invalid one. */
function decodeAnySample(buf: Uint8Array, pos: number, end: number, out: SampleColumns, at: number): number {
  let len = buf[pos];
  if (pos < end && len < 0x80) pos++;
  else {
    // Samples of 128 bytes or more carry unknown fields: rare enough to read the varint twice
    // rather than pass the position through shared state.
    len = readVarint(buf, pos, end);
    pos = skipVarint(buf, pos, end);
  }
  if (len > end - pos) malformed('sample runs past the end of its series', at);
  const stop = pos + len;
  const i = newRow(out);
  const timestamps = out.timestamps;
  let lo = 0;
  let hi = 0;
  while (pos < stop) {
    const tagAt = pos;
    const tag = readTag(buf, pos, stop);
    pos = skipVarint(buf, pos, stop);
    if (tag === TAG_VALUE) {
      if (stop - pos < 8) malformed('truncated double', tagAt);
      lo = int32At(buf, pos);
      hi = int32At(buf, pos + 4);
      pos += 8;
    } else if (tag === TAG_TIMESTAMP) {
      pos = readTimestamp(buf, pos, stop, timestamps, i);
    } else {
      pos = skipUnknown(buf, pos, stop, tag, tagAt, SAMPLE_FIELDS);
    }
  }
  commitRow(out, i, lo, hi, at);
  return stop;
}

/** The decoded samples as DecodedWrite columns (views of the written part, nothing copied). */
export function sampleColumnsOf(c: SampleColumns): Pick<DecodedWrite, 'timestamps' | 'values' | 'stale'> {
  return {
    timestamps: c.timestamps.subarray(0, c.count),
    values: c.values.subarray(0, c.count),
    stale: c.stale.subarray(0, c.count),
  };
}
