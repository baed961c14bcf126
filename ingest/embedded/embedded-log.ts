// A single-partition append-only log on local disk, for running the whole pipeline in one process
// without Kafka. Appends are fsynced before they are acknowledged; consumers commit offsets like a
// Kafka consumer group; segments whose records are all committed are deleted.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createGroupCommit } from '../group-commit.ts';
import { decodeFrame, encodeFrame, parseSegmentName, segmentName, type StoredRecord } from './segment-format.ts';

export interface EmbeddedLogOptions {
  dir: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  logger: Logger;
}

export interface LogEntry {
  offset: bigint;
  record: StoredRecord;
}

export interface CommittedPosition {
  offset: bigint;
  metadata: string;
}

interface Segment {
  base: bigint;
  file: string;
  /** Bytes of valid frames. */
  size: number;
  /** Byte position of each record's frame, so a read goes straight to its offset. */
  positions: number[];
}

export interface EmbeddedLog {
  /** Appends and fsyncs; resolves when the records are durable. */
  append(records: StoredRecord[]): Promise<void>;
  /** Offset the next appended record will get. */
  readonly end: bigint;
  /** Up to `maxBytes` of records from `offset` (at least one when any exists). */
  read(offset: bigint, maxBytes: number): Promise<LogEntry[]>;
  /** Resolves when a record at `offset` or later is durable (or the log closes). */
  waitFor(offset: bigint): Promise<void>;
  committed(group: string): CommittedPosition | undefined;
  commit(group: string, position: CommittedPosition): Promise<void>;
  readonly segments: number;
  close(): Promise<void>;
}

const COMMITS_FILE = 'commits.json';

