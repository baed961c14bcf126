import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SampleBuffer, SampleStreams } from '../../../../processor/cost-model/sample-streams.ts';
import { WordArena } from '../../../../processor/cost-model/word-arena.ts';

function roundTrip(samples: { ts: number; v: number; stale: boolean }[]): SampleBuffer {
  const streams = new SampleStreams(new WordArena());
  streams.resize(4);
  for (const s of samples) expect(streams.append(1, s.ts, s.v, s.stale)).toBe(true);
  const out = new SampleBuffer();
  streams.decode(1, out);
  return out;
}

function bitsOf(v: number): string {
  const f = new Float64Array([v]);
  const u = new Uint32Array(f.buffer);
  return `${u[1]}:${u[0]}`;
}

describe('sample streams', () => {
  it('keeps a regular constant series in a few words', () => {
    const streams = new SampleStreams(new WordArena());
    streams.resize(1);
    for (let i = 0; i < 180; i++) streams.append(0, 1_700_000_000_000 + i * 60_000, 0.25, false);
    expect(streams.bitLen[0]).toBeLessThan(160);
    const out = new SampleBuffer();
    streams.decode(0, out);
    expect(out.n).toBe(180);
    expect(out.ts[179]).toBe(1_700_000_000_000 + 179 * 60_000);
    expect(out.val[100]).toBe(0.25);
  });

  it('round-trips any increasing timestamps and any 64-bit values, stale markers included', () => {
    const sample = fc.record({
      gap: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2_000_000 }), fc.constant(60_000), fc.integer({ min: 1, max: 2 ** 40 })),
      v: fc.oneof(fc.double({ noNaN: true }), fc.constant(1), fc.integer({ min: 0, max: 2 ** 40 }).map((x) => x * 1.0)),
      stale: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 44 }), fc.array(sample, { minLength: 1, maxLength: 300 }), (start, raw) => {
        let ts = start;
        const samples = raw.map((s) => {
          ts += s.gap;
          return { ts, v: s.v === 0 ? 0 : s.v, stale: s.stale };
        });
        const out = roundTrip(samples);
        expect(out.n).toBe(samples.length);
        for (let i = 0; i < samples.length; i++) {
          expect(out.ts[i]).toBe(samples[i].ts);
          expect(out.stale[i]).toBe(samples[i].stale ? 1 : 0);
          if (!samples[i].stale) expect(bitsOf(out.val[i])).toBe(bitsOf(samples[i].v));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('moving streams to a fresh arena (compaction) keeps every sample', () => {
    const from = new WordArena();
    const streams = new SampleStreams(from);
    streams.resize(50);
    for (let row = 0; row < 50; row++) {
      for (let i = 0; i < 200; i++) streams.append(row, 1_700_000_000_000 + i * 60_000 + (i % 7 === 0 ? row : 0), row * 1e6 + i * i, i % 50 === 49);
    }
    const before = Array.from({ length: 50 }, (_, row) => {
      const out = new SampleBuffer();
      streams.decode(row, out);
      return [...out.ts.subarray(0, out.n), ...out.val.subarray(0, out.n)];
    });
    streams.moveTo(new WordArena());
    expect(streams.arena).not.toBe(from);
    for (let row = 0; row < 50; row++) {
      const out = new SampleBuffer();
      streams.decode(row, out);
      expect([...out.ts.subarray(0, out.n), ...out.val.subarray(0, out.n)]).toEqual(before[row]);
    }
  });

  it('presence marks keep one sample per hour, replacing the last in place', () => {
    const streams = new SampleStreams(new WordArena());
    streams.resize(1);
    const h = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
    streams.appendMark(0, h + 1_000);
    streams.replaceLastMark(0, h + 59_000);
    streams.appendMark(0, h + 3_600_000 + 5);
    streams.replaceLastMark(0, h + 3_600_000 + 7);
    const out = new SampleBuffer();
    streams.decode(0, out);
    expect([...out.ts.subarray(0, out.n)]).toEqual([h + 59_000, h + 3_600_000 + 7]);
  });
});
