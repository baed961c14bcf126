// The on-disk framing of the embedded log. A segment file is named by the offset of its first
// record (20 digits) and holds records back to back:
//
//   frame   := length:u32le  crc32:u32le  body          (crc32 of body; length = body bytes)
//   body    := version:u8 (=1)  timestamp:f64le  tenantLen:u16le tenant  clusterLen:u16le cluster  value
//
// A frame that is cut short or fails its checksum marks the end of the valid log (a crash during
// a write): recovery cuts the file there.
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
const BODY_VERSION = 1;
/** Larger than any record the receiver produces; a bigger length can only be corruption. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface StoredRecord {
  timestamp: number;
  tenant: string;
  cluster: string;
  value: Buffer;
}

export function segmentName(baseOffset: bigint): string {
  return `${baseOffset.toString().padStart(20, '0')}.log`;
}

export function parseSegmentName(name: string): bigint | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? BigInt(m[1]) : undefined;
}

export function encodeFrame(record: StoredRecord): Buffer {
  const tenant = Buffer.from(record.tenant, 'utf8');
  const cluster = Buffer.from(record.cluster, 'utf8');
  const bodyLength = 1 + 8 + 2 + tenant.length + 2 + cluster.length + record.value.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength);
  let pos = FRAME_HEADER_BYTES;
  frame[pos++] = BODY_VERSION;
  frame.writeDoubleLE(record.timestamp, pos);
  pos += 8;
  frame.writeUInt16LE(tenant.length, pos);
  pos += 2;
  pos += tenant.copy(frame, pos);
  frame.writeUInt16LE(cluster.length, pos);
  pos += 2;
  pos += cluster.copy(frame, pos);
  record.value.copy(frame, pos);
  const body = frame.subarray(FRAME_HEADER_BYTES);
  frame.writeUInt32LE(bodyLength, 0);
  frame.writeUInt32LE(crc32(body), 4);
  return frame;
}

export type FrameResult = { ok: true; record: StoredRecord; size: number } | { ok: false; reason: 'truncated' | 'corrupt'; detail: string };

/** Reads the frame at `pos` of `buf`; never throws. */
export function decodeFrame(buf: Buffer, pos: number): FrameResult {
  if (pos + FRAME_HEADER_BYTES > buf.length) return { ok: false, reason: 'truncated', detail: `frame header cut at ${buf.length - pos} bytes` };
  const length = buf.readUInt32LE(pos);
  if (length < 13 || length > MAX_BODY_BYTES) return { ok: false, reason: 'corrupt', detail: `impossible frame length ${length}` };
  if (pos + FRAME_HEADER_BYTES + length > buf.length)
    return { ok: false, reason: 'truncated', detail: `frame of ${length} bytes cut at ${buf.length - pos - FRAME_HEADER_BYTES}` };
  const body = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
  if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { ok: false, reason: 'corrupt', detail: 'checksum mismatch' };
  if (body[0] !== BODY_VERSION) return { ok: false, reason: 'corrupt', detail: `unknown frame version ${body[0]}` };
  let p = 1;
  const timestamp = body.readDoubleLE(p);
  p += 8;
  const tenantLen = body.readUInt16LE(p);
  p += 2;
  if (p + tenantLen + 2 > body.length) return { ok: false, reason: 'corrupt', detail: 'tenant overruns the frame' };
  const tenant = body.toString('utf8', p, p + tenantLen);
  p += tenantLen;
  const clusterLen = body.readUInt16LE(p);
  p += 2;
  if (p + clusterLen > body.length) return { ok: false, reason: 'corrupt', detail: 'cluster overruns the frame' };
  const cluster = body.toString('utf8', p, p + clusterLen);
  p += clusterLen;
  return { ok: true, record: { timestamp, tenant, cluster, value: body.subarray(p) }, size: FRAME_HEADER_BYTES + length };
}
