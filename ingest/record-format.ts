// The value of one Kafka (or embedded log) record: the series of one (tenant, cluster) from one
// remote-write request. Documented in the README ("Record format"); bump FORMAT_VERSION on any
// change, and keep reading the versions before it (records outlive the code that wrote them).
//
// Version 2 (written since the receiver stores each distinct label string once per record):
//   record   := version:u8 (=2)  baseTime:varint  symbolCount:varint  symbol*  seriesCount:varint  series*
//   symbol   := len:varint  utf8                                a label name or value
//   series   := labelsLen:varint  labels  sampleCount:varint  sample*
//   labels   := (name:varint  value:varint)*                    symbol indices, in the sender's order
//   sample   := head:varint [value:f64 little-endian]
//     head   = zigzag(timestamp - previous timestamp) * 2 + stale   (previous = zigzag-decoded baseTime
//              for the first sample of a series)
//     value is absent for a stale marker (stale = 1)
// Version 1 (read only): version:u8 (=1) seriesCount:varint series*, with each series' labels
// written out, labels := (nameLen:varint name:utf8 valueLen:varint value:utf8)*, and previous = 0.
//
// A series' identity (seriesHash) is computed from its label strings, the same for both versions,
// so a series keeps its identity whichever receiver version wrote its records. Values are copied
// as raw 8 bytes (NaN payloads survive).
import { finishPairs, hashBytes, hashPairs, laneA, laneB, PAIRS_A, PAIRS_B } from '../core/hash.ts';
import { ByteReader, TruncatedError, unzigzag } from './varint.ts';

export { encodeRecords, FORMAT_VERSION, RecordEncoder } from './record-encode.ts';

/** Whether this code reads records of `version` (the format-version header, or a value's first byte). */
export function isReadableFormatVersion(version: number): boolean {
  return version === 1 || version === 2;
}

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

/** One record decoded: columnar like SeriesColumns, with each series' labels as one byte range. */
export interface RecordSeries {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly seriesCount: number;
  /** Labels of series i: bytes[labelsStart[i] .. labelsEnd[i]) (version 2: symbol indices). */
  readonly labelsStart: Uint32Array;
  readonly labelsEnd: Uint32Array;
  /** Samples of series i: sampleStart[i] .. sampleStart[i+1]-1. */
  readonly sampleStart: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly stale: Uint8Array;
  /** Version 2: symbols in the record (the arrays below may be longer). */
  readonly symbolCount: number;
  /** Version 2: symbol i is bytes[symbolStart[i] .. symbolEnd[i]); its hash (core/hash.ts) at 2i, 2i+1. */
  readonly symbolStart: Uint32Array;
  readonly symbolEnd: Uint32Array;
  readonly symbolHashes: Uint32Array;
}

/** Decodes a record value; throws RecordFormatError on an unknown version or malformed bytes. */
export function decodeRecord(value: Uint8Array): RecordSeries {
  return new RecordDecoder().decode(value);
}

const HASH = new Uint32Array(2);

/**
 * Decodes records into columns it keeps and reuses: what decode() returns is valid until its next
 * call, and after the first records a decode allocates nothing (per-record columns were most of
 * the processor's garbage, and their backing stores drove its full collections).
 */
export class RecordDecoder {
  private labelsStart = new Uint32Array(0);
  private labelsEnd = new Uint32Array(0);
  private sampleStart = new Uint32Array(0);
  private timestamps = new Float64Array(0);
  private values = new Float64Array(0);
  private valueBytes = new Uint8Array(0);
  private stale = new Uint8Array(0);
  private symbolStart = new Uint32Array(0);
  private symbolEnd = new Uint32Array(0);
  private symbolHashes = new Uint32Array(0);

  /** Throws RecordFormatError on an unknown version or malformed bytes. */
  decode(value: Uint8Array): RecordSeries {
    try {
      return this.decodeUnchecked(value);
    } catch (err) {
      if (err instanceof TruncatedError) throw new RecordFormatError(`malformed record: ${err.message}`);
      throw err;
    }
  }

