// Unsigned LEB128 varints for integers up to 2^53, written with arithmetic rather than bit
// operators because JavaScript bit operators truncate to 32 bits.

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes n at out[pos]; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Zigzag maps signed to unsigned so small negative deltas stay short: 0,-1,1,-2 -> 0,1,2,3. */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

export class TruncatedError extends Error {
  override readonly name = 'TruncatedError';
}

/** A cursor over bytes that refuses to read past the end. */
export class ByteReader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(): number {
    const bytes = this.bytes;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= bytes.length) throw new TruncatedError('varint runs past the end of the record');
      const b = bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new TruncatedError('varint longer than 8 bytes');
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) throw new TruncatedError(`record needs ${n} more bytes at offset ${this.pos}`);
  }
}
