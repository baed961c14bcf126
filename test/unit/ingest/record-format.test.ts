import { describe, expect, it } from 'vitest';
import { decodeRecord, seriesHash, seriesKey, seriesLabels } from '../../../ingest/record-decoder.ts';
import { encodeRecords } from '../../../ingest/record-encoder.ts';
import { FORMAT_VERSION, RecordFormatError } from '../../../ingest/record-format.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';

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
        for (let s = 0; s < rec.seriesCount; s++) seriesLabels(rec, s);
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
