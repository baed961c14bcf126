import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBytes, hashPairs } from '../../../core/hash.ts';
import { MAX_RECORD_SYMBOLS } from '../../../ingest/record-encode.ts';
import { decodeRecord, encodeRecords, FORMAT_VERSION, RecordFormatError, seriesHash, seriesKey, seriesLabels } from '../../../ingest/record-format.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';
import { FORMAT_ONE_MAX_BYTES, FORMAT_ONE_RECORDS, FORMAT_ONE_START } from '../../support/record-format-1-fixture.ts';
import { encodeVersion1, formatOneSeries } from '../../support/record-v1.ts';

const T0 = 1_763_900_000_000;

function roundTrip(series: PlainSeries[], maxBytes = 1_000_000) {
  const d = buildDecodedWrite(series);
  const records = encodeRecords(d, series.map((_, i) => i), maxBytes);
  const out: { labels: Record<string, string>; key: string; samples: { t: number; bits: string; stale: number }[] }[] = [];
  for (const value of records) {
    const rec = decodeRecord(value);
    for (let s = 0; s < rec.seriesCount; s++) {
      const view = new DataView(rec.values.buffer);
      const samples = [];
      for (let i = rec.sampleStart[s]; i < rec.sampleStart[s + 1]; i++) {
        samples.push({ t: rec.timestamps[i], bits: rec.stale[i] ? 'stale' : view.getBigUint64(8 * i, true).toString(16), stale: rec.stale[i] });
      }
      out.push({ labels: seriesLabels(rec, s), key: seriesKey(rec, s), samples });
    }
  }
  return { records, out };
}

function bitsOf(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  return dv.getBigUint64(0, true).toString(16);
}

