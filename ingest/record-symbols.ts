// The distinct label strings of one remote-write request, found by content where they lie in the
// decoded body. A kubecost request of 2,000 series carries ~40,000 label strings but only a few
// hundred distinct ones (names, cluster, namespace, node, pod ...): records store each distinct
// string once and refer to it by index (ingest/record-format.ts), so a record is several times
// smaller and every later step (compression, the broker, the processor) handles fewer bytes.
//
// A symbol is a byte range of the request body. One table serves every request in turn (interning
// is synchronous).

/**
 * Slots probed before a string is given a symbol of its own, unshared: input crafted to make many
 * strings collide costs at most this many comparisons per string, never a quadratic scan (bytes
 * are compared only when the full 32-bit hashes agree, and the hash is seeded per process). A
 * duplicate symbol is harmless: records stay correct, only less compact.
 */
const MAX_PROBES = 16;
const SEED = (Math.random() * 0x100000000) >>> 0;

export class SymbolTable {
  /** Symbol i is bytes[offsets[i], offsets[i] + lengths[i]). */
  offsets: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  lengths: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  count = 0;
  /** Some string of this request got a symbol of its own although an equal one exists (see MAX_PROBES). */
  overflowed = false;
  private hashes: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  /**
   * Open addressing, at most half full, -1 for an empty slot. Sized for the distinct strings seen
   * (a few thousand per request), not for every string: a table that fits the CPU's caches is
   * several times faster than one sized for the worst case.
   */
  private slots = new Int32Array(1 << 12).fill(-1);

  /** Starts a request whose strings lie in `bytes`. */
  begin(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = 0;
    this.overflowed = false;
    this.slots.fill(-1);
  }

  /** The symbol of bytes[off, off + len), created when new. */
  intern(off: number, len: number): number {
    const hash = hashRange(this.bytes, this.view, off, len);
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = slots[slot];
      if (id < 0) {
        const added = this.add(off, len, hash);
        if (2 * this.count > slots.length) this.grow();
        else slots[slot] = added;
        return added;
      }
      if (this.hashes[id] === hash && this.lengths[id] === len && sameBytes(this.bytes, this.view, this.offsets[id], off, len)) return id;
      slot = (slot + 1) & mask;
    }
    this.overflowed = true;
    return this.add(off, len, hash);
  }

  /** The symbol whose string equals `text` (bytes from elsewhere), or -1 when the request has none. */
  find(text: Uint8Array): number {
    const mask = this.slots.length - 1;
    const hash = hashRange(text, new DataView(text.buffer, text.byteOffset, text.byteLength), 0, text.length);
    let slot = hash & mask;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = this.slots[slot];
      if (id < 0) return -1;
      if (this.hashes[id] === hash && this.lengths[id] === text.length && equalsText(this.bytes, this.offsets[id], text)) return id;
      slot = (slot + 1) & mask;
    }
    // Past the probe limit the symbol may exist unshared: search the hard way (rare, bounded by count).
    for (let id = 0; id < this.count; id++) if (this.lengths[id] === text.length && equalsText(this.bytes, this.offsets[id], text)) return id;
    return -1;
  }

  private add(off: number, len: number, hash: number): number {
    if (this.count === this.offsets.length) {
      this.offsets = grown(this.offsets);
      this.lengths = grown(this.lengths);
      this.hashes = grown(this.hashes);
    }
    this.offsets[this.count] = off;
    this.lengths[this.count] = len;
    this.hashes[this.count] = hash;
    return this.count++;
  }

  /** Doubles the table and places every symbol again (the newest one included). */
  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id] & mask;
      // A symbol whose chain is full stays out of the table (it was unshared already, or becomes so).
      for (let probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & mask) {
        if (slots[slot] < 0) {
          slots[slot] = id;
          break;
        }
      }
    }
    this.slots = slots;
  }
}

function grown(a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/** A fast hash of a byte range, four bytes per step, seeded per process (not for identities: see core/hash.ts). */
function hashRange(bytes: Uint8Array, view: DataView, off: number, len: number): number {
  let h = Math.imul(len ^ SEED, 0x9e3779b1);
  let i = off;
  const end = off + len;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ view.getUint32(i, true), 0x85ebca6b);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ bytes[i], 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

function sameBytes(bytes: Uint8Array, view: DataView, a: number, b: number, len: number): boolean {
  if (a === b) return true;
  let i = 0;
  for (; i + 4 <= len; i += 4) if (view.getUint32(a + i, true) !== view.getUint32(b + i, true)) return false;
  for (; i < len; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

function equalsText(bytes: Uint8Array, off: number, text: Uint8Array): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[off + i] !== text[i]) return false;
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
