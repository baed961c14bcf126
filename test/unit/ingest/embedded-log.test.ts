import { mkdtempSync, readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openEmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { segmentName } from '../../../ingest/embedded/segment-format.ts';
import { earlierFrame } from './earlier-frames.ts';

const silent = pino({ level: 'silent' });
const record = (i: number, size = 10) => ({ timestamp: 1_700_000_000_000 + i, tenant: 't', cluster: `c${i % 3}`, value: Buffer.alloc(size, i % 256) });

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('embedded log', () => {
  it('appends durably, reads back in order from any offset, and keeps offsets across reopen', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    await Promise.all([log.append([record(0), record(1)]), log.append([record(2)]), log.append([record(3)])]);
    expect(log.end).toBe(4n);
    const all = (await log.read(0n, 1 << 20)).entries;
    expect(all.map((e) => [e.offset, e.record.cluster, e.record.value[0]])).toEqual([
      [0n, 'c0', 0],
      [1n, 'c1', 1],
      [2n, 'c2', 2],
      [3n, 'c0', 3],
    ]);
    expect((await log.read(2n, 1)).entries.map((e) => e.offset)).toEqual([2n]); // at least one record even when over maxBytes
    await log.close();
    const again = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    expect(again.end).toBe(4n);
    await again.append([record(4)]);
    expect((await again.read(3n, 1 << 20)).entries.map((e) => e.offset)).toEqual([3n, 4n]);
    await again.close();
  });

  it('wakes a reader waiting for the next offset', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    let woke = false;
    const waiting = log.waitFor(0n).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    await log.append([record(0)]);
    await waiting;
    expect(woke).toBe(true);
    await log.close();
  });

  it('rolls segments and deletes those whose records are all committed, keeping commit metadata', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1000, logger: silent });
    for (let i = 0; i < 100; i++) await log.append([record(i, 200)]);
    const before = readdirSync(dir).filter((f) => f.endsWith('.log')).length;
    expect(before).toBeGreaterThan(10);
    await log.commit('g', { offset: 90n, metadata: '{"v":1,"floor":5}' });
    const after = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(after.length).toBeLessThanOrEqual(3);
    expect((await log.read(90n, 1 << 20)).entries.map((e) => e.offset)).toEqual(Array.from({ length: 10 }, (_, k) => BigInt(90 + k)));
    await expect(log.read(0n, 10)).rejects.toThrow(/deleted/);
    await log.close();
    const again = await openEmbeddedLog({ dir, segmentBytes: 1000, logger: silent });
    expect(again.committed('g')).toEqual({ offset: 90n, metadata: '{"v":1,"floor":5}' });
    expect(again.end).toBe(100n);
    await again.close();
  });

  it('cuts a torn tail on reopen with a log line and keeps every record before it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    for (let i = 0; i < 5; i++) await log.append([record(i, 100)]);
    await log.close();
    const file = path.join(dir, segmentName(0n));
    truncateSync(file, statSync(file).size - 37); // a crash in the middle of the last write
    const { logger, lines } = capture();
    const again = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger });
    expect(again.end).toBe(4n);
    expect(lines.some((l) => String(l.msg).includes('cutting a truncated tail') && l.offset === '4')).toBe(true);
    expect((await again.read(0n, 1 << 20)).entries.map((e) => e.record.value[0])).toEqual([0, 1, 2, 3]);
    await again.append([record(9, 100)]); // appends continue right after the cut
    expect((await again.read(4n, 1 << 20)).entries.map((e) => e.record.value[0])).toEqual([9]);
    await again.close();
  });

  it('cuts a corrupt last record (checksum mismatch, nothing intact after it), keeping the records before it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    for (let i = 0; i < 6; i++) await log.append([record(i, 100)]);
    await log.close();
    const file = path.join(dir, segmentName(0n));
    const bytes = readFileSync(file);
    const frame = bytes.length / 6;
    bytes[5 * frame + 50] ^= 0xff; // flip a byte inside the last record's body: a write whose pages a crash lost
    writeFileSync(file, bytes);
    const { logger, lines } = capture();
    const again = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger });
    expect(again.end).toBe(5n);
    expect(lines.some((l) => l.reason === 'corrupt' && l.detail === 'checksum mismatch' && l.offset === '5' && l.cutBytes === frame)).toBe(true);
    expect((await again.read(0n, 1 << 20)).entries.map((e) => e.record.value[0])).toEqual([0, 1, 2, 3, 4]);
    await again.close();
  });
});

