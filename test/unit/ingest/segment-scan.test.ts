// The scan of a segment: intact frames at their offsets, damage where bytes are no intact frame,
// and how many offsets the damage held, told by the next intact frame.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeGapFrame, encodeRecordFrame, encodeRecordFrames } from '../../../ingest/embedded/segment-format.ts';
import { scanSegment } from '../../../ingest/embedded/segment-scan.ts';
import { earlierFrame } from './earlier-frames.ts';

const record = (i: number, size: number) => ({ timestamp: 1_700_000_000_000 + i, tenant: 'tenant', cluster: `c${i}`, value: Buffer.alloc(size, i % 256) });

function segment(base: bigint, sizes: number[]): { buf: Buffer; starts: number[] } {
  const frames = sizes.map((size, i) => encodeRecordFrame(record(i, size), base + BigInt(i)));
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    at += f.length;
  }
  return { buf: Buffer.concat(frames), starts };
}

describe('record frames', () => {
  it('encodes an append\'s records in one buffer exactly as one frame each, non-ASCII tenants and clusters included', () => {
    const records = [record(0, 0), { ...record(1, 300), tenant: 'zürich-ß', cluster: 'クラスタ' }, record(2, 5)];
    const { frames, sizes } = encodeRecordFrames(records, 41n);
    expect(frames.equals(Buffer.concat(records.map((r, k) => encodeRecordFrame(r, 41n + BigInt(k)))))).toBe(true);
    let pos = 0;
    for (let k = 0; k < records.length; k++) {
      const decoded = decodeFrame(frames, pos);
      expect(decoded).toMatchObject({ ok: true, size: sizes[k], frame: { kind: 'record', offset: 41n + BigInt(k), record: records[k] } });
      pos += sizes[k];
    }
    expect(pos).toBe(frames.length);
  });

  it('encodes into a scratch buffer long enough, the same bytes, and into a buffer of its own when it is not', () => {
    const records = [record(0, 40), { ...record(1, 300), tenant: 'zürich-ß' }, record(2, 5)];
    const expected = encodeRecordFrames(records, 7n).frames;
    const scratch = Buffer.alloc(expected.length + 100, 0xee);
    const into = encodeRecordFrames(records, 7n, scratch);
    expect(into.frames.equals(expected)).toBe(true);
    expect(into.frames.buffer).toBe(scratch.buffer);
    expect(into.frames.byteOffset).toBe(scratch.byteOffset);
    // The next append reuses the scratch from its start, whatever the previous one left there.
    const next = encodeRecordFrames([record(3, 10)], 10n, scratch);
    expect(next.frames.equals(encodeRecordFrame(record(3, 10), 10n))).toBe(true);
    expect(next.frames.buffer).toBe(scratch.buffer);
    const small = Buffer.alloc(expected.length - 1);
    const short = encodeRecordFrames(records, 7n, small);
    expect(short.frames.equals(expected)).toBe(true);
    expect(short.frames.buffer).not.toBe(small.buffer);
  });
});

describe('segment scan', () => {
  it('reads records and gaps at their offsets', () => {
    const buf = Buffer.concat([encodeRecordFrame(record(0, 10), 100n), encodeGapFrame(101n, 3, 'set aside'), encodeRecordFrame(record(1, 10), 104n)]);
    const scan = scanSegment(buf, 100n);
    expect(scan.damage).toEqual([]);
    expect(scan.frames.map((f) => [f.kind, f.offset, f.count])).toEqual([
      ['record', 100n, 1],
      ['gap', 101n, 3],
      ['record', 104n, 1],
    ]);
  });

  it('numbers legacy frames by their place, before and after frames that name their offset', () => {
    const buf = Buffer.concat([earlierFrame(record(0, 20)), earlierFrame(record(1, 20)), encodeRecordFrame(record(2, 20), 7n)]);
    const scan = scanSegment(buf, 5n);
    expect(scan.damage).toEqual([]);
    expect(scan.frames.map((f) => f.offset)).toEqual([5n, 6n, 7n]);
  });

  it('a lost length field: the next intact frame is found byte by byte and tells the offsets the damage held', () => {
    const { buf, starts } = segment(0n, [50, 60, 70, 80, 90]);
    buf.writeUInt32LE(0x7fffffff, starts[1]); // record 1 now claims far more bytes than the segment has
    const scan = scanSegment(buf, 0n);
    expect(scan.frames.map((f) => f.offset)).toEqual([0n, 2n, 3n, 4n]);
    expect(scan.damage).toEqual([{ start: starts[1], size: starts[2] - starts[1], offset: 1n, count: 1n, tail: false, reason: 'corrupt', detail: 'impossible frame length 2147483647' }]);
  });

  it('a torn last frame is a tail; a frame whose bytes are all there but fail the checksum at the end is one too', () => {
    const { buf, starts } = segment(0n, [50, 60, 70]);
    const torn = scanSegment(buf.subarray(0, buf.length - 10), 0n);
    expect(torn.damage).toMatchObject([{ start: starts[2], offset: 2n, tail: true, reason: 'truncated', count: undefined }]);
    buf[starts[2] + 20] ^= 1;
    const corrupt = scanSegment(buf, 0n);
    expect(corrupt.damage).toMatchObject([{ start: starts[2], offset: 2n, tail: true, reason: 'corrupt', count: 1n, detail: 'checksum mismatch' }]);
  });

  it('any flipped byte loses exactly the record holding it; every other record is found at its offset', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 12 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (sizes, where, flip) => {
        const { buf, starts } = segment(40n, sizes);
        const at = where % buf.length;
        buf[at] ^= flip;
        const hit = starts.filter((s) => s <= at).length - 1;
        const scan = scanSegment(buf, 40n);
        const expected = sizes.map((_, i) => 40n + BigInt(i)).filter((_, i) => i !== hit);
        expect(scan.frames.map((f) => f.offset)).toEqual(expected);
        expect(scan.damage).toHaveLength(1);
        const [d] = scan.damage;
        expect(d.start).toBe(starts[hit]);
        expect(d.offset).toBe(40n + BigInt(hit));
        expect(d.tail).toBe(hit === sizes.length - 1);
        if (!d.tail) expect(d.count).toBe(1n);
      }),
      { numRuns: 300 },
    );
  });

  it('an intact frame where another offset belongs is damage; offsets skipped between frames are counted', () => {
    const frames = [encodeRecordFrame(record(0, 10), 0n), encodeRecordFrame(record(1, 10), 0n), encodeRecordFrame(record(2, 10), 1n), encodeRecordFrame(record(3, 10), 5n)];
    const scan = scanSegment(Buffer.concat(frames), 0n);
    expect(scan.frames.map((f) => f.offset)).toEqual([0n, 1n, 5n]);
    expect(scan.damage.map((d) => [d.offset, d.count, d.size])).toEqual([
      [1n, 0n, frames[1].length],
      [2n, 3n, 0],
    ]);
  });
});
