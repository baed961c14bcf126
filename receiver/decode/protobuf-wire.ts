// Protobuf wire-format primitives shared by the remote-write 1.0 and 2.0 decoders.
//
// Everything is bounds-checked against an explicit `end` (the end of the enclosing message), never
// only against the buffer length, so a sub-message cannot read its parent's bytes. Readers of a
// tag or length return the value and leave the position after it in `wire.pos` (a module-level
// object, so no result object is allocated per call). Timestamps, read once per sample, store
// their value into the caller's column and return the position instead.

import { DecodeError } from './decode-error.ts';

type ProtobufErrorReason = 'malformed' | 'invalid' | 'too_large';

/**
 * A request body that is not an acceptable protobuf message of the expected schema.
 * - 'malformed': not a valid encoding (truncated, bad varint, length past the end, field number 0,
 *   wrong wire type for a known field, unbalanced group). HTTP 400.
 * - 'invalid': well-formed but violating the remote-write spec (symbol reference out of range,
 *   odd labels_refs, symbols[0] not empty, timestamp beyond ±(2^53-1) ms). HTTP 400.
 * - 'too_large': more series, samples or labels than the decode limits allow. HTTP 413.
 */
export class ProtobufError extends DecodeError<ProtobufErrorReason> {
  override name = 'ProtobufError';
  /** Byte offset in the decompressed body where the problem was detected. */
  readonly offset: number;

