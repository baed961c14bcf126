// The distinct label strings the receiver has seen, each stored once in an arena of its own and
// named by a number (a symbol). A kubecost request of 2,000 series carries ~40,000 label strings but
// only a few hundred distinct ones (names, cluster, namespace, node, pod ...): records store each
// distinct string once and refer to it by index (ingest/record-format.ts), so a record is several
// times smaller and every later step (compression, the broker, the processor) handles fewer bytes.
//
// The table outlives a request: the series the receiver remembers (receiver/series-cache.ts) keep
// their labels as symbols, so a series seen before is encoded without looking at its strings again.
// Its owner bounds it: reset() forgets every symbol (memoryBytes says what it holds).
//
// One table serves every request in turn (interning is synchronous).

/**
 * Slots probed before a string is given a symbol of its own, unshared: input crafted to make many
 * strings collide costs at most this many comparisons per string, never a quadratic scan (bytes
 * are compared only when the full 32-bit hashes agree, and the hash is seeded per process). A
 * duplicate symbol is harmless: records stay correct, only less compact.
 */
const MAX_PROBES = 32;
const SEED = (Math.random() * 0x100000000) >>> 0;
const RECENT_SLOTS = 1 << 12;

export class SymbolTable {
  /** Symbol i is arena[offsets[i], offsets[i] + lengths[i]). */
  offsets: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  lengths: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  count = 0;
  /** The bytes of every symbol, back to back. */
  arena: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
  /**
   * Some string got a symbol of its own although an equal one exists (see MAX_PROBES); stays set
   * until reset, since symbols of equal strings may then differ.
   */
  overflowed = false;
  private arenaUsed = 0;
  private arenaView = new DataView(this.arena.buffer);
  private hashes: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  /** The strings being interned (a request's decoded body). */
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  /**
   * Open addressing, at most a quarter full (linear probing keeps its chains short then, also in a table of millions), -1 for an empty slot. Sized for the distinct strings seen,
   * not for every string: a table that fits the CPU's caches is several times faster than one
   * sized for the worst case.
   */
  private slots = new Int32Array(1 << 12).fill(-1);
  /**
   * The symbol last found for a string at a given offset of the current body, direct-mapped by
   * offset: in a remote write 2.0 request every label names a string of the request's own table,
   * so the same few hundred offsets come back thousands of times and are not hashed again.
   */
  private recentOffsets = new Int32Array(RECENT_SLOTS).fill(-1);
  private recentSymbols = new Int32Array(RECENT_SLOTS);

  /** Strings interned from now on lie in `bytes` (the next request's body); symbols are kept. */
  begin(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.recentOffsets.fill(-1);
  }

  /** Forgets every symbol. */
  reset(): void {
    this.recentOffsets.fill(-1);
    this.count = 0;
    this.arenaUsed = 0;
    this.overflowed = false;
    // Back to the first sizes, so memoryBytes (what is allocated) falls back under its owner's budget.
    this.slots = new Int32Array(1 << 12).fill(-1);
    this.offsets = new Uint32Array(1024);
    this.lengths = new Uint32Array(1024);
    this.hashes = new Uint32Array(1024);
    this.arena = new Uint8Array(1 << 16);
    this.arenaView = new DataView(this.arena.buffer);
  }

  /** Bytes the table holds (its arena and its indexes). */
  get memoryBytes(): number {
    return this.arena.length + 12 * this.offsets.length + 4 * this.slots.length;
  }

  /** The symbol of bytes[off, off + len) of the current body, created when new. */
  intern(off: number, len: number): number {
    const recent = off & (RECENT_SLOTS - 1);
    if (this.recentOffsets[recent] === off) {
      const id = this.recentSymbols[recent];
      if (this.lengths[id] === len) return id;
    }
    const id = this.lookup(off, len);
    this.recentOffsets[recent] = off;
    this.recentSymbols[recent] = id;
    return id;
  }

