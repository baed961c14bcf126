// Record values (record-format.ts) from the columns of a decoded remote-write request: the
// series are cut into slices that fit the record size limit, then copied byte for byte.
import { FORMAT_VERSION, type SeriesColumns } from './record-format.ts';
import { varintLength, writeVarint, zigzag } from './varint.ts';

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
 * encodeRecords' working space, reused from call to call (it is synchronous, so never shared):
 * five typed arrays per request would otherwise add to the garbage of every request.
 */
const scratch = new Slices(4096);

/**
 * Encodes the given series of a decoded request as record values of at most `maxRecordBytes`
 * each (a series longer than that is split across records; its labels repeat in each).
 */
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