/** Opens the log, cutting a torn or corrupt tail left by a crash. */
export async function openEmbeddedLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const { dir, logger } = options;
  const log = logger.child({ component: 'embedded-log', dir });
  mkdirSync(dir, { recursive: true });
  const segments: Segment[] = readdirSync(dir)
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: bigint } => s.base !== undefined)
    .sort((a, b) => (a.base < b.base ? -1 : 1))
    .map((s) => ({ base: s.base, file: path.join(dir, s.name), size: statSync(path.join(dir, s.name)).size, positions: [] }));

  let end = 0n;
  if (segments.length === 0) {
    segments.push({ base: 0n, file: path.join(dir, segmentName(0n)), size: 0, positions: [] });
  }
  for (let i = 0; i < segments.length; i++) end = await scanSegment(segments[i], i === segments.length - 1, log);
  let commits: Record<string, { offset: string; metadata: string }> = {};
  try {
    commits = JSON.parse(readFileSync(path.join(dir, COMMITS_FILE), 'utf8'));
  } catch {
    commits = {};
  }

  let active = segments[segments.length - 1];
  let handle: FileHandle = await open(active.file, 'a');
  let closed = false;
  let waiters: { offset: bigint; resolve: () => void }[] = [];

  const wake = () => {
    const ready = waiters.filter((w) => w.offset < end || closed);
    waiters = waiters.filter((w) => !(w.offset < end || closed));
    for (const w of ready) w.resolve();
  };

  const group = createGroupCommit<StoredRecord[]>({
    maxGroupBytes: 16 * 1024 * 1024,
    sizeOf: (records) => records.reduce((n, r) => n + r.value.length + 64, 0),
    async write(batches) {
      if (closed) throw new Error('the embedded log is closed');
      const records = batches.flat();
      if (active.size >= options.segmentBytes) {
        await handle.close();
        active = { base: end, file: path.join(dir, segmentName(end)), size: 0, positions: [] };
        segments.push(active);
        handle = await open(active.file, 'a');
        await fsyncDir(dir);
      }
      const encoded = records.map(encodeFrame);
      const frames = Buffer.concat(encoded);
      await handle.write(frames);
      await handle.datasync();
      let at = active.size;
      for (const f of encoded) {
        active.positions.push(at);
        at += f.length;
      }
      active.size += frames.length;
      end += BigInt(records.length);
      wake();
    },
  });

  const trim = async (): Promise<void> => {
    const positions = Object.values(commits).map((c) => BigInt(c.offset));
    if (positions.length === 0) return;
    const upTo = positions.reduce((a, b) => (a < b ? a : b));
    // A segment can go when the next one starts at or before the committed position.
    while (segments.length > 1 && segments[1].base <= upTo) {
      const gone = segments.shift()!;
      await rm(gone.file, { force: true });
      log.debug({ file: path.basename(gone.file) }, 'deleted a fully committed segment');
    }
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
      const out: LogEntry[] = [];
      // A commit may trim `segments` while this read awaits the disk: walk a snapshot of it.
      // Trimming only removes segments before the committed offset, which a reader never needs.
      const list = segments.slice();
      let i = list.length - 1;
      while (i > 0 && list[i].base > offset) i--;
      if (list[i].base > offset) throw new Error(`offset ${offset} was deleted (the log starts at ${list[i].base})`);
      let bytes = 0;
      for (; i < list.length && bytes < maxBytes && offset < end; i++) {
        const seg = list[i];
        const first = Number(offset - seg.base);
        if (first >= seg.positions.length) continue;
        // Whole frames from `first` up to about maxBytes, in one positional read.
        let last = first + 1;
        while (last < seg.positions.length && seg.positions[last] - seg.positions[first] < maxBytes - bytes) last++;
        const from = seg.positions[first];
        const to = last < seg.positions.length ? seg.positions[last] : seg.size;
        const buf = await readRange(seg.file, from, to - from);
        let pos = 0;
        for (let k = first; k < last; k++) {
          const frame = decodeFrame(buf, pos);
          if (!frame.ok) throw new Error(`embedded log segment ${path.basename(seg.file)} is damaged at byte ${from + pos}: ${frame.detail}`);
          out.push({ offset: seg.base + BigInt(k), record: frame.record });
          pos += frame.size;
        }
        bytes += to - from;
        offset = seg.base + BigInt(last);
      }
      return out;
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
      const file = path.join(dir, COMMITS_FILE);
      const tmp = `${file}.tmp`;
      // Write, fsync, rename, fsync the directory: a crash leaves the old or the new commit, never half.
      const h = await open(tmp, 'w');
      try {
        await h.writeFile(JSON.stringify(commits));
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, file);
      await fsyncDir(dir);
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
    },
  };
}

async function readRange(file: string, from: number, length: number): Promise<Buffer> {
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

/**
 * Indexes a segment's frames. In the last segment a torn or corrupt frame is what a crash during
 * a write leaves: the file is cut there. Earlier segments were complete and fsynced when closed,
 * so damage there is refused rather than silently dropped.
 */
async function scanSegment(seg: Segment, isLast: boolean, log: Logger): Promise<bigint> {
  if (seg.size === 0) return seg.base;
  const buf = await readRange(seg.file, 0, seg.size);
  let pos = 0;
  while (pos < buf.length) {
    const frame = decodeFrame(buf, pos);
    if (!frame.ok) {
      const where = { segment: path.basename(seg.file), byte: pos, offset: (seg.base + BigInt(seg.positions.length)).toString(), reason: frame.reason, detail: frame.detail };
      if (!isLast) throw new Error(`embedded log segment ${where.segment} is damaged at byte ${pos} (${frame.detail}); it is not the last segment, so it was not a crash mid-write`);
      log.warn({ ...where, cutBytes: buf.length - pos }, `embedded log: cutting a ${frame.reason} tail after a crash; every record before it is kept`);
      const h = await open(seg.file, 'r+');
      try {
        await h.truncate(pos);
        await h.sync();
      } finally {
        await h.close();
      }
      break;
    }
    seg.positions.push(pos);
    pos += frame.size;
  }
  seg.size = pos;
  return seg.base + BigInt(seg.positions.length);
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

