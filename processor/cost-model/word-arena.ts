// Memory for the sample streams: pages of 32-bit words carved into blocks of fixed size classes,
// with a free list per class. One JavaScript typed array per series would cost ~150 bytes of
// object headers, about the whole per-series budget; blocks in shared pages cost nothing extra.
//
// An address is page * PAGE_WORDS + offset; a block never spans pages. Blocks are zeroed when
// handed out, so writers may OR bits into them.

export const PAGE_WORDS = 1 << 16;

/** Block sizes in words: 2, 3, 4, then four steps per power of two up to a page (<= 25% slack). */
export const CLASS_WORDS: readonly number[] = (() => {
  const sizes = [2, 3];
  for (let p = 4; p < PAGE_WORDS; p *= 2) sizes.push(p, p + p / 4, p + p / 2, p + (3 * p) / 4);
  sizes.push(PAGE_WORDS);
  return sizes;
})();

/** The smallest class holding `words` words, or -1 when more than a page is asked for. */
export function classFor(words: number): number {
  if (words > PAGE_WORDS) return -1;
  let lo = 0;
  let hi = CLASS_WORDS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (CLASS_WORDS[mid] >= words) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class WordArena {
  readonly pages: Uint32Array[] = [];
  private readonly free: number[][] = CLASS_WORDS.map(() => []);
  private bumpPage = -1;
  private bumpOffset = PAGE_WORDS;
  private freeWords = 0;

  /** Allocates a zeroed block of class `cls`; returns its address. */
  alloc(cls: number): number {
    const words = CLASS_WORDS[cls];
    const list = this.free[cls];
    if (list.length > 0) {
      const addr = list.pop()!;
      this.freeWords -= words;
      const off = addr % PAGE_WORDS;
      this.pages[(addr - off) / PAGE_WORDS].fill(0, off, off + words);
      return addr;
    }
    if (this.bumpOffset + words > PAGE_WORDS) this.newPage();
    const addr = this.bumpPage * PAGE_WORDS + this.bumpOffset;
    this.bumpOffset += words;
    return addr;
  }

  release(addr: number, cls: number): void {
    this.free[cls].push(addr);
    this.freeWords += CLASS_WORDS[cls];
  }

  /** Bytes of all pages (used and free): what the process really holds. */
  bytes(): number {
    return this.pages.length * PAGE_WORDS * 4;
  }

  /** True when over a quarter of the pages is free blocks (that streams have outgrown). */
  wasteful(): boolean {
    // Both comparisons made on every call: asked on every series added, it should run the same
    // code every time (one made only after the other held was new to code compiled early).
    const pages = this.pages.length;
    const overAQuarter = this.freeWords * 4 > pages * PAGE_WORDS;
    const several = pages > 2;
    return overAQuarter && several;
  }

  /** Bytes in blocks currently handed out. */
  usedBytes(): number {
    return this.bytes() - (this.freeWords + (this.bumpPage < 0 ? 0 : PAGE_WORDS - this.bumpOffset)) * 4;
  }

  private newPage(): void {
    // The rest of the current page goes to the free lists rather than being wasted.
    if (this.bumpPage >= 0) {
      let rest = PAGE_WORDS - this.bumpOffset;
      while (rest >= CLASS_WORDS[0]) {
        let cls = classFor(rest);
        if (CLASS_WORDS[cls] > rest) cls--;
        this.release(this.bumpPage * PAGE_WORDS + this.bumpOffset, cls);
        this.bumpOffset += CLASS_WORDS[cls];
        rest -= CLASS_WORDS[cls];
      }
    }
    this.pages.push(new Uint32Array(PAGE_WORDS));
    this.bumpPage = this.pages.length - 1;
    this.bumpOffset = 0;
  }
}
