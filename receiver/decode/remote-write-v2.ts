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
// Timestamps: as in 1.0, exact int64 below ±2^53 ms, rejected beyond.

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
import { validateHistogram } from './remote-write-v1.ts';
import type { DecodeLimits } from './remote-write-v1.ts';

const REQUEST_FIELDS = fieldMask(4, 5);
const TIMESERIES_FIELDS = fieldMask(1, 2, 3, 4, 5, 6);
const SAMPLE_FIELDS = fieldMask(1, 2);
const EXEMPLAR_FIELDS = fieldMask(1, 2, 3);
const METADATA_FIELDS = fieldMask(1, 3, 4);

const TAG_REFS_PACKED = (1 << 3) | WIRE_LEN; // 0x0a
const TAG_REFS_SINGLE = (1 << 3) | WIRE_VARINT; // 0x08
const TAG_SAMPLE = (2 << 3) | WIRE_LEN; // 0x12
const TAG_HISTOGRAM = (3 << 3) | WIRE_LEN; // 0x1a
const TAG_EXEMPLAR = (4 << 3) | WIRE_LEN; // 0x22
const TAG_METADATA = (5 << 3) | WIRE_LEN; // 0x2a
const TAG_CREATED_TS = (6 << 3) | WIRE_VARINT; // 0x30
const TAG_VALUE = (1 << 3) | WIRE_I64; // 0x09
const TAG_TIMESTAMP = (2 << 3) | WIRE_VARINT; // 0x10

function invalid(message: string, offset: number): never {
  throw new ProtobufError('invalid', message, offset);
}

function tooLarge(what: string, limit: number, offset: number): never {
  throw new ProtobufError('too_large', `more than ${limit} ${what} in one request`, offset);
}

/** Checks a symbol reference; returns it as an index. */
function checkRef(ref: number, symbolCount: number, at: number): number {
  if (ref >= symbolCount && ref !== 0) {
    invalid(`symbol reference ${ref} outside the table of ${symbolCount} symbols`, at);
  }
  return ref;
}

/** Validates repeated uint32 labels_refs of an exemplar: payload [pos, end) if packed. Returns the count. */
function countRefs(buf: Uint8Array, pos: number, end: number, symbolCount: number): number {
  let n = 0;
  while (pos < end) {
    const at = pos;
    const ref = readVarint(buf, pos, end);
    pos = wire.pos;
    checkRef(ref, symbolCount, at);
    n++;
  }
  return n;
}

function validateExemplar(buf: Uint8Array, pos: number, end: number, symbolCount: number): void {
  const start = pos;
  let refs = 0;
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === TAG_REFS_PACKED) {
      const len = readLength(buf, pos, end);
      pos = wire.pos;
      refs += countRefs(buf, pos, pos + len, symbolCount);
      pos += len;
    } else if (tag === TAG_REFS_SINGLE) {
      const ref = readVarint(buf, pos, end);
      pos = wire.pos;
      checkRef(ref, symbolCount, at);
      refs++;
    } else if (tag === ((2 << 3) | WIRE_I64)) {
      if (end - pos < 8) malformed('truncated double', pos);
      pos += 8;
    } else if (tag === ((3 << 3) | WIRE_VARINT)) {
      pos = skipVarint(buf, pos, end);
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, EXEMPLAR_FIELDS);
    }
  }
  if (refs % 2 !== 0) invalid('exemplar labels_refs has an odd number of references', start);
}

function validateMetadata(buf: Uint8Array, pos: number, end: number, symbolCount: number): void {
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    if (tag === ((1 << 3) | WIRE_VARINT)) {
      pos = skipVarint(buf, pos, end);
    } else if (tag === ((3 << 3) | WIRE_VARINT) || tag === ((4 << 3) | WIRE_VARINT)) {
      const ref = readVarint(buf, pos, end);
      pos = wire.pos;
      checkRef(ref, symbolCount, at);
    } else {
      pos = skipUnknown(buf, pos, end, tag, at, METADATA_FIELDS);
    }
  }
}

/**
 * Decodes an io.prometheus.write.v2.Request. Throws ProtobufError on malformed or invalid input or
 * exceeded limits. The result references `bytes`: keep it alive and unmodified while it is used.
 */
export function decodeRequestV2(bytes: Uint8Array, limits?: DecodeLimits): DecodedWrite {
  const buf = bytes;
  const end = buf.length;
  const maxSeries = limits?.maxSeries ?? Infinity;
  const maxSamples = limits?.maxSamples ?? Infinity;
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
  let sampleCap = seriesCount + 16;
  let timestamps = newFloat64(sampleCap);
  let values = newFloat64(sampleCap);
  let valueWords = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  let stale = newUint8(sampleCap);
  let labelCount = 0;
  let sampleCount = 0;
  let histogramCount = 0;
  let exemplarCount = 0;
  let metadataCount = 0;

  for (let s = 0; s < seriesCount; s++) {
    pos = seriesPos[s * 2];
    const tsEnd = pos + seriesPos[s * 2 + 1];
    const seriesAt = pos;
    labelStart[s] = labelCount;
    sampleStart[s] = sampleCount;
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
          if (stag === TAG_VALUE) {
            if (sEnd - pos < 8) malformed('truncated double', sat);
            lo = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24);
            hi = buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24);
            pos += 8;
          } else if (stag === TAG_TIMESTAMP) {
            ts = readTimestamp(buf, pos, sEnd);
            pos = wire.pos;
          } else {
            pos = skipUnknown(buf, pos, sEnd, stag, sat, SAMPLE_FIELDS);
          }
        }
        if (sampleCount >= maxSamples) tooLarge('samples', maxSamples, fat);
        if (sampleCount >= sampleCap) {
          sampleCap = sampleCap * 2;
          timestamps = growFloat64(timestamps, sampleCount, sampleCap);
          values = growFloat64(values, sampleCount, sampleCap);
          valueWords = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
          stale = growUint8(stale, sampleCount, sampleCap);
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
      } else if (ftag === TAG_HISTOGRAM) {
        const len = readLength(buf, pos, tsEnd);
        pos = wire.pos;
        validateHistogram(buf, pos, pos + len);
        pos += len;
        histogramCount++;
      } else if (ftag === TAG_EXEMPLAR) {
        const len = readLength(buf, pos, tsEnd);
        pos = wire.pos;
        validateExemplar(buf, pos, pos + len, symbolCount);
        pos += len;
        exemplarCount++;
      } else if (ftag === TAG_METADATA) {
        const len = readLength(buf, pos, tsEnd);
        pos = wire.pos;
        validateMetadata(buf, pos, pos + len, symbolCount);
        pos += len;
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
  sampleStart[seriesCount] = sampleCount;

  return {
    bytes: buf,
    seriesCount,
    labelStart,
    labelRefs: labelRefs.subarray(0, labelCount * 4),
    sampleStart,
    timestamps: timestamps.subarray(0, sampleCount),
    values: values.subarray(0, sampleCount),
    stale: stale.subarray(0, sampleCount),
    histogramCount,
    exemplarCount,
    metadataCount,
  };
}
