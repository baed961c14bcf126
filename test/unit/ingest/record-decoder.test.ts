import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecords, RecordDecoder, RecordFormatError, seriesHash, seriesLabels, type RecordSeries } from '../../../ingest/record-format.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';

const T0 = 1_763_900_000_000;

/** Everything a record says, read through the accessors the processor uses. */
function contents(rec: RecordSeries) {
  const hash = new Uint32Array(2);
  const bits = new DataView(rec.values.buffer, rec.values.byteOffset);
  return Array.from({ length: rec.seriesCount }, (_, s) => {
    seriesHash(rec, s, hash);
    const samples: string[] = [];
    for (let i = rec.sampleStart[s]; i < rec.sampleStart[s + 1]; i++) samples.push(`${rec.timestamps[i]}:${rec.stale[i]}:${bits.getBigUint64(8 * i, true).toString(16)}`);
    return { labels: seriesLabels(rec, s), id: `${hash[0]}:${hash[1]}`, samples };
  });
}

function record(series: PlainSeries[]): Buffer {
  const [value] = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 10_000_000);
  return value;
}

const seriesArb = fc.array(
  fc.record({
    labels: fc.dictionary(fc.constantFrom('__name__', 'pod', 'namespace', 'node', 'a'), fc.string({ maxLength: 12 }), { minKeys: 1 }),
    samples: fc.array(fc.record({ t: fc.integer({ min: T0, max: T0 + 10_000_000 }), v: fc.double(), stale: fc.boolean() }), { maxLength: 40 }),
  }),
  { minLength: 1, maxLength: 30 },
);

describe('a record decoder reused for record after record', () => {
  it('reads each record as a fresh decode does, whatever the sizes of the records before it', () => {
    fc.assert(
      fc.property(fc.array(seriesArb, { minLength: 1, maxLength: 6 }), (records) => {
        const decoder = new RecordDecoder();
        for (const series of records) {
          const value = record(series);
          expect(contents(decoder.decode(value))).toEqual(contents(decodeRecord(value)));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a label naming a symbol past its own record, even one an earlier, larger record had', () => {
    const decoder = new RecordDecoder();
    const big = Array.from({ length: 50 }, (_, i) => ({ labels: { __name__: 'm', pod: `pod-${i}` }, samples: [{ t: T0, v: i }] }));
    expect(decoder.decode(record(big)).symbolCount).toBe(53);
    // version 2, base time 0, symbols "m" and "x", one series whose labels are symbols 0 and 7, no samples
    const bad = Buffer.from([2, 0, 2, 1, 0x6d, 1, 0x78, 1, 2, 0, 7, 0]);
    const rec = decoder.decode(bad);
    expect(rec.symbolCount).toBe(2);
    expect(() => seriesHash(rec, 0, new Uint32Array(2))).toThrow(new RecordFormatError('label refers to symbol 7 of 2'));
    expect(() => seriesLabels(rec, 0)).toThrow(RecordFormatError);
  });

  it('reads a good record after a malformed one', () => {
    const decoder = new RecordDecoder();
    const good = record([{ labels: { __name__: 'm', pod: 'a' }, samples: [{ t: T0, v: 1.5 }, { t: T0 + 60_000, v: 0, stale: true }] }]);
    expect(() => decoder.decode(good.subarray(0, good.length - 3))).toThrow(RecordFormatError);
    expect(contents(decoder.decode(good))).toEqual(contents(decodeRecord(good)));
  });
});
