// Series of a cluster that the model does not keep (ignored or invalid), by identity: asked about
// every series the model does not hold, so for every sample of such series (a seventh of a
// Kubecost cluster's samples). An open-addressing table over typed arrays answers without the
// number-keyed Map it replaces (whose keys were heap numbers, hashed on every lookup). Keys are
// what that Map's were: the first half of the identity and the top 21 bits of the second.

export type Rejection = 'ignored' | 'invalid';

const EMPTY = 0;
const IGNORED = 1;
const INVALID = 2;
const ANSWERS: readonly (Rejection | undefined)[] = [undefined, 'ignored', 'invalid'];

export class RejectedSeries {
  private hi = new Uint32Array(16);
  private lo = new Uint32Array(16);
  /** EMPTY, IGNORED or INVALID per slot. */
  private what = new Uint8Array(16);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(h1: number, h2: number): Rejection | undefined {
    if (this.count === 0) return undefined;
    // Read from a table rather than branched on: every lookup then runs the code a hit runs.
    return ANSWERS[this.what[this.slotOf(h1, h2 >>> 11)]];
  }

  set(h1: number, h2: number, rejection: Rejection): void {
    if (2 * (this.count + 1) > this.what.length) this.grow();
    const lo = h2 >>> 11;
    const slot = this.slotOf(h1, lo);
    if (this.what[slot] === EMPTY) this.count++;
    this.hi[slot] = h1;
    this.lo[slot] = lo;
    this.what[slot] = rejection === 'ignored' ? IGNORED : INVALID;
  }

  /** Bytes its arrays hold (what the model's state size counts for it). */
  bytes(): number {
    return this.hi.byteLength + this.lo.byteLength + this.what.byteLength;
  }

  clear(): void {
    this.hi = new Uint32Array(16);
    this.lo = new Uint32Array(16);
    this.what = new Uint8Array(16);
    this.count = 0;
  }

  /** The slot holding the key, or the empty slot where it would go. */
  private slotOf(h1: number, lo: number): number {
    const { hi, lo: los, what } = this;
    const mask = what.length - 1;
    let slot = h1 & mask;
    // Both halves compared at once: a branch taken only on a first-half match is one the code
    // compiled early may not have seen, and would be thrown away for.
    while (what[slot] !== EMPTY && ((hi[slot] ^ h1) | (los[slot] ^ lo)) !== 0) slot = (slot + 1) & mask;
    return slot;
  }

  /** Doubles the table (load at most one half). */
  private grow(): void {
    const { hi, lo, what } = this;
    this.hi = new Uint32Array(2 * what.length);
    this.lo = new Uint32Array(2 * what.length);
    this.what = new Uint8Array(2 * what.length);
    for (let i = 0; i < what.length; i++) {
      if (what[i] === EMPTY) continue;
      const slot = this.slotOf(hi[i], lo[i]);
      this.hi[slot] = hi[i];
      this.lo[slot] = lo[i];
      this.what[slot] = what[i];
    }
  }
}
