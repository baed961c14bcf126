// `npm run -s log -- repair`: sets damaged bytes of the embedded log aside and keeps every intact
// record at its offset. Each damaged span is moved into a file beside its segment
// (<segment>.<time>.damaged, with a .json report of where each span came from and which offsets
// it held) and replaced by a gap frame covering its offsets, so readers skip them and no offset is
// ever handed out twice; offsets missing at the end of a segment, or before a committed offset,
// become a gap too. Every segment is rewritten whole (new file, fsync, rename, fsync directory):
// a crash during a repair leaves each segment as it was or as repaired.
import path from 'node:path';
import { ServiceError } from '../../core/errors.ts';
import { readRange, replaceFile } from './durable-file.ts';
import { committedOffsets, describeLog, diagnoseLog, numberedEnd, type ScannedSegment } from './log-diagnosis.ts';
import { claimLog } from './log-owner.ts';
import type { DamagedSpan, FrameSpan } from './segment-scan.ts';
import { encodeGapFrame } from './segment-format.ts';

const MAX_GAP = 0xffff_ffff;

interface SetAside {
  /** Where the bytes were in the segment, and where they are in the .damaged file. */
  byte: number;
  bytes: number;
  at: number;
  offsets: { from: string; to: string } | null;
  detail: string;
}

interface SegmentRepair {
  content: Buffer;
  damaged: Buffer;
  report: SetAside[];
  lines: string[];
}

/** Repairs the log in `dir` (refusing while another process has it open); resolves to what it did, one line each. */
export async function repairLog(dir: string, now = new Date()): Promise<string[]> {
  const release = await claimLog(dir, 'repair');
  try {
    const diagnosis = await diagnoseLog(dir);
    const committed = committedOffsets(diagnosis.commits);
    const highest = committed.length > 0 ? committed.reduce((a, b) => (a > b ? a : b)) : undefined;
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    const planned: { segment: ScannedSegment; repair: SegmentRepair }[] = [];
    for (const [i, segment] of diagnosis.segments.entries()) {
      const repair = await planSegment(segment, diagnosis.segments[i + 1]?.base, highest, `${segment.name}.${stamp}.damaged`);
      if (repair) planned.push({ segment, repair });
    }
    const lines: string[] = [];
    for (const { segment, repair } of planned) {
      // The damaged bytes are safe in their own file before the segment loses them.
      if (repair.damaged.length > 0) {
        const file = path.join(dir, `${segment.name}.${stamp}.damaged`);
        await replaceFile(file, repair.damaged);
        await replaceFile(`${file}.json`, `${JSON.stringify({ segment: segment.name, repairedAt: now.toISOString(), setAside: repair.report }, null, 2)}\n`);
      }
      await replaceFile(segment.file, repair.content);
      lines.push(...repair.lines);
    }
    const after = await diagnoseLog(dir);
    if (after.problems.length > 0 || after.tornTail) throw new ServiceError('log-unrepairable', `the log is still damaged after the repair: ${after.problems[0]?.message ?? 'a torn tail'}`);
    const state = `${describeLog(after)}; the next append gets offset ${after.end}`;
    if (planned.length === 0) lines.push(`nothing to repair: ${state}`);
    else lines.push(`repaired ${planned.length} segment${planned.length === 1 ? '' : 's'}, every intact record at its offset: ${state}`);
    return lines;
  } finally {
    await release();
  }
}

function maxOf(a: bigint | undefined, b: bigint): bigint {
  return a !== undefined && a > b ? a : b;
}

/**
 * The repaired content of one segment, or undefined when it needs none. Its offsets must reach the
 * next segment's first offset, or for the last segment the highest committed offset.
 */
async function planSegment(s: ScannedSegment, nextBase: bigint | undefined, highest: bigint | undefined, damagedName: string): Promise<SegmentRepair | undefined> {
  if (s.damage.length === 0 && numberedEnd(s) === (nextBase ?? maxOf(highest, numberedEnd(s)))) return undefined;
  const buf = await readRange(s.file, 0, s.bytes);
  const parts: Buffer[] = [];
  const damaged: Buffer[] = [];
  const report: SetAside[] = [];
  const lines: string[] = [];
  let damagedBytes = 0;
  let numbered = s.base;
  // Damage of no bytes (offsets missing before a frame) comes before the frame at the same byte.
  const pieces: (FrameSpan | DamagedSpan)[] = [...s.damage, ...s.frames].sort((a, b) => a.start - b.start || a.size - b.size);
  for (const piece of pieces) {
    if ('kind' in piece) {
      parts.push(buf.subarray(piece.start, piece.start + piece.size));
      numbered = piece.offset + BigInt(piece.count);
      continue;
    }
    const count = piece.tail ? 0n : piece.count;
    if (count === undefined) {
      throw new ServiceError(
        'log-unrepairable',
        `embedded log segment ${s.name} is damaged at byte ${piece.start} (${piece.detail}) before a frame written by an earlier version, which does not name its offset: how many records the damage held cannot be told, so nothing was changed`,
      );
    }
    const offsets = count > 0n ? { from: piece.offset.toString(), to: (piece.offset + count - 1n).toString() } : null;
    if (piece.size > 0) {
      damaged.push(buf.subarray(piece.start, piece.start + piece.size));
      report.push({ byte: piece.start, bytes: piece.size, at: damagedBytes, offsets, detail: piece.detail });
      damagedBytes += piece.size;
    }
    parts.push(...gapFrames(piece.offset, count, `set aside into ${damagedName}`));
    const intact = s.frames.filter((f) => f.start > piece.start && f.kind === 'record').length;
    const held = offsets ? `offset${count > 1n ? `s ${offsets.from} to ${offsets.to}` : ` ${offsets.from}`}` : 'no offset';
    lines.push(
      piece.tail
        ? `${s.name}: set aside the last ${piece.size} bytes (from byte ${piece.start}, offset ${piece.offset}: ${piece.detail}) into ${damagedName}`
        : piece.size > 0
          ? `${s.name}: set aside ${piece.size} damaged bytes at byte ${piece.start} (${piece.detail}) into ${damagedName}; they held ${held}, now a gap readers skip; the ${intact} intact records after them keep their offsets`
          : `${s.name}: ${held} had no frame at byte ${piece.start}; now a gap readers skip`,
    );
    numbered = piece.offset + count;
  }
  const wantEnd = nextBase ?? maxOf(highest, numbered);
  if (numbered > wantEnd) {
    throw new ServiceError('log-unrepairable', `embedded log segment ${s.name} reaches offset ${numbered}, past the next segment's first offset ${wantEnd}: offsets overlap, so nothing was changed`);
  }
  if (numbered < wantEnd) {
    parts.push(...gapFrames(numbered, wantEnd - numbered, 'missing at repair'));
    lines.push(
      `${s.name}: offsets ${numbered} to ${wantEnd - 1n} have no record left (${nextBase === undefined ? `offset ${wantEnd} is committed` : `the next segment starts at ${wantEnd}`}); now a gap, so they are never handed out again`,
    );
  }
  return { content: Buffer.concat(parts), damaged: Buffer.concat(damaged), report, lines };
}

/** Gap frames covering `count` offsets from `offset` (none for zero). */
function gapFrames(offset: bigint, count: bigint, note: string): Buffer[] {
  const frames: Buffer[] = [];
  for (let from = offset, left = count; left > 0n; ) {
    const n = left > BigInt(MAX_GAP) ? MAX_GAP : Number(left);
    frames.push(encodeGapFrame(from, n, note));
    from += BigInt(n);
    left -= BigInt(n);
  }
  return frames;
}
