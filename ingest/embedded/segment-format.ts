// The on-disk framing of the embedded log. A segment file is named by the offset of its first
// entry (20 digits) and holds frames back to back:
//
//   frame  := length:u32le  crc32:u32le  body          (crc32 of body; length = body bytes)
//   body   := 2  offset:u64le  record                    a record at `offset`
//           | 3  offset:u64le  count:u32le  note:utf8    a gap: offsets [offset, offset + count) hold
//                                                        no record (set aside by a repair)
//           | 1  record                                  a record whose offset is its place in the
//                                                        segment (written by earlier versions)
//   record := timestamp:f64le  tenantLen:u16le tenant  clusterLen:u16le cluster  value
//
// Every frame names its offset, so after damaged bytes the next intact frame says how many offsets
// the damage held: a repair keeps every intact record at its offset and never hands one out twice.
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
const LEGACY_RECORD = 1;
const RECORD = 2;
const GAP = 3;
/** Larger than any record the receiver produces; a bigger length can only be corruption. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** The smallest body of any kind (a legacy record with empty tenant, cluster and value). */
const MIN_BODY_BYTES = 13;

export interface StoredRecord {
  timestamp: number;
  tenant: string;
  cluster: string;
  value: Buffer;
}

export type Frame =
  /** `offset` is undefined for a legacy record: its place in the segment says it. */
  | { kind: 'record'; offset: bigint | undefined; record: StoredRecord }
  | { kind: 'gap'; offset: bigint; count: number; note: string };

export type FrameResult = { ok: true; frame: Frame; size: number } | { ok: false; reason: 'truncated' | 'corrupt'; detail: string };

export function segmentName(baseOffset: bigint): string {
  return `${baseOffset.toString().padStart(20, '0')}.log`;
}

export function parseSegmentName(name: string): bigint | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? BigInt(m[1]) : undefined;
}

/** Offsets a frame stands for: one per record, `count` for a gap. */
export function frameCount(frame: Frame): number {
  return frame.kind === 'gap' ? frame.count : 1;
}

function seal(frame: Buffer): Buffer {
  const body = frame.subarray(FRAME_HEADER_BYTES);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  return frame;
}

export function encodeRecordFrame(record: StoredRecord, offset: bigint): Buffer {
  return encodeRecordFrames([record], offset).frames;
}

/**
 * The frames of records at offsets `first`, `first` + 1, ... back to back in one buffer, and each
 * frame's size. The frames are written into `scratch` when it is long enough (the result is then a
 * view of it, valid until the next call with the same scratch), else into a buffer of their own.
 */
export function encodeRecordFrames(records: readonly StoredRecord[], first: bigint, scratch?: Buffer): { frames: Buffer; sizes: number[] } {
  const sizes: number[] = [];
  let total = 0;
  for (const r of records) {
    const size = FRAME_HEADER_BYTES + 1 + 8 + 8 + 2 + Buffer.byteLength(r.tenant, 'utf8') + 2 + Buffer.byteLength(r.cluster, 'utf8') + r.value.length;
    sizes.push(size);
    total += size;
  }
  const frames = scratch && scratch.length >= total ? scratch.subarray(0, total) : Buffer.allocUnsafe(total);
  let start = 0;
  for (let k = 0; k < records.length; k++) {
    const record = records[k];
    let pos = start + FRAME_HEADER_BYTES;
    frames[pos++] = RECORD;
    pos = frames.writeBigUInt64LE(first + BigInt(k), pos);
    pos = frames.writeDoubleLE(record.timestamp, pos);
    pos = writeShortString(frames, pos, record.tenant);
    pos = writeShortString(frames, pos, record.cluster);
    pos += record.value.copy(frames, pos);
    seal(frames.subarray(start, pos));
    start = pos;
  }
  return { frames, sizes };
}

/** A u16le byte length, then the string's UTF-8 bytes. */
function writeShortString(buf: Buffer, pos: number, text: string): number {
  const length = buf.write(text, pos + 2, 'utf8');
  buf.writeUInt16LE(length, pos);
  return pos + 2 + length;
}

