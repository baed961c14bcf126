// Bit-level reads and writes inside one arena block. A single module-level cursor: the model is
// single-threaded and every stream operation runs to completion, so nothing is shared by two
// users at once, and module-level state keeps the hot path free of allocations.

let page: Uint32Array = new Uint32Array(0);
let base = 0;
let pos = 0;

/** Points the cursor at bit `bitPos` of the block starting at word `blockBase` of `blockPage`. */
export function seek(blockPage: Uint32Array, blockBase: number, bitPos: number): void {
  page = blockPage;
  base = blockBase;
  pos = bitPos;
}

export function position(): number {
  return pos;
}

/** Writes the low `n` bits of `v` (1 <= n <= 32, v < 2^n); the bits written must be zero. */
export function put(v: number, n: number): void {
  const w = base + (pos >>> 5);
  const off = pos & 31;
  page[w] |= v << off;
  if (off + n > 32) page[w + 1] |= v >>> (32 - off);
  pos += n;
}

/** Reads `n` bits (1 <= n <= 32) as an unsigned number. */
export function take(n: number): number {
  const w = base + (pos >>> 5);
  const off = pos & 31;
  let v = page[w] >>> off;
  if (off + n > 32) v |= page[w + 1] << (32 - off);
  pos += n;
  return n === 32 ? v >>> 0 : v & ((1 << n) - 1);
}

/** Overwrites `n` bits at bit `at` (used to bump a repeat count in place). */
export function overwrite(at: number, v: number, n: number): void {
  const w = base + (at >>> 5);
  const off = at & 31;
  const mask = (1 << n) - 1;
  page[w] = (page[w] & ~(mask << off)) | (v << off);
  if (off + n > 32) {
    const rest = 32 - off;
    page[w + 1] = (page[w + 1] & ~(mask >>> rest)) | (v >>> rest);
  }
}
