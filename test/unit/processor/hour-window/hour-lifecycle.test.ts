import { describe, expect, it } from 'vitest';
import { hourPhase, windowClock, type HourPhase } from '../../../../processor/hour-window/hour-lifecycle.ts';
import { H, H0, MIN, RULES } from './window-fixtures.ts';

const NOW = H0 + 10 * H;

describe('hourPhase (grace 5 min, late window 3 h, idle 30 min)', () => {
  it.each<[string, number, number, HourPhase]>([
    // By event time: the newest sample of the cluster against the hour's end.
    ['a sample inside the hour', H0 + 30 * MIN, NOW, 'open'],
    ['a sample at the end plus the grace, exactly', H0 + H + 5 * MIN, NOW, 'open'],
    ['a sample past the end plus the grace', H0 + H + 5 * MIN + 1, NOW, 'closed'],
    ['a sample at the end of the late window, exactly', H0 + 4 * H + 5 * MIN, NOW, 'closed'],
    ['a sample past the late window', H0 + 4 * H + 5 * MIN + 1, NOW, 'settled'],
    // By wall clock: a cluster that stopped sending (newest sample in the hour).
    ['silent for the idle time, exactly', H0 + 30 * MIN, NOW + 30 * MIN, 'open'],
    ['silent for longer than the idle time', H0 + 30 * MIN, NOW + 30 * MIN + 1, 'closed'],
    ['silent for the idle time plus the late window', H0 + 30 * MIN, NOW + 3 * H + 30 * MIN, 'closed'],
    ['silent for longer than the idle time plus the late window', H0 + 30 * MIN, NOW + 3 * H + 30 * MIN + 1, 'settled'],
  ])('%s: %s', (_what, watermark, now, phase) => {
    expect(hourPhase(H0, { watermark, lastArrival: NOW }, now, RULES)).toBe(phase);
  });

  it('goes by event time only while a backlog is read, however old the records are', () => {
    const clock = { watermark: H0 + 30 * MIN, lastArrival: NOW - 24 * H };
    expect(hourPhase(H0, clock, NOW, RULES)).toBe('settled');
    expect(hourPhase(H0, windowClock(clock, true), NOW, RULES)).toBe('open');
    expect(windowClock(clock, false)).toBe(clock);
    expect(hourPhase(H0, windowClock({ ...clock, watermark: H0 + 2 * H }, true), NOW, RULES)).toBe('closed');
  });
});
