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
//   Histogram / BucketSpan: validated structurally and counted (histogram.ts).
//
// Nothing is allocated per label or sample: label names/values stay byte ranges into the body,
// samples go through the decoder both versions share (samples.ts). Fields may come in any order
// and interleaved; unknown fields are skipped by wire type; a known field with the wrong wire
// type, field number 0, truncation or a length past the end of its enclosing message is rejected
// with ProtobufError.

import { growUint32, newUint32 } from './columns.ts';
import type { DecodedWrite, DecodeLimits } from './decoded-write.ts';
import { validateHistogram } from './histogram.ts';
import {
  SKIP,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  fieldMask,
  malformed,
  readLength,
  readTag,
  readVarint,
  skipUnknown,
  skipValue,
  tooLarge,
  walkMessage,
  wire,
} from './protobuf-wire.ts';
import { decodeSample, newSampleColumns, sampleColumnsOf } from './samples.ts';

const TIMESERIES_FIELDS = fieldMask(1, 2, 3, 4);
const WRITE_REQUEST_FIELDS = fieldMask(1, 3);
const LABEL_FIELDS = fieldMask(1, 2);
const EXEMPLAR_FIELDS = fieldMask(1, 2, 3);
const METADATA_FIELDS = fieldMask(1, 2, 4, 5);

// Single-byte tags (field << 3 | wire type) of the hot fields. In the series loops, one-byte tags
// and lengths (nearly all of them) are read inline: a call per field costs measurably there.
const TAG_1_LEN = 0x0a;
const TAG_2_LEN = 0x12;
const TAG_3_LEN = 0x1a;
const TAG_4_LEN = 0x22;

// Exemplars and metadata are validated, counted and dropped.

/** Label { string name = 1; string value = 2; } of an exemplar. */
function labelField(buf: Uint8Array, tag: number, pos: number, end: number, at: number): number {
  return tag === TAG_1_LEN || tag === TAG_2_LEN ? skipValue(buf, pos, end, tag, at) : SKIP;
}

/** Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; } */
function exemplarField(buf: Uint8Array, tag: number, pos: number, end: number, at: number): number {
  if (tag === TAG_1_LEN) return walkMessage(buf, pos, end, LABEL_FIELDS, labelField, undefined);
  return tag === ((2 << 3) | WIRE_I64) || tag === ((3 << 3) | WIRE_VARINT) ? skipValue(buf, pos, end, tag, at) : SKIP;
}

/** MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; } */
function metadataField(buf: Uint8Array, tag: number, pos: number, end: number, at: number): number {
  const field = tag >>> 3;
  const wt = tag & 7;
  const known = (field === 1 && wt === WIRE_VARINT) || ((field === 2 || field === 4 || field === 5) && wt === WIRE_LEN);
  return known ? skipValue(buf, pos, end, tag, at) : SKIP;
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
  const maxLabels = limits?.maxLabels ?? Infinity;

  let labelStart = newUint32(seriesCap + 1);
  let sampleStart = newUint32(seriesCap + 1);
  let labelRefs = newUint32(labelCap * 4);
  let labelSpans = newUint32(2 * seriesCap + 2);
  const samples = newSampleColumns(sampleCap, limits?.maxSamples ?? Infinity);

  let seriesCount = 0;
  let labelCount = 0;
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
      if (seriesCount + 1 >= labelStart.length) {
        labelStart = growUint32(labelStart, seriesCount + 1, seriesCount + 2);
        sampleStart = growUint32(sampleStart, seriesCount + 1, seriesCount + 2);
        labelSpans = growUint32(labelSpans, 2 * seriesCount, 2 * seriesCount + 4);
      }
      labelStart[seriesCount] = labelCount;
      sampleStart[seriesCount] = samples.count;
      const spanStart = pos;
      let spanEnd = pos;

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
          if (r + 4 > labelRefs.length) labelRefs = growUint32(labelRefs, r, r + 4);
          labelRefs[r++] = nameOff;
          labelRefs[r++] = nameLen;
          labelRefs[r++] = valueOff;
          labelRefs[r] = valueLen;
          labelCount++;
          spanEnd = lEnd;
        } else if (ftag === TAG_2_LEN) {
          pos = decodeSample(buf, pos, tsEnd, samples, fat);
        } else if (ftag === TAG_3_LEN) {
          pos = walkMessage(buf, pos, tsEnd, EXEMPLAR_FIELDS, exemplarField, undefined);
          exemplarCount++;
        } else if (ftag === TAG_4_LEN) {
          pos = validateHistogram(buf, pos, tsEnd);
          histogramCount++;
        } else {
          pos = skipUnknown(buf, pos, tsEnd, ftag, fat, TIMESERIES_FIELDS);
        }
      }
      labelSpans[2 * seriesCount] = spanStart;
      labelSpans[2 * seriesCount + 1] = spanEnd;
      seriesCount++;
    } else if (tag === TAG_3_LEN) {
      pos = walkMessage(buf, pos, end, METADATA_FIELDS, metadataField, undefined);
      metadataCount++;
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, WRITE_REQUEST_FIELDS);
    }
  }

  labelStart[seriesCount] = labelCount;
  sampleStart[seriesCount] = samples.count;
  return {
    bytes: buf,
    seriesCount,
    labelStart: labelStart.subarray(0, seriesCount + 1),
    labelRefs: labelRefs.subarray(0, labelCount * 4),
    labelSpans: labelSpans.subarray(0, 2 * seriesCount),
    sampleStart: sampleStart.subarray(0, seriesCount + 1),
    ...sampleColumnsOf(samples),
    histogramCount,
    exemplarCount,
    metadataCount,
  };
}
