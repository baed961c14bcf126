// Deterministic "randomness" for the simulated cluster: every value is a hash of the seed and a few
// keys, never a stateful generator, so the cluster at a given instant depends only on (seed, time).

/** FNV-1a over the keys, finished with a murmur3 mix: a 32-bit unsigned integer. */
export function hash32(seed: number, ...keys: (string | number)[]): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (const key of keys) {
    const text = `${String(key)}\u0001`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) for these keys. */
export function unit(seed: number, ...keys: (string | number)[]): number {
  return hash32(seed, ...keys) / 4294967296;
}

/** A number in [min, max) for these keys. */
export function between(seed: number, min: number, max: number, ...keys: (string | number)[]): number {
  return min + (max - min) * unit(seed, ...keys);
}

/** The alphabet Kubernetes uses for generated name suffixes (no vowels, no confusable digits). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** `length` characters of Kubernetes' safe alphabet, e.g. a pod suffix (5) or a pod-template hash (10). */
export function safeString(length: number, seed: number, ...keys: (string | number)[]): string {
  let out = '';
  for (let i = 0; out.length < length; i++) {
    let h = hash32(seed, ...keys, 'safe', i);
    for (let j = 0; j < 4 && out.length < length; j++) {
      out += SAFE[h % SAFE.length];
      h = Math.floor(h / SAFE.length);
    }
  }
  return out;
}

/** A UUID-shaped identifier (version 4 layout) for these keys. */
export function uuid(seed: number, ...keys: (string | number)[]): string {
  const hex = [0, 1, 2, 3].map((i) => hash32(seed, ...keys, 'uuid', i).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
