// A 64-bit hash of a series key. The model keeps this hash instead of the key: a kubecost series
// key is ~150-250 bytes, more than the whole state budget of a series. Two keys of one cluster
// collide with probability about n^2 / 2^65 (3e-10 for 100,000 series).
//
// Two independent MurmurHash3-style 32-bit lanes over the UTF-16 code units, two units per block,
// so any string works (a latin1 string of raw label bytes is the expected input).

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

/** Writes the two 32-bit halves of the key's hash into out[0], out[1]. */
export function hashKey(key: string, out: Uint32Array): void {
  const n = key.length;
  let h1 = 0x9747b28c ^ n;
  let h2 = 0x3c6ef372 ^ Math.imul(n, 0x2545f491);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
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
  if (i < n) {
    const k = key.charCodeAt(i);
    h1 ^= Math.imul((Math.imul(k, C1) << 15) | (Math.imul(k, C1) >>> 17), C2);
    h2 ^= Math.imul(k, D2);
  }
  out[0] = fmix(h1);
  out[1] = fmix(h2 ^ (h1 >>> 7));
}
