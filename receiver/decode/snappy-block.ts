// Decompresses a request body: with the `snappy` package's native decoder when it loads, with our
// own decoder (snappy.ts) otherwise, and always with our decoder's answers.
//
// Why a native decoder: decompression was the largest single part of a request's decoding. On
// kubecost-shaped bodies the native one runs at 1.6-2.0 GB/s per core against 0.56-0.76 GB/s for
// ours (`npm run bench:decode` prints both). Its output is copied into V8's heap
// (copyOutputData): an external buffer per request made it slower than ours, through the
// finalisers that free them.
//
// Why our decoder still decides: the limits are ours. The header is read and checked against the
// caller's limit and the body's size before the native decoder allocates anything; a body it
// refuses is decoded again by ours, which throws the same SnappyError (reason, message) as
// without the native decoder. A body it accepts with an output of another length than declared
// is also handed to ours. A property test holds the two to the same answers on valid, truncated
// and mutated bodies.
import { createRequire } from 'node:module';
import { checkedDeclaredLength, snappyDecode } from './snappy.ts';

interface NativeSnappy {
  uncompressSync(input: Uint8Array, options: { asBuffer: true; copyOutputData: true }): Buffer;
}

function loadNative(): NativeSnappy | undefined {
  try {
    return createRequire(import.meta.url)('snappy') as NativeSnappy;
  } catch {
    // No binary for this platform (the package ships prebuilt ones for the common ones).
    return undefined;
  }
}

const native = loadNative();

/** Which decoder decompresses bodies in this process. */
export const snappyDecoder: 'native' | 'javascript' = native === undefined ? 'javascript' : 'native';

/**
 * Decompresses a snappy block as snappyDecode does (same output, same SnappyError for any body),
 * through the native decoder when it is loaded.
 */
export function decompressSnappy(body: Uint8Array, maxDecodedBytes: number): Uint8Array {
  if (native === undefined) return snappyDecode(body, maxDecodedBytes);
  return decompressNative(native, body, maxDecodedBytes);
}

/** The native path, exported so tests can compare it with ours wherever the binary loads. */
export function decompressNative(decoder: NativeSnappy, body: Uint8Array, maxDecodedBytes: number): Uint8Array {
  const declared = checkedDeclaredLength(body, maxDecodedBytes);
  let out: Buffer;
  try {
    out = decoder.uncompressSync(body, { asBuffer: true, copyOutputData: true });
  } catch {
    return snappyDecode(body, maxDecodedBytes);
  }
  return out.length === declared ? out : snappyDecode(body, maxDecodedBytes);
}

/** The native decoder, when it loaded (for tests). */
export const nativeSnappy: NativeSnappy | undefined = native;
