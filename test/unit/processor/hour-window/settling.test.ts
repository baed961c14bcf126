import { describe, expect, it } from 'vitest';
import { moveFloor, settledFloor } from '../../../../processor/hour-window/settling.ts';
import { cluster, H, H0, MIN, partition, RULES, stored, type MarkSpec } from './window-fixtures.ts';

const NOW = H0 + 6 * H;
/** Hours H0 and H0+1h are past their late window (they settle before H0+5h05m). */
const WATERMARK = H0 + 5 * H + 6 * MIN;

describe('settledFloor', () => {
  it.each<[string, MarkSpec[], { replaying?: boolean; lastArrival?: number; watermark?: number }, number]>([
    ['settled hours stored final', [stored(H0, true), stored(H0 + H, true), stored(H0 + 2 * H, true)], {}, H0 + 2 * H],
    ['up to an hour changed since its final rows', [stored(H0, true), { hour: H0 + H, seq: 3, writtenSeq: 2, writtenFinal: true }], {}, H0 + H],
    ['not past an hour whose final rows are not stored', [stored(H0, false), stored(H0 + H, true)], {}, -Infinity],
    ['past a gap: the floor is after the last settled hour', [stored(H0, true), stored(H0 + 4 * H, true)], {}, H0 + H],
    ['not by silence while a backlog is read', [stored(H0, true)], { replaying: true, watermark: H0 + 10 * MIN, lastArrival: 0 }, -Infinity],
    ['by silence otherwise', [stored(H0, true)], { watermark: H0 + 10 * MIN, lastArrival: NOW - 3 * H - 31 * MIN }, H0 + H],
  ])('moves past %s', (_what, hours, clock, floor) => {
    const c = cluster(partition(), 'c', hours, { watermark: clock.watermark ?? WATERMARK, lastArrival: clock.lastArrival ?? NOW });
    expect(settledFloor(c, clock.replaying ?? false, NOW, RULES)).toBe(floor);
  });

  it('settles context hours of a restart without writing them', () => {
    const c = cluster(partition({ committed: 2n, floor: H0 + H }), 'c', [{ hour: H0 }, stored(H0 + H, true)], { watermark: WATERMARK, lastArrival: NOW });
    expect(settledFloor(c, false, NOW, RULES)).toBe(H0 + 2 * H);
  });
});

describe('moveFloor', () => {
  it('drops the hours before the new floor', () => {
    const c = cluster(partition(), 'c', [stored(H0, true), stored(H0 + H, true), stored(H0 + 2 * H, false)]);
    expect(moveFloor(c, H0 + 2 * H)).toBe(true);
    expect(c.floor).toBe(H0 + 2 * H);
    expect([...c.hours.keys()]).toEqual([H0 + 2 * H]);
  });

  it('never moves back', () => {
    const c = cluster(partition(), 'c', [stored(H0 + 2 * H, false)], { floor: H0 + 2 * H });
    expect(moveFloor(c, H0 + 2 * H)).toBe(false);
    expect(moveFloor(c, H0)).toBe(false);
    expect(c.floor).toBe(H0 + 2 * H);
  });
});