describe('embedded log written by an earlier version', () => {
  it('reads records whose frames name no offset at their places, and appends after them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    writeFileSync(path.join(dir, segmentName(20n)), Buffer.concat([0, 1, 2].map((i) => earlierFrame(record(i)))));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    expect(log.end).toBe(23n);
    await log.append([record(3)]);
    await log.close();
    const again = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    expect((await again.read(20n, 1 << 20)).entries.map((e) => [e.offset, e.record.value[0], e.record.cluster])).toEqual([
      [20n, 0, 'c0'],
      [21n, 1, 'c1'],
      [22n, 2, 'c2'],
      [23n, 3, 'c0'],
    ]);
    await again.close();
  });
});

describe('embedded log under concurrent commits', () => {
  it('reads the right records while a commit deletes segments during the read (regression: read landed on a shifted segment)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-'));
    // Nothing kept in memory: every read goes to the segments.
    const log = await openEmbeddedLog({ dir, segmentBytes: 600, logger: silent, recentBytes: 0 });
    for (let i = 0; i < 60; i++) await log.append([record(i, 200)]);
    // The read walks ~15 segments, one disk read each; the commit trims the ~15 before them meanwhile.
    const [{ entries }] = await Promise.all([log.read(30n, 1 << 20), log.commit('g', { offset: 30n, metadata: '' })]);
    expect(entries.map((e) => Number(e.offset))).toEqual(Array.from({ length: 30 }, (_, k) => 30 + k));
    expect(entries.map((e) => e.record.value[0])).toEqual(Array.from({ length: 30 }, (_, k) => 30 + k));
    await log.close();
  });

  it('reads the latest records from memory exactly as from the disk, and older ones from the disk', async () => {
    const fromMemory = await openEmbeddedLog({ dir: mkdtempSync(path.join(tmpdir(), 'elog-')), segmentBytes: 2_000, logger: silent, recentBytes: 3_000 });
    const fromDisk = await openEmbeddedLog({ dir: mkdtempSync(path.join(tmpdir(), 'elog-')), segmentBytes: 2_000, logger: silent, recentBytes: 0 });
    let i = 0;
    for (let round = 0; round < 40; round++) {
      const batch = Array.from({ length: 1 + (round % 4) }, () => record(i++, 50 + ((i * 37) % 300)));
      await Promise.all([fromMemory.append(batch), fromDisk.append(batch)]);
      // Reads near the end (kept in memory) and further back (only on disk), small and large.
      for (const back of [0, 1, 3, 10, 30]) {
        const offset = fromDisk.end - 1n - BigInt(Math.min(back, Number(fromDisk.end) - 1));
        for (const maxBytes of [1, 400, 1 << 20]) {
          const a = await fromMemory.read(offset, maxBytes);
          const b = await fromDisk.read(offset, maxBytes);
          expect(a.entries.length).toBeGreaterThan(0);
          // Same records in the same places; a read may stop at a different record (memory counts
          // record bytes, the disk whole frames), never skip or change one.
          const n = Math.min(a.entries.length, b.entries.length);
          expect(a.entries.slice(0, n)).toEqual(b.entries.slice(0, n));
          expect(a.next).toBe(a.entries[a.entries.length - 1].offset + 1n);
        }
      }
    }
    await fromMemory.close();
    await fromDisk.close();
  });
});