  constructor(reason: ProtobufErrorReason, message: string, offset: number) {
    super(reason, `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

/** Nesting limit for (deprecated) groups inside unknown fields. */
const MAX_GROUP_DEPTH = 64;

/** Position after the last value read by a helper. */
export const wire = { pos: 0 };

export function malformed(message: string, offset: number): never {
  throw new ProtobufError('malformed', message, offset);
}

export function invalid(message: string, offset: number): never {
  throw new ProtobufError('invalid', message, offset);
}

export function tooLarge(what: string, limit: number, offset: number): never {
  throw new ProtobufError('too_large', `more than ${limit} ${what} in one request`, offset);
}

/**
 * Reads an unsigned varint of up to 10 bytes. The result is exact below 2^53 and a (larger)
 * approximation above, which is enough for comparing lengths and tags against bounds.
 */
export function readVarint(buf: Uint8Array, pos: number, end: number): number {
  const start = pos;
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) {
      malformed('truncated varint', start);
    }
    const b = buf[pos++];
    if (i === 9 && b > 1) {
      malformed('varint overflows 64 bits', start);
    }
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      wire.pos = pos;
      return result;
    }
    scale *= 128;
  }
  return malformed('varint longer than 10 bytes', start);
}

/** Skips a varint (validating it like readVarint) and returns the position after it. */
export function skipVarint(buf: Uint8Array, pos: number, end: number): number {
  const start = pos;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) {
      malformed('truncated varint', start);
    }
    const b = buf[pos++];
    if (b < 0x80) {
      if (i === 9 && b > 1) {
        malformed('varint overflows 64 bits', start);
      }
      return pos;
    }
  }
  return malformed('varint longer than 10 bytes', start);
}

const TWO_32 = 4294967296;
/** 2^53 - 1 as the high 32 bits: |t| < 2^53 means the high word is below 2^21. */
const HI_SAFE_LIMIT = 0x200000;

/**
 * Reads an int64 varint (two's complement, so negative values take 10 bytes) as an exact JS
 * number into out[index]; returns the position after it. Values outside ±(2^53 - 1) cannot be
 * represented exactly and are rejected with ProtobufError 'invalid' (no real timestamp in
 * milliseconds comes anywhere near: 2^53 ms is about 285,000 years).
 */
function readInt64(buf: Uint8Array, pos: number, end: number, out: Float64Array, index: number): number {
  const start = pos;
  // The low 32 bits and the high 32 bits are assembled separately with int32 arithmetic (values
  // of up to 4 bytes return early); current timestamps in ms (~1.7e12 < 2^41) take 6 bytes.
  let lo = 0;
  let hi = 0;
  let b = 0;
  let i = 0;
  // Bits 0..27 (4 bytes).
  for (; i < 4; i++) {
    if (pos >= end) malformed('truncated varint', start);
    b = buf[pos++];
    lo |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      out[index] = lo >>> 0;
      return pos;
    }
  }
  // Byte 5: bits 28..31 into lo, 32..34 into hi.
  if (pos >= end) malformed('truncated varint', start);
  b = buf[pos++];
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >>> 4;
  if (b >= 0x80) {
    // Bytes 6..10: bits 35..69 (anything beyond bit 63 must be zero).
    for (i = 0; i < 5; i++) {
      if (pos >= end) malformed('truncated varint', start);
      b = buf[pos++];
      if (i === 4 && b > 1) malformed('varint overflows 64 bits', start);
      hi |= (b & 0x7f) << (7 * i + 3);
      if (b < 0x80) break;
    }
    if (b >= 0x80) malformed('varint longer than 10 bytes', start);
  }
  if (hi >= 0) {
    // Non-negative (sign bit of hi clear).
    if (hi >= HI_SAFE_LIMIT) invalid('int64 beyond 2^53-1 cannot be represented exactly', start);
    out[index] = hi * TWO_32 + (lo >>> 0);
    return pos;
  }
  // Negative: value = -(~v + 1).
  const nhi = ~hi >>> 0;
  const nlo = ~lo >>> 0;
  // With nhi < 2^21 the magnitude is at most 2^53, still exact, so the comparison is too.
  const magnitude = nhi < HI_SAFE_LIMIT ? nhi * TWO_32 + nlo + 1 : Infinity;
  if (magnitude > Number.MAX_SAFE_INTEGER) invalid('int64 below -(2^53-1) cannot be represented exactly', start);
  out[index] = -magnitude;
  return pos;
}

/**
 * readInt64 with a fast path for non-negative values of up to 7 bytes (< 2^49, which covers
 * every millisecond timestamp until the year 19800); anything longer goes to readInt64.
 */
export function readTimestamp(buf: Uint8Array, pos: number, end: number, out: Float64Array, index: number): number {
  const start = pos;
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 7 && pos < end; i++) {
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      out[index] = result;
      return pos;
    }
    scale *= 128;
  }
  return readInt64(buf, start, end, out, index);
}

/**
 * Reads a length prefix at `pos` and checks that `length` bytes follow before `end`.
 * Returns the length; the payload starts at wire.pos.
 */
export function readLength(buf: Uint8Array, pos: number, end: number): number {
  const len = readVarint(buf, pos, end);
  if (len > end - wire.pos) {
    malformed(`length ${len} runs past the end of the enclosing message`, pos);
  }
  return len;
}

/** Reads a tag; rejects field number 0 and tags that do not fit 32 bits. Position in wire.pos. */
export function readTag(buf: Uint8Array, pos: number, end: number): number {
  const tag = readVarint(buf, pos, end);
  if (tag > 0xffffffff) {
    malformed('field number out of range', pos);
  }
  if (tag < 8) {
    malformed('field number 0', pos);
  }
  return tag;
}

/**
 * Skips the value of a field whose tag was just read (`tagPos` is where the tag started, for error
 * offsets). Returns the position after the value. Groups are skipped with their nesting checked.
 */
export function skipValue(buf: Uint8Array, pos: number, end: number, tag: number, tagPos: number): number {
  const wt = tag & 7;
  switch (wt) {
    case WIRE_VARINT:
      return skipVarint(buf, pos, end);
    case WIRE_I64:
      if (end - pos < 8) malformed('truncated fixed64', pos);
      return pos + 8;
    case WIRE_LEN: {
      const len = readLength(buf, pos, end);
      return wire.pos + len;
    }
    case WIRE_I32:
      if (end - pos < 4) malformed('truncated fixed32', pos);
      return pos + 4;
    case WIRE_SGROUP:
      return skipGroup(buf, pos, end, tag >>> 3, tagPos);
    case WIRE_EGROUP:
      return malformed('unexpected end-group', tagPos);
    default:
      return malformed(`invalid wire type ${wt}`, tagPos);
  }
}

function skipGroup(buf: Uint8Array, pos: number, end: number, field: number, tagPos: number): number {
  // Iterative, with an explicit stack of open group field numbers.
  const open: number[] = [field];
  while (open.length > 0) {
    if (pos >= end) malformed('unterminated group', tagPos);
    const at = pos;
    const tag = readTag(buf, pos, end);
    pos = wire.pos;
    const wt = tag & 7;
    if (wt === WIRE_EGROUP) {
      if (tag >>> 3 !== open[open.length - 1]) malformed('mismatched end-group', at);
      open.pop();
    } else if (wt === WIRE_SGROUP) {
      if (open.length >= MAX_GROUP_DEPTH) malformed('groups nested too deeply', at);
      open.push(tag >>> 3);
    } else {
      pos = skipValue(buf, pos, end, tag, at);
    }
  }
  return pos;
}

/**
 * Handles a tag the caller did not match: rejects field number 0 and known fields arriving with a
 * wrong wire type (`knownFields` is a bit mask of the message's field numbers, all below 32), and
 * skips anything else. Returns the position after the field.
 */
export function skipUnknown(
  buf: Uint8Array,
  pos: number,
  end: number,
  tag: number,
  tagPos: number,
  knownFields: number,
): number {
  const field = tag >>> 3;
  if (field === 0) {
    malformed('field number 0', tagPos);
  }
  if (field < 32 && (knownFields & (1 << field)) !== 0) {
    malformed(`wrong wire type ${tag & 7} for field ${field}`, tagPos);
  }
  return skipValue(buf, pos, end, tag, tagPos);
}

/** Bit mask of field numbers, for skipUnknown. */
export function fieldMask(...fields: number[]): number {
  let m = 0;
  for (const f of fields) m |= 1 << f;
  return m;
}

/** What a FieldReader returns for a field it does not read. */
export const SKIP = -1;

/**
 * Reads one field of a message for walkMessage: gets the tag, the position after it, the end of
 * the message, the tag's own position and the walk's context; returns the position after the
 * field's value, or SKIP.
 */
type FieldReader<C> = (buf: Uint8Array, tag: number, pos: number, end: number, at: number, context: C) => number;

/**
 * Walks the length-delimited message at `pos` (just after its tag) inside an enclosing message
 * ending at `end`: the messages that are validated but not stored (histograms, exemplars,
 * metadata) are read field by field through `field`. A field it SKIPs is skipped by wire type,
 * unless `knownFields` has it: then it came with a wrong wire type and is refused. Returns the
 * position after the message.
 */
export function walkMessage<C>(buf: Uint8Array, pos: number, end: number, knownFields: number, field: FieldReader<C>, context: C): number {
  const len = readLength(buf, pos, end);
  pos = wire.pos;
  const stop = pos + len;
  while (pos < stop) {
    const at = pos;
    const tag = readTag(buf, pos, stop);
    pos = wire.pos;
    const next = field(buf, tag, pos, stop, at, context);
    pos = next === SKIP ? skipUnknown(buf, pos, stop, tag, at, knownFields) : next;
  }
  return stop;
}
