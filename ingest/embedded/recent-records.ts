// The records appended last, kept in memory so the consumer in the same process reads what was
// just written without going back to the disk. The processor follows the log's end closely, so
// nearly every read lands here: no open, read and close of the segment, no buffer per read, no
// checksum over bytes that never left memory. The disk stays the durable copy, read after a
// restart or when the consumer falls behind by more than the bytes kept here.
import type { LogEntry, LogRead } from './embedded-log.ts';
import type { StoredRecord } from './segment-format.ts';

export interface RecentRecords {
  /** Records just made durable, at offsets `first`, `first` + 1, ... */
  add(first: bigint, records: readonly StoredRecord[]): void;
  /** About `maxBytes` of records from `offset` on, or undefined when `offset` is no longer (or not yet) kept. */
  read(offset: bigint, maxBytes: number): LogRead | undefined;
}

export function createRecentRecords(maxBytes: number): RecentRecords {
  // Offsets are consecutive from `base`: appends number their records one after the other.
  let kept: StoredRecord[] = [];
  let head = 0;
  let base = 0n;
  let bytes = 0;

  return {
    add(first, records) {
      if (kept.length - head === 0 || base + BigInt(kept.length - head) !== first) {
        kept = [];
        head = 0;
        bytes = 0;
        base = first;
      }
      for (const r of records) {
        kept.push(r);
        bytes += r.value.length;
      }
      while (bytes > maxBytes && kept.length - head > 1) {
        bytes -= kept[head].value.length;
        head++;
        base++;
      }
      // Drop the forgotten slots now and then, not at every append.
      if (head > 1024 && head * 2 > kept.length) {
        kept = kept.slice(head);
        head = 0;
      }
    },
    read(offset, readBytes) {
      const count = kept.length - head;
      if (count === 0 || offset < base || offset >= base + BigInt(count)) return undefined;
      const entries: LogEntry[] = [];
      let n = 0;
      let at = Number(offset - base);
      for (; at < count && (entries.length === 0 || n < readBytes); at++) {
        const record = kept[head + at];
        entries.push({ offset: base + BigInt(at), record });
        n += record.value.length;
      }
      return { entries, next: base + BigInt(at) };
    },
  };
}
