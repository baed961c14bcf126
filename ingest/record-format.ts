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
import { hashBytes } from '../core/hash.ts';
import { ByteReader, TruncatedError, varintLength, writeVarint, unzigzag, zigzag } from './varint.ts';

export const FORMAT_VERSION = 1;

/**
 * What records are encoded from: the columns of a decoded remote-write request (the receiver's
 * DecodedWrite has this shape). Labels are byte ranges into `bytes`; values keep their raw bits.
 */
export interface SeriesColumns {
  readonly bytes: Uint8Array;
  /** Labels of series i are label entries labelStart[i] .. labelStart[i+1]-1. */
  readonly labelStart: Uint32Array;
  /** Label entry j: name offset, name length, value offset, value length at 4j .. 4j+3. */
  readonly labelRefs: Uint32Array;
  /** Samples of series i are sampleStart[i] .. sampleStart[i+1]-1. */
  readonly sampleStart: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** 1 where the sample is a stale marker. */
  readonly stale: Uint8Array;
}


export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

/**
 * The slices of series chosen for records, as parallel arrays (slice k: samples [from, to) of
 * series `series`, whose labels block is `labelsLen` bytes, taking `bytes` bytes in a record).
 * Arrays rather than an object per slice: a request has thousands of series.
 */
class Slices {
  length = 0;
  series: Uint32Array;
  from: Uint32Array;
  to: Uint32Array;
  labelsLen: Float64Array;
  bytes: Float64Array;

  constructor(capacity: number) {
    capacity = Math.max(capacity, 16);
    this.series = new Uint32Array(capacity);
    this.from = new Uint32Array(capacity);
    this.to = new Uint32Array(capacity);
    this.labelsLen = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
  }

  /** Empties the list and makes room for at least `capacity` slices. */
  reset(capacity: number): void {
    this.length = 0;
    while (this.series.length < capacity) this.grow();
  }

  push(series: number, from: number, to: number, labelsLen: number, bytes: number): void {
    if (this.length === this.series.length) this.grow();
    const k = this.length++;
    this.series[k] = series;
    this.from[k] = from;
    this.to[k] = to;
    this.labelsLen[k] = labelsLen;
    this.bytes[k] = bytes;
  }

  private grow(): void {
    const n = this.series.length * 2;
    const series = new Uint32Array(n);
    series.set(this.series);
    this.series = series;
    const from = new Uint32Array(n);
    from.set(this.from);
    this.from = from;
    const to = new Uint32Array(n);
    to.set(this.to);
    this.to = to;
    const labelsLen = new Float64Array(n);
    labelsLen.set(this.labelsLen);
    this.labelsLen = labelsLen;
    const bytes = new Float64Array(n);
    bytes.set(this.bytes);
    this.bytes = bytes;
  }
}

function labelsBlockLength(d: SeriesColumns, series: number): number {
  let len = 0;
  const refs = d.labelRefs;
  for (let j = d.labelStart[series], end = d.labelStart[series + 1]; j < end; j++) {
    const nameLen = refs[4 * j + 1];
    const valueLen = refs[4 * j + 3];
    len += (nameLen < 0x80 ? 1 : varintLength(nameLen)) + nameLen + (valueLen < 0x80 ? 1 : varintLength(valueLen)) + valueLen;
  }
  return len;
}

/** varintLength by comparisons (no division loop): a sample's head is usually 6 or 7 bytes. */
function varintSize(n: number): number {
  if (n < 2 ** 7) return 1;
  if (n < 2 ** 14) return 2;
  if (n < 2 ** 21) return 3;
  if (n < 2 ** 28) return 4;
  if (n < 2 ** 35) return 5;
  if (n < 2 ** 42) return 6;
  if (n < 2 ** 49) return 7;
  return varintLength(n);
}

/**
 * writeVarint for integers up to 2^53 with 32-bit integer operations instead of a division per
 * byte (the head of the first sample of a series is a whole timestamp: 6 to 7 bytes).
 */
function writeLongVarint(out: Uint8Array, pos: number, n: number): number {
  if (n < 0x80) {
    out[pos] = n;
    return pos + 1;
  }
  if (!(n <= Number.MAX_SAFE_INTEGER)) return writeVarint(out, pos, n);
  let lo = n >>> 0;
  let hi = (n - lo) / 4294967296;
  while (hi > 0) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo >= 0x80) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

function sampleLength(d: SeriesColumns, i: number, previous: number): number {
  const head = zigzag(d.timestamps[i] - previous) * 2 + d.stale[i];
  return varintSize(head) + (d.stale[i] ? 0 : 8);
}

/**
 * Encodes the given series of a decoded request as record values of at most `maxRecordBytes`
 * each (a series longer than that is split across records; its labels repeat in each).
 */
/**
 * encodeRecords' working space, reused from call to call (it is synchronous, so never shared):
 * five typed arrays per request would otherwise add to the garbage of every request.
 */
const scratch = new Slices(4096);

export function encodeRecords(d: SeriesColumns, seriesList: ArrayLike<number>, maxRecordBytes: number): Buffer[] {
  const slices = scratch;
  slices.reset(seriesList.length);
  const timestamps = d.timestamps;
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
        slices.push(s, from, i, labelsLen, fixed + varintLength(i - from) + bytes);
        from = i;
        bytes = 0;
        previous = 0;
        bytes += sampleLength(d, i, previous);
      } else {
        bytes += len;
      }
      previous = timestamps[i];
    }
    slices.push(s, from, last, labelsLen, fixed + varintLength(last - from) + bytes);
  }

  const records: Buffer[] = [];
  const sliceBytes = slices.bytes;
  let start = 0;
  while (start < slices.length) {
    let end = start;
    let size = 1 + 5; // version + series count
    while (end < slices.length && (end === start || size + sliceBytes[end] <= maxRecordBytes)) {
      size += sliceBytes[end];
      end++;
    }
    records.push(writeRecord(d, slices, start, end, size));
    start = end;
  }
  return records;
}

