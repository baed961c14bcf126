// Every sample the model holds, one compressed stream per series, exact (64-bit values, ms
// timestamps) so that rows can be recomputed bit for bit from any arrival order.
//
// Stream format (bits written least significant first), Gorilla-like plus run-length repeats:
//   0 ccccccc                 c (1..127) samples, each one step later with the same value; a
//                             regular constant series costs 8 bits per 127 samples
//   1 <timestamp> <value>     one sample
//   <timestamp>: 0 = same step | 10 + 8-bit zigzag step change | 110 + 20-bit zigzag step change
//                | 111 + 53-bit absolute time (first sample, or a jump)
//   <value>: 0 = same value | 10 + bits in the previous XOR window | 110 + 6-bit leading zeros,
//            6-bit length-1, bits (new XOR window) | 1110 + 6-bit length n + n bits: zigzag
//            difference of two integer values (byte and microsecond series) | 1111 = stale marker
// The encoder takes whichever of XOR and integer difference is shorter.
// The first sample of a stream is an "anchor" when flagged: the series' last sample before the
// evicted hours, kept only as the previous sample of the next one.
import { put, take, seek, position, overwrite } from './bit-cursor.ts';
import { CLASS_WORDS, PAGE_WORDS, WordArena, classFor } from './word-arena.ts';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer); // little-endian: U32[0] low word, U32[1] high word
const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

function bitLength(v: number): number {
  return v < TWO_32 ? 32 - Math.clz32(v) : 64 - Math.clz32(Math.floor(v / TWO_32));
}

const LAST_STALE = 1;
const LAST_REPEAT = 2;
/** Bits of a presence mark: 1 + 111 + 53-bit timestamp + 0 (same value). */
export const MARK_BITS = 58;
/** The first sample of the stream is an anchor (before the evicted hours): never counted itself. */
export const HAS_ANCHOR = 4;

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

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

export class SampleStreams {
  addr = new Uint32Array(0);
  cls = new Int8Array(0); // -1: no block
  bitLen = new Uint32Array(0);
  lastTs = new Float64Array(0);
  lastDelta = new Float64Array(0);
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
    return this.addr.length * (4 + 1 + 4 + 8 + 8 + 4 + 4 + 2 + 1);
  }

  resize(capacity: number): void {
    const grow = <T extends Uint32Array | Int8Array | Float64Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
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
    this.lastDelta = grow(this.lastDelta, (n) => new Float64Array(n));
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
    if (bits === 0 || z >= 1 << 20) tsBits = 3 + 53;
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
    this.lastDelta[row] = delta;
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
    const end = this.bitLen[row];
    if (end === 0) return;
    this.seekRow(row, 0);
    let ts = 0;
    let delta = 0;
    let hi = 0;
    let lo = 0;
    let wlz = 0;
    let wlen = 0;
    let first = true;
    while (position() < end) {
      if (take(1) === 0) {
        const count = take(7);
        F64[0] = 0;
        U32[0] = lo;
        U32[1] = hi;
        const v = F64[0];
        for (let c = 0; c < count; c++) {
          ts += delta;
          out.push(ts, v, 0);
        }
        continue;
      }
      if (take(1) === 0) ts += delta;
      else if (take(1) === 0) {
        delta += unzigzag(take(8));
        ts += delta;
      } else if (take(1) === 0) {
        delta += unzigzag(take(20));
        ts += delta;
      } else {
        const low = take(32);
        const t = take(21) * TWO_32 + low;
        delta = first ? 0 : t - ts;
        ts = t;
      }
      first = false;
      let stale = 0;
      if (take(1) === 1) {
        let xor = true;
        if (take(1) === 0) {
          // reuse the window
        } else if (take(1) === 0) {
          wlz = take(6);
          wlen = take(6) + 1;
        } else if (take(1) === 0) {
          xor = false;
          const n = take(6);
          const z = n <= 32 ? take(n) : take(32) + take(n - 32) * TWO_32;
          U32[0] = lo;
          U32[1] = hi;
          F64[0] += unzigzag(z);
          lo = U32[0];
          hi = U32[1];
        } else stale = 1;
        if (stale === 0 && xor) {
          takeShifted(64 - wlz - wlen, wlen);
          hi ^= X_HI;
          lo ^= X_LO;
        }
      }
      if (stale === 1) out.push(ts, NaN, 1);
      else {
        U32[0] = lo;
        U32[1] = hi;
        out.push(ts, F64[0], 0);
      }
    }
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

let X_HI = 0;
let X_LO = 0;

/** Writes bits [shift, shift + len) of the 64-bit (hi, lo). */
function putShifted(hi: number, lo: number, shift: number, len: number): void {
  let sLo: number;
  let sHi: number;
  if (shift >= 32) {
    sLo = hi >>> (shift - 32);
    sHi = 0;
  } else if (shift > 0) {
    sLo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    sHi = hi >>> shift;
  } else {
    sLo = lo;
    sHi = hi;
  }
  if (len <= 32) put(len === 32 ? sLo : sLo & ((1 << len) - 1), len);
  else {
    put(sLo, 32);
    put(len === 64 ? sHi : sHi & ((1 << (len - 32)) - 1), len - 32);
  }
}

/** Reads `len` bits and places them at bit `shift` of a 64-bit value (X_HI, X_LO). */
function takeShifted(shift: number, len: number): void {
  let sLo: number;
  let sHi = 0;
  if (len <= 32) sLo = take(len);
  else {
    sLo = take(32);
    sHi = take(len - 32);
  }
  if (shift >= 32) {
    X_HI = (sLo << (shift - 32)) >>> 0;
    X_LO = 0;
  } else if (shift > 0) {
    X_LO = (sLo << shift) >>> 0;
    X_HI = ((sHi << shift) | (sLo >>> (32 - shift))) >>> 0;
  } else {
    X_LO = sLo;
    X_HI = sHi;
  }
}
