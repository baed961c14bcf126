// Encodes the series of a decoded request as records (ingest/record-format.ts, version 2), straight
// from the request's columns: labels are interned as symbols (record-symbols.ts; the table outlives
// the request, its owner resets it), every record stores its distinct strings once. Nothing is allocated per series or per sample
// (one buffer per record); the working space is reused from request to request (encoding is
// synchronous).
//
//   const encoder = new RecordEncoder();
//   encoder.begin(columns);
//   for (const s of accepted) encoder.internSeries(s);      // or adoptSymbols(s, ...) for a series whose
//                                                           // symbols are known; then group them
//   const values = encoder.encode(groups, maxRecordBytes);  // values[g]: group g's records
import type { SeriesColumns } from './record-format.ts';
import { SymbolMap, SymbolTable } from './record-symbols.ts';
import { varintLength, writeVarint, zigzag } from './varint.ts';

/** The version of the records written (ingest/record-format.ts describes every version). */
export const FORMAT_VERSION = 2;

/** Symbols one record may hold: label references stay within two-byte varints (seriesHash reads them so). */
export const MAX_RECORD_SYMBOLS = 16_384;
/** Bytes kept free for the counts at the head of a record, whose final lengths are not known yet. */
const HEAD_SLACK = 24;

/** varintLength by comparisons: a sample's head is usually 1 to 3 bytes here. */
function varintSize(n: number): number {
  if (n < 2 ** 7) return 1;
  if (n < 2 ** 14) return 2;
  if (n < 2 ** 21) return 3;
  if (n < 2 ** 28) return 4;
  return varintLength(n);
}

/**
 * Writes series into records one pass: each series' labels are numbered against the record being
 * filled and written at once into a scratch area (the record's body); when the record is full, its
 * head (base time and symbols) and body are copied into a buffer of its exact size.
 */
export class RecordEncoder {
  readonly symbols = new SymbolTable();
  private columns: SeriesColumns | undefined;
  /** The request's sample values, read as raw bits. */
  private valuesView: DataView = new DataView(new ArrayBuffer(0));
  /** Label entry j: its name's symbol at 2j, its value's at 2j + 1. */
  private labelSymbols = new Int32Array(4096);
  /** The index each request symbol has in the record being filled. */
  private local = new SymbolMap();
  /** The record's symbols (request symbols) in index order. */
  private recordSymbols: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private symbolCount = 0;
  private symbolBytes = 0;
  /** The record's series, written as they are added. */
  private body = new Uint8Array(1 << 16);
  private bodyView = new DataView(this.body.buffer);
  private bodyLength = 0;
  private seriesCount = 0;
  private base = 0;
  private open = false;

  /** Starts a request (the symbols of earlier requests stay valid until symbols.reset()). */
  begin(columns: SeriesColumns): void {
    this.columns = columns;
    this.valuesView = new DataView(columns.values.buffer, columns.values.byteOffset, columns.values.byteLength);
    const entries = columns.labelRefs.length / 4;
    this.symbols.begin(columns.bytes);
    if (this.labelSymbols.length < 2 * entries) this.labelSymbols = new Int32Array(2 * entries);
  }

  /** Interns the label names and values of `series` (each series at most once per request). */
  internSeries(series: number): void {
    const d = this.columns!;
    const refs = d.labelRefs;
    const syms = this.labelSymbols;
    const table = this.symbols;
    for (let j = d.labelStart[series], end = d.labelStart[series + 1]; j < end; j++) {
      syms[2 * j] = table.intern(refs[4 * j], refs[4 * j + 1]);
      syms[2 * j + 1] = table.intern(refs[4 * j + 2], refs[4 * j + 3]);
    }
  }

  /**
   * Gives `series` the label symbols ids[from ..] (name and value alternating, one pair per label
   * entry, as internSeries would find them): those of an identical series interned before.
   */
  adoptSymbols(series: number, ids: Int32Array, from: number): void {
    const d = this.columns!;
    const syms = this.labelSymbols;
    for (let k = 2 * d.labelStart[series], end = 2 * d.labelStart[series + 1], i = from; k < end; k++, i++) syms[k] = ids[i];
  }