  private decodeUnchecked(value: Uint8Array): RecordSeries {
    if (value.length < 2) throw new RecordFormatError(`record of ${value.length} bytes is too short`);
    const version = value[0];
    if (!isReadableFormatVersion(version)) throw new RecordFormatError(`unknown record format version ${version}`);
    const r = new ByteReader(value);
    r.pos = 1;
    let baseTime = 0;
    let symbolCount = 0;
    if (version === 2) {
      baseTime = unzigzag(r.varint());
      symbolCount = r.varint();
      // Every symbol needs at least a byte, so this bounds the allocation below by the record size.
      if (symbolCount > value.length) throw new RecordFormatError(`record declares ${symbolCount} symbols in ${value.length} bytes`);
      this.symbolCapacity(symbolCount);
      const { symbolStart, symbolEnd, symbolHashes } = this;
      const hash = HASH;
      for (let i = 0; i < symbolCount; i++) {
        const len = r.varint();
        r.need(len);
        symbolStart[i] = r.pos;
        r.pos += len;
        symbolEnd[i] = r.pos;
        hashBytes(value, symbolStart[i], r.pos, hash);
        symbolHashes[2 * i] = hash[0];
        symbolHashes[2 * i + 1] = hash[1];
      }
    }
    const seriesCount = r.varint();
    // Every series needs at least 2 bytes, so this bounds the allocation below by the record size
    // (compared in integers: half an odd length is not one, which threw away the optimised decoder).
    if (2 * seriesCount > value.length) throw new RecordFormatError(`record declares ${seriesCount} series in ${value.length} bytes`);
    this.seriesCapacity(seriesCount);
    const { labelsStart, labelsEnd, sampleStart } = this;
    if (this.timestamps.length < seriesCount) this.sampleCapacity(Math.max(16, seriesCount), 0);
    let timestamps = this.timestamps;
    let values = this.values;
    let stale = this.stale;
    let valueBytes = this.valueBytes;
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
      if (n + count > timestamps.length) {
        this.sampleCapacity(Math.max(timestamps.length * 2, n + count), n);
        timestamps = this.timestamps;
        values = this.values;
        stale = this.stale;
        valueBytes = this.valueBytes;
      }
      let previous = baseTime;
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
    return {
      version,
      bytes: value,
      seriesCount,
      labelsStart,
      labelsEnd,
      sampleStart,
      timestamps,
      values,
      stale,
      symbolCount,
      symbolStart: this.symbolStart,
      symbolEnd: this.symbolEnd,
      symbolHashes: this.symbolHashes,
    };
  }

  private symbolCapacity(count: number): void {
    if (this.symbolStart.length >= count) return;
    this.symbolStart = new Uint32Array(count);
    this.symbolEnd = new Uint32Array(count);
    this.symbolHashes = new Uint32Array(2 * count);
  }

  private seriesCapacity(count: number): void {
    if (this.labelsStart.length >= count) return;
    this.labelsStart = new Uint32Array(count);
    this.labelsEnd = new Uint32Array(count);
    this.sampleStart = new Uint32Array(count + 1);
  }

  /** Grows the sample columns to `capacity`, keeping the first `keep` samples. */
  private sampleCapacity(capacity: number, keep: number): void {
    const timestamps = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    const stale = new Uint8Array(capacity);
    timestamps.set(this.timestamps.subarray(0, keep));
    values.set(this.values.subarray(0, keep));
    stale.set(this.stale.subarray(0, keep));
    this.timestamps = timestamps;
    this.values = values;
    this.valueBytes = new Uint8Array(values.buffer);
    this.stale = stale;
  }
}

/** Hash halves of the label strings of the series being hashed (seriesHash is synchronous). */
let words: Uint32Array<ArrayBuffer> = new Uint32Array(128);

/**
 * Calls `label(nameFrom, nameTo, valueFrom, valueTo)` with the byte ranges of each label of the
 * series in order; throws RecordFormatError when its labels are malformed.
 */
