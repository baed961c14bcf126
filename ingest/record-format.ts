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
//
// Written by record-encoder.ts (the receiver), read by record-decoder.ts (the processor).

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

export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}
