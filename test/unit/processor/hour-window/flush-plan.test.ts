import { describe, expect, it } from 'vitest';
import { markWritten, needsWrite, planFlush } from '../../../../processor/hour-window/flush-plan.ts';
import { cluster, H, H0, MIN, partition, RULES, stored } from './window-fixtures.ts';

const NOW = H0 + 2 * H;

describe('needsWrite', () => {
  it.each<[string, { seq: number; writtenSeq: number; writtenFinal: boolean }, boolean, boolean]>([
    ['a new hour', { seq: 1, writtenSeq: 0, writtenFinal: false }, false, true],
    ['an open hour stored as it is', { seq: 2, writtenSeq: 2, writtenFinal: false }, false, false],
    ['an open hour changed since', { seq: 3, writtenSeq: 2, writtenFinal: false }, false, true],
    ['an hour that closed since, unchanged', { seq: 2, writtenSeq: 2, writtenFinal: false }, true, true],
    ['a closed hour stored final', { seq: 2, writtenSeq: 2, writtenFinal: true }, true, false],
    ['a closed hour changed by a late sample', { seq: 3, writtenSeq: 2, writtenFinal: true }, true, true],
    ['an hour closed by silence, changed when its cluster came back', { seq: 3, writtenSeq: 2, writtenFinal: true }, false, true],
  ])('%s: %s', (_what, mark, final, expected) => {
    expect(needsWrite(mark, final)).toBe(expected);
  });
});

describe('planFlush', () => {
  it('writes changed and newly closed hours, final once closed, provisional while open', () => {
    const state = partition();
    const c = cluster(state, 'c', [stored(H0, false), stored(H0 + H, false), { hour: H0 + 2 * H }, stored(H0 - H, true)], { watermark: H0 + 2 * H + 6 * MIN, lastArrival: NOW });
    expect(planFlush(state, NOW, RULES)).toEqual([
      { cluster: c, hour: H0, seq: 2, final: true },
      { cluster: c, hour: H0 + H, seq: 2, final: true },
      { cluster: c, hour: H0 + 2 * H, seq: 1, final: false },
    ]);
  });

  it('never writes the context hours of a restart', () => {
    const state = partition({ committed: 4n, floor: H0 + H, end: 4n });
    cluster(state, 'c', [{ hour: H0 }, { hour: H0 + H }], { watermark: H0 + H + 10 * MIN, lastArrival: NOW });
    expect(planFlush(state, NOW, RULES).map((w) => w.hour)).toEqual([H0 + H]);
  });

  it('closes hours of a silent cluster by wall clock, except while a backlog is read', () => {
    const live = partition();
    cluster(live, 'c', [{ hour: H0 }], { watermark: H0 + 10 * MIN, lastArrival: NOW - 31 * MIN });
    expect(planFlush(live, NOW, RULES).map((w) => w.final)).toEqual([true]);
    const replaying = partition({ committed: 0n, end: 100n });
    replaying.next = 1n;
    cluster(replaying, 'c', [{ hour: H0 }], { watermark: H0 + 10 * MIN, lastArrival: NOW - 31 * MIN });
    expect(planFlush(replaying, NOW, RULES).map((w) => w.final)).toEqual([false]);
  });

  it('marks the planned hours written, keeping behind those changed while they were written', () => {
    const state = partition();
    const c = cluster(state, 'c', [{ hour: H0 }, { hour: H0 + H }, { hour: H0 + 2 * H }], { watermark: H0 + H + 6 * MIN, lastArrival: NOW });
    const writes = planFlush(state, NOW, RULES);
    c.hours.get(H0 + H)!.seq++; // a sample arrived during the write
    c.hours.delete(H0 + 2 * H); // (cannot happen between plan and write, but must not throw)
    markWritten(writes);
    expect(c.hours.get(H0)).toEqual({ seq: 1, writtenSeq: 1, writtenFinal: true });
    expect(c.hours.get(H0 + H)).toEqual({ seq: 2, writtenSeq: 1, writtenFinal: false });
    expect(planFlush(state, NOW, RULES).map((w) => w.hour)).toEqual([H0 + H]);
  });

  // Regression: the stored finality was only ever set, so an hour that closed by silence, was
  // reopened by a sample of it and rewritten provisional, never looked behind again.
  it('stores the finality of the last write, so a reopened hour is written final once it closes again', () => {
    const state = partition();
    const c = cluster(state, 'c', [stored(H0, true)], { watermark: H0 + 10 * MIN, lastArrival: NOW });
    c.hours.get(H0)!.seq++; // the cluster came back with a sample of the hour
    const reopened = planFlush(state, NOW, RULES);
    expect(reopened.map((w) => w.final)).toEqual([false]);
    markWritten(reopened);
    expect(c.hours.get(H0)).toEqual({ seq: 3, writtenSeq: 3, writtenFinal: false });
    expect(planFlush(state, NOW + 31 * MIN, RULES)).toEqual([{ cluster: c, hour: H0, seq: 3, final: true }]);
  });
});
