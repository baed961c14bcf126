import { describe, expect, it } from 'vitest';
import { createLogLimiter, warnLimited } from '../../../core/log-limiter.ts';

describe('createLogLimiter', () => {
  it('lets at most 6 lines through in the first 15 s, whatever the causes', () => {
    let t = 0;
    const limiter = createLogLimiter({ now: () => t });
    let allowed = 0;
    for (; t < 15_000; t += 100) if (limiter.allow(`cause-${t % 1700}`).allowed) allowed++;
    expect(allowed).toBe(6);
  });

  it('then one line per cause per minute, reporting how many were held back', () => {
    let t = 0;
    const limiter = createLogLimiter({ now: () => t });
    expect(limiter.allow('broker down')).toEqual({ allowed: true, suppressed: 0 });
    const seen: { t: number; suppressed: number }[] = [];
    for (t = 1000; t <= 180_000; t += 1000) {
      const d = limiter.allow('broker down');
      if (d.allowed) seen.push({ t, suppressed: d.suppressed });
    }
    expect(seen).toEqual([
      { t: 60_000, suppressed: 59 },
      { t: 120_000, suppressed: 59 },
      { t: 180_000, suppressed: 59 },
    ]);
  });

  it('keeps causes apart after the burst window', () => {
    let t = 20_000;
    const limiter = createLogLimiter({ now: () => t - 20_000 });
    t = 40_000;
    expect(limiter.allow('a').allowed).toBe(true);
    expect(limiter.allow('b').allowed).toBe(true);
    expect(limiter.allow('a').allowed).toBe(false);
  });

  it('forgets the oldest causes past maxCauses, so memory stays bounded', () => {
    let t = 100_000;
    const limiter = createLogLimiter({ now: () => t, maxCauses: 2, burstWindowMs: 0 });
    limiter.allow('a');
    limiter.allow('b');
    limiter.allow('c');
    // 'a' was forgotten, so it passes again at once; 'c' is remembered and held back.
    expect(limiter.allow('a').allowed).toBe(true);
    expect(limiter.allow('c').allowed).toBe(false);
    t += 1;
  });
});

describe('warnLimited', () => {
  it('writes a held-back count with the next line of the same cause, and nothing in between', () => {
    let t = 0;
    const limiter = createLogLimiter({ now: () => t });
    const lines: { obj: object; msg?: string }[] = [];
    const log = { warn: (obj: object, msg?: string) => lines.push({ obj, msg }) };
    for (; t <= 60_000; t += 5_000) warnLimited(log, limiter, 'kafka down', { broker: 'b:9092' }, 'cannot reach Kafka');
    expect(lines).toEqual([
      { obj: { broker: 'b:9092' }, msg: 'cannot reach Kafka' },
      { obj: { broker: 'b:9092', suppressed: 11 }, msg: 'cannot reach Kafka (11 more like this since the last one)' },
    ]);
  });
});
