// File operations of the embedded log that must survive a crash or a full disk: an append that is
// either written and fsynced whole or undone, files replaced atomically, and directory entries
// (new, renamed, deleted files) made durable by fsyncing their directory.
import { open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, ServiceError } from '../../core/errors.ts';

/** The part of a FileHandle an append uses (a test may wrap one to fail on purpose). */
export type AppendHandle = Pick<FileHandle, 'write' | 'datasync' | 'truncate'>;

export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Writes `bytes` at `at` and fsyncs them. A write may store only part of its bytes (a full disk,
 * a file size limit): the rest is written until all is, or an error. On any failure the file is
 * cut back to `at`, so it holds nothing of this append, and the error is thrown as
 * `log-write-failed`; `undone` is false when even the cut failed (the caller must cut again
 * before appending anything more).
 */
export async function appendDurably(handle: AppendHandle, bytes: Buffer, at: number, what: string): Promise<void> {
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, at + written);
      if (bytesWritten <= 0) throw new Error(`no progress writing at byte ${at + written}`);
      written += bytesWritten;
    }
    await handle.datasync();
  } catch (err) {
    const undone = await cutBack(handle, at);
    throw new AppendError(what, at, undone, err);
  }
}

export class AppendError extends ServiceError {
  constructor(
    what: string,
    readonly at: number,
    readonly undone: boolean,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(
      'log-write-failed',
      `cannot write to the embedded log (${what}): ${errorMessage(cause)}${code && !errorMessage(cause).includes(code) ? ` (${code})` : ''}; ` +
        (undone ? `the segment is back at its last good size (${at} bytes)` : `cutting the segment back to ${at} bytes failed too, it is retried before the next append`),
      { retriable: true, cause },
    );
  }
}

/** Cuts the file back to `size` bytes and makes that durable; false when that failed. */
export async function cutBack(handle: AppendHandle, size: number): Promise<boolean> {
  try {
    await handle.truncate(size);
    await handle.datasync();
    return true;
  } catch {
    return false;
  }
}

/** Replaces `file` with `content` so that a crash leaves the old or the new content, never half. */
export async function replaceFile(file: string, content: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Up to `length` bytes from `from` (fewer only at the end of the file). */
export async function readRange(file: string, from: number, length: number): Promise<Buffer> {
  const h = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await h.read(buf, read, length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buf.subarray(0, read);
  } finally {
    await h.close();
  }
}
