// The value of one Kafka (or embedded log) record: the series of one (tenant, cluster) from one
// remote-write request. Documented in the README ("Record format"); bump FORMAT_VERSION on any change.
//
//   record   := version:u8 (=1)  seriesCount:varint  series*
//   series   := labelsLen:varint  labels  sampleCount:varint  sample*
//   labels   := (nameLen:varint name:utf8  valueLen:varint value:utf8)*   in the sender's order
//   sample   := head:varint [value:f64 little-endian]
//     head   = zigzag(timestamp - previous timestamp) * 2 + stale   (previous = 0 for the first)
//     value is absent for a stale marker (stale = 1)
//
// The labels block of a series is byte-identical for the same label set, so consumers can use
// it as the series identity without building strings. Values are copied as raw 8 bytes.
import type { DecodedWrite } from '../receiver/decode/decoded-write.ts';
import { ByteReader, TruncatedError, varintLength, writeVarint, unzigzag, zigzag } from './varint.ts';

export const FORMAT_VERSION = 1;

export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

/** A slice of one series' samples chosen for a record: samples [from, to) of series `series`. */
interface SeriesSlice {
  series: number;
  from: number;
  to: number;
  labelsLen: number;
  bytes: number;
}

function labelsBlockLength(d: DecodedWrite, series: number): number {
  let len = 0;
  const refs = d.labelRefs;
  for (let j = d.labelStart[series], end = d.labelStart[series + 1]; j < end; j++) {
    const nameLen = refs[4 * j + 1];
    const valueLen = refs[4 * j + 3];
    len += varintLength(nameLen) + nameLen + varintLength(valueLen) + valueLen;
  }
  return len;
}

function sampleLength(d: DecodedWrite, i: number, previous: number): number {
  const head = zigzag(d.timestamps[i] - previous) * 2 + d.stale[i];
  return varintLength(head) + (d.stale[i] ? 0 : 8);
}

/**
 * Encodes the given series of a decoded request as record values of at most `maxRecordBytes`
 * each (a series longer than that is split across records; its labels repeat in each).
 */
export function encodeRecords(d: DecodedWrite, seriesList: ArrayLike<number>, maxRecordBytes: number): Buffer[] {
  const slices: SeriesSlice[] = [];
  for (let k = 0; k < seriesList.length; k++) {
    const s = seriesList[k];
    const labelsLen = labelsBlockLength(d, s);
    const fixed = varintLength(labelsLen) + labelsLen;
    const first = d.sampleStart[s];
    const last = d.sampleStart[s + 1];
    let from = first;
    let bytes = 0;
    let previous = 0;
    for (let i = first; i < last; i++) {
      const len = sampleLength(d, i, previous);
      // Leave room for the record header and this slice's sample count.
      if (i > from && fixed + bytes + len + 16 > maxRecordBytes) {
        slices.push({ series: s, from, to: i, labelsLen, bytes: fixed + varintLength(i - from) + bytes });
        from = i;
        bytes = 0;
        previous = 0;
        bytes += sampleLength(d, i, previous);
      } else {
        bytes += len;
      }
      previous = d.timestamps[i];
    }
    slices.push({ series: s, from, to: last, labelsLen, bytes: fixed + varintLength(last - from) + bytes });
  }

  const records: Buffer[] = [];
  let start = 0;
  while (start < slices.length) {
    let end = start;
    let size = 1 + 5; // version + series count
    while (end < slices.length && (end === start || size + slices[end].bytes <= maxRecordBytes)) {
      size += slices[end].bytes;
      end++;
    }
    records.push(writeRecord(d, slices, start, end, size));
    start = end;
  }
  return records;
}

function writeRecord(d: DecodedWrite, slices: SeriesSlice[], start: number, end: number, capacity: number): Buffer {
  const out = Buffer.allocUnsafe(capacity);
  const src = d.bytes;
  const values = new Uint8Array(d.values.buffer, d.values.byteOffset, d.values.byteLength);
  const refs = d.labelRefs;
  out[0] = FORMAT_VERSION;
  let pos = writeVarint(out, 1, end - start);
  for (let k = start; k < end; k++) {
    const { series, from, to, labelsLen } = slices[k];
    pos = writeVarint(out, pos, labelsLen);
    for (let j = d.labelStart[series], stop = d.labelStart[series + 1]; j < stop; j++) {
      const nameOff = refs[4 * j];
      const nameLen = refs[4 * j + 1];
      const valueOff = refs[4 * j + 2];
      const valueLen = refs[4 * j + 3];
      pos = writeVarint(out, pos, nameLen);
      out.set(src.subarray(nameOff, nameOff + nameLen), pos);
      pos += nameLen;
      pos = writeVarint(out, pos, valueLen);
      out.set(src.subarray(valueOff, valueOff + valueLen), pos);
      pos += valueLen;
    }
    pos = writeVarint(out, pos, to - from);
    let previous = 0;
    for (let i = from; i < to; i++) {
      const stale = d.stale[i];
      pos = writeVarint(out, pos, zigzag(d.timestamps[i] - previous) * 2 + stale);
      previous = d.timestamps[i];
      if (!stale) {
        const v = 8 * i;
        out[pos] = values[v];
        out[pos + 1] = values[v + 1];
        out[pos + 2] = values[v + 2];
        out[pos + 3] = values[v + 3];
        out[pos + 4] = values[v + 4];
        out[pos + 5] = values[v + 5];
        out[pos + 6] = values[v + 6];
        out[pos + 7] = values[v + 7];
        pos += 8;
      }
    }
  }
  return out.subarray(0, pos);
}

