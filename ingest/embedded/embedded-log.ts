// A single-partition append-only log on local disk, for running the whole pipeline in one process
// without Kafka. Appends are fsynced before they are acknowledged, and an append that fails (a
// full disk) leaves nothing behind; consumers commit offsets like a Kafka consumer group; segments
// whose records are all committed are deleted.
import { constants } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ServiceError } from '../../core/errors.ts';
import { createGroupCommit } from '../group-commit.ts';
import { AppendError, appendDurably, cutBack, fsyncDir, readRange, replaceFile } from './durable-file.ts';
import { committedOffsets, COMMITS_FILE, type Commits } from './log-diagnosis.ts';
import { claimLog } from './log-owner.ts';
import { openSegments, type Segment } from './log-recovery.ts';
import { createRecentRecords } from './recent-records.ts';
import { decodeFrame, encodeRecordFrames, segmentName, type StoredRecord } from './segment-format.ts';

/**
 * Appends of up to this many bytes encode their frames into one buffer kept for the log's life;
 * larger ones (rare: a group is the requests that arrived during one write and fsync) get a buffer
 * of their own. A fresh buffer per append was the main thread's largest allocation outside V8's
 * heap (about 190 MB per 4M samples under npm start), and with the old generation sized
 * (service/node-flags.ts) memory outside the heap is what sets off V8's full collections.
 */
const FRAME_SCRATCH_BYTES = 4 * 1024 * 1024;

export interface EmbeddedLogOptions {
  dir: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** Bytes of the latest records kept in memory for the reader (default 32 MiB; 0: read everything from disk). */
  recentBytes?: number;
  logger: Logger;
}

export interface LogEntry {
  offset: bigint;
  record: StoredRecord;
}

export interface LogRead {
  /** Records in offset order. Offsets a repair set aside (gaps) have none. */
  entries: LogEntry[];
  /** The offset to read from next. */
  next: bigint;
}

export interface CommittedPosition {
  offset: bigint;
  metadata: string;
}

export interface EmbeddedLog {
  /** Appends and fsyncs; resolves when the records are durable, rejects (`log-write-failed`) when nothing of them was kept. */
  append(records: StoredRecord[]): Promise<void>;
  /** Offset the next appended record will get. */
  readonly end: bigint;
  /** About `maxBytes` of frames from `offset` on (at least one when `offset` is before the end). */
  read(offset: bigint, maxBytes: number): Promise<LogRead>;
  /** Resolves when a record at `offset` or later is durable (or the log closes). */
  waitFor(offset: bigint): Promise<void>;
  committed(group: string): CommittedPosition | undefined;
  commit(group: string, position: CommittedPosition): Promise<void>;
  readonly segments: number;
  close(): Promise<void>;
}

/**
 * Opens the log: cuts a tail torn by a crash, and refuses (`log-damaged`) any other damage, which
 * `npm run -s log -- repair` sets aside; refuses (`log-in-use`) while another process has it open.
 */
