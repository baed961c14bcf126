// Hand-written decoder for prometheus.WriteRequest (remote write 1.0) into a DecodedWrite.
//
// Schema (proto/remote.proto, proto/types.proto):
//   WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }
//   Exemplar     { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
//   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
//   Histogram / BucketSpan: validated structurally and counted (validateHistogram below).
//
// Nothing is allocated per label or sample: label names/values stay byte ranges into the body,
// values are copied as their 8 raw bytes (two int32 words) into a Float64Array so NaN payloads
// survive, and stale markers are recognised from those raw words, never from a JS number.
// Fields may come in any order and interleaved; unknown fields are skipped by wire type; a known
// field with the wrong wire type, field number 0, truncation or a length past the end of its
// enclosing message is rejected with ProtobufError.
//
// Timestamps: int64 varints decoded exactly; beyond ±(2^53-1) ms the request is rejected
// (ProtobufError 'invalid'), see readInt64.

import type { DecodedWrite } from './decoded-write.ts';
import { STALE_NAN_HI, STALE_NAN_LO } from './decoded-write.ts';
import {
  LITTLE_ENDIAN,
  ProtobufError,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  fieldMask,
  growFloat64,
  growUint32,
  growUint8,
  malformed,
  newFloat64,
  newUint32,
  newUint8,
  readLength,
  readTag,
  readTimestamp,
  readVarint,
  skipUnknown,
  skipVarint,
  wire,
} from './protobuf-wire.ts';

/** Caps on what one request may expand into (memory guard); exceeding one is 'too_large'. */
export interface DecodeLimits {
  /** Maximum number of series (TimeSeries messages). */
  readonly maxSeries?: number;
  /** Maximum number of float samples over all series. */
  readonly maxSamples?: number;
  /** Maximum number of label entries over all series. */
  readonly maxLabels?: number;
}

const TIMESERIES_FIELDS = fieldMask(1, 2, 3, 4);
const WRITE_REQUEST_FIELDS = fieldMask(1, 3);
const LABEL_FIELDS = fieldMask(1, 2);
const SAMPLE_FIELDS = fieldMask(1, 2);
const EXEMPLAR_FIELDS = fieldMask(1, 2, 3);
const METADATA_FIELDS = fieldMask(1, 2, 4, 5);
const HISTOGRAM_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const BUCKET_SPAN_FIELDS = fieldMask(1, 2);

// Single-byte tags (field << 3 | wire type) of the hot fields.
const TAG_1_LEN = 0x0a;
const TAG_2_LEN = 0x12;
const TAG_3_LEN = 0x1a;
const TAG_4_LEN = 0x22;
const TAG_1_I64 = 0x09;
const TAG_2_VARINT = 0x10;

function tooLarge(what: string, limit: number, offset: number): never {
  throw new ProtobufError('too_large', `more than ${limit} ${what} in one request`, offset);
}

/** Validates a Label message [pos, end) (used for exemplar labels, which are not stored). */
function skipLabel(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === TAG_1_LEN || tag === TAG_2_LEN) {
      const len = readLength(buf, pos, end);
      pos = wire.pos + len;
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, LABEL_FIELDS);
    }
  }
}

/** Validates an Exemplar message [pos, end). */
function validateExemplar(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === TAG_1_LEN) {
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      skipLabel(buf, pos, pos + len);
      pos += len;
    } else if (tag === ((2 << 3) | WIRE_I64)) {
      if (end - pos < 8) malformed('truncated double', pos);
      pos += 8;
    } else if (tag === ((3 << 3) | WIRE_VARINT)) {
      pos = skipVarint(buf, pos, end);
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, EXEMPLAR_FIELDS);
    }
  }
}

/** Validates a MetricMetadata message [pos, end). */
function validateMetadata(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_VARINT) {
      pos = skipVarint(buf, pos, end);
    } else if ((field === 2 || field === 4 || field === 5) && wt === WIRE_LEN) {
      const len = readLength(buf, pos, end);
      pos = wire.pos + len;
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, METADATA_FIELDS);
    }
  }
}

/** Validates a BucketSpan message [pos, end). */
function validateBucketSpan(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === ((1 << 3) | WIRE_VARINT) || tag === ((2 << 3) | WIRE_VARINT)) {
      pos = skipVarint(buf, pos, end);
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, BUCKET_SPAN_FIELDS);
    }
  }
}

