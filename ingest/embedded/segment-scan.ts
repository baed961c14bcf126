// Reads a segment's frames in order and finds its damage: bytes that are no intact frame at the
// offset expected there. After damaged bytes the scan looks for the next intact frame; the offset
// it names says how many offsets the damage stood for, so every intact record keeps its offset.
import { claimedFrameSize, decodeFrame, frameCount, mayStartFrame, type FrameResult } from './segment-format.ts';

export interface FrameSpan {
  /** Byte position and size in the segment. */
  start: number;
  size: number;
  /** First offset the frame stands for, and how many (one for a record, more for a gap). */
  offset: bigint;
  count: number;
  kind: 'record' | 'gap';
}

export interface DamagedSpan {
  start: number;
  size: number;
  /** The first offset the damaged bytes stood for. */
  offset: bigint;
  /**
   * How many offsets they stood for, when an intact frame after them tells (or they are exactly
   * one frame long); undefined at the end of a segment, or before a legacy frame that names none.
   */
  count: bigint | undefined;
  /** No intact frame follows it in the segment: what a write torn by a crash leaves. */
  tail: boolean;
  reason: 'truncated' | 'corrupt';
  detail: string;
}

export interface SegmentScan {
  base: bigint;
  /** Intact frames, in order. */
  frames: FrameSpan[];
  /** Damaged spans, in order; scanning stops after one whose count is unknown. */
  damage: DamagedSpan[];
}

export function scanSegment(buf: Buffer, base: bigint): SegmentScan {
  const frames: FrameSpan[] = [];
  const damage: DamagedSpan[] = [];
  let pos = 0;
  let next = base;
  while (pos < buf.length) {
    const found = decodeFrame(buf, pos);
    const offset = found.ok ? (found.frame.offset ?? next) : undefined;
    if (found.ok && offset === next) {
      const count = frameCount(found.frame);
      frames.push({ start: pos, size: found.size, offset, count, kind: found.frame.kind });
      pos += found.size;
      next += BigInt(count);
      continue;
    }
    // An intact frame further on than expected: the offsets between have no bytes at all.
    if (found.ok && offset! > next) {
      damage.push({ start: pos, size: 0, offset: next, count: offset! - next, tail: false, reason: 'corrupt', detail: `offsets ${next} to ${offset! - 1n} are missing` });
      next = offset!;
      continue;
    }
    const detail = found.ok ? `a frame of offset ${offset} where offset ${next} belongs` : found.detail;
    const reason = found.ok ? 'corrupt' : found.reason;
    const claimed = found.ok ? found.size : claimedFrameSize(buf, pos);
    const resumed = resume(buf, pos, claimed, next);
    if (!resumed) {
      damage.push({ start: pos, size: buf.length - pos, offset: next, count: claimed === buf.length - pos ? 1n : undefined, tail: true, reason, detail });
      break;
    }
    const count = resumed.frame.offset !== undefined ? resumed.frame.offset - next : claimed === resumed.at - pos ? 1n : undefined;
    damage.push({ start: pos, size: resumed.at - pos, offset: next, count, tail: false, reason, detail });
    if (count === undefined) break;
    pos = resumed.at;
    next += count;
  }
  return { base, frames, damage };
}

/** The first intact frame after damaged bytes at `pos`: first where the damaged frame's own length points, then byte by byte. */
function resume(buf: Buffer, pos: number, claimed: number | undefined, next: bigint): { at: number; frame: Extract<FrameResult, { ok: true }>['frame'] } | undefined {
  const intactAt = (at: number) => {
    if (!mayStartFrame(buf, at, next)) return undefined;
    const found = decodeFrame(buf, at);
    if (!found.ok || (found.frame.offset !== undefined && found.frame.offset < next)) return undefined;
    return { at, frame: found.frame };
  };
  if (claimed !== undefined && pos + claimed < buf.length) {
    const hinted = intactAt(pos + claimed);
    if (hinted) return hinted;
  }
  for (let at = pos + 1; at < buf.length; at++) {
    const found = intactAt(at);
    if (found) return found;
  }
  return undefined;
}

/** Offset after everything a scan numbered: after the last frame, or after damage of known size. */
export function scannedEnd(scan: SegmentScan): bigint {
  const lastFrame = scan.frames.at(-1);
  let end = lastFrame ? lastFrame.offset + BigInt(lastFrame.count) : scan.base;
  for (const d of scan.damage) if (d.count !== undefined && d.offset + d.count > end) end = d.offset + d.count;
  return end;
}