/** One record decoded: columnar like DecodedWrite, with each series' labels as one byte range. */
export interface RecordSeries {
  readonly bytes: Uint8Array;
  readonly seriesCount: number;
  /** Labels block of series i: bytes[labelsStart[i] .. labelsEnd[i]). */
  readonly labelsStart: Uint32Array;
  readonly labelsEnd: Uint32Array;
  /** Samples of series i: sampleStart[i] .. sampleStart[i+1]-1. */
  readonly sampleStart: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly stale: Uint8Array;
}

/** Decodes a record value; throws RecordFormatError on an unknown version or malformed bytes. */
export function decodeRecord(value: Uint8Array): RecordSeries {
  try {
    return decodeRecordUnchecked(value);
  } catch (err) {
    if (err instanceof TruncatedError) throw new RecordFormatError(`malformed record: ${err.message}`);
    throw err;
  }
}

function decodeRecordUnchecked(value: Uint8Array): RecordSeries {
  if (value.length < 2) throw new RecordFormatError(`record of ${value.length} bytes is too short`);
  if (value[0] !== FORMAT_VERSION) throw new RecordFormatError(`unknown record format version ${value[0]}`);
  const r = new ByteReader(value);
  r.pos = 1;
  const seriesCount = r.varint();
  // Every series needs at least 2 bytes, so this bounds the allocation below by the record size.
  if (seriesCount > value.length / 2) throw new RecordFormatError(`record declares ${seriesCount} series in ${value.length} bytes`);
  const labelsStart = new Uint32Array(seriesCount);
  const labelsEnd = new Uint32Array(seriesCount);
  const sampleStart = new Uint32Array(seriesCount + 1);
  let capacity = Math.max(16, seriesCount);
  let timestamps = new Float64Array(capacity);
  let values = new Float64Array(capacity);
  let stale = new Uint8Array(capacity);
  let valueBytes = new Uint8Array(values.buffer);
  let n = 0;
  for (let s = 0; s < seriesCount; s++) {
    const labelsLen = r.varint();
    r.need(labelsLen);
    labelsStart[s] = r.pos;
    r.pos += labelsLen;
    labelsEnd[s] = r.pos;
    const count = r.varint();
    if (count > value.length - r.pos) throw new RecordFormatError(`series declares ${count} samples past the end of the record`);
    sampleStart[s] = n;
    if (n + count > capacity) {
      capacity = Math.max(capacity * 2, n + count);
      const t = new Float64Array(capacity);
      t.set(timestamps);
      timestamps = t;
      const v = new Float64Array(capacity);
      v.set(values);
      values = v;
      valueBytes = new Uint8Array(values.buffer);
      const st = new Uint8Array(capacity);
      st.set(stale);
      stale = st;
    }
    let previous = 0;
    for (let k = 0; k < count; k++, n++) {
      const head = r.varint();
      const isStale = head % 2;
      previous += unzigzag((head - isStale) / 2);
      timestamps[n] = previous;
      stale[n] = isStale;
      if (isStale) {
        values[n] = NaN;
      } else {
        r.need(8);
        valueBytes.set(value.subarray(r.pos, r.pos + 8), 8 * n);
        r.pos += 8;
      }
    }
  }
  sampleStart[seriesCount] = n;
  if (r.pos !== value.length) throw new RecordFormatError(`${value.length - r.pos} trailing bytes after the last series`);
  return { bytes: value, seriesCount, labelsStart, labelsEnd, sampleStart, timestamps, values, stale };
}

/** The series' labels block as a string: a cheap, exact identity of its label set. */
export function seriesKey(rec: RecordSeries, series: number): string {
  return Buffer.from(rec.bytes.buffer, rec.bytes.byteOffset, rec.bytes.byteLength).toString('latin1', rec.labelsStart[series], rec.labelsEnd[series]);
}

/** The series' labels as an object (names and values decoded as UTF-8). */
export function seriesLabels(rec: RecordSeries, series: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const buf = Buffer.from(rec.bytes.buffer, rec.bytes.byteOffset, rec.bytes.byteLength);
  const r = new ByteReader(rec.bytes);
  r.pos = rec.labelsStart[series];
  const end = rec.labelsEnd[series];
  try {
    while (r.pos < end) {
      const nameLen = r.varint();
      r.need(nameLen);
      const name = buf.toString('utf8', r.pos, r.pos + nameLen);
      r.pos += nameLen;
      const valueLen = r.varint();
      r.need(valueLen);
      labels[name] = buf.toString('utf8', r.pos, r.pos + valueLen);
      r.pos += valueLen;
    }
  } catch (err) {
    if (err instanceof TruncatedError) throw new RecordFormatError(`malformed labels: ${err.message}`);
    throw err;
  }
  if (r.pos !== end) throw new RecordFormatError('labels block overruns its length');
  return labels;
}
