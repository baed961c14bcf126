// Per (series, hour) sums of sample values, for series read as a plain mean (working set): the
// mean of an hour needs only the sum and the count, and a sum of integers below 2^53 is exact in
// any order, so these series keep no values in their stream (timestamps only, for de-duplication).
// Open addressing over (row, hour index) keys; entries of evicted hours are dropped by a rebuild.

import { HOUR_MS } from '../../core/hours.ts';

const HOUR_SLOTS = 2 ** 20; // hour indexes are below 2^20 until the year 2089

export class HourSums {
  private keys = new Float64Array(64).fill(-1);
  private sums = new Float64Array(64);
  private size = 0;

  private static key(row: number, ts: number): number {
    return row * HOUR_SLOTS + Math.floor(ts / HOUR_MS);
  }

  private static slot(key: number, mask: number): number {
    const hour = key % HOUR_SLOTS;
    let h = Math.imul(((key - hour) / HOUR_SLOTS) ^ Math.imul(hour, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & mask;
  }

  add(row: number, ts: number, value: number): void {
    if ((this.size + 1) * 4 > this.keys.length * 3) this.rehash(this.keys.length * 2, -Infinity);
    const key = HourSums.key(row, ts);
    const mask = this.keys.length - 1;
    let slot = HourSums.slot(key, mask); // spread consecutive rows
    while (this.keys[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & mask;
    if (this.keys[slot] === -1) {
      this.keys[slot] = key;
      this.sums[slot] = 0;
      this.size++;
    }
    this.sums[slot] += value;
  }

  get(row: number, hourStartMs: number): number {
    const key = HourSums.key(row, hourStartMs);
    const mask = this.keys.length - 1;
    for (let slot = HourSums.slot(key, mask); this.keys[slot] !== -1; slot = (slot + 1) & mask) {
      if (this.keys[slot] === key) return this.sums[slot];
    }
    return 0;
  }

  /** Drops the sums of hours before `hourStartMs`. */
  evictBefore(hourStartMs: number): void {
    let size = 64;
    while (size < this.size * 2) size *= 2;
    this.rehash(size, Math.floor(hourStartMs / HOUR_MS));
  }

  bytes(): number {
    return this.keys.length * 16;
  }

  private rehash(capacity: number, minHour: number): void {
    const keys = this.keys;
    const sums = this.sums;
    this.keys = new Float64Array(capacity).fill(-1);
    this.sums = new Float64Array(capacity);
    this.size = 0;
    const mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === -1 || key % HOUR_SLOTS < minHour) continue;
      let slot = HourSums.slot(key, mask);
      while (this.keys[slot] !== -1) slot = (slot + 1) & mask;
      this.keys[slot] = key;
      this.sums[slot] = sums[i];
      this.size++;
    }
  }
}
