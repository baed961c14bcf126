// The figures the fault tests print: share of refused attempts and recovery time around a fault.
import { describe, expect, it } from 'vitest';
import { faultFigures, formatFigures, type Attempt } from '../../support/remote-write-sender.ts';

const attempt = (request: number, sentAt: number, ms: number, status: number): Attempt => ({ request, sentAt, answeredAt: sentAt + ms, status });

describe('faultFigures', () => {
  it('counts refusals in the window and measures recovery to the first good answer after the last refusal', () => {
    const attempts = [
      attempt(0, 0, 10, 204), // before the fault: outside the window
      attempt(1, 1_000, 10, 204),
      attempt(2, 1_100, 3_000, 503), // answered at 4_100
      attempt(2, 4_400, 20, 503), // answered at 4_420: the last refusal
      attempt(2, 4_700, 30, 204), // answered at 4_730: recovered
      attempt(3, 5_000, 10, 204),
    ];
    const f = faultFigures(attempts, 1_000);
    expect(f.attempts).toBe(5);
    expect(f.refused).toBe(2);
    expect(f.recoveryMs).toBe(3_730);
    expect(f.slowestMs).toBe(3_000);
    // latencies sorted: 10, 10, 20, 30, 3000
    expect(f.p50Ms).toBe(20);
    expect(f.p99Ms).toBe(3_000);
    expect(formatFigures(f)).toBe('5 attempts, 2 refused (40.0 %), recovered 3.7 s after the fault, latency p50 20 ms p99 3000 ms max 3000 ms');
  });

  it('counts a slow acknowledgement as a disruption, and no disruption as no recovery time', () => {
    const slow = [attempt(0, 100, 2_500, 204), attempt(1, 2_700, 10, 204)];
    expect(faultFigures(slow, 0).recoveryMs).toBe(2_710);
    expect(faultFigures(slow, 0).refused).toBe(0);
    expect(faultFigures([attempt(0, 100, 10, 204)], 0).recoveryMs).toBe(0);
  });

  it('leaves out attempts sent after the end of the window', () => {
    const attempts = [attempt(0, 100, 10, 503), attempt(0, 400, 10, 204), attempt(1, 2_000, 10, 503)];
    const f = faultFigures(attempts, 0, 1_000);
    expect(f.attempts).toBe(2);
    expect(f.refused).toBe(1);
    expect(f.recoveryMs).toBe(410);
  });
});
