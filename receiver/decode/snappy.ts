// Bounds-checked decoder for the snappy BLOCK format (the one remote write uses; never the framed
// format).
//
// Why not snappyjs on the request path: it loops forever on a literal whose 4-byte length wraps
// negative (the 6-byte body `0a fc f0 ff ff ff`), and without its max-length argument it allocates
// whatever a header declares. Every length and offset here is checked before it is used, the
// declared length is checked against the caller's limit before anything is allocated, and every
// tag consumes at least one input byte, so decoding always terminates in O(input + output).
//
// Format (https://github.com/google/snappy/blob/main/format_description.txt):
//   header: uncompressed length as a little-endian base-128 varint (at most 5 bytes, < 2^32);
//   then elements, each starting with a tag byte whose low 2 bits give its kind:
//     00 literal: length-1 in the upper 6 bits, or (60..63) in 1..4 following bytes (LE);
//     01 copy, 1-byte offset: length 4..11 in bits 2-4, offset = bits 5-7 << 8 | next byte;
//     10 copy, 2-byte offset: length 1..64 in the upper 6 bits, offset in the next 2 bytes (LE);
//     11 copy, 4-byte offset: length 1..64 in the upper 6 bits, offset in the next 4 bytes (LE).
//   A copy reads `length` bytes starting `offset` bytes back in the output (may overlap itself).

import { DecodeError } from './decode-error.ts';

type SnappyErrorReason = 'too_large' | 'corrupt_snappy';

/** A body that cannot be decompressed: 'too_large' maps to HTTP 413, 'corrupt_snappy' to 400. */
export class SnappyError extends DecodeError<SnappyErrorReason> {
  override name = 'SnappyError';
  /** The declared decompressed length, when the header could be read. */
  readonly declaredLength: number | undefined;

  constructor(reason: SnappyErrorReason, message: string, declaredLength?: number) {
    super(reason, message);
    this.declaredLength = declaredLength;
  }
}

/**
 * The largest output one input byte can produce: a 3-byte copy (2-byte offset) yields 64 bytes.
 * A header declaring more than this many bytes per body byte cannot be honest, so it is rejected
 * without allocating anything, even when the caller's limit would allow it.
 */
const MAX_EXPANSION = 22;

/**
 * Copy strategy (measured on kubecost-shaped bodies, where copies of 4..64 bytes dominate):
 * word-at-a-time through DataView getInt32/setInt32 beats both a byte loop and copyWithin/set,
 * whose native-call overhead outweighs the work for such short runs. Literals of 64+ bytes use
 * Uint8Array.set. Integer words only: no value passes through a float, so nothing can be altered.
 */
const WORD_COPY_MIN = 8;
const LITERAL_NATIVE_MIN = 64;

/** Where the header ends; set by readHeader (avoids allocating a result object). */
let headerEnd = 0;

function readHeader(body: Uint8Array): number {
  // The format caps the length at 2^32 - 1; a 5-byte varint can say up to 2^35 - 1. Larger values
  // are returned as they are, so that the caller's limit check answers 'too_large' for them.
  const n = body.length;
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= n) {
      throw new SnappyError('corrupt_snappy', 'snappy: truncated length header');
    }
    const b = body[i];
    // Multiplication instead of shifts keeps bit 31 positive.
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      headerEnd = i + 1;
      return result;
    }
  }
  throw new SnappyError('corrupt_snappy', 'snappy: length header longer than 5 bytes');
}

/** The decompressed length a snappy block declares in its header (the header only is parsed). */
export function snappyDecodedLength(body: Uint8Array): number {
  return readHeader(body);
}

function allocate(length: number): Uint8Array {
  // Every byte of the output is written before it is returned (the decoder checks that the output
  // is exactly the declared length), so the zero-fill of `new Uint8Array` is wasted work.
  if (typeof Buffer !== 'undefined') {
    const buf = Buffer.allocUnsafe(length);
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }
  return new Uint8Array(length);
}

function corrupt(message: string, declared: number): never {
  throw new SnappyError('corrupt_snappy', `snappy: ${message}`, declared);
}

/**
 * The decompressed length the block's header declares, once it is known to be within
 * maxDecodedBytes ('too_large' otherwise) and possible for the body's size ('corrupt_snappy').
 */
