import { describe, expect, it } from 'vitest';
import { createRecentRecords } from '../../../ingest/embedded/recent-records.ts';

const rec = (i: number, size = 100) => ({ timestamp: i, tenant: 't', cluster: 'c', value: Buffer.alloc(size, i) });

describe('recent records', () => {
  it('serves consecutive offsets from memory, at least one record per read, about maxBytes of them', () => {
    const recent = createRecentRecords(10_000);
    recent.add(5n, [rec(5), rec(6)]);
    recent.add(7n, [rec(7)]);
    expect(recent.read(5n, 1)!.entries.map((e) => e.offset)).toEqual([5n]);
    expect(recent.read(5n, 150)).toMatchObject({ next: 7n });
    expect(recent.read(6n, 1 << 20)!.entries.map((e) => [e.offset, e.record.value[0]])).toEqual([[6n, 6], [7n, 7]]);
    expect(recent.read(8n, 1 << 20)).toBeUndefined(); // not written yet
    expect(recent.read(4n, 1 << 20)).toBeUndefined(); // before what is kept: the disk has it
  });

  it('forgets the oldest records past its byte bound, and starts over when offsets jump', () => {
    const recent = createRecentRecords(250);
    for (let i = 0; i < 5000; i++) recent.add(BigInt(i), [rec(i % 256)]);
    expect(recent.read(4997n, 1 << 20)).toBeUndefined();
    expect(recent.read(4998n, 1 << 20)!.entries.map((e) => e.offset)).toEqual([4998n, 4999n]);
    recent.add(9000n, [rec(1)]);
    expect(recent.read(4999n, 1 << 20)).toBeUndefined();
    expect(recent.read(9000n, 1 << 20)!.next).toBe(9001n);
  });
});
