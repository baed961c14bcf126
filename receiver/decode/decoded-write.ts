// The decoded form of one remote-write request, shared by the 1.0 and 2.0 decoders.
//
// Columnar on purpose: a kubecost request carries ~2,000 series of ~10 labels with one sample
// each, so building an object per label or sample would dominate the cost of a request. Label
// names and values stay as byte ranges into `bytes` (the decompressed body) until someone needs
// them as strings; values and timestamps sit in typed arrays, which also keep NaN payloads intact.

export interface DecodedWrite {
  /** The decompressed protobuf body; every label reference points into it. */
  readonly bytes: Uint8Array;
  readonly seriesCount: number;
  /** Labels of series i are label entries labelStart[i] .. labelStart[i+1]-1 (length seriesCount+1). */
  readonly labelStart: Uint32Array;
  /** Label entry j: name offset, name length, value offset, value length at 4j .. 4j+3. */
  readonly labelRefs: Uint32Array;
  /**
   * Remote write 1.0 only: series i's bytes from the start of its message to the end of its last
   * label, bytes[labelSpans[2i], labelSpans[2i+1]). Two series with equal spans have equal labels
   * (parsing equal bytes from the same start finds the same fields), so the span identifies a
   * series across requests without reading its strings (receiver/series-cache.ts).
   */
  readonly labelSpans?: Uint32Array;
  /** Float samples of series i are sampleStart[i] .. sampleStart[i+1]-1 (length seriesCount+1). */
  readonly sampleStart: Uint32Array;
  /** Milliseconds since the epoch (int64 on the wire; exact below 2^53). */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** 1 where the sample is a Prometheus stale marker (recognised from its raw 64 bits). */
  readonly stale: Uint8Array;
  /** Native histogram samples, exemplars and metadata entries seen (decoded and validated, not forwarded). */
  readonly histogramCount: number;
  readonly exemplarCount: number;
  readonly metadataCount: number;
}

/** Caps on what one request may expand into (memory guard); exceeding one is 'too_large'. */
export interface DecodeLimits {
  /** Maximum number of series (TimeSeries messages). */
  readonly maxSeries?: number;
  /** Maximum number of float samples over all series. */
  readonly maxSamples?: number;
  /** Maximum number of label entries over all series. */
  readonly maxLabels?: number;
}

/** The raw 64 bits of a Prometheus staleness marker (a NaN with a payload). */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;
