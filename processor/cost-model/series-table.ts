// The series of one (tenant, cluster): identity (64-bit key hash), what the series is (kind and
// three interned strings), and its sample stream. Columns are typed arrays indexed by row: a
// JavaScript object per series would cost more than the whole per-series budget.
import { SampleStreams } from './sample-streams.ts';
import type { WordArena } from './word-arena.ts';

export class SeriesTable {
  hashHi = new Uint32Array(0);
  hashLo = new Uint32Array(0);
  /** 0 for a free row. */
  kind = new Uint8Array(0);
  e = new Int32Array(0);
  a = new Int32Array(0);
  b = new Int32Array(0);
  readonly streams: SampleStreams;
  /** Open addressing (linear probing) from hash to row + 1; 0 = empty slot. */
  private index = new Int32Array(16);
  private rows = 0; // rows handed out (live or free)
  private live = 0;
  private readonly freeRows: number[] = [];
  /** Interned strings: the e/a/b columns hold ids. */
  strings: string[] = [];
  private stringIds = new Map<string, number>();

  constructor(arena: WordArena) {
    this.streams = new SampleStreams(arena);
  }

  get size(): number {
    return this.live;
  }

  /** Rows handed out so far; iterate 0..rowCount-1 and skip rows whose kind is 0. */
  get rowCount(): number {
    return this.rows;
  }

  find(h1: number, h2: number): number {
    // Everything a found series needs is computed at every occupied slot: while a cluster's first
    // record is read no series is found yet, and code compiled then, never having run the found
    // path, was thrown away at the first series found.
    const { index, hashHi, hashLo } = this;
    const mask = index.length - 1;
    for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
      const row = index[slot] - 1;
      if (row < 0) return -1;
      if (((hashHi[row] ^ h1) | (hashLo[row] ^ h2)) === 0) return row;
    }
  }

  intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  insert(h1: number, h2: number, kind: number, e: string, a: string, b: string): number {
    let row = this.freeRows.pop();
    if (row === undefined) {
      if (this.rows === this.kind.length) this.resize(Math.max(64, Math.ceil(this.rows * 1.25)));
      row = this.rows++;
    }
    this.hashHi[row] = h1;
    this.hashLo[row] = h2;
    this.kind[row] = kind;
    this.e[row] = this.intern(e);
    this.a[row] = this.intern(a);
    this.b[row] = this.intern(b);
    this.live++;
    if (this.live * 4 > this.index.length * 3) this.rebuildIndex(); // beyond 0.75: double
    else this.place(row);
    return row;
  }

  /** Frees a row; call rebuildIndex() once after a batch of removals. */
  remove(row: number): void {
    this.streams.clear(row);
    this.kind[row] = 0;
    this.freeRows.push(row);
    this.live--;
  }

  rebuildIndex(): void {
    let size = 16;
    while (size < this.live * 2) size *= 2; // load at most 0.5 after a rebuild
    this.index = new Int32Array(size);
    for (let r = 0; r < this.rows; r++) if (this.kind[r] !== 0) this.place(r);
  }

  /** Forgets strings no live row uses (after eviction: pods come and go). */
  compactStrings(): void {
    const remap = new Int32Array(this.strings.length).fill(-1);
    const strings: string[] = [];
    const ids = new Map<string, number>();
    const keep = (id: number): number => {
      if (remap[id] < 0) {
        remap[id] = strings.length;
        ids.set(this.strings[id], strings.length);
        strings.push(this.strings[id]);
      }
      return remap[id];
    };
    for (let r = 0; r < this.rows; r++) {
      if (this.kind[r] === 0) continue;
      this.e[r] = keep(this.e[r]);
      this.a[r] = keep(this.a[r]);
      this.b[r] = keep(this.b[r]);
    }
    this.strings = strings;
    this.stringIds = ids;
  }

  /** An estimate of the bytes held: columns, index, strings (the arena is counted by the model). */
  bytes(): number {
    let strings = 0;
    for (const s of this.strings) strings += 32 + s.length + 40; // string object + map entry + slot
    return this.kind.length * (4 + 4 + 1 + 12) + this.index.length * 4 + this.streams.columnBytes() + strings;
  }

  private place(row: number): void {
    const mask = this.index.length - 1;
    let slot = this.hashHi[row] & mask;
    while (this.index[slot] !== 0) slot = (slot + 1) & mask;
    this.index[slot] = row + 1;
  }

  private resize(capacity: number): void {
    const copy = <T extends Uint32Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a as never);
      return b;
    };
    this.hashHi = copy(this.hashHi, (n) => new Uint32Array(n));
    this.hashLo = copy(this.hashLo, (n) => new Uint32Array(n));
    this.kind = copy(this.kind, (n) => new Uint8Array(n));
    this.e = copy(this.e, (n) => new Int32Array(n));
    this.a = copy(this.a, (n) => new Int32Array(n));
    this.b = copy(this.b, (n) => new Int32Array(n));
    this.streams.resize(capacity);
  }
}