export async function openEmbeddedLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const { logger } = options;
  const dir = path.resolve(options.dir);
  const log = logger.child({ component: 'embedded-log', dir });
  // Directories made here must survive a crash too: each one's entry lives in its parent.
  const created = await mkdir(dir, { recursive: true });
  for (let d = dir; created !== undefined && d !== path.dirname(d); d = path.dirname(d)) {
    await fsyncDir(path.dirname(d));
    if (d === path.resolve(created)) break;
  }
  const release = await claimLog(dir, 'service');
  let opened: Awaited<ReturnType<typeof openSegments>>;
  let handle: FileHandle;
  try {
    opened = await openSegments(dir, log);
    handle = await open(opened.segments[opened.segments.length - 1].file, constants.O_RDWR);
  } catch (err) {
    await release();
    throw err;
  }
  const segments: Segment[] = opened.segments;
  let commits: Commits = opened.commits;
  let end = opened.end;
  let active = segments[segments.length - 1];
  let closed = false;
  /** An append failed and cutting its bytes off failed too: cut before the next one. */
  let dirty = false;
  let failures = 0;
  let waiters: { offset: bigint; resolve: () => void }[] = [];
  const recent = createRecentRecords(options.recentBytes ?? 32 * 1024 * 1024);
  // Appends run one at a time (the group commit below), so they can all encode into one buffer.
  const frameScratch = Buffer.allocUnsafeSlow(FRAME_SCRATCH_BYTES);

  const wake = () => {
    const ready = waiters.filter((w) => w.offset < end || closed);
    waiters = waiters.filter((w) => !(w.offset < end || closed));
    for (const w of ready) w.resolve();
  };

  /** Starts the next segment; on failure the current one stays active (a little over size). */
  const roll = async (): Promise<void> => {
    const file = path.join(dir, segmentName(end));
    let next: FileHandle | undefined;
    try {
      next = await open(file, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC);
      // The new file and its directory entry must survive a crash before anything is acknowledged in it.
      await next.sync();
      await fsyncDir(dir);
    } catch (err) {
      await next?.close().catch(() => undefined);
      await rm(file, { force: true }).catch(() => undefined);
      throw new AppendError(`starting segment ${path.basename(file)}`, active.size, true, err);
    }
    await handle.close();
    handle = next;
    active = { base: end, file, size: 0, starts: [], firsts: [], count: 0 };
    segments.push(active);
  };

  const write = async (records: StoredRecord[]): Promise<void> => {
    if (closed) throw new ServiceError('log-closed', 'the embedded log is closed');
    if (dirty) {
      if (!(await cutBack(handle, active.size))) throw new AppendError(path.basename(active.file), active.size, false, new Error('the segment still holds the bytes of a failed append'));
      dirty = false;
    }
    if (active.size >= options.segmentBytes) await roll();
    const { frames, sizes } = encodeRecordFrames(records, end, frameScratch);
    await appendDurably(handle, frames, active.size, path.basename(active.file));
    let at = active.size;
    for (const size of sizes) {
      active.starts.push(at);
      active.firsts.push(active.count++);
      at += size;
    }
    active.size = at;
    if (options.recentBytes !== 0) recent.add(end, records);
    end += BigInt(records.length);
    wake();
  };

  const group = createGroupCommit<StoredRecord[]>({
    maxGroupBytes: 16 * 1024 * 1024,
    sizeOf: (records) => records.reduce((n, r) => n + r.value.length + 64, 0),
    async write(batches) {
      try {
        await write(batches.flat());
      } catch (err) {
        if (err instanceof AppendError && !err.undone) dirty = true;
        // The first failure of a run is logged; the requests it fails are answered 503 meanwhile.
        if (failures++ === 0) log.error({ err, segment: path.basename(active.file), bytes: active.size }, 'embedded log: appends fail; requests are answered 503 until they succeed again');
        throw err;
      }
      if (failures > 0) log.warn({ failedAppends: failures }, 'embedded log: appends succeed again');
      failures = 0;
    },
  });

  const trim = async (): Promise<void> => {
    const positions = committedOffsets(commits);
    if (positions.length === 0) return;
    const upTo = positions.reduce((a, b) => (a < b ? a : b));
    // A segment can go when the next one starts at or before the committed position.
    let deleted = false;
    while (segments.length > 1 && segments[1].base <= upTo) {
      const gone = segments.shift()!;
      await rm(gone.file, { force: true });
      deleted = true;
      log.debug({ file: path.basename(gone.file) }, 'deleted a fully committed segment');
    }
    // A deletion lost in a crash only brings back a segment nobody reads, but keep the directory honest.
    if (deleted) await fsyncDir(dir);
  };

  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      return group.submit(records);
    },
    get end() {
      return end;
    },
    async read(offset, maxBytes) {
      // What the segments no longer hold is gone, also from memory (the answer must not depend on it).
      const kept = offset >= segments[0].base ? recent.read(offset, maxBytes) : undefined;
      if (kept) return kept;
      const entries: LogEntry[] = [];
      // A commit may trim `segments` while this read awaits the disk: walk a snapshot of it.
      // Trimming only removes segments before the committed offset, which a reader never needs.
      const list = segments.slice();
      let i = list.length - 1;
      while (i > 0 && list[i].base > offset) i--;
      if (list[i].base > offset) throw new ServiceError('log-offset-deleted', `offset ${offset} was deleted (the log starts at ${list[i].base})`);
      let bytes = 0;
      let next = offset;
      for (; i < list.length && bytes < maxBytes && next < end; i++) {
        const seg = list[i];
        // Appends extend the active segment meanwhile: read what it held now.
        const frames = seg.starts.length;
        const count = seg.count;
        const size = seg.size;
        const first = frameHolding(seg, Number(next - seg.base), frames, count);
        if (first === undefined) continue;
        // Whole frames from `first` up to about maxBytes, in one positional read.
        let last = first + 1;
        while (last < frames && seg.starts[last] - seg.starts[first] < maxBytes - bytes) last++;
        const from = seg.starts[first];
        const to = last < frames ? seg.starts[last] : size;
        const buf = await readRange(seg.file, from, to - from);
        for (let k = first, pos = 0; k < last; k++) {
          const frame = decodeFrame(buf, pos);
          if (!frame.ok) throw new ServiceError('log-damaged', `embedded log segment ${path.basename(seg.file)} is damaged at byte ${from + pos}: ${frame.detail}`);
          const at = seg.base + BigInt(seg.firsts[k]);
          if (frame.frame.kind === 'record' && at >= next) entries.push({ offset: at, record: frame.frame.record });
          pos += frame.size;
        }
        bytes += to - from;
        next = seg.base + BigInt(last < frames ? seg.firsts[last] : count);
      }
      return { entries, next };
    },
    waitFor(offset) {
      if (offset < end || closed) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ offset, resolve }));
    },
    committed(groupId) {
      const c = commits[groupId];
      return c ? { offset: BigInt(c.offset), metadata: c.metadata } : undefined;
    },
    async commit(groupId, position) {
      commits = { ...commits, [groupId]: { offset: position.offset.toString(), metadata: position.metadata } };
      await replaceFile(path.join(dir, COMMITS_FILE), JSON.stringify(commits));
      await trim();
    },
    get segments() {
      return segments.length;
    },
    async close() {
      await group.drain();
      closed = true;
      wake();
      await handle.close();
      await release();
    },
  };
}

/** Index of the frame holding relative offset `rel` (a record, or a gap spanning it); undefined past the segment's end. */
function frameHolding(seg: Segment, rel: number, frames: number, count: number): number | undefined {
  if (rel >= count || frames === 0) return undefined;
  let lo = 0;
  let hi = frames - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (seg.firsts[mid] <= rel) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