/**
 * Validates a native Histogram message [pos, end): the same message (same field numbers and
 * types) in remote write 1.0 (prometheus.Histogram) and 2.0 (io.prometheus.write.v2.Histogram).
 */
export function validateHistogram(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1: // uint64 count_int
      case 4: // sint32 schema
      case 6: // uint64 zero_count_int
      case 14: // ResetHint reset_hint
      case 15: // int64 timestamp
        if (wt !== WIRE_VARINT) break;
        pos = skipVarint(buf, pos, end);
        continue;
      case 2: // double count_float
      case 3: // double sum
      case 5: // double zero_threshold
      case 7: // double zero_count_float
        if (wt !== WIRE_I64) break;
        if (end - pos < 8) malformed('truncated double', pos);
        pos += 8;
        continue;
      case 8: // repeated BucketSpan negative_spans
      case 11: // repeated BucketSpan positive_spans
        if (wt !== WIRE_LEN) break;
        {
          const len = readLength(buf, pos, end);
          pos = wire.pos;
          validateBucketSpan(buf, pos, pos + len);
          pos += len;
        }
        continue;
      case 9: // repeated sint64 negative_deltas
      case 12: // repeated sint64 positive_deltas
        if (wt === WIRE_VARINT) {
          pos = skipVarint(buf, pos, end);
          continue;
        }
        if (wt !== WIRE_LEN) break;
        {
          const len = readLength(buf, pos, end);
          pos = wire.pos;
          const stop = pos + len;
          while (pos < stop) pos = skipVarint(buf, pos, stop);
        }
        continue;
      case 10: // repeated double negative_counts
      case 13: // repeated double positive_counts
      case 16: // repeated double custom_values
        if (wt === WIRE_I64) {
          if (end - pos < 8) malformed('truncated double', pos);
          pos += 8;
          continue;
        }
        if (wt !== WIRE_LEN) break;
        {
          const len = readLength(buf, pos, end);
          if (len % 8 !== 0) malformed('packed doubles not a multiple of 8 bytes', pos);
          pos = wire.pos + len;
        }
        continue;
      default:
        break;
    }
    pos = skipUnknown(buf, pos, end, tag, at, HISTOGRAM_FIELDS);
  }
}

/** Output arrays under construction, with their fill counts. */
interface Columns {
  labelRefs: Uint32Array;
  labelStart: Uint32Array;
  sampleStart: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
  /** Int32 view of `values`' buffer: raw value words are written through it. */
  valueWords: Int32Array;
  stale: Uint8Array;
}

function newColumns(seriesCap: number, labelCap: number, sampleCap: number): Columns {
  const values = newFloat64(sampleCap);
  return {
    labelRefs: newUint32(labelCap * 4),
    labelStart: newUint32(seriesCap + 1),
    sampleStart: newUint32(seriesCap + 1),
    timestamps: newFloat64(sampleCap),
    values,
    valueWords: new Int32Array(values.buffer, values.byteOffset, values.length * 2),
    stale: newUint8(sampleCap),
  };
}

function growSamples(c: Columns, used: number): void {
  c.timestamps = growFloat64(c.timestamps, used, used + 1);
  c.values = growFloat64(c.values, used, used + 1);
  c.valueWords = new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2);
  c.stale = growUint8(c.stale, used, used + 1);
}

/**
 * Decodes a prometheus.WriteRequest. Throws ProtobufError on malformed input or exceeded limits.
 * The returned DecodedWrite references `bytes` (label ranges point into it): keep it alive and
 * unmodified while the result is used.
 */
export function decodeWriteRequestV1(bytes: Uint8Array, limits?: DecodeLimits): DecodedWrite {
  // Initial capacities from the body size: a kubecost series is ~320 bytes with ~10 labels and
  // one sample; the arrays double if a request is denser than that.
  const n = bytes.length;
  return decodeV1(bytes, limits, (n >>> 8) + 16, (n >>> 5) + 64, (n >>> 8) + 16);
}

/**
 * The same decoder with exactly-sized arrays from a counting pre-pass (kept to measure the two
 * sizing strategies against each other; decodeWriteRequestV1 uses growable arrays).
 */
