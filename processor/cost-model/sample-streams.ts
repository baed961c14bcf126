// Every sample the model holds, one compressed stream per series (format: stream-format.ts),
// exact (64-bit values, ms timestamps) so that rows can be recomputed bit for bit from any arrival
// order. The columns hold what appending needs: the last sample, step and XOR window.
// The first sample of a stream is an "anchor" when flagged: the series' last sample before the
// evicted hours, kept only as the previous sample of the next one.
import { put, take, seek, position, overwrite } from './bit-cursor.ts';
import { SampleBuffer } from './sample-buffer.ts';
import { F64, MARK_BITS, MAX_STEP, TWO_32, TWO_53, U32, bitLength, clz64, ctz64, decodeInto, putShifted, zigzag } from './stream-format.ts';
import { CLASS_WORDS, PAGE_WORDS, WordArena, classFor } from './word-arena.ts';

export { SampleBuffer } from './sample-buffer.ts';
export { MARK_BITS } from './stream-format.ts';

const LAST_STALE = 1;
const LAST_REPEAT = 2;
/** The first sample of the stream is an anchor (before the evicted hours): never counted itself. */
const HAS_ANCHOR = 4;

export class SampleStreams {
  addr = new Uint32Array(0);
  cls = new Int8Array(0); // -1: no block
  bitLen = new Uint32Array(0);
  lastTs = new Float64Array(0);
  lastDelta = new Int32Array(0); // at most MAX_STEP: a longer step is written as an absolute time
  lastHi = new Uint32Array(0);
  lastLo = new Uint32Array(0);
  window = new Uint16Array(0); // leading zeros << 7 | length; 0 = none yet
  flags = new Uint8Array(0);

  constructor(public arena: WordArena) {}

  /** Copies every stream into `to` in blocks of the smallest fitting class (see WordArena.wasteful). */
  moveTo(to: WordArena): void {
    for (let row = 0; row < this.cls.length; row++) {
      const cls = this.cls[row];
      if (cls < 0) continue;
      const words = (this.bitLen[row] + 31) >>> 5;
      const next = classFor(Math.max(words + (words >>> 3), 1));
      const addr = to.alloc(next);
      const from = this.addr[row];
      const src = this.arena.pages[Math.floor(from / PAGE_WORDS)];
      to.pages[Math.floor(addr / PAGE_WORDS)].set(src.subarray(from % PAGE_WORDS, (from % PAGE_WORDS) + words), addr % PAGE_WORDS);
      this.addr[row] = addr;
      this.cls[row] = next;
    }
    this.arena = to;
  }

  /** Bytes of the per-series columns (the blocks are counted by the arena). */
  columnBytes(): number {
    return this.addr.length * (4 + 1 + 4 + 8 + 4 + 4 + 4 + 2 + 1);
  }

