// OpenCost's `window` and `step` parameters (core/pkg/opencost/window.go, parseWindow), in UTC, from
// an injected clock. Our rows are hourly, so a window is then widened to whole hours (start down,
// end up) and steps are whole hours; the response shows the widened window.
import { HOUR_MS } from '../../core/hours.ts';
import { ParameterError, shorten } from './parameter-error.ts';

export interface TimeWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: WEEK_MS };

const DURATION = /^(\d{1,6})([mhdw])$/;
const DURATION_OFFSET = /^(\d{1,6})([mhdw]) offset (\d{1,6})([mhdw])$/;
const UNIX_PAIR = /^(\d{1,11})[,|-](\d{1,11})$/;
const RFC3339 = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})`;
const RFC3339_PAIR = new RegExp(`^(${RFC3339}),(${RFC3339})$`);

const WINDOW_FORMS =
  'today, yesterday, week, lastweek, month, lastmonth, a duration (30m, 24h, 7d, 2w, "24h offset 1h"), ' +
  'an RFC3339 pair (2024-05-01T00:00:00Z,2024-05-08T00:00:00Z) or a Unix-second pair (1714521600,1715126400)';

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The window `text` names at `now`, as OpenCost computes it in UTC (not yet widened to hours). */
export function parseWindow(text: string, now: number): TimeWindow {
  const trimmed = text.trim();
  const today = startOfDay(now);
  const date = new Date(now);
  switch (trimmed) {
    case 'today':
      return checked({ start: today, end: today + DAY_MS });
    case 'yesterday':
      return checked({ start: today - DAY_MS, end: today });
    case 'week': // weeks start on Sunday, as in OpenCost
      return checked({ start: today - date.getUTCDay() * DAY_MS, end: now });
    case 'lastweek': {
      const start = today - (date.getUTCDay() + 7) * DAY_MS;
      return checked({ start, end: start + WEEK_MS });
    }
    case 'month':
      return checked({ start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: now });
    case 'lastmonth':
      return checked({ start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) });
  }
  let m = DURATION.exec(trimmed);
  if (m) return checked(lastDuration(Number(m[1]), m[2], now));
  m = DURATION_OFFSET.exec(trimmed);
  if (m) {
    const end = now - Number(m[3]) * UNIT_MS[m[4]];
    return checked({ start: end - Number(m[1]) * UNIT_MS[m[2]], end });
  }
  m = UNIX_PAIR.exec(trimmed);
  if (m) return checked({ start: Number(m[1]) * 1000, end: Number(m[2]) * 1000 });
  m = RFC3339_PAIR.exec(trimmed);
  if (m) {
    return checked({ start: parseTimestamp(m[1]), end: parseTimestamp(m[2]) });
  }
  throw new ParameterError(`"${shorten(trimmed)}" is not a window: use ${WINDOW_FORMS}`);
}

/** An RFC3339 time; Date.parse alone would take 2024-02-30 for March 1st. */
function parseTimestamp(text: string): number {
  const [year, month, day, hour, minute, second] = text.slice(0, 19).split(/[-T:]/).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const ms = Date.parse(text);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || Number.isNaN(ms)) {
    throw new ParameterError(`${text} is not a valid time`);
  }
  return ms;
}

/**
 * "The last N units" ends at the end of the current unit and covers N whole units (OpenCost: "the
 * entirety of today plus the past N-1 days"); weeks end at the end of today.
 */
function lastDuration(n: number, unit: string, now: number): TimeWindow {
  if (n === 0) throw new ParameterError('a window of length 0 holds nothing');
  if (unit === 'w') {
    return { start: startOfDay(now - n * WEEK_MS) + DAY_MS, end: startOfDay(now) + DAY_MS };
  }
  const size = UNIT_MS[unit];
  const end = Math.floor(now / size) * size + size;
  return { start: end - n * size, end };
}

function checked(window: TimeWindow): TimeWindow {
  if (!(window.end > window.start)) throw new ParameterError('the window must end after it starts');
  return window;
}

/** The window widened to whole hours: rows cover whole hours. */
export function toWholeHours(window: TimeWindow): TimeWindow {
  return { start: Math.floor(window.start / HOUR_MS) * HOUR_MS, end: Math.ceil(window.end / HOUR_MS) * HOUR_MS };
}

const STEP_WORDS: Record<string, number> = { hour: HOUR_MS, day: DAY_MS, week: WEEK_MS };

/** The length of one set: a duration or hour/day/week, a whole number of hours. */
export function parseStep(text: string): number {
  const trimmed = text.trim();
  const m = DURATION.exec(trimmed);
  const ms = STEP_WORDS[trimmed] ?? (m ? Number(m[1]) * UNIT_MS[m[2]] : undefined);
  if (ms === undefined) throw new ParameterError(`"${shorten(trimmed)}" is not a duration: use 1h, 6h, 1d, 1w, hour, day or week`);
  if (ms < HOUR_MS || ms % HOUR_MS !== 0) throw new ParameterError(`${trimmed} is not a whole number of hours: rows are hourly`);
  return ms;
}

/** The sets a window is cut into, from its start; the last one ends with the window. */
export function setWindows(window: TimeWindow, stepMs: number): TimeWindow[] {
  const sets: TimeWindow[] = [];
  for (let start = window.start; start < window.end; start += stepMs) sets.push({ start, end: Math.min(start + stepMs, window.end) });
  return sets;
}
