import { describe, expect, it } from 'vitest';
import { createCommitTracker } from '../../../../processor/hour-window/commit-tracker.ts';

const H = 3_600_000;

describe('commit tracker', () => {
  it('keeps records that feed the floor hour or the hour before it, commits the rest', () => {
    const t = createCommitTracker();
    t.note(0n, 0 * H);
    t.note(1n, 1 * H);
    t.note(2n, 2 * H);
    t.note(3n, 3 * H);
    t.note(4n, 3 * H);
    expect(t.commitPoint(3 * H)).toBe(2n); // hour 2 is context for hour 3
    expect(t.commitPoint(2 * H)).toBe(1n);
    expect(t.commitPoint(Infinity)).toBe(5n); // nothing can change: commit everything read
    expect(t.commitPoint(-Infinity)).toBe(0n);
  });

  it('never commits past a late record for an old hour that arrived after newer ones', () => {
    const t = createCommitTracker();
    t.note(10n, 5 * H);
    t.note(11n, 1 * H); // merged into the run that starts at 10: delays, never skips
    t.note(12n, 6 * H);
    expect(t.commitPoint(6 * H)).toBe(10n);
    t.committed(10n);
    expect(t.runs).toBe(2);
    expect(t.commitPoint(7 * H)).toBe(12n);
    t.committed(12n);
    expect(t.runs).toBe(1);
  });

  it('treats records without samples as settled', () => {
    const t = createCommitTracker();
    t.note(0n, -Infinity);
    t.note(1n, -Infinity);
    expect(t.commitPoint(0)).toBe(2n);
  });

  it('has nothing to commit before the first record', () => {
    expect(createCommitTracker().commitPoint(0)).toBeUndefined();
  });
});