/** Byte ranges up to this long are copied 4 bytes at a time in JavaScript; longer ones with TypedArray.set. */
const COPY_INLINE_MAX = 128;

function writeRecord(d: SeriesColumns, slices: Slices, start: number, end: number, capacity: number): Buffer {
  const buffer = Buffer.allocUnsafe(capacity);
  // Labels are short (a kubecost series has ~10 of 5 to 60 bytes each): copying them through
  // DataViews, 4 bytes per load and store, is about twice as fast as a byte loop and three times
  // as fast as set(subarray()), which allocates a view per label.
  const out = new Uint8Array(buffer.buffer, buffer.byteOffset, capacity);
  const outView = new DataView(buffer.buffer, buffer.byteOffset, capacity);
  const src = d.bytes;
  const srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const valuesView = new DataView(d.values.buffer, d.values.byteOffset, d.values.byteLength);
  const refs = d.labelRefs;
  const labelStart = d.labelStart;
  const timestamps = d.timestamps;
  const staleOf = d.stale;
  out[0] = FORMAT_VERSION;
  let pos = writeVarint(out, 1, end - start);
  for (let k = start; k < end; k++) {
    const series = slices.series[k];
    const from = slices.from[k];
    const to = slices.to[k];
    const labelsLen = slices.labelsLen[k];
    if (labelsLen < 0x80) out[pos++] = labelsLen;
    else pos = writeVarint(out, pos, labelsLen);
    for (let j = labelStart[series], stop = labelStart[series + 1]; j < stop; j++) {
      const nameOff = refs[4 * j];
      const nameLen = refs[4 * j + 1];
      const valueOff = refs[4 * j + 2];
      const valueLen = refs[4 * j + 3];
      if (nameLen < 0x80) out[pos++] = nameLen;
      else pos = writeVarint(out, pos, nameLen);
      if (nameLen <= COPY_INLINE_MAX) {
        let b = nameOff;
        const e = nameOff + nameLen;
        for (; b + 4 <= e; b += 4, pos += 4) outView.setUint32(pos, srcView.getUint32(b, true), true);
        for (; b < e; b++) out[pos++] = src[b];
      } else {
        out.set(src.subarray(nameOff, nameOff + nameLen), pos);
        pos += nameLen;
      }
      if (valueLen < 0x80) out[pos++] = valueLen;
      else pos = writeVarint(out, pos, valueLen);
      if (valueLen <= COPY_INLINE_MAX) {
        let b = valueOff;
        const e = valueOff + valueLen;
        for (; b + 4 <= e; b += 4, pos += 4) outView.setUint32(pos, srcView.getUint32(b, true), true);
        for (; b < e; b++) out[pos++] = src[b];
      } else {
        out.set(src.subarray(valueOff, valueOff + valueLen), pos);
        pos += valueLen;
      }
    }
    const count = to - from;
    if (count < 0x80) out[pos++] = count;
    else pos = writeVarint(out, pos, count);
    let previous = 0;
    for (let i = from; i < to; i++) {
      const stale = staleOf[i];
      pos = writeLongVarint(out, pos, zigzag(timestamps[i] - previous) * 2 + stale);
      previous = timestamps[i];
      if (!stale) {
        // The value's 8 bytes as two 32-bit integers: never through a double, so NaN payloads survive.
        outView.setUint32(pos, valuesView.getUint32(8 * i, true), true);
        outView.setUint32(pos + 4, valuesView.getUint32(8 * i + 4, true), true);
        pos += 8;
      }
    }
  }
  return buffer.subarray(0, pos);
}

/** One record decoded: columnar like SeriesColumns, with each series' labels as one byte range. */
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
        // Byte by byte: a subarray per sample was a tenth of the processor's time.
        const from = r.pos;
        const to = 8 * n;
        valueBytes[to] = value[from];
        valueBytes[to + 1] = value[from + 1];
        valueBytes[to + 2] = value[from + 2];
        valueBytes[to + 3] = value[from + 3];
        valueBytes[to + 4] = value[from + 4];
        valueBytes[to + 5] = value[from + 5];
        valueBytes[to + 6] = value[from + 6];
        valueBytes[to + 7] = value[from + 7];
        r.pos = from + 8;
      }
    }
  }
  sampleStart[seriesCount] = n;
  if (r.pos !== value.length) throw new RecordFormatError(`${value.length - r.pos} trailing bytes after the last series`);
  return { bytes: value, seriesCount, labelsStart, labelsEnd, sampleStart, timestamps, values, stale };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The series' labels block as a string: a cheap, exact identity of its label set. */
export function seriesKey(rec: RecordSeries, series: number): string {
  return asBuffer(rec.bytes).toString('latin1', rec.labelsStart[series], rec.labelsEnd[series]);
}

/**
 * The 64-bit hash of the series' labels block (core/hash.ts) into out[0], out[1]: the identity the
 * processor gives the cost model. Hashing the bytes where they lie is about twice as fast as
 * building the labels string (seriesKey) and hashing that.
 */
export function seriesHash(rec: RecordSeries, series: number, out: Uint32Array): void {
  hashBytes(rec.bytes, rec.labelsStart[series], rec.labelsEnd[series], out);
}

/** The series' labels as an object (names and values decoded as UTF-8). */
export function seriesLabels(rec: RecordSeries, series: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const buf = asBuffer(rec.bytes);
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