describe('record format', () => {
  it('round-trips labels, timestamps, values bit for bit, and stale markers', () => {
    const series: PlainSeries[] = [
      {
        labels: { __name__: 'container_cpu_allocation', namespace: 'kube-system', pod: 'coredns-5d78c9869d-abcde', cluster_id: 'prod' },
        samples: [
          { t: T0, v: 0.25 },
          { t: T0 + 60_000, v: -0 },
          { t: T0 + 30_000, v: Infinity }, // out of order: negative delta
          { t: T0 + 90_000, v: NaN },
          { t: T0 + 120_000, v: 0, stale: true },
          { t: -5, v: -Infinity },
        ],
      },
      { labels: { __name__: 'up', 'ünïcode': 'värde ✓' }, samples: [] },
    ];
    const { records, out } = roundTrip(series);
    expect(records).toHaveLength(1);
    expect(records[0][0]).toBe(FORMAT_VERSION);
    expect(out[0].labels).toEqual(series[0].labels);
    expect(out[1].labels).toEqual(series[1].labels);
    expect(out[0].samples.map((s) => s.t)).toEqual(series[0].samples.map((s) => s.t));
    expect(out[0].samples.map((s) => s.bits)).toEqual([bitsOf(0.25), bitsOf(-0), bitsOf(Infinity), bitsOf(NaN), 'stale', bitsOf(-Infinity)]);
    expect(out[0].samples.map((s) => s.stale)).toEqual([0, 0, 0, 0, 1, 0]);
  });

  it('gives the same label set the same series key and different ones different keys', () => {
    const a = { __name__: 'm', pod: 'a' };
    const { out } = roundTrip([
      { labels: a, samples: [{ t: 1, v: 1 }] },
      { labels: { __name__: 'm', pod: 'b' }, samples: [{ t: 1, v: 1 }] },
      { labels: a, samples: [{ t: 2, v: 1 }] },
    ]);
    expect(out[0].key).toBe(out[2].key);
    expect(out[0].key).not.toBe(out[1].key);
  });

  it('gives each label set a short id hashed from its bytes: equal for equal sets, distinct otherwise', () => {
    // Pod names of every length, so the hash's 1-, 2- and 3-byte tails are all exercised.
    const series: PlainSeries[] = [];
    for (let n = 1; n <= 40; n++) series.push({ labels: { __name__: 'container_cpu_allocation', pod: 'p'.repeat(n) }, samples: [{ t: T0, v: 1 }] });
    series.push({ labels: { __name__: 'container_cpu_allocation', pod: 'p' }, samples: [{ t: T0 + 1, v: 2 }] });
    const records = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 1_000_000);
    const ids: string[] = [];
    const keys: string[] = [];
    for (const value of records) {
      const rec = decodeRecord(value);
      for (let s = 0; s < rec.seriesCount; s++) {
        ids.push(idOf(rec, s));
        keys.push(seriesKey(rec, s));
      }
    }
    expect(ids.every((id) => /^\d+:\d+$/.test(id))).toBe(true);
    expect(ids[40]).toBe(ids[0]);
    expect(new Set(ids.slice(0, 40)).size).toBe(40);
    // The same bytes give the same id wherever they sit in a record.
    const again = decodeRecord(encodeRecords(buildDecodedWrite([series[7]]), [0], 1_000_000)[0]);
    expect(idOf(again, 0)).toBe(ids[7]);
    expect(seriesKey(again, 0)).toBe(keys[7]);
  });

  it('splits a request larger than the record limit without losing or reordering samples', () => {
    const series: PlainSeries[] = [];
    for (let s = 0; s < 300; s++) {
      series.push({
        labels: { __name__: 'container_memory_allocation_bytes', pod: `pod-${s}`, namespace: 'ns' },
        samples: Array.from({ length: 1 + (s % 7) * 40 }, (_, k) => ({ t: T0 + k * 15_000, v: s * 1000 + k })),
      });
    }
    const limit = 4096;
    const { records, out } = roundTrip(series, limit);
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) expect(r.length).toBeLessThanOrEqual(limit);
    // Samples of a series split across records come back in order and complete.
    const merged = new Map<string, number[]>();
    for (const s of out) merged.set(s.labels.pod, [...(merged.get(s.labels.pod) ?? []), ...s.samples.map((x) => x.t)]);
    for (const s of series) expect(merged.get(s.labels.pod)).toEqual(s.samples.map((x) => x.t));
  });

  it('rejects unknown versions, truncation at every offset, and trailing bytes', () => {
    const { records } = roundTrip([{ labels: { __name__: 'm', a: 'b' }, samples: [{ t: T0, v: 1 }, { t: T0 + 1, v: 2, stale: true }] }]);
    const good = records[0];
    const wrongVersion = Buffer.from(good);
    wrongVersion[0] = 9;
    expect(() => decodeRecord(wrongVersion)).toThrow(/unknown record format version 9/);
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => decodeRecord(good.subarray(0, cut)), `cut at ${cut}`).toThrow(RecordFormatError);
    }
    expect(() => decodeRecord(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing/);
  });

  it('never throws anything but RecordFormatError on random bytes', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 3000; n++) {
      const bytes = Buffer.alloc(1 + Math.floor(rand() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      if (rand() < 0.5) bytes[0] = FORMAT_VERSION;
      try {
        const rec = decodeRecord(bytes);
        for (let s = 0; s < rec.seriesCount; s++) {
          seriesLabels(rec, s);
          seriesKey(rec, s);
          seriesHash(rec, s, new Uint32Array(2));
        }
      } catch (err) {
        expect(err).toBeInstanceOf(RecordFormatError);
      }
    }
  });
});

function idOf(rec: ReturnType<typeof decodeRecord>, s: number): string {
  const out = new Uint32Array(2);
  seriesHash(rec, s, out);
  return `${out[0]}:${out[1]}`;
}

