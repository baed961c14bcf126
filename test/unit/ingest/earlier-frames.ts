// Record frames as versions before offsets were stored wrote them: type 1, no offset in the body.
import { crc32 } from 'node:zlib';
import { FRAME_HEADER_BYTES, type StoredRecord } from '../../../ingest/embedded/segment-format.ts';

export function earlierFrame(record: StoredRecord): Buffer {
  const tenant = Buffer.from(record.tenant);
  const cluster = Buffer.from(record.cluster);
  const body = Buffer.alloc(1 + 8 + 2 + tenant.length + 2 + cluster.length + record.value.length);
  let p = body.writeUInt8(1, 0);
  p = body.writeDoubleLE(record.timestamp, p);
  p = body.writeUInt16LE(tenant.length, p);
  p += tenant.copy(body, p);
  p = body.writeUInt16LE(cluster.length, p);
  p += cluster.copy(body, p);
  record.value.copy(body, p);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}