  /** The label symbols of `series` (name and value alternating), for keeping them with the series. */
  seriesSymbols(series: number): Int32Array {
    const d = this.columns!;
    return this.labelSymbols.subarray(2 * d.labelStart[series], 2 * d.labelStart[series + 1]);
  }

  /** The symbol of label entry j's name (after internSeries). */
  nameSymbol(entry: number): number {
    return this.labelSymbols[2 * entry];
  }

  /** The symbol of label entry j's value (after internSeries). */
  valueSymbol(entry: number): number {
    return this.labelSymbols[2 * entry + 1];
  }

  /**
   * The records of each group of interned series (values[g] for groups[g]), each at most
   * `maxRecordBytes` (a series longer than that is split across records; its labels repeat in
   * each; a single sample with its labels larger than that gets a record of its own).
   */
  encode(groups: readonly ArrayLike<number>[], maxRecordBytes: number): Buffer[][] {
    const values: Buffer[][] = [];
    for (let g = 0; g < groups.length; g++) {
      const out: Buffer[] = [];
      const list = groups[g];
      for (let k = 0; k < list.length; k++) this.addSeries(list[k], maxRecordBytes, out);
      if (this.open) out.push(this.close());
      values.push(out);
    }
    return values;
  }

  private start(firstTime: number): void {
    this.local.clear();
    this.open = true;
    this.symbolCount = this.symbolBytes = this.bodyLength = this.seriesCount = 0;
    this.base = firstTime;
  }

  /** The open record as a buffer of its exact size. */
  private close(): Buffer {
    const { offsets, lengths, arena: src } = this.symbols;
    const size = 1 + varintSize(zigzag(this.base)) + varintSize(this.symbolCount) + this.symbolBytes + varintSize(this.seriesCount) + this.bodyLength;
    const out = Buffer.allocUnsafe(size);
    out[0] = FORMAT_VERSION;
    let pos = writeVarint(out, 1, zigzag(this.base));
    pos = writeVarint(out, pos, this.symbolCount);
    for (let k = 0; k < this.symbolCount; k++) {
      const sym = this.recordSymbols[k];
      const off = offsets[sym];
      const len = lengths[sym];
      if (len < 0x80) out[pos++] = len;
      else pos = writeVarint(out, pos, len);
      // Symbols are short: a loop beats a copy call per string.
      for (let b = off, e = off + len; b < e; b++) out[pos++] = src[b];
    }
    pos = writeVarint(out, pos, this.seriesCount);
    out.set(this.body.subarray(0, this.bodyLength), pos);
    this.open = false;
    return out;
  }

  private ensureBody(bytes: number): void {
    if (this.body.length >= bytes) return;
    let size = this.body.length;
    while (size < bytes) size *= 2;
    const body = new Uint8Array(size);
    body.set(this.body.subarray(0, this.bodyLength));
    this.body = body;
    this.bodyView = new DataView(body.buffer);
  }

