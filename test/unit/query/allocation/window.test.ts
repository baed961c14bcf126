import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../../../query/allocation/parameter-error.ts';
import { parseStep, parseWindow, setWindows, toWholeHours } from '../../../../query/allocation/window.ts';

// Wednesday 2024-05-15 13:37:00 UTC.
const NOW = Date.UTC(2024, 4, 15, 13, 37);
const at = (iso: string) => Date.parse(iso);
const window = (text: string) => {
  const w = parseWindow(text, NOW);
  return [new Date(w.start).toISOString(), new Date(w.end).toISOString()];
};

describe('parseWindow (UTC, fixed clock)', () => {
  it.each([
    ['today', '2024-05-15T00:00:00.000Z', '2024-05-16T00:00:00.000Z'],
    ['yesterday', '2024-05-14T00:00:00.000Z', '2024-05-15T00:00:00.000Z'],
    // Weeks start on Sunday (the 12th), as in OpenCost; week and month end now.
    ['week', '2024-05-12T00:00:00.000Z', '2024-05-15T13:37:00.000Z'],
    ['lastweek', '2024-05-05T00:00:00.000Z', '2024-05-12T00:00:00.000Z'],
    ['month', '2024-05-01T00:00:00.000Z', '2024-05-15T13:37:00.000Z'],
    ['lastmonth', '2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
    // "The last N units" ends with the current unit.
    ['24h', '2024-05-14T14:00:00.000Z', '2024-05-15T14:00:00.000Z'],
    ['1h', '2024-05-15T13:00:00.000Z', '2024-05-15T14:00:00.000Z'],
    // The unit is the minute: 30 minutes ending with the current one.
    ['30m', '2024-05-15T13:08:00.000Z', '2024-05-15T13:38:00.000Z'],
    ['7d', '2024-05-09T00:00:00.000Z', '2024-05-16T00:00:00.000Z'],
    ['2w', '2024-05-02T00:00:00.000Z', '2024-05-16T00:00:00.000Z'],
    ['24h offset 1h', '2024-05-14T12:37:00.000Z', '2024-05-15T12:37:00.000Z'],
    ['1714521600,1715126400', '2024-05-01T00:00:00.000Z', '2024-05-08T00:00:00.000Z'],
    ['1714521600-1715126400', '2024-05-01T00:00:00.000Z', '2024-05-08T00:00:00.000Z'],
    ['2024-05-01T00:00:00Z,2024-05-08T00:00:00Z', '2024-05-01T00:00:00.000Z', '2024-05-08T00:00:00.000Z'],
    ['2024-05-01T02:00:00+02:00,2024-05-08T00:00:00Z', '2024-05-01T00:00:00.000Z', '2024-05-08T00:00:00.000Z'],
  ])('%s', (text, start, end) => {
    expect(window(text)).toEqual([start, end]);
  });

  it('computes lastmonth across a year boundary', () => {
    const w = parseWindow('lastmonth', at('2024-01-10T05:00:00Z'));
    expect([w.start, w.end]).toEqual([at('2023-12-01T00:00:00Z'), at('2024-01-01T00:00:00Z')]);
  });

  it('on a Sunday, week starts that day', () => {
    expect(parseWindow('week', at('2024-05-12T09:00:00Z')).start).toBe(at('2024-05-12T00:00:00Z'));
  });

  it.each([
    ['', /not a window/],
    ['forever', /not a window: use today/],
    ['0d', /length 0/],
    ['7x', /not a window/],
    ['2024-05-08T00:00:00Z,2024-05-01T00:00:00Z', /must end after it starts/],
    ['2024-02-30T00:00:00Z,2024-03-02T00:00:00Z', /2024-02-30T00:00:00Z is not a valid time/],
    ['2024-13-01T00:00:00Z,2024-14-01T00:00:00Z', /not a valid time/],
    ["today'); DROP TABLE k8s_expenses; --", /not a window/],
  ])('refuses %j', (text, message) => {
    expect(() => parseWindow(text, NOW)).toThrow(ParameterError);
    expect(() => parseWindow(text, NOW)).toThrow(message);
  });
});

describe('toWholeHours', () => {
  it('widens a window to the hours it touches', () => {
    const w = toWholeHours({ start: at('2024-05-15T10:30:00Z'), end: at('2024-05-15T12:10:00Z') });
    expect([w.start, w.end]).toEqual([at('2024-05-15T10:00:00Z'), at('2024-05-15T13:00:00Z')]);
  });

  it('leaves whole hours alone', () => {
    const w = { start: at('2024-05-15T10:00:00Z'), end: at('2024-05-15T12:00:00Z') };
    expect(toWholeHours(w)).toEqual(w);
  });
});

describe('parseStep', () => {
  it.each([
    ['1h', 3_600_000],
    ['6h', 21_600_000],
    ['1d', 86_400_000],
    ['day', 86_400_000],
    ['1w', 604_800_000],
    ['120m', 7_200_000],
  ])('%s', (text, ms) => {
    expect(parseStep(text)).toBe(ms);
  });

  it.each(['30m', '90m', '1y', 'daily', '0h'])('refuses %s', (text) => {
    expect(() => parseStep(text)).toThrow(ParameterError);
  });
});

describe('setWindows', () => {
  it('cuts the window from its start; the last set ends with the window', () => {
    const sets = setWindows({ start: at('2024-05-15T00:00:00Z'), end: at('2024-05-15T05:00:00Z') }, 2 * 3_600_000);
    expect(sets.map((s) => [new Date(s.start).getUTCHours(), new Date(s.end).getUTCHours()])).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });
});