function forEachLabel(rec: RecordSeries, series: number, label: (nameFrom: number, nameTo: number, valueFrom: number, valueTo: number) => void): void {
  const r = new ByteReader(rec.bytes);
  r.pos = rec.labelsStart[series];
  const end = rec.labelsEnd[series];
  try {
    while (r.pos < end) {
      if (rec.version === 2) {
        const name = r.varint();
        const value = r.varint();
        if (name >= rec.symbolCount || value >= rec.symbolCount) throw new RecordFormatError(`label refers to symbol ${Math.max(name, value)} of ${rec.symbolCount}`);
        label(rec.symbolStart[name], rec.symbolEnd[name], rec.symbolStart[value], rec.symbolEnd[value]);
      } else {
        const nameLen = r.varint();
        r.need(nameLen);
        const nameFrom = r.pos;
        r.pos += nameLen;
        const valueLen = r.varint();
        r.need(valueLen);
        const valueFrom = r.pos;
        r.pos += valueLen;
        label(nameFrom, nameFrom + nameLen, valueFrom, valueFrom + valueLen);
      }
    }
  } catch (err) {
    if (err instanceof TruncatedError) throw new RecordFormatError(`malformed labels: ${err.message}`);
    throw err;
  }
  if (r.pos !== end) throw new RecordFormatError('labels block overruns its length');
}

/**
 * The 64-bit identity of the series (core/hash.ts) into out[0], out[1]: the hash (hashPairs) of
 * the hashes of its label names and values in order. A version 2 record hashes each distinct
 * string once (decodeRecord), so a series costs a few integer operations per label.
 */
export function seriesHash(rec: RecordSeries, series: number, out: Uint32Array): void {
  if (rec.version !== 2) return seriesHashOfStrings(rec, series, out);
  const bytes = rec.bytes;
  const hashes = rec.symbolHashes;
  const symbols = rec.symbolCount;
  const from = rec.labelsStart[series];
  const end = rec.labelsEnd[series];
  // Symbol indices are varints: one byte below 128, two below 16,384 (a record never has more).
  let a = PAIRS_A;
  let b = PAIRS_B;
  let refs = 0;
  let pos = from;
  while (pos < end) {
    let ref = bytes[pos++];
    if (ref >= 0x80) {
      if (pos >= end) throw new RecordFormatError('malformed labels: varint runs past the labels block');
      const next = bytes[pos++];
      if (next >= 0x80) throw new RecordFormatError('label refers to a symbol past 16,383');
      ref = (ref & 0x7f) | (next << 7);
    }
    if (ref >= symbols) throw new RecordFormatError(`label refers to symbol ${ref} of ${symbols}`);
    a = laneA(a, hashes[2 * ref] | 0);
    b = laneB(b, hashes[2 * ref + 1] | 0);
    refs++;
  }
  if (refs % 2 !== 0) throw new RecordFormatError('malformed labels: a name without a value');
  finishPairs(a, b, 2 * refs, out);
}

/** Version 1: each label string hashed where it lies, then combined as version 2 does. */
function seriesHashOfStrings(rec: RecordSeries, series: number, out: Uint32Array): void {
  let n = 0;
  forEachLabel(rec, series, (nameFrom, nameTo, valueFrom, valueTo) => {
    if (n + 4 > words.length) words = grownWords(words);
    hashBytes(rec.bytes, nameFrom, nameTo, HASH);
    words[n++] = HASH[0];
    words[n++] = HASH[1];
    hashBytes(rec.bytes, valueFrom, valueTo, HASH);
    words[n++] = HASH[0];
    words[n++] = HASH[1];
  });
  hashPairs(words, 0, n, out);
}

function grownWords(a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The series' labels as one string (each name and value preceded by its length, as version 1
 * wrote them): an exact identity of its label set, the same for both versions.
 */
export function seriesKey(rec: RecordSeries, series: number): string {
  if (rec.version === 1) return asBuffer(rec.bytes).toString('latin1', rec.labelsStart[series], rec.labelsEnd[series]);
  const buf = asBuffer(rec.bytes);
  let key = '';
  const part = (from: number, to: number) => {
    let len = to - from;
    while (len >= 0x80) {
      key += String.fromCharCode((len % 128) | 0x80);
      len = Math.floor(len / 128);
    }
    key += String.fromCharCode(len) + buf.toString('latin1', from, to);
  };
  forEachLabel(rec, series, (nameFrom, nameTo, valueFrom, valueTo) => {
    part(nameFrom, nameTo);
    part(valueFrom, valueTo);
  });
  return key;
}

/** The series' labels as an object (names and values decoded as UTF-8). */
export function seriesLabels(rec: RecordSeries, series: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const buf = asBuffer(rec.bytes);
  forEachLabel(rec, series, (nameFrom, nameTo, valueFrom, valueTo) => {
    labels[buf.toString('utf8', nameFrom, nameTo)] = buf.toString('utf8', valueFrom, valueTo);
  });
  return labels;
}