describe('record format version 2', () => {
  it('stores each distinct label string once and refers to it by index (bytes checked by hand)', () => {
    const [value] = encodeRecords(
      buildDecodedWrite([
        { labels: { __name__: 'm', pod: 'a' }, samples: [{ t: T0, v: 1 }] },
        { labels: { __name__: 'm', pod: 'b' }, samples: [{ t: T0 + 60_000, v: 1, stale: true }] },
      ]),
      [0, 1],
      1_000_000,
    );
    const text = (s: string) => [s.length, ...Buffer.from(s)];
    // zigzag(T0) = 3,527,800,000,000 as a varint (six bytes of 7 bits).
    const base = [0x80, 0x9c, 0x90, 0x8a, 0xd6, 0x66];
    expect(3_527_800_000_000).toBe(0x66 * 2 ** 35 + 0x56 * 2 ** 28 + 0x0a * 2 ** 21 + 0x10 * 2 ** 14 + 0x1c * 2 ** 7);
    const one = [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]; // 1.0, little-endian
    expect([...value]).toEqual([
      2, ...base,
      5, ...text('__name__'), ...text('m'), ...text('pod'), ...text('a'), ...text('b'),
      2,
      4, 0, 1, 2, 3, 1, 0, ...one, // first sample at the base time: head 0
      4, 0, 1, 2, 4, 1, 0x81, 0xd3, 0x0e, // 60 s later and stale: head zigzag(60,000) * 2 + 1 = 240,001
    ]);
    expect(240_001).toBe(0x01 + 0x53 * 128 + 0x0e * 128 * 128);
  });

  it('keeps a record several times smaller than its labels written out', () => {
    // Only the pod differs from series to series: per series its name, 16 one-byte references and a sample.
    const series: PlainSeries[] = Array.from({ length: 300 }, (_, i) => ({
      labels: { __name__: 'container_cpu_allocation', cluster_id: 'prod-eu-west-1', container: 'api', instance: '10.0.1.23:9003', job: 'kubecost', namespace: 'payments', node: 'ip-10-0-1-23.eu-west-1.compute.internal', pod: `payments-api-7c9f8b6d4-${i}` },
      samples: [{ t: T0, v: i }],
    }));
    const written = series.reduce((n, s) => n + Object.entries(s.labels).reduce((m, [k, v]) => m + k.length + v.length + 2, 0) + 10, 0);
    const [value] = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 1_000_000);
    expect(value.length * 3).toBeLessThan(written);
    expect(value.indexOf('ip-10-0-1-23.eu-west-1.compute.internal')).toBe(value.lastIndexOf('ip-10-0-1-23.eu-west-1.compute.internal'));
  });

  it('reads records of version 1, with the same labels, samples, key and identity as version 2', () => {
    const labelsBlock = [...[8], ...Buffer.from('__name__'), 2, ...Buffer.from('up'), 3, ...Buffer.from('pod'), 1, ...Buffer.from('a')];
    const v1 = Buffer.from([
      1, // version
      1, // one series
      labelsBlock.length, ...labelsBlock,
      2, // two samples
      0xa0, 0x1f, ...[0, 0, 0, 0, 0, 0, 0xf8, 0x3f], // head zigzag(1000) * 2 = 4000, value 1.5
      0xa1, 0x1f, // 1000 ms later, stale: head 4001
    ]);
    expect(labelsBlock.length).toBe(18);
    const old = decodeRecord(v1);
    expect(seriesLabels(old, 0)).toEqual({ __name__: 'up', pod: 'a' });
    expect([...old.timestamps.subarray(0, 2)]).toEqual([1000, 2000]);
    expect(old.values[0]).toBe(1.5);
    expect([...old.stale.subarray(0, 2)]).toEqual([0, 1]);

    const now = decodeRecord(encodeRecords(buildDecodedWrite([{ labels: { __name__: 'up', pod: 'a' }, samples: [{ t: 1000, v: 1.5 }] }]), [0], 1_000_000)[0]);
    expect(seriesKey(now, 0)).toBe(seriesKey(old, 0));
    expect(idOf(now, 0)).toBe(idOf(old, 0));
    // The identity is the hash of the hashes of the label strings, in order.
    const words = new Uint32Array(8);
    const out = new Uint32Array(2);
    ['__name__', 'up', 'pod', 'a'].forEach((text, i) => {
      hashBytes(Buffer.from(text), 0, text.length, out);
      words.set(out, 2 * i);
    });
    hashPairs(words, 0, 8, out);
    expect(idOf(now, 0)).toBe(`${out[0]}:${out[1]}`);
  });

  it(`starts a new record before one would hold more than ${MAX_RECORD_SYMBOLS.toLocaleString('en-US')} strings`, () => {
    const series: PlainSeries[] = Array.from({ length: 9000 }, (_, i) => ({ labels: { __name__: `m${i}`, pod: `p${i}` }, samples: [{ t: T0, v: i }] }));
    const { records, out } = roundTrip(series, 10_000_000);
    expect(records.length).toBe(2);
    for (const value of records) {
      const rec = decodeRecord(value);
      expect(rec.symbolStart.length).toBeLessThanOrEqual(MAX_RECORD_SYMBOLS);
    }
    expect(out.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
  });

  it('round-trips series whose label block passes 127 bytes (its length takes two bytes), beside short ones', () => {
    // 100 labels of distinct strings: 200 symbols, indices past 127 take two bytes each.
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`label_${i}`, `value_${i}`]));
    const series = [
      { labels: { __name__: 'short', a: 'b' }, samples: [{ t: T0, v: 1, stale: false }] },
      { labels: wide, samples: [{ t: T0, v: 2, stale: false }, { t: T0 + 60_000, v: 3, stale: true }] },
      { labels: { __name__: 'after', a: 'c' }, samples: [{ t: T0 + 1, v: 4, stale: false }] },
    ];
    const { records, out } = roundTrip(series, 1 << 20);
    expect(records.length).toBe(1);
    expect(out.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
    expect(out.map((s) => s.samples.map((x) => [x.t, x.stale]))).toEqual([[[T0, 0]], [[T0, 0], [T0 + 60_000, 1]], [[T0 + 1, 0]]]);
  });

  it('round-trips any series: labels, timestamps, raw value bits, stale markers, and records within the limit', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const sample = fc.record({ t: fc.integer({ min: 0, max: 2 ** 45 }), v: fc.double(), stale: fc.boolean() });
    const plain = fc.record({ labels: fc.dictionary(text.filter((k) => k.length > 0 && k !== '__proto__'), text, { maxKeys: 6 }), samples: fc.array(sample, { maxLength: 30 }) });
    fc.assert(
      fc.property(fc.array(plain, { minLength: 1, maxLength: 40 }), fc.integer({ min: 2000, max: 6000 }), (series, limit) => {
        const { records, out } = roundTrip(series, limit);
        for (const r of records) expect(r.length).toBeLessThanOrEqual(limit);
        // Series split across records come back in order, their samples complete.
        const flat = (list: { labels: Record<string, string>; samples: { t: number }[] }[]) => list.flatMap((s) => s.samples.map((x) => `${JSON.stringify(s.labels)}@${x.t}`));
        expect(flat(out)).toEqual(flat(series));
        expect(out.flatMap((s) => s.samples.map((x) => x.bits))).toEqual(series.flatMap((s) => s.samples.map((x) => (x.stale ? 'stale' : bitsOf(x.v)))));
      }),
      { numRuns: 150 },
    );
  });
});

