// The embedded log on a full disk, with a real file system: the file size limit of this test
// process (RLIMIT_FSIZE, set with prlimit) makes a write stop part-way, as a full disk does. The
// kernel then writes what fits and fails the rest (EFBIG), exactly the short write a service sees.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { segmentName } from '../../../ingest/embedded/segment-format.ts';

const silent = pino({ level: 'silent' });
const record = (i: number, size: number) => ({ timestamp: 1_700_000_000_000 + i, tenant: 't', cluster: 'c', value: Buffer.alloc(size, i % 256) });

/** Sets the soft file size limit of this process (the hard limit stays, so it can be raised again). */
function limitFileSize(bytes: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${bytes}:`]);
}

afterEach(() => limitFileSize('unlimited'));

describe('embedded log on a full disk', () => {
  it('fails an append the disk cannot hold in full and goes on once space returns (regression: a short write was acknowledged)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-full-'));
    const file = path.join(dir, segmentName(0n));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    for (let i = 0; i < 5; i++) await log.append([record(i, 3000)]);
    const good = statSync(file).size;

    // Room for about two thirds of the next record: the kernel writes that much, then refuses.
    limitFileSize(good + 2000);
    await expect(log.append([record(5, 3000)])).rejects.toThrow(/EFBIG|file too large/i);
    expect(statSync(file).size).toBe(good); // the partial frame is gone again
    expect(log.end).toBe(5n);
    // Concurrent appends while the disk stays full: every one fails, none is half-kept.
    const settled = await Promise.allSettled([log.append([record(6, 3000)]), log.append([record(7, 500)]), log.append([record(8, 3000)])]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(statSync(file).size).toBe(good);
    expect(log.end).toBe(5n);

    limitFileSize('unlimited');
    await log.append([record(9, 3000)]);
    await log.append([record(10, 100), record(11, 100)]);
    expect(log.end).toBe(8n);
    const read = (await log.read(0n, 1 << 20)).entries;
    expect(read.map((e) => [Number(e.offset), e.record.value[0], e.record.value.length])).toEqual([
      [0, 0, 3000],
      [1, 1, 3000],
      [2, 2, 3000],
      [3, 3, 3000],
      [4, 4, 3000],
      [5, 9, 3000],
      [6, 10, 100],
      [7, 11, 100],
    ]);
    await log.close();

    // What is on disk is exactly what was acknowledged: a reopen reads it back whole, cutting nothing.
    const bytes = readFileSync(file);
    const again = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    expect(again.end).toBe(8n);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect((await again.read(5n, 1 << 20)).entries.map((e) => e.record.value[0])).toEqual([9, 10, 11]);
    await again.close();
  });

  it('fails a group that fits only in part, keeping the records acknowledged before it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elog-full-'));
    const file = path.join(dir, segmentName(0n));
    const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    await log.append([record(0, 1000)]);
    const good = statSync(file).size;
    // Three whole records fit; the group of five does not, so none of it may count as written.
    limitFileSize(good + 3 * 1100);
    await expect(log.append([0, 1, 2, 3, 4].map((i) => record(1 + i, 1000)))).rejects.toThrow();
    expect(statSync(file).size).toBe(good);
    await log.append([record(7, 1000)]); // a single record still fits
    expect(log.end).toBe(2n);
    limitFileSize('unlimited');
    expect((await log.read(0n, 1 << 20)).entries.map((e) => e.record.value[0])).toEqual([0, 7]);
    await log.close();
  });
});
