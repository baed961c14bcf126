// Entry point of the decode stage: Content-Type → schema, snappy → protobuf → DecodedWrite.
//
// Errors are typed so the HTTP layer can map them without parsing messages; all extend DecodeError
// (a ServiceError whose code follows from its reason, see decode-error.ts):
//   UnsupportedMediaTypeError ('unsupported_media_type') → 415
//   SnappyError 'too_large' → 413, 'corrupt_snappy' → 400
//   ProtobufError 'too_large' → 413, 'malformed' / 'invalid' → 400

import { DecodeError } from './decode-error.ts';
import type { DecodedWrite, DecodeLimits } from './decoded-write.ts';
import { decodeWriteRequestV1 } from './remote-write-v1.ts';
import { decodeRequestV2 } from './remote-write-v2.ts';
import { decompressSnappy } from './snappy-block.ts';

export { DecodeError } from './decode-error.ts';
export { ProtobufError } from './protobuf-wire.ts';
export { decodeWriteRequestV1 } from './remote-write-v1.ts';
export { SnappyError, snappyDecodedLength } from './snappy.ts';

const PROTO_V1 = 'prometheus.WriteRequest';
const PROTO_V2 = 'io.prometheus.write.v2.Request';

/** The Content-Type is not application/x-protobuf, or names a proto= message we do not decode. */
export class UnsupportedMediaTypeError extends DecodeError<'unsupported_media_type'> {
  override name = 'UnsupportedMediaTypeError';
  readonly contentType: string | undefined;

  constructor(contentType: string | undefined, message: string) {
    super('unsupported_media_type', message);
    this.contentType = contentType;
  }
}

interface RemoteWriteDecodeLimits extends DecodeLimits {
  /** Maximum decompressed body size; checked against the snappy header before allocating. */
  readonly maxDecodedBytes: number;
}

/**
 * Caps on decoded entries derived from the decoded-size limit when the caller sets none. They
 * bound the memory a hostile body can make the decoder allocate (an empty label is 2 bytes on the
 * wire but 16 bytes decoded; an empty sample 2 bytes but 17) to about 4x the body per column,
 * while staying far above what real requests carry (a 1.0 kubecost series is ~340 bytes with ~10
 * labels and a sample; a 2.0 label is at least 2 bytes, a 2.0 sample at least 2).
 */
export function defaultDecodeLimits(maxDecodedBytes: number): Required<DecodeLimits> {
  return {
    maxSeries: Math.floor(maxDecodedBytes / 16),
    maxLabels: Math.floor(maxDecodedBytes / 4),
    maxSamples: Math.floor(maxDecodedBytes / 8),
  };
}

interface DecodedRemoteWrite {
  readonly version: 1 | 2;
  readonly write: DecodedWrite;
}

/**
 * Which remote-write schema a Content-Type selects (RW 2.0 spec, "Content-Type"):
 * `application/x-protobuf` → 1; `...;proto=prometheus.WriteRequest` → 1;
 * `...;proto=io.prometheus.write.v2.Request` → 2. A missing or empty header means 1.0, as in
 * Prometheus' own receiver. The media type and parameter names are case-insensitive, parameter
 * values may be quoted; the proto= value is compared exactly. Anything else throws
 * UnsupportedMediaTypeError.
 */
export function remoteWriteVersion(contentType: string | undefined): 1 | 2 {
  if (contentType === undefined || contentType.trim() === '') return 1;
  const parts = contentType.split(';');
  const mediaType = parts[0].trim().toLowerCase();
  if (mediaType !== 'application/x-protobuf') {
    throw new UnsupportedMediaTypeError(contentType, `unsupported Content-Type ${JSON.stringify(contentType)}: expected application/x-protobuf`);
  }
  let version: 1 | 2 = 1;
  let seenProto = false;
  for (let i = 1; i < parts.length; i++) {
    const param = parts[i].trim();
    if (param === '') continue;
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    if (name !== 'proto') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (seenProto) {
      throw new UnsupportedMediaTypeError(contentType, `Content-Type ${JSON.stringify(contentType)} has more than one proto= parameter`);
    }
    seenProto = true;
    if (value === PROTO_V1) version = 1;
    else if (value === PROTO_V2) version = 2;
    else {
      throw new UnsupportedMediaTypeError(contentType, `unsupported proto=${JSON.stringify(value)}: expected ${PROTO_V1} or ${PROTO_V2}`);
    }
  }
  return version;
}

/**
 * Decodes one remote-write request body (snappy block-compressed protobuf). The schema comes from
 * the Content-Type (see remoteWriteVersion). `limits` is the limits object, or just the maximum
 * decompressed size in bytes; entry caps left unset default to defaultDecodeLimits. Throws
 * UnsupportedMediaTypeError, SnappyError or ProtobufError (all DecodeError), and nothing else,
 * for any byte string.
 */
export function decodeRemoteWrite(
  body: Uint8Array,
  contentType: string | undefined,
  limits: RemoteWriteDecodeLimits | number,
): DecodedRemoteWrite {
  const given: RemoteWriteDecodeLimits = typeof limits === 'number' ? { maxDecodedBytes: limits } : limits;
  const defaults = defaultDecodeLimits(given.maxDecodedBytes);
  const entryLimits: DecodeLimits = {
    maxSeries: given.maxSeries ?? defaults.maxSeries,
    maxLabels: given.maxLabels ?? defaults.maxLabels,
    maxSamples: given.maxSamples ?? defaults.maxSamples,
  };
  const version = remoteWriteVersion(contentType);
  const raw = decompressSnappy(body, given.maxDecodedBytes);
  const write = version === 1 ? decodeWriteRequestV1(raw, entryLimits) : decodeRequestV2(raw, entryLimits);
  return { version, write };
}
