// Record values (record-format.ts) read back: columns of series and samples, and each series'
// labels block as its identity (its bytes, a string or a hash) or as an object.
import { hashBytes } from '../core/hash.ts';
import { FORMAT_VERSION, RecordFormatError, type RecordSeries } from './record-format.ts';
import { ByteReader, TruncatedError, unzigzag } from './varint.ts';

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