export function checkedDeclaredLength(body: Uint8Array, maxDecodedBytes: number): number {
  const declared = readHeader(body);
  if (declared > maxDecodedBytes) {
    throw new SnappyError(
      'too_large',
      `snappy: decoded length ${declared} exceeds the limit of ${maxDecodedBytes} bytes`,
      declared,
    );
  }
  if (declared > (body.length - headerEnd) * MAX_EXPANSION) {
    corrupt(`declared length ${declared} is impossible for ${body.length} input bytes`, declared);
  }
  return declared;
}

/**
 * Decompresses a snappy block. Throws SnappyError 'too_large' when the declared length exceeds
 * maxDecodedBytes (checked before allocating) and 'corrupt_snappy' for any malformed input: bad header,
 * literal running past the input, copy offset of 0 or before the start of the output, output
 * longer or shorter than declared.
 */
export function snappyDecode(body: Uint8Array, maxDecodedBytes: number): Uint8Array {
  const declared = checkedDeclaredLength(body, maxDecodedBytes);
  const n = body.length;
  let ip = headerEnd;
  const out = allocate(declared);
  const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const iv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let op = 0;

  while (ip < n) {
    const c = body[ip++];
    const kind = c & 3;
    if (kind === 0) {
      // Literal.
      let len = c >>> 2;
      if (len >= 60) {
        const extra = len - 59; // 1..4 length bytes
        if (extra > n - ip) {
          corrupt('truncated literal length', declared);
        }
        len = body[ip];
        if (extra > 1) {
          len |= body[ip + 1] << 8;
          if (extra > 2) {
            len |= body[ip + 2] << 16;
            if (extra > 3) {
              // Multiply so the top byte cannot make the value negative.
              len += body[ip + 3] * 0x1000000;
            }
          }
        }
        ip += extra;
      }
      len += 1;
      if (len > n - ip) {
        corrupt(`literal of ${len} bytes runs past the end of the input`, declared);
      }
      if (len > declared - op) {
        corrupt('output longer than the declared length', declared);
      }
      if (len < WORD_COPY_MIN) {
        const stop = ip + len;
        while (ip < stop) {
          out[op++] = body[ip++];
        }
      } else if (len < LITERAL_NATIVE_MIN) {
        const stop = ip + len;
        const wordStop = stop - 4;
        while (ip <= wordStop) {
          ov.setInt32(op, iv.getInt32(ip, true), true);
          op += 4;
          ip += 4;
        }
        while (ip < stop) {
          out[op++] = body[ip++];
        }
      } else {
        out.set(body.subarray(ip, ip + len), op);
        ip += len;
        op += len;
      }
      continue;
    }

    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= n) {
        corrupt('truncated copy', declared);
      }
      len = ((c >>> 2) & 7) + 4;
      offset = ((c >>> 5) << 8) | body[ip];
      ip += 1;
    } else if (kind === 2) {
      if (ip + 2 > n) {
        corrupt('truncated copy', declared);
      }
      len = (c >>> 2) + 1;
      offset = body[ip] | (body[ip + 1] << 8);
      ip += 2;
    } else {
      if (ip + 4 > n) {
        corrupt('truncated copy', declared);
      }
      len = (c >>> 2) + 1;
      offset = (body[ip] | (body[ip + 1] << 8) | (body[ip + 2] << 16)) + body[ip + 3] * 0x1000000;
      ip += 4;
    }
    if (offset === 0 || offset > op) {
      corrupt(`copy offset ${offset} points outside the output (at ${op})`, declared);
    }
    if (len > declared - op) {
      corrupt('output longer than the declared length', declared);
    }
    let src = op - offset;
    const stop = op + len;
    if (offset >= 4 && len >= WORD_COPY_MIN) {
      // Forward copy in 4-byte words: with offset >= 4 every word read was already written, so
      // this is also right for overlapping copies (offset < len) that repeat a pattern.
      const wordStop = stop - 4;
      while (op <= wordStop) {
        ov.setInt32(op, ov.getInt32(src, true), true);
        op += 4;
        src += 4;
      }
    }
    while (op < stop) {
      out[op++] = out[src++];
    }
  }

  if (op !== declared) {
    corrupt(`output is ${op} bytes, header declared ${declared}`, declared);
  }
  return out;
}
