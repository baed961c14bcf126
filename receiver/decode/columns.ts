// The typed arrays the decoders fill: allocated without the zero-fill, because the decoders write
// every element they expose (results are subarrays of the written part), and grown by doubling.

/** Whether this machine stores typed-array elements little-endian (virtually always true). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const HAS_BUFFER = typeof Buffer !== 'undefined';

export function newUint32(n: number): Uint32Array<ArrayBuffer> {
  return HAS_BUFFER ? new Uint32Array(Buffer.allocUnsafeSlow(n * 4).buffer as ArrayBuffer, 0, n) : new Uint32Array(n);
}

export function newFloat64(n: number): Float64Array<ArrayBuffer> {
  return HAS_BUFFER ? new Float64Array(Buffer.allocUnsafeSlow(n * 8).buffer as ArrayBuffer, 0, n) : new Float64Array(n);
}

export function newUint8(n: number): Uint8Array<ArrayBuffer> {
  return HAS_BUFFER ? new Uint8Array(Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer, 0, n) : new Uint8Array(n);
}

type Column = Uint32Array | Float64Array | Uint8Array;

/** Grows a typed array to at least `min` elements (doubling), copying the first `used`. */
function grow<R extends Column>(a: Column, used: number, min: number, allocate: (n: number) => R): R {
  const b = allocate(Math.max(a.length * 2, min));
  b.set(a.subarray(0, used));
  return b;
}

export const growUint32 = (a: Uint32Array, used: number, min: number) => grow(a, used, min, newUint32);
export const growFloat64 = (a: Float64Array, used: number, min: number) => grow(a, used, min, newFloat64);
export const growUint8 = (a: Uint8Array, used: number, min: number) => grow(a, used, min, newUint8);
