// Native histograms: decoded only far enough to validate them, then counted and dropped (the cost
// model reads float samples). The message has the same field numbers and types in remote write 1.0
// (prometheus.Histogram) and 2.0 (io.prometheus.write.v2.Histogram), so both decoders use this.

import {
  SKIP,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  fieldMask,
  malformed,
  readLength,
  skipValue,
  skipVarint,
  walkMessage,
  wire,
} from './protobuf-wire.ts';

const HISTOGRAM_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const BUCKET_SPAN_FIELDS = fieldMask(1, 2);

/** BucketSpan { sint32 offset = 1; uint32 length = 2; } */
function bucketSpanField(buf: Uint8Array, tag: number, pos: number, end: number): number {
  return tag === ((1 << 3) | WIRE_VARINT) || tag === ((2 << 3) | WIRE_VARINT) ? skipVarint(buf, pos, end) : SKIP;
}

function histogramField(buf: Uint8Array, tag: number, pos: number, end: number, at: number): number {
  const wt = tag & 7;
  switch (tag >>> 3) {
    case 1: // uint64 count_int
    case 4: // sint32 schema
    case 6: // uint64 zero_count_int
    case 14: // ResetHint reset_hint
    case 15: // int64 timestamp
      return wt === WIRE_VARINT ? skipVarint(buf, pos, end) : SKIP;
    case 2: // double count_float
    case 3: // double sum
    case 5: // double zero_threshold
    case 7: // double zero_count_float
      return wt === WIRE_I64 ? skipValue(buf, pos, end, tag, at) : SKIP;
    case 8: // repeated BucketSpan negative_spans
    case 11: // repeated BucketSpan positive_spans
      return wt === WIRE_LEN ? walkMessage(buf, pos, end, BUCKET_SPAN_FIELDS, bucketSpanField, undefined) : SKIP;
    case 9: // repeated sint64 negative_deltas
    case 12: // repeated sint64 positive_deltas
      if (wt === WIRE_VARINT) return skipVarint(buf, pos, end);
      return wt === WIRE_LEN ? skipPackedVarints(buf, pos, end) : SKIP;
    case 10: // repeated double negative_counts
    case 13: // repeated double positive_counts
    case 16: // repeated double custom_values
      if (wt === WIRE_I64) return skipValue(buf, pos, end, tag, at);
      return wt === WIRE_LEN ? skipPackedDoubles(buf, pos, end) : SKIP;
    default:
      return SKIP;
  }
}

function skipPackedVarints(buf: Uint8Array, pos: number, end: number): number {
  const len = readLength(buf, pos, end);
  pos = wire.pos;
  const stop = pos + len;
  while (pos < stop) pos = skipVarint(buf, pos, stop);
  return stop;
}

function skipPackedDoubles(buf: Uint8Array, pos: number, end: number): number {
  const len = readLength(buf, pos, end);
  if (len % 8 !== 0) malformed('packed doubles not a multiple of 8 bytes', pos);
  return wire.pos + len;
}

/** Validates the Histogram at `pos` (just after its tag) inside a series ending at `end`; returns the position after it. */
export function validateHistogram(buf: Uint8Array, pos: number, end: number): number {
  return walkMessage(buf, pos, end, HISTOGRAM_FIELDS, histogramField, undefined);
}