export function encodeGapFrame(offset: bigint, count: number, note: string): Buffer {
  const text = Buffer.from(note, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + 8 + 4 + text.length);
  let pos = FRAME_HEADER_BYTES;
  frame[pos++] = GAP;
  pos = frame.writeBigUInt64LE(offset, pos);
  pos = frame.writeUInt32LE(count, pos);
  text.copy(frame, pos);
  return seal(frame);
}

/** The length a frame at `pos` claims, when it is possible at all (corrupt headers often are not). */
export function claimedFrameSize(buf: Buffer, pos: number): number | undefined {
  if (pos + FRAME_HEADER_BYTES > buf.length) return undefined;
  const length = buf.readUInt32LE(pos);
  return length < MIN_BODY_BYTES || length > MAX_BODY_BYTES ? undefined : FRAME_HEADER_BYTES + length;
}

/** Reads the frame at `pos` of `buf`; never throws. */
export function decodeFrame(buf: Buffer, pos: number): FrameResult {
  if (pos + FRAME_HEADER_BYTES > buf.length) return { ok: false, reason: 'truncated', detail: `frame header cut at ${buf.length - pos} bytes` };
  const length = buf.readUInt32LE(pos);
  if (length < MIN_BODY_BYTES || length > MAX_BODY_BYTES) return { ok: false, reason: 'corrupt', detail: `impossible frame length ${length}` };
  if (pos + FRAME_HEADER_BYTES + length > buf.length)
    return { ok: false, reason: 'truncated', detail: `frame of ${length} bytes cut at ${buf.length - pos - FRAME_HEADER_BYTES}` };
  const body = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
  if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { ok: false, reason: 'corrupt', detail: 'checksum mismatch' };
  const frame = decodeBody(body);
  return typeof frame === 'string' ? { ok: false, reason: 'corrupt', detail: frame } : { ok: true, frame, size: FRAME_HEADER_BYTES + length };
}

/** A frame, or what is wrong with the body. */
function decodeBody(body: Buffer): Frame | string {
  const kind = body[0];
  if (kind === GAP) {
    if (body.length < 13) return 'gap frame too short';
    return { kind: 'gap', offset: body.readBigUInt64LE(1), count: body.readUInt32LE(9), note: body.toString('utf8', 13) };
  }
  if (kind !== RECORD && kind !== LEGACY_RECORD) return `unknown frame kind ${kind}`;
  let p = 1;
  let offset: bigint | undefined;
  if (kind === RECORD) {
    if (body.length < 21) return 'record frame too short';
    offset = body.readBigUInt64LE(p);
    p += 8;
  }
  const timestamp = body.readDoubleLE(p);
  p += 8;
  const tenantLen = body.readUInt16LE(p);
  p += 2;
  if (p + tenantLen + 2 > body.length) return 'tenant overruns the frame';
  const tenant = body.toString('utf8', p, p + tenantLen);
  p += tenantLen;
  const clusterLen = body.readUInt16LE(p);
  p += 2;
  if (p + clusterLen > body.length) return 'cluster overruns the frame';
  const cluster = body.toString('utf8', p, p + clusterLen);
  p += clusterLen;
  return { kind: 'record', offset, record: { timestamp, tenant, cluster, value: body.subarray(p) } };
}

/**
 * Whether an intact frame might start at `pos`, checked on the header alone: a cheap filter before
 * the checksum when looking for the first intact frame after damaged bytes. A frame naming its
 * offset must name one at or after `from`, and not absurdly far after it.
 */
export function mayStartFrame(buf: Buffer, pos: number, from: bigint): boolean {
  const size = claimedFrameSize(buf, pos);
  if (size === undefined || pos + size > buf.length) return false;
  const kind = buf[pos + FRAME_HEADER_BYTES];
  if (kind === LEGACY_RECORD) return true;
  if (kind !== RECORD && kind !== GAP) return false;
  // Within what the rest of the segment could hold (a gap frame stands for up to 2^32 offsets).
  const offset = buf.readBigUInt64LE(pos + FRAME_HEADER_BYTES + 1);
  return offset >= from && offset - from <= 0x1_0000_0000n + BigInt(buf.length - pos);
}
