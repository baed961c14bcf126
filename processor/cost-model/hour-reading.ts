// What the samples of one series (or of one merged group of series) say about one hour. Every
// function walks samples in time order, so the same samples always give bit-identical sums.
//
// The interval rule: a sample belongs to the hour containing its timestamp and stands for the
// time since the previous sample, capped at maxGap. A sample with no usable previous one (the
// series' first, or the first after a stale marker) stands for the interval of the next sample,
// or the default scrape interval when there is none. Stale markers and NaN count for nothing.
import type { SampleBuffer } from './sample-streams.ts';

export interface Timing {
  readonly maxSampleGapMs: number;
  readonly defaultScrapeIntervalMs: number;
}

export class GaugeReading {
  /** Sum of value x interval (ms). */
  sumVD = 0;
  /** Sum of intervals (ms). */
  sumD = 0;
  samples = 0;
  /** Covered time as disjoint [start, end) pairs in time order (filled only when asked for). */
  segments: number[] = [];
}

/** Index of the first sample at or after `t` (binary search over the sorted timestamps). */
export function firstAtOrAfter(buf: SampleBuffer, t: number): number {
  let lo = 0;
  let hi = buf.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buf.ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The interval sample i stands for (it must not be stale). */
function intervalOf(buf: SampleBuffer, i: number, timing: Timing): number {
  const gap = timing.maxSampleGapMs;
  if (i > 0 && buf.stale[i - 1] === 0) return Math.min(buf.ts[i] - buf.ts[i - 1], gap);
  if (i + 1 < buf.n && buf.stale[i + 1] === 0) return Math.min(buf.ts[i + 1] - buf.ts[i], gap);
  return Math.min(timing.defaultScrapeIntervalMs, gap);
}

/** Time-weighted reading of a gauge over [hour, hourEnd). */
export function readGauge(buf: SampleBuffer, hour: number, hourEnd: number, timing: Timing, withSegments: boolean, out: GaugeReading): GaugeReading {
  out.sumVD = 0;
  out.sumD = 0;
  out.samples = 0;
  out.segments = withSegments ? [] : out.segments;
  const segs = out.segments;
  for (let i = firstAtOrAfter(buf, hour); i < buf.n && buf.ts[i] < hourEnd; i++) {
    if (buf.stale[i] === 1) continue;
    const t = buf.ts[i];
    const d = intervalOf(buf, i, timing);
    out.sumVD += buf.val[i] * d;
    out.sumD += d;
    out.samples++;
    if (withSegments) {
      const last = segs.length - 1;
      if (last > 0 && segs[last] >= t - d) segs[last] = t;
      else segs.push(t - d, t);
    }
  }
  return out;
}

export class CounterReading {
  /** Sum of increases of the samples in the hour (a drop is a reset: the increase is the value). */
  increase = 0;
  /** Time between the paired samples (ms). */
  pairedMs = 0;
  pairs = 0;
}

/**
 * Counter reading over [hour, hourEnd): each sample adds its increase since the series' previous
 * sample (in this hour or before), unless a stale marker lies between them.
 */
export function readCounter(buf: SampleBuffer, hour: number, hourEnd: number, out: CounterReading): CounterReading {
  out.increase = 0;
  out.pairedMs = 0;
  out.pairs = 0;
  for (let i = firstAtOrAfter(buf, hour); i < buf.n && buf.ts[i] < hourEnd; i++) {
    if (i === 0 || buf.stale[i] === 1 || buf.stale[i - 1] === 1) continue;
    const v = buf.val[i];
    const prev = buf.val[i - 1];
    out.increase += v >= prev ? v - prev : v;
    out.pairedMs += buf.ts[i] - buf.ts[i - 1];
    out.pairs++;
  }
  return out;
}

/** Mean of the positive samples in [hour, hourEnd) (prices: 0 is "no price"), or NaN if none. */
export function readPositiveMean(buf: SampleBuffer, hour: number, hourEnd: number): number {
  let sum = 0;
  let count = 0;
  for (let i = firstAtOrAfter(buf, hour); i < buf.n && buf.ts[i] < hourEnd; i++) {
    const v = buf.val[i];
    if (buf.stale[i] === 0 && v > 0) {
      sum += v;
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}

/** Number of non-stale samples in [hour, hourEnd). */
export function countSamples(buf: SampleBuffer, hour: number, hourEnd: number): number {
  let n = 0;
  for (let i = firstAtOrAfter(buf, hour); i < buf.n && buf.ts[i] < hourEnd; i++) n += 1 - buf.stale[i];
  return n;
}

/** Timestamp of the last non-stale sample in [hour, hourEnd), or -1. */
export function readLastSeen(buf: SampleBuffer, hour: number, hourEnd: number): number {
  let last = -1;
  for (let i = firstAtOrAfter(buf, hour); i < buf.n && buf.ts[i] < hourEnd; i++) {
    if (buf.stale[i] === 0) last = buf.ts[i];
  }
  return last;
}

/** Total length of the union of [start, end) pairs (sorts a copy). */
export function unionLength(segments: number[]): number {
  const n = segments.length / 2;
  if (n === 0) return 0;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => segments[2 * x] - segments[2 * y] || segments[2 * x + 1] - segments[2 * y + 1]);
  let total = 0;
  let start = segments[2 * order[0]];
  let end = segments[2 * order[0] + 1];
  for (let k = 1; k < n; k++) {
    const s = segments[2 * order[k]];
    const e = segments[2 * order[k] + 1];
    if (s > end) {
      total += end - start;
      start = s;
      end = e;
    } else if (e > end) end = e;
  }
  return total + end - start;
}