export function decodeWriteRequestV1Precount(bytes: Uint8Array, limits?: DecodeLimits): DecodedWrite {
  const c = countWriteRequestV1(bytes);
  return decodeV1(bytes, limits, c.series, c.labels, c.samples);
}

/** Counts series, label entries and samples of a WriteRequest without decoding them. */
export function countWriteRequestV1(bytes: Uint8Array): { series: number; labels: number; samples: number } {
  const end = bytes.length;
  let series = 0;
  let labels = 0;
  let samples = 0;
  let pos = 0;
  while (pos < end) {
    const at = pos;
    const tag = readTag(bytes, pos, end);
    pos = wire.pos;
    if (tag !== TAG_1_LEN) {
      pos = skipUnknown(bytes, pos, end, tag, at, 0);
      continue;
    }
    const len = readLength(bytes, pos, end);
    pos = wire.pos;
    const tsEnd = pos + len;
    series++;
    while (pos < tsEnd) {
      const fat = pos;
      const ftag = readTag(bytes, pos, tsEnd);
      pos = wire.pos;
      if (ftag === TAG_1_LEN) labels++;
      else if (ftag === TAG_2_LEN) samples++;
      pos = skipUnknown(bytes, pos, tsEnd, ftag, fat, 0);
    }
  }
  return { series, labels, samples };
}

