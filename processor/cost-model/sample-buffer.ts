// Decoded samples of streams, reused across calls so that reading allocates nothing.

/** Decoded samples of one stream (or a merge of several), in time order. */
export class SampleBuffer {
  ts = new Float64Array(256);
  val = new Float64Array(256);
  stale = new Uint8Array(256);
  n = 0;
  /** Index of the first sample that is not an anchor (0 or 1). */
  first = 0;

  push(t: number, v: number, s: number): void {
    if (this.n === this.ts.length) this.grow(this.n * 2);
    this.ts[this.n] = t;
    this.val[this.n] = v;
    this.stale[this.n] = s;
    this.n++;
  }

  grow(size: number): void {
    const ts = new Float64Array(size);
    const val = new Float64Array(size);
    const stale = new Uint8Array(size);
    ts.set(this.ts.subarray(0, this.n));
    val.set(this.val.subarray(0, this.n));
    stale.set(this.stale.subarray(0, this.n));
    this.ts = ts;
    this.val = val;
    this.stale = stale;
  }
}
