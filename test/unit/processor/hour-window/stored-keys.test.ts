import { describe, expect, it } from 'vitest';
import type { HourMark } from '../../../../processor/hour-window/partition-state.ts';
import { noteStored, vanishedKeys } from '../../../../processor/hour-window/stored-keys.ts';

const mark = (stored?: string[], storedVersion?: number): HourMark => ({
  seq: 1,
  writtenSeq: 0,
  writtenFinal: false,
  ...(stored ? { storedKeys: new Set(stored) } : {}),
  ...(storedVersion ? { storedVersion } : {}),
});

describe('vanishedKeys', () => {
  it('names the keys that may be live but that the hour no longer has', () => {
    expect(vanishedKeys(mark(['a', 'b', 'c']), new Set(['b', 'd']))).toEqual(['a', 'c']);
    expect(vanishedKeys(mark([]), new Set(['b']))).toEqual([]);
  });
});

describe('noteStored', () => {
  it('takes the written keys as what is live once the write is above every row read from the table', () => {
    const m = mark(['a', 'b'], 100);
    noteStored(m, new Set(['b', 'c']), 101);
    expect([...m.storedKeys!]).toEqual(['b', 'c']);
  });

  it('keeps the keys read from the table while its writes are below them: those rows still win', () => {
    const m = mark(['a', 'b'], 100);
    noteStored(m, new Set(['c']), 90);
    expect([...m.storedKeys!].sort()).toEqual(['a', 'b', 'c']);
    // Until a write reads as far: then its deletions win too.
    noteStored(m, new Set(['c']), 102);
    expect([...m.storedKeys!]).toEqual(['c']);
  });

  it("takes a fresh hour's written keys", () => {
    const m = mark([]);
    noteStored(m, new Set(['a']), 1);
    expect([...m.storedKeys!]).toEqual(['a']);
  });
});
