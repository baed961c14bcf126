// How much the simulated containers use over time: CPU swinging ±30 % and memory ±15 % around
// their averages with a seeded period and phase, and counters that are exact integrals, so they
// only grow.
import type { DemoContainer, DemoPod } from './cluster-types.ts';
import { MINUTE } from './inventory.ts';
import { between } from './seeded.ts';

/** The seeded period (as angular frequency per ms) and phase of one container's swing. */
function swing(seed: number, p: DemoPod, c: DemoContainer, what: string) {
  const period = between(seed, 10 * MINUTE, 60 * MINUTE, p.namespace, p.name, c.name, what, 'period');
  const phase = between(seed, 0, 2 * Math.PI, p.namespace, p.name, c.name, what, 'phase');
  return { omega: (2 * Math.PI) / period, phase };
}

/** Cores the container uses at `t`. */
export function cpuRate(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'cpu');
  return c.cpuUse * (1 + 0.3 * Math.sin(omega * (t - p.startMs) + phase));
}

/** CPU seconds used since the container started: the integral of cpuRate, so it only grows. */
export function cpuSeconds(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'cpu');
  const dt = Math.max(0, Math.min(t, p.endMs ?? t) - p.startMs);
  const wobble = (0.3 / omega) * (Math.cos(phase) - Math.cos(omega * dt + phase));
  return (c.cpuUse * (dt + wobble)) / 1000;
}

/** Working set in bytes at `t`. */
export function workingSetBytes(seed: number, p: DemoPod, c: DemoContainer, t: number): number {
  const { omega, phase } = swing(seed, p, c, 'ram');
  return Math.round(c.ramUse * (1 + 0.15 * Math.sin(omega * (t - p.startMs) + phase)));
}

/** Bytes sent since the pod started, at `bytesPerSecond` (whole bytes, only growing). */
export function egressBytes(p: DemoPod, bytesPerSecond: number, t: number): number {
  const dt = Math.max(0, Math.min(t, p.endMs ?? t) - p.startMs);
  return Math.floor((bytesPerSecond * dt) / 1000);
}
