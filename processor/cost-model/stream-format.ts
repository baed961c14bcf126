// The bit format of a sample stream (see SampleStreams), and its decoder.
//
// Bits are written least significant first. Gorilla-like, plus run-length repeats:
//   0 ccccccc                 c (1..127) samples, each one step later with the same value; a
//                             regular constant series costs 8 bits per 127 samples
//   1 <timestamp> <value>     one sample
//   <timestamp>: 0 = same step | 10 + 8-bit zigzag step change | 110 + 20-bit zigzag step change
//                | 111 + 53-bit absolute time (first sample, a jump, or a step over MAX_STEP)
//   <value>: 0 = same value | 10 + bits in the previous XOR window | 110 + 6-bit leading zeros,
//            6-bit length-1, bits (new XOR window) | 1110 + 6-bit length n + n bits: zigzag
//            difference of two integer values (byte and millisecond series) | 1111 = stale marker
// The encoder takes whichever of XOR and integer difference is shorter.
import { put, take, seek, position } from './bit-cursor.ts';
import type { SampleBuffer } from './sample-buffer.ts';

/** One float64 seen as two uint32 (little-endian: U32[0] is the low word). */
export const F64 = new Float64Array(1);
export const U32 = new Uint32Array(F64.buffer);
export const TWO_32 = 2 ** 32;
export const TWO_53 = 2 ** 53;
/** Longest step kept as the reference of the next one (an Int32Array column holds it). */
export const MAX_STEP = 2 ** 30;
/** Bits of a presence mark: 1 + 111 + 53-bit timestamp + 0 (same value). */
export const MARK_BITS = 58;

export function bitLength(v: number): number {
  return v < TWO_32 ? 32 - Math.clz32(v) : 64 - Math.clz32(Math.floor(v / TWO_32));
}

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

export function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

let X_HI = 0;
let X_LO = 0;

/** Writes bits [shift, shift + len) of the 64-bit (hi, lo) (the cursor must be placed). */
export function putShifted(hi: number, lo: number, shift: number, len: number): void {
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

/** Decodes a whole stream of `end` bits at word `base` of `page`, appending to `out`. */
export function decodeInto(page: Uint32Array, base: number, end: number, out: SampleBuffer): void {
  if (end === 0) return;
  seek(page, base, 0);
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
      delta = first || t - ts > MAX_STEP ? 0 : t - ts;
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
