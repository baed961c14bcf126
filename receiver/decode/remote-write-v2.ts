// Hand-written decoder for io.prometheus.write.v2.Request (remote write 2.0) into a DecodedWrite.
//
// Schema (proto/io/prometheus/write/v2/types.proto):
//   Request    { reserved 1 to 3; repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
//   TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
//                repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
//                Metadata metadata = 5; int64 created_timestamp = 6; }
//   Sample     { double value = 1; int64 timestamp = 2; }
//   Exemplar   { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
//   Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
//
// Symbols are strings inside the body, so a label entry is the byte ranges of its name and value
// symbols: the same DecodedWrite as for 1.0. Because protobuf allows any field order, a first pass
// collects the symbol table and the timeseries' positions, a second pass decodes the timeseries.
//
// Validation beyond the wire format (ProtobufError 'invalid'): every reference must be inside the
// symbol table; labels_refs (of series and exemplars) must have an even count; symbols[0] must be
// the empty string when the table is not empty. Reference 0 is the empty string by definition
// (also when a request carries no symbols at all, e.g. metadata with help_ref/unit_ref 0).
// Samples go through the decoder both versions share (samples.ts).

import { growUint32, newUint32 } from './columns.ts';
import type { DecodedWrite, DecodeLimits } from './decoded-write.ts';
import { validateHistogram } from './histogram.ts';
import {
  SKIP,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  fieldMask,
  invalid,
  malformed,
  readLength,
  readTag,
  readVarint,
  skipUnknown,
  skipValue,
  skipVarint,
  tooLarge,
  walkMessage,
  wire,
} from './protobuf-wire.ts';
import { decodeSample, newSampleColumns, sampleColumnsOf } from './samples.ts';

const REQUEST_FIELDS = fieldMask(4, 5);
const TIMESERIES_FIELDS = fieldMask(1, 2, 3, 4, 5, 6);
const EXEMPLAR_FIELDS = fieldMask(1, 2, 3);
const METADATA_FIELDS = fieldMask(1, 3, 4);

const TAG_REFS_PACKED = (1 << 3) | WIRE_LEN; // 0x0a
const TAG_REFS_SINGLE = (1 << 3) | WIRE_VARINT; // 0x08
const TAG_SAMPLE = (2 << 3) | WIRE_LEN; // 0x12
const TAG_HISTOGRAM = (3 << 3) | WIRE_LEN; // 0x1a
const TAG_EXEMPLAR = (4 << 3) | WIRE_LEN; // 0x22
const TAG_METADATA = (5 << 3) | WIRE_LEN; // 0x2a
const TAG_CREATED_TS = (6 << 3) | WIRE_VARINT; // 0x30

/** Refuses a symbol reference outside the table (0, the empty string, is always inside). */
function checkRef(ref: number, symbolCount: number, at: number): void {
  if (ref >= symbolCount && ref !== 0) {
    invalid(`symbol reference ${ref} outside the table of ${symbolCount} symbols`, at);
  }
}

// Exemplars and metadata are validated (their symbol references too), counted and dropped.

/** Exemplar { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }: counts the references into `refs`. */
function exemplarField(buf: Uint8Array, tag: number, pos: number, end: number, at: number, refs: ExemplarRefs): number {
  if (tag === TAG_REFS_PACKED) {
    const len = readLength(buf, pos, end);
    pos = wire.pos;
    const stop = pos + len;
    while (pos < stop) pos = readRef(buf, pos, stop, refs);
    return stop;
  }
  if (tag === TAG_REFS_SINGLE) return readRef(buf, pos, end, refs);
  return tag === ((2 << 3) | WIRE_I64) || tag === ((3 << 3) | WIRE_VARINT) ? skipValue(buf, pos, end, tag, at) : SKIP;
}

interface ExemplarRefs {
  readonly symbolCount: number;
  count: number;
}

function readRef(buf: Uint8Array, pos: number, end: number, refs: ExemplarRefs): number {
  const ref = readVarint(buf, pos, end);
  checkRef(ref, refs.symbolCount, pos);
  refs.count++;
  return wire.pos;
}

function validateExemplar(buf: Uint8Array, pos: number, end: number, symbolCount: number): number {
  const refs: ExemplarRefs = { symbolCount, count: 0 };
  const after = walkMessage(buf, pos, end, EXEMPLAR_FIELDS, exemplarField, refs);
  if (refs.count % 2 !== 0) invalid('exemplar labels_refs has an odd number of references', pos);
  return after;
}

/** Metadata { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; } */
function metadataField(buf: Uint8Array, tag: number, pos: number, end: number, at: number, symbolCount: number): number {
  if (tag === ((1 << 3) | WIRE_VARINT)) return skipVarint(buf, pos, end);
  if (tag !== ((3 << 3) | WIRE_VARINT) && tag !== ((4 << 3) | WIRE_VARINT)) return SKIP;
  checkRef(readVarint(buf, pos, end), symbolCount, at);
  return wire.pos;
}

/**
 * Decodes an io.prometheus.write.v2.Request. Throws ProtobufError on malformed or invalid input or
 * exceeded limits. The result references `bytes`: keep it alive and unmodified while it is used.
 */