function decodeV1(
  buf: Uint8Array,
  limits: DecodeLimits | undefined,
  seriesCap: number,
  labelCap: number,
  sampleCap: number,
): DecodedWrite {
  const end = buf.length;
  const maxSeries = limits?.maxSeries ?? Infinity;
  const maxSamples = limits?.maxSamples ?? Infinity;
  const maxLabels = limits?.maxLabels ?? Infinity;

  const c = newColumns(seriesCap, labelCap, sampleCap);
  let labelRefs = c.labelRefs;
  let valueWords = c.valueWords;
  let timestamps = c.timestamps;
  let stale = c.stale;

  let seriesCount = 0;
  let labelCount = 0;
  let sampleCount = 0;
  let histogramCount = 0;
  let exemplarCount = 0;
  let metadataCount = 0;

  let pos = 0;
  while (pos < end) {
    const at = pos;
    let tag = buf[pos];
    if (tag < 0x80) pos++;
    else {
      tag = readTag(buf, pos, end);
      pos = wire.pos;
    }

    if (tag === TAG_1_LEN) {
      // ---- TimeSeries ----
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      const tsEnd = pos + len;
      if (seriesCount >= maxSeries) tooLarge('series', maxSeries, at);
      if (seriesCount + 1 >= c.labelStart.length) {
        c.labelStart = growUint32(c.labelStart, seriesCount + 1, seriesCount + 2);
        c.sampleStart = growUint32(c.sampleStart, seriesCount + 1, seriesCount + 2);
      }
      c.labelStart[seriesCount] = labelCount;
      c.sampleStart[seriesCount] = sampleCount;

      while (pos < tsEnd) {
        const fat = pos;
        let ftag = buf[pos];
        if (ftag < 0x80) pos++;
        else {
          ftag = readTag(buf, pos, tsEnd);
          pos = wire.pos;
        }

        if (ftag === TAG_1_LEN) {
          // ---- Label ----
          let llen = buf[pos];
          if (pos < tsEnd && llen < 0x80) pos++;
          else {
            llen = readVarint(buf, pos, tsEnd);
            pos = wire.pos;
          }
          if (llen > tsEnd - pos) malformed('label runs past the end of its series', fat);
          const lEnd = pos + llen;
          let nameOff = pos;
          let nameLen = 0;
          let valueOff = pos;
          let valueLen = 0;
          while (pos < lEnd) {
            const lat = pos;
            let ltag = buf[pos];
            if (ltag < 0x80) pos++;
            else {
              ltag = readTag(buf, pos, lEnd);
              pos = wire.pos;
            }
            if (ltag === TAG_1_LEN || ltag === TAG_2_LEN) {
              let slen = buf[pos];
              if (pos < lEnd && slen < 0x80) pos++;
              else {
                slen = readVarint(buf, pos, lEnd);
                pos = wire.pos;
              }
              if (slen > lEnd - pos) malformed('string runs past the end of its label', lat);
              if (ltag === TAG_1_LEN) {
                nameOff = pos;
                nameLen = slen;
              } else {
                valueOff = pos;
                valueLen = slen;
              }
              pos += slen;
            } else {
              pos = skipUnknown(buf, pos, lEnd, ltag, lat, LABEL_FIELDS);
            }
          }
          if (labelCount >= maxLabels) tooLarge('labels', maxLabels, fat);
          let r = labelCount * 4;
          if (r + 4 > labelRefs.length) {
            labelRefs = c.labelRefs = growUint32(labelRefs, r, r + 4);
          }
          labelRefs[r++] = nameOff;
          labelRefs[r++] = nameLen;
          labelRefs[r++] = valueOff;
          labelRefs[r] = valueLen;
          labelCount++;
        } else if (ftag === TAG_2_LEN) {
          // ---- Sample ----
          let slen = buf[pos];
          if (pos < tsEnd && slen < 0x80) pos++;
          else {
            slen = readVarint(buf, pos, tsEnd);
            pos = wire.pos;
          }
          if (slen > tsEnd - pos) malformed('sample runs past the end of its series', fat);
          const sEnd = pos + slen;
          let lo = 0;
          let hi = 0;
          let ts = 0;
          while (pos < sEnd) {
            const sat = pos;
            let stag = buf[pos];
            if (stag < 0x80) pos++;
            else {
              stag = readTag(buf, pos, sEnd);
              pos = wire.pos;
            }
            if (stag === TAG_1_I64) {
              if (sEnd - pos < 8) malformed('truncated double', sat);
              lo = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24);
              hi = buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24);
              pos += 8;
            } else if (stag === TAG_2_VARINT) {
              ts = readTimestamp(buf, pos, sEnd);
              pos = wire.pos;
            } else {
              pos = skipUnknown(buf, pos, sEnd, stag, sat, SAMPLE_FIELDS);
            }
          }
          if (sampleCount >= maxSamples) tooLarge('samples', maxSamples, fat);
          if (sampleCount >= timestamps.length) {
            growSamples(c, sampleCount);
            valueWords = c.valueWords;
            timestamps = c.timestamps;
            stale = c.stale;
          }
          if (LITTLE_ENDIAN) {
            valueWords[sampleCount * 2] = lo;
            valueWords[sampleCount * 2 + 1] = hi;
          } else {
            valueWords[sampleCount * 2] = hi;
            valueWords[sampleCount * 2 + 1] = lo;
          }
          stale[sampleCount] = hi === STALE_NAN_HI && lo === STALE_NAN_LO ? 1 : 0;
          timestamps[sampleCount] = ts;
          sampleCount++;
        } else if (ftag === TAG_3_LEN) {
          const elen = readLength(buf, pos, tsEnd);
          pos = wire.pos;
          validateExemplar(buf, pos, pos + elen);
          pos += elen;
          exemplarCount++;
        } else if (ftag === TAG_4_LEN) {
          const hlen = readLength(buf, pos, tsEnd);
          pos = wire.pos;
          validateHistogram(buf, pos, pos + hlen);
          pos += hlen;
          histogramCount++;
        } else {
          pos = skipUnknown(buf, pos, tsEnd, ftag, fat, TIMESERIES_FIELDS);
        }
      }
      seriesCount++;
    } else if (tag === TAG_3_LEN) {
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      validateMetadata(buf, pos, pos + len);
      pos += len;
      metadataCount++;
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, WRITE_REQUEST_FIELDS);
    }
  }

  c.labelStart[seriesCount] = labelCount;
  c.sampleStart[seriesCount] = sampleCount;
  return {
    bytes: buf,
    seriesCount,
    labelStart: c.labelStart.subarray(0, seriesCount + 1),
    labelRefs: labelRefs.subarray(0, labelCount * 4),
    sampleStart: c.sampleStart.subarray(0, seriesCount + 1),
    timestamps: timestamps.subarray(0, sampleCount),
    values: c.values.subarray(0, sampleCount),
    stale: stale.subarray(0, sampleCount),
    histogramCount,
    exemplarCount,
    metadataCount,
  };
}
