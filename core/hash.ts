// The 64-bit hash of series identities, written once: two independent MurmurHash3-style 32-bit
// lanes, so two identities of one cluster collide with probability about n^2 / 2^65 (3e-10 for
// 100,000 series). The processor hashes each label string of a record once where it lies
// (hashBytes, four bytes per block) and a series' identity from the hashes of its labels
// (hashWords, one 32-bit word per block); the cost model also takes any string key (hashString,
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

// The lanes' state between blocks; the functions below are synchronous, so one pair serves all.
let h1 = 0;
let h2 = 0;

function start(n: number): void {
  h1 = 0x9747b28c ^ n;
  h2 = 0x3c6ef372 ^ Math.imul(n, 0x2545f491);
}

function mixBlock(k: number): void {
  let j = Math.imul(k, D1);
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h1 ^= k;
  h1 = (h1 << 13) | (h1 >>> 19);
  h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  j = (j << 13) | (j >>> 19);
  j = Math.imul(j, C1);
  h2 ^= j;
  h2 = (h2 << 17) | (h2 >>> 15);
  h2 = (Math.imul(h2, 9) + 0x7f4a7c15) | 0;
}

function mixTail(k: number): void {
  const j = Math.imul(k, D2);
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  h1 ^= Math.imul(k, C2);
  h2 ^= j;
}

function finish(out: Uint32Array): void {
  out[0] = fmix(h1);
  out[1] = fmix(h2 ^ (h1 >>> 7));
}

/** Hashes bytes[from, to). */
export function hashBytes(bytes: Uint8Array, from: number, to: number, out: Uint32Array): void {
  start(to - from);
  let i = from;
  for (; i + 3 < to; i += 4) mixBlock(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  if (i < to) {
    let k = bytes[i];
    if (i + 1 < to) k |= bytes[i + 1] << 8;
    if (i + 2 < to) k |= bytes[i + 2] << 16;
    mixTail(k);
  }
  finish(out);
}

/**
 * Hashes the UTF-16 code units of `key`. The same lanes as mixBlock and mixTail, written out with
 * the state in locals: the cost model hashes a 150-250 character key for every series of every
 * record, and keeping the state in the module's variables made that about 10 % slower.
 */
export function hashString(key: string, out: Uint32Array): void {
  const n = key.length;
  let a = 0x9747b28c ^ n;
  let b = 0x3c6ef372 ^ Math.imul(n, 0x2545f491);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    let j = Math.imul(k, D1);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    j = (j << 13) | (j >>> 19);
    j = Math.imul(j, C1);
    b ^= j;
    b = (b << 17) | (b >>> 15);
    b = (Math.imul(b, 9) + 0x7f4a7c15) | 0;
  }
  if (i < n) {
    const k = key.charCodeAt(i);
    const m = Math.imul(k, C1);
    a ^= Math.imul((m << 15) | (m >>> 17), C2);
    b ^= Math.imul(k, D2);
  }
  out[0] = fmix(a);
  out[1] = fmix(b ^ (a >>> 7));
}

/** Hashes the 32-bit words words[from, to) (e.g. the hash halves of a series' label strings). */
export function hashWords(words: Uint32Array, from: number, to: number, out: Uint32Array): void {
  start(4 * (to - from));
  for (let i = from; i < to; i++) mixBlock(words[i] | 0);
  finish(out);
}