  resize(capacity: number): void {
    const grow = <T extends Uint32Array | Int32Array | Int8Array | Float64Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)) as never);
      return b;
    };
    const from = this.cls.length;
    this.addr = grow(this.addr, (n) => new Uint32Array(n));
    this.cls = grow(this.cls, (n) => new Int8Array(n));
    this.cls.fill(-1, from);
    this.bitLen = grow(this.bitLen, (n) => new Uint32Array(n));
    this.lastTs = grow(this.lastTs, (n) => new Float64Array(n));
    this.lastDelta = grow(this.lastDelta, (n) => new Int32Array(n));
    this.lastHi = grow(this.lastHi, (n) => new Uint32Array(n));
    this.lastLo = grow(this.lastLo, (n) => new Uint32Array(n));
    this.window = grow(this.window, (n) => new Uint16Array(n));
    this.flags = grow(this.flags, (n) => new Uint8Array(n));
  }

  /** Drops a stream's samples and block. */
  clear(row: number): void {
    if (this.cls[row] >= 0) this.arena.release(this.addr[row], this.cls[row]);
    this.cls[row] = -1;
    this.bitLen[row] = 0;
    this.lastTs[row] = 0;
    this.lastDelta[row] = 0;
    this.lastHi[row] = 0;
    this.lastLo[row] = 0;
    this.window[row] = 0;
    this.flags[row] = 0;
  }

  isEmpty(row: number): boolean {
    return this.bitLen[row] === 0;
  }

  hasAnchor(row: number): boolean {
    return (this.flags[row] & HAS_ANCHOR) !== 0;
  }

  /** True when the newest sample held is exactly this one (the common retried-request case). */
  lastEquals(row: number, value: number, stale: boolean): boolean {
    if ((this.flags[row] & LAST_STALE) !== 0) return stale;
    if (stale) return false;
    F64[0] = value;
    return U32[0] === this.lastLo[row] && U32[1] === this.lastHi[row];
  }

  /** Makes sure the block holds `bits` bits; false when a stream would outgrow a page. */
  private reserve(row: number, bits: number): boolean {
    const words = (bits + 31) >>> 5;
    const cls = this.cls[row];
    if (cls >= 0 && CLASS_WORDS[cls] >= words) return true;
    let next = classFor(words + (words >>> 3));
    if (next < 0) next = classFor(words);
    if (next < 0) return false;
    const addr = this.arena.alloc(next);
    if (cls >= 0) {
      const used = (this.bitLen[row] + 31) >>> 5;
      const from = this.addr[row];
      const src = this.arena.pages[Math.floor(from / PAGE_WORDS)];
      const dst = this.arena.pages[Math.floor(addr / PAGE_WORDS)];
      dst.set(src.subarray(from % PAGE_WORDS, (from % PAGE_WORDS) + used), addr % PAGE_WORDS);
      this.arena.release(from, cls);
    }
    this.addr[row] = addr;
    this.cls[row] = next;
    return true;
  }

  private seekRow(row: number, bitPos: number): void {
    const addr = this.addr[row];
    seek(this.arena.pages[Math.floor(addr / PAGE_WORDS)], addr % PAGE_WORDS, bitPos);
  }

  /**
   * Appends a sample later than every sample held (or the first). `value` is ignored for a stale
   * marker. Returns false when the stream is full.
   */
  append(row: number, ts: number, value: number, stale: boolean): boolean {
    const bits = this.bitLen[row];
    const flags = this.flags[row];
    let hi = 0;
    let lo = 0;
    if (!stale) {
      F64[0] = value;
      lo = U32[0];
      hi = U32[1];
    }
    const xHi = hi ^ this.lastHi[row];
    const xLo = lo ^ this.lastLo[row];
    const delta = bits === 0 ? 0 : ts - this.lastTs[row];
    const dod = delta - this.lastDelta[row];

    if (bits > 0 && dod === 0 && !stale && (flags & LAST_STALE) === 0 && (xHi | xLo) === 0) {
      // A repeat: bump the last repeat token in place, or open one.
      if ((flags & LAST_REPEAT) !== 0) {
        const at = bits - 7;
        this.seekRow(row, at);
        const count = take(7);
        if (count < 127) {
          overwrite(at, count + 1, 7);
          this.lastTs[row] = ts;
          return true;
        }
      }
      if (!this.reserve(row, bits + 8)) return false;
      this.seekRow(row, bits);
      put(0, 1);
      put(1, 7);
      this.bitLen[row] = bits + 8;
      this.flags[row] = (flags & HAS_ANCHOR) | LAST_REPEAT;
      this.lastTs[row] = ts;
      return true;
    }

    // Size the token first so the block grows exactly as needed.
    let tsBits: number;
    const z = zigzag(dod);
    if (bits === 0 || z >= 1 << 20 || delta > MAX_STEP) tsBits = 3 + 53;
    else if (dod === 0) tsBits = 1;
    else if (z < 256) tsBits = 2 + 8;
    else tsBits = 3 + 20;
    let valueBits = 1;
    let lz = 0;
    let len = 0;
    let reuse = false;
    let diffBits = 0; // > 0: encode as an integer difference of that many bits
    let diff = 0;
    if (stale) valueBits = 4;
    else if ((xHi | xLo) !== 0) {
      lz = Math.min(clz64(xHi, xLo), 63);
      len = 64 - lz - ctz64(xHi, xLo);
      const w = this.window[row];
      const wlz = w >>> 7;
      const wlen = w & 127;
      if (w !== 0 && lz >= wlz && 64 - lz - len >= 64 - wlz - wlen) {
        reuse = true;
        lz = wlz;
        len = wlen;
        valueBits = 2 + len;
      } else valueBits = 3 + 12 + len;
      if (Number.isInteger(value)) {
        U32[0] = this.lastLo[row];
        U32[1] = this.lastHi[row];
        const prev = F64[0];
        diff = zigzag(value - prev);
        if (Number.isInteger(prev) && diff < TWO_53 && prev + (value - prev) === value) {
          const n = bitLength(diff);
          if (4 + 6 + n < valueBits) {
            diffBits = n;
            valueBits = 4 + 6 + n;
          }
        }
      }
    }
    if (!this.reserve(row, bits + 1 + tsBits + valueBits)) return false;
    this.seekRow(row, bits);
    put(1, 1);
    if (tsBits === 56) {
      put(7, 3);
      put(ts >>> 0, 32);
      put(Math.floor(ts / TWO_32), 21);
    } else if (tsBits === 1) put(0, 1);
    else if (tsBits === 10) {
      put(1, 2);
      put(z, 8);
    } else {
      put(3, 3);
      put(z, 20);
    }
    if (stale) put(15, 4);
    else if (len === 0) put(0, 1);
    else if (diffBits > 0) {
      put(7, 4);
      put(diffBits, 6);
      if (diffBits <= 32) put(diff, diffBits);
      else {
        put(diff >>> 0, 32);
        put(Math.floor(diff / TWO_32), diffBits - 32);
      }
    } else {
      if (reuse) put(1, 2);
      else {
        put(3, 3);
        put(lz, 6);
        put(len - 1, 6);
        this.window[row] = (lz << 7) | len;
      }
      putShifted(xHi, xLo, 64 - lz - len, len);
    }
    this.bitLen[row] = position();
    this.lastDelta[row] = delta > MAX_STEP ? 0 : delta;
    this.lastTs[row] = ts;
    if (!stale) {
      this.lastHi[row] = hi;
      this.lastLo[row] = lo;
    }
    this.flags[row] = (flags & HAS_ANCHOR) | (stale ? LAST_STALE : 0);
    return true;
  }

  /**
   * Presence streams (owner, label and selector series) keep one sample per hour, the last one:
   * only "seen in the hour, last at t" is read from them. Each of their tokens holds a full
   * timestamp (MARK_BITS long) so the last one can be replaced in place.
   */
  appendMark(row: number, ts: number): boolean {
    const bits = this.bitLen[row];
    if (!this.reserve(row, bits + MARK_BITS)) return false;
    this.writeMark(row, bits, ts);
    return true;
  }

  /** Replaces the timestamp of the last mark (a later sample of the same hour). */
  replaceLastMark(row: number, ts: number): void {
    const at = this.bitLen[row] - MARK_BITS;
    this.seekRow(row, at);
    overwrite(at, 0, 29);
    overwrite(at + 29, 0, 29);
    this.writeMark(row, at, ts);
  }

  private writeMark(row: number, at: number, ts: number): void {
    this.seekRow(row, at);
    put(15, 4); // explicit sample, absolute timestamp
    put(ts >>> 0, 32);
    put(Math.floor(ts / TWO_32), 21);
    put(0, 1); // value: unchanged (0)
    this.bitLen[row] = at + MARK_BITS;
    this.lastDelta[row] = 0;
    this.lastTs[row] = ts;
    this.flags[row] &= HAS_ANCHOR;
  }

  /** Decodes the whole stream into `out` (replacing its contents). */
  decode(row: number, out: SampleBuffer): void {
    out.n = 0;
    out.first = this.hasAnchor(row) ? 1 : 0;
    this.decodeAppend(row, out);
  }

  /** Decodes the whole stream, appending to `out`. */
  decodeAppend(row: number, out: SampleBuffer): void {
    const addr = this.addr[row];
    decodeInto(this.arena.pages[Math.floor(addr / PAGE_WORDS)], addr % PAGE_WORDS, this.bitLen[row], out);
  }

  /** Re-encodes samples [from, to) of `src` as the whole stream; `anchor`: the first is an anchor. */
  rewrite(row: number, src: SampleBuffer, from: number, to: number, anchor: boolean, marks = false): boolean {
    this.clear(row);
    for (let i = from; i < to; i++) {
      const ok = marks ? this.appendMark(row, src.ts[i]) : this.append(row, src.ts[i], src.val[i], src.stale[i] === 1);
      if (!ok) return false;
    }
    if (anchor && to > from) this.flags[row] |= HAS_ANCHOR;
    return true;
  }
}
