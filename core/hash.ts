// The 64-bit hash of series identities, written once: two independent MurmurHash3-style 32-bit
// lanes, so two identities of one cluster collide with probability about n^2 / 2^65 (3e-10 for
// 100,000 series). The processor hashes each label string of a record once where it lies
// (hashBytes, four bytes per block) and a series' identity from the 64-bit hashes of its labels
// (hashPairs, one half per lane per block); the cost model also takes any string key (hashString,
// two UTF-16 code units per block). All write the two halves into out[0] and out[1].

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const D1 = 0x85ebca6b;
const D2 = 0xc2b2ae35;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, D1);
  h ^= h >>> 13;
  h = Math.imul(h, D2);
  h ^= h >>> 16;
  return h >>> 0;
}

// Each lane is a pure function of its state and the block, so every entry point keeps both lanes
// in locals (module-level state, read and written through the module's context on every block,
// made hashing a series from its label hashes about three times slower).

/** Lane 1 after block k. */
export function laneA(a: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  a ^= Math.imul(k, C2);
  a = (a << 13) | (a >>> 19);
  return (Math.imul(a, 5) + 0xe6546b64) | 0;
}

/** Lane 2 after block k. */
export function laneB(b: number, k: number): number {
  let j = Math.imul(k, D1);
  j = (j << 13) | (j >>> 19);
  b ^= Math.imul(j, C1);
  b = (b << 17) | (b >>> 15);
  return (Math.imul(b, 9) + 0x7f4a7c15) | 0;
}

/** Lane 1 after the tail block k (fewer than four bytes, or one UTF-16 code unit). */
function tailA(a: number, k: number): number {
  const m = Math.imul(k, C1);
  return a ^ Math.imul((m << 15) | (m >>> 17), C2);
}

/** Lane 1's seed for `n` bytes. */
function seedA(n: number): number {
  return 0x9747b28c ^ n;
}

/** Lane 2's seed for `n` bytes. */
function seedB(n: number): number {
  return 0x3c6ef372 ^ Math.imul(n, 0x2545f491);
}

/** The hash of the lanes' final states into out[0], out[1]. */
function finish(a: number, b: number, out: Uint32Array): void {
  out[0] = fmix(a);
  out[1] = fmix(b ^ (a >>> 7));
}

/** Hashes bytes[from, to). */
export function hashBytes(bytes: Uint8Array, from: number, to: number, out: Uint32Array): void {
  let a = seedA(to - from);
  let b = seedB(to - from);
  let i = from;
  for (; i + 3 < to; i += 4) {
    const k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    a = laneA(a, k);
    b = laneB(b, k);
  }
  if (i < to) {
    let k = bytes[i];
    if (i + 1 < to) k |= bytes[i + 1] << 8;
    if (i + 2 < to) k |= bytes[i + 2] << 16;
    a = tailA(a, k);
    b ^= Math.imul(k, D2);
  }
  finish(a, b, out);
}

/** Hashes the UTF-16 code units of `key` (two per block). */
export function hashString(key: string, out: Uint32Array): void {
  const n = key.length;
  let a = seedA(n);
  let b = seedB(n);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    a = laneA(a, k);
    b = laneB(b, k);
  }
  if (i < n) {
    const k = key.charCodeAt(i);
    a = tailA(a, k);
    b ^= Math.imul(k, D2);
  }
  finish(a, b, out);
}

/**
 * Hashes the 64-bit values at words[from, to) (low half first; to - from is even), such as the
 * hashes of a series' label strings: lane 1 takes the low halves, lane 2 the high ones. Each lane
 * is a chain of dependent multiplications, so giving each lane half of the words halves the time;
 * and as the halves of a hash are independent, so are the lanes, and the 64-bit result is as
 * strong as when both lanes took every word. The length is mixed in at the end (as MurmurHash3
 * does), so a caller that reads its words as it goes needs no pass to count them first.
 */
export function hashPairs(words: Uint32Array, from: number, to: number, out: Uint32Array): void {
  let a = PAIRS_A;
  let b = PAIRS_B;
  for (let i = from; i + 1 < to; i += 2) {
    a = laneA(a, words[i] | 0);
    b = laneB(b, words[i + 1] | 0);
  }
  finishPairs(a, b, to - from, out);
}

/** The lanes' states before the first pair of hashPairs. */
export const PAIRS_A = seedA(0);
export const PAIRS_B = seedB(0);

/** hashPairs' result from its lanes' final states and the number of words mixed. */
export function finishPairs(a: number, b: number, words: number, out: Uint32Array): void {
  finish(a ^ (4 * words), b ^ Math.imul(4 * words, 0x2545f491), out);
}
