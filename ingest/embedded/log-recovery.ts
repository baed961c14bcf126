// Start-up of the embedded log: index every segment, cut a tail torn by a crash, and stop at any
// other damage with a message naming the file, the byte and the repair command, rather than drop
// acknowledged records or hand their offsets out again.
import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ServiceError } from '../../core/errors.ts';
import { fsyncDir } from './durable-file.ts';
import { diagnoseLog, numberedEnd, REPAIR_COMMAND, type Commits, type ScannedSegment } from './log-diagnosis.ts';
import { segmentName } from './segment-format.ts';

export interface Segment {
  base: bigint;
  file: string;
  /** Bytes of intact frames. */
  size: number;
  /** Byte position of each frame, and its first offset relative to `base`: a read goes straight to its frame. */
  starts: number[];
  firsts: number[];
  /** Offsets the segment holds (records and gaps). */
  count: number;
}

export async function openSegments(dir: string, log: Logger): Promise<{ segments: Segment[]; commits: Commits; end: bigint }> {
  const diagnosis = await diagnoseLog(dir);
  const [problem, ...more] = diagnosis.problems;
  if (problem) {
    const others = more.length > 0 ? ` (and ${more.length} more damaged places: \`npm run -s log -- check\` lists them)` : '';
    log.error({ segment: problem.segment, byte: problem.byte, offset: problem.offset.toString(), detail: problem.detail, repair: REPAIR_COMMAND }, problem.message + others);
    throw new ServiceError('log-damaged', problem.message + others);
  }
  for (const name of diagnosis.obsolete) {
    await rm(path.join(dir, name), { force: true });
    log.debug({ file: name }, 'deleted a fully committed segment');
  }
  if (diagnosis.obsolete.length > 0) await fsyncDir(dir);

  const torn = diagnosis.tornTail;
  if (torn) {
    log.warn(
      { segment: torn.segment, byte: torn.byte, offset: torn.offset.toString(), reason: torn.reason, detail: torn.detail, cutBytes: torn.cutBytes },
      `embedded log: cutting a ${torn.reason} tail after a crash; every record before it is kept`,
    );
    const h = await open(path.join(dir, torn.segment), 'r+');
    try {
      await h.truncate(torn.byte);
      await h.sync();
    } finally {
      await h.close();
    }
  }

  const segments = diagnosis.segments.map(indexed);
  if (segments.length === 0) {
    // A new log, or one whose segments are all gone: start after every committed offset, so none is handed out twice.
    const file = path.join(dir, segmentName(diagnosis.end));
    const h = await open(file, constants.O_RDWR | constants.O_CREAT);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await fsyncDir(dir);
    segments.push({ base: diagnosis.end, file, size: 0, starts: [], firsts: [], count: 0 });
  }
  return { segments, commits: diagnosis.commits, end: diagnosis.end };
}

/** The index of a scanned segment, without a torn tail (the only damage start-up lets through). */
function indexed(s: ScannedSegment): Segment {
  const size = s.damage[0]?.start ?? s.bytes;
  const frames = s.frames.filter((f) => f.start < size);
  return {
    base: s.base,
    file: s.file,
    size,
    starts: frames.map((f) => f.start),
    firsts: frames.map((f) => Number(f.offset - s.base)),
    count: Number(numberedEnd(s) - s.base),
  };
}