export function decodeRequestV2(bytes: Uint8Array, limits?: DecodeLimits): DecodedWrite {
  const buf = bytes;
  const end = buf.length;
  const maxSeries = limits?.maxSeries ?? Infinity;
  const maxLabels = limits?.maxLabels ?? Infinity;

  // ---- Pass 1: symbol table and timeseries positions ----
  let symbols = newUint32(((end >>> 4) + 16) * 2);
  let symbolCount = 0;
  let seriesPos = newUint32(((end >>> 8) + 16) * 2);
  let seriesCount = 0;
  let pos = 0;
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === ((4 << 3) | WIRE_LEN)) {
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      if (symbolCount * 2 + 2 > symbols.length) symbols = growUint32(symbols, symbolCount * 2, symbolCount * 2 + 2);
      symbols[symbolCount * 2] = pos;
      symbols[symbolCount * 2 + 1] = len;
      symbolCount++;
      pos += len;
    } else if (tag === ((5 << 3) | WIRE_LEN)) {
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      if (seriesCount >= maxSeries) tooLarge('series', maxSeries, at);
      if (seriesCount * 2 + 2 > seriesPos.length) seriesPos = growUint32(seriesPos, seriesCount * 2, seriesCount * 2 + 2);
      seriesPos[seriesCount * 2] = pos;
      seriesPos[seriesCount * 2 + 1] = len;
      seriesCount++;
      pos += len;
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, REQUEST_FIELDS);
    }
  }
  if (symbolCount > 0 && symbols[1] !== 0) {
    invalid('symbols[0] must be the empty string', symbols[0]);
  }

  // ---- Pass 2: timeseries ----
  const labelStart = newUint32(seriesCount + 1);
  const sampleStart = newUint32(seriesCount + 1);
  let labelRefs = newUint32(((end >>> 2) + 64) * 4);
  const samples = newSampleColumns(seriesCount + 16, limits?.maxSamples ?? Infinity);
  let labelCount = 0;
  let histogramCount = 0;
  let exemplarCount = 0;
  let metadataCount = 0;

  for (let s = 0; s < seriesCount; s++) {
    pos = seriesPos[s * 2];
    const tsEnd = pos + seriesPos[s * 2 + 1];
    const seriesAt = pos;
    labelStart[s] = labelCount;
    sampleStart[s] = samples.count;
    let pendingName = -1; // a name reference waiting for its value reference
    let hasMetadata = false;

    while (pos < tsEnd) {
      const fat = pos;
      let ftag = buf[pos];
      if (ftag < 0x80) pos++;
      else {
        ftag = readTag(buf, pos, tsEnd);
        pos = wire.pos;
      }

      if (ftag === TAG_REFS_PACKED || ftag === TAG_REFS_SINGLE) {
        // Packed (the proto3 default) or one unpacked varint; both may repeat and interleave.
        const single = ftag === TAG_REFS_SINGLE;
        let stop = tsEnd;
        if (!single) {
          const len = readLength(buf, pos, tsEnd);
          pos = wire.pos;
          stop = pos + len;
        }
        while (single || pos < stop) {
          const rat = pos;
          let ref = buf[pos];
          if (pos < stop && ref < 0x80) pos++;
          else {
            ref = readVarint(buf, pos, stop);
            pos = wire.pos;
          }
          if (ref >= symbolCount && ref !== 0) {
            invalid(`symbol reference ${ref} outside the table of ${symbolCount} symbols`, rat);
          }
          if (pendingName < 0) {
            pendingName = ref;
          } else {
            if (labelCount >= maxLabels) tooLarge('labels', maxLabels, rat);
            let r = labelCount * 4;
            if (r + 4 > labelRefs.length) labelRefs = growUint32(labelRefs, r, r + 4);
            if (symbolCount === 0) {
              // Only reference 0 can get here: both strings are empty.
              labelRefs[r++] = 0;
              labelRefs[r++] = 0;
              labelRefs[r++] = 0;
              labelRefs[r] = 0;
            } else {
              labelRefs[r++] = symbols[pendingName * 2];
              labelRefs[r++] = symbols[pendingName * 2 + 1];
              labelRefs[r++] = symbols[ref * 2];
              labelRefs[r] = symbols[ref * 2 + 1];
            }
            labelCount++;
            pendingName = -1;
          }
          if (single) break;
        }
      } else if (ftag === TAG_SAMPLE) {
        pos = decodeSample(buf, pos, tsEnd, samples, fat);
      } else if (ftag === TAG_HISTOGRAM) {
        pos = validateHistogram(buf, pos, tsEnd);
        histogramCount++;
      } else if (ftag === TAG_EXEMPLAR) {
        pos = validateExemplar(buf, pos, tsEnd, symbolCount);
        exemplarCount++;
      } else if (ftag === TAG_METADATA) {
        pos = walkMessage(buf, pos, tsEnd, METADATA_FIELDS, metadataField, symbolCount);
        hasMetadata = true;
      } else if (ftag === TAG_CREATED_TS) {
        pos = skipVarint(buf, pos, tsEnd);
      } else {
        pos = skipUnknown(buf, pos, tsEnd, ftag, fat, TIMESERIES_FIELDS);
      }
    }
    if (pendingName >= 0) invalid('labels_refs has an odd number of references', seriesAt);
    if (hasMetadata) metadataCount++;
  }
  labelStart[seriesCount] = labelCount;
  sampleStart[seriesCount] = samples.count;

  return {
    bytes: buf,
    seriesCount,
    labelStart,
    labelRefs: labelRefs.subarray(0, labelCount * 4),
    sampleStart,
    ...sampleColumnsOf(samples),
    histogramCount,
    exemplarCount,
    metadataCount,
  };
}