describe('records of format version 1 written by earlier releases', () => {
  const series = formatOneSeries(FORMAT_ONE_START);

  it('decode to every label, timestamp, value bit and stale marker they were written from', () => {
    expect(FORMAT_ONE_RECORDS.map((r) => r[0])).toEqual([1, 1]);
    const decoded: { labels: Record<string, string>; samples: string[] }[] = [];
    for (const value of FORMAT_ONE_RECORDS) {
      expect(value.length).toBeLessThanOrEqual(FORMAT_ONE_MAX_BYTES);
      const rec = decodeRecord(value);
      const view = new DataView(rec.values.buffer);
      for (let s = 0; s < rec.seriesCount; s++) {
        const samples = [];
        for (let i = rec.sampleStart[s]; i < rec.sampleStart[s + 1]; i++) samples.push(`${rec.timestamps[i]}:${rec.stale[i] ? 'stale' : view.getBigUint64(8 * i, true).toString(16)}`);
        decoded.push({ labels: seriesLabels(rec, s), samples });
      }
    }
    // A series split across the two records comes back as two parts, in order.
    const merged = new Map<string, { labels: Record<string, string>; samples: string[] }>();
    for (const part of decoded) {
      const key = JSON.stringify(part.labels);
      merged.set(key, { labels: part.labels, samples: [...(merged.get(key)?.samples ?? []), ...part.samples] });
    }
    expect([...merged.values()]).toEqual(series.map((s) => ({ labels: s.labels, samples: s.samples.map((x) => `${x.t}:${x.stale ? 'stale' : bitsOf(x.v)}`) })));
  });

  it('give each series the same key and identity as format 2 does', () => {
    const now = decodeRecord(encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), 1 << 20)[0]);
    const current = new Map<string, [string, string]>();
    for (let s = 0; s < now.seriesCount; s++) current.set(JSON.stringify(seriesLabels(now, s)), [seriesKey(now, s), idOf(now, s)]);
    let seen = 0;
    for (const value of FORMAT_ONE_RECORDS) {
      const old = decodeRecord(value);
      for (let s = 0; s < old.seriesCount; s++, seen++) expect([seriesKey(old, s), idOf(old, s)]).toEqual(current.get(JSON.stringify(seriesLabels(old, s))));
    }
    expect(seen).toBeGreaterThanOrEqual(series.length);
  });

  it('are what the version 1 writer of the tests writes', () => {
    // test/support/record-v1.ts writes version 1 for other tests: it must agree with the old encoder.
    const first = decodeRecord(FORMAT_ONE_RECORDS[0]);
    const whole: PlainSeries[] = [];
    for (let s = 0; s < first.seriesCount - 1; s++) whole.push(series[s]); // the last series of a record may be split
    const written = encodeVersion1(whole);
    expect(FORMAT_ONE_RECORDS[0].subarray(2, written.length).equals(written.subarray(2))).toBe(true);
  });
});
