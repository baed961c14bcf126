// An append is written and fsynced whole, or undone. The full disk itself is tested with a real
// file size limit (embedded-log-full-disk.test.ts); failures the file system rarely shows on
// demand (an fsync error, a write that makes no progress) come from a wrapped real file here.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendDurably, type AppendHandle } from '../../../ingest/embedded/durable-file.ts';

let handle: FileHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

async function segmentFile(content: string): Promise<{ file: string; real: FileHandle }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'durable-')), 'segment');
  writeFileSync(file, content);
  handle = await open(file, 'r+');
  return { file, real: handle };
}

/** The real file, with some calls replaced. */
function wrapped(real: FileHandle, replace: Partial<AppendHandle>): AppendHandle {
  return {
    write: replace.write ?? ((...args: Parameters<FileHandle['write']>) => real.write(...args)),
    datasync: replace.datasync ?? (() => real.datasync()),
    truncate: replace.truncate ?? ((len?: number) => real.truncate(len)),
  } as AppendHandle;
}

describe('appendDurably', () => {
  it('writes on after a short write until every byte is there', async () => {
    const { file, real } = await segmentFile('good|');
    let calls = 0;
    const short = wrapped(real, {
      // At most 3 bytes per call, as a write interrupted by a signal or at a quota may do.
      write: ((buf: Buffer, offset: number, length: number, position: number) => {
        calls++;
        return real.write(buf, offset, Math.min(length, 3), position);
      }) as AppendHandle['write'],
    });
    await appendDurably(short, Buffer.from('0123456789'), 5, 'segment');
    expect(readFileSync(file, 'utf8')).toBe('good|0123456789');
    expect(calls).toBe(4);
  });

  it('an fsync error undoes the written bytes: the file is back at its last good size', async () => {
    const { file, real } = await segmentFile('good|');
    let syncs = 0;
    const failing = wrapped(real, {
      // The fsync of the append fails; the one after cutting it off works.
      datasync: async () => {
        if (syncs++ === 0) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        await real.datasync();
      },
    });
    await expect(appendDurably(failing, Buffer.from('written but not durable'), 5, 'segment')).rejects.toMatchObject({
      code: 'log-write-failed',
      retriable: true,
      undone: true,
      message: expect.stringContaining('the segment is back at its last good size (5 bytes)'),
    });
    expect(readFileSync(file, 'utf8')).toBe('good|');
  });

  it('a write that makes no progress fails rather than loop; a failed cut-back is reported so the next append cuts first', async () => {
    const { file, real } = await segmentFile('good|');
    const stuck = wrapped(real, {
      write: (async (buf: Buffer, offset: number, _length: number, position: number) => {
        await real.write(buf, offset, 2, position);
        return { bytesWritten: 0, buffer: buf };
      }) as unknown as AppendHandle['write'],
      truncate: async () => {
        throw new Error('EROFS: read-only file system, ftruncate');
      },
    });
    await expect(appendDurably(stuck, Buffer.from('abcdef'), 5, 'segment')).rejects.toMatchObject({ code: 'log-write-failed', undone: false });
    expect(readFileSync(file, 'utf8')).toBe('good|ab'); // left for the next append to cut
  });
});