  private lookup(off: number, len: number): number {
    const hash = hashRange(this.bytes, this.view, off, len, SEED);
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = slots[slot];
      if (id < 0) {
        const added = this.add(off, len, hash);
        if (4 * this.count > slots.length) this.grow();
        else slots[slot] = added;
        return added;
      }
      if (this.hashes[id] === hash && this.lengths[id] === len && equalRanges(this.arenaView, this.offsets[id], this.view, off, len)) return id;
      slot = (slot + 1) & mask;
    }
    this.overflowed = true;
    return this.add(off, len, hash);
  }

  /** The symbol whose string equals `text`, or -1 when there is none. */
  find(text: Uint8Array): number {
    const mask = this.slots.length - 1;
    const textView = new DataView(text.buffer, text.byteOffset, text.byteLength);
    const hash = hashRange(text, textView, 0, text.length, SEED);
    let slot = hash & mask;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = this.slots[slot];
      if (id < 0) return -1;
      if (this.hashes[id] === hash && this.lengths[id] === text.length && equalRanges(this.arenaView, this.offsets[id], textView, 0, text.length)) return id;
      slot = (slot + 1) & mask;
    }
    // Past the probe limit the symbol may exist unshared: search the hard way (rare, bounded by count).
    for (let id = 0; id < this.count; id++) if (this.lengths[id] === text.length && equalRanges(this.arenaView, this.offsets[id], textView, 0, text.length)) return id;
    return -1;
  }

  /** Symbol `id`'s string (for tests and messages). */
  text(id: number): string {
    return Buffer.from(this.arena.buffer, this.offsets[id], this.lengths[id]).toString('utf8');
  }

  private add(off: number, len: number, hash: number): number {
    if (this.count === this.offsets.length) {
      this.offsets = grown(this.offsets);
      this.lengths = grown(this.lengths);
      this.hashes = grown(this.hashes);
    }
    if (this.arenaUsed + len > this.arena.length) {
      let size = this.arena.length * 2;
      while (size < this.arenaUsed + len) size *= 2;
      const arena = new Uint8Array(size);
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
      this.arenaView = new DataView(arena.buffer);
    }
    const at = this.arenaUsed;
    const arena = this.arena;
    const src = this.bytes;
    // Symbols are short: a loop beats a copy call per string.
    for (let i = 0; i < len; i++) arena[at + i] = src[off + i];
    this.arenaUsed += len;
    this.offsets[this.count] = at;
    this.lengths[this.count] = len;
    this.hashes[this.count] = hash;
    return this.count++;
  }

  /** Doubles the table and places every symbol again (the newest one included). */
  private grow(): void {
    this.slots = placedSlots(this.hashes, this.count, this.slots.length * 2);
  }
}

/**
 * Open-addressing slots of `size` (a power of two) holding entries 0 .. count-1 by their hashes,
 * -1 where empty. An entry whose chain is full stays out (it was unshared already, or becomes so;
 * looking it up finds nothing, which its owner treats as new).
 */
export function placedSlots(hashes: Uint32Array, count: number, size: number): Int32Array<ArrayBuffer> {
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  for (let id = 0; id < count; id++) {
    let slot = hashes[id] & mask;
    for (let probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & mask) {
      if (slots[slot] < 0) {
        slots[slot] = id;
        break;
      }
    }
  }
  return slots;
}

function grown(a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * A fast hash of a byte range, eight bytes per step in two independent lanes (the processor works
 * on both at once), seeded per process (not for identities: see core/hash.ts). Label strings are
 * short: this small function is inlined where it is called, which the series cache's hash over
 * whole label spans (receiver/series-cache.ts, SpanBytes) is not; interning through that one made
 * record preparation without the cache about a sixth slower.
 */
export function hashRange(bytes: Uint8Array, view: DataView, off: number, len: number, seed: number): number {
  let h1 = Math.imul(len ^ seed, 0x9e3779b1);
  let h2 = Math.imul(len + seed, 0x7feb352d);
  let i = off;
  const end = off + len;
  for (; i + 8 <= end; i += 8) {
    h1 = Math.imul(h1 ^ view.getUint32(i, true), 0x85ebca6b);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ view.getUint32(i + 4, true), 0xc2b2ae35);
    h2 ^= h2 >>> 13;
  }
  if (i + 4 <= end) {
    h1 = Math.imul(h1 ^ view.getUint32(i, true), 0x85ebca6b);
    h1 ^= h1 >>> 15;
    i += 4;
  }
  for (; i < end; i++) h2 = Math.imul(h2 ^ bytes[i], 0xc2b2ae35);
  let h = h1 ^ Math.imul(h2 ^ (h2 >>> 16), 0x846ca68b);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether a[aOff, aOff + len) and b[bOff, bOff + len) hold the same bytes (four at a time). */
export function equalRanges(a: DataView, aOff: number, b: DataView, bOff: number, len: number): boolean {
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getUint32(aOff + i, true) !== b.getUint32(bOff + i, true)) return false;
  for (; i < len; i++) if (a.getUint8(aOff + i) !== b.getUint8(bOff + i)) return false;
  return true;
}

/**
 * A number per symbol of the current request (e.g. the record a symbol already has an index in),
 * cleared in O(1) by a new generation.
 */
export class SymbolMap {
  private values = new Int32Array(1024);
  private stamps = new Uint32Array(1024);
  private generation = 1;

  /** Forgets every entry. */
  clear(): void {
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** The number set for `symbol` since the last clear, or -1. */
  get(symbol: number): number {
    return symbol < this.stamps.length && this.stamps[symbol] === this.generation ? this.values[symbol] : -1;
  }

  set(symbol: number, value: number): void {
    if (symbol >= this.stamps.length) this.grow(symbol + 1);
    this.stamps[symbol] = this.generation;
    this.values[symbol] = value;
  }

  private grow(count: number): void {
    let size = this.stamps.length;
    while (size < count) size *= 2;
    const values = new Int32Array(size);
    values.set(this.values);
    this.values = values;
    const stamps = new Uint32Array(size);
    stamps.set(this.stamps);
    this.stamps = stamps;
  }
}