  /** Adds series `s` (all of its samples) to the open record, closing records into `out` as they fill. */
  private addSeries(s: number, maxRecordBytes: number, out: Buffer[]): void {
    const d = this.columns!;
    const { labelStart, sampleStart, timestamps, stale } = d;
    const valuesView = this.valuesView;
    const syms = this.labelSymbols;
    const lengths = this.symbols.lengths;
    const local = this.local;
    const labelFrom = 2 * labelStart[s];
    const labelTo = 2 * labelStart[s + 1];
    let from = sampleStart[s];
    const last = sampleStart[s + 1];
    for (;;) {
      if (!this.open) this.start(from < last ? timestamps[from] : 0);
      // Number the labels against this record (new symbols get the next indices) and write their
      // indices at once, after one byte kept for the block's length (moved along below in the rare
      // case it needs more). A series that does not fit leaves them behind unused.
      let next = this.symbolCount;
      let newBytes = 0;
      this.ensureBody(this.bodyLength + 16 + 2 * (labelTo - labelFrom) + 16 * (last - from));
      const body = this.body;
      const view = this.bodyView;
      const labelsAt = this.bodyLength;
      let pos = labelsAt + 1;
      for (let k = labelFrom; k < labelTo; k++) {
        const sym = syms[k];
        let id = local.get(sym);
        if (id < 0) {
          id = next++;
          local.set(sym, id);
          if (id >= this.recordSymbols.length) this.recordSymbols = grownInts(this.recordSymbols);
          this.recordSymbols[id] = sym;
          newBytes += varintSize(lengths[sym]) + lengths[sym];
        }
        if (id < 0x80) body[pos++] = id;
        else {
          body[pos++] = (id & 0x7f) | 0x80;
          body[pos++] = id >>> 7;
        }
      }
      const labelBytes = pos - labelsAt - 1;
      const room = maxRecordBytes - HEAD_SLACK - this.symbolBytes - newBytes - this.bodyLength;
      if (this.seriesCount > 0 && (next > MAX_RECORD_SYMBOLS || room < labelBytes + 16)) {
        // Not even the labels and a sample fit (or no more symbols): the series goes to the next
        // record, whose start forgets the indices given here.
        out.push(this.close());
        continue;
      }
      pos = putVarintBefore(body, labelsAt, labelBytes, pos);
      // Then as many samples as fit (at least one in a record of its own: none is empty).
      const countAt = pos++; // one byte for the sample count; moved along below in the rare case it needs more
      const limit = this.bodyLength + room;
      let previous = this.base;
      let i = from;
      for (; i < last; i++) {
        const isStale = stale[i];
        const head = zigzag(timestamps[i] - previous) * 2 + isStale;
        const size = varintSize(head) + (isStale ? 0 : 8);
        if (pos + size + varintSize(i - from + 1) > limit && (i > from || this.seriesCount > 0)) break;
        pos = head < 0x80 ? ((body[pos] = head), pos + 1) : writeVarint(body, pos, head);
        previous = timestamps[i];
        if (!isStale) {
          // The value's 8 bytes as two 32-bit integers: never through a double, so NaN payloads survive.
          view.setUint32(pos, valuesView.getUint32(8 * i, true), true);
          view.setUint32(pos + 4, valuesView.getUint32(8 * i + 4, true), true);
          pos += 8;
        }
      }
      const count = i - from;
      pos = putVarintBefore(body, countAt, count, pos);
      this.symbolCount = next;
      this.symbolBytes += newBytes;
      this.bodyLength = pos;
      this.seriesCount++;
      if (i >= last) return;
      // The rest of the series goes to the next record.
      from = i;
      out.push(this.close());
    }
  }
}

/**
 * Writes `value` as a varint at `at`, the one byte kept for it in front of bytes [at + 1, end),
 * moving those along in the rare case it needs more; returns where they end then.
 */
function putVarintBefore(body: Uint8Array, at: number, value: number, end: number): number {
  if (value < 0x80) {
    body[at] = value;
    return end;
  }
  const extra = varintSize(value) - 1;
  body.copyWithin(at + 1 + extra, at + 1, end);
  writeVarint(body, at, value);
  return end + extra;
}

function grownInts(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

const shared = new RecordEncoder();

/**
 * Encodes the given series of a decoded request as record values of at most `maxRecordBytes`
 * each (a series longer than that is split across records; its labels repeat in each).
 */
export function encodeRecords(d: SeriesColumns, seriesList: ArrayLike<number>, maxRecordBytes: number): Buffer[] {
  shared.symbols.reset();
  shared.begin(d);
  for (let k = 0; k < seriesList.length; k++) shared.internSeries(seriesList[k]);
  return shared.encode([seriesList], maxRecordBytes)[0];
}
