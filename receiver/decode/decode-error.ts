// The base class of every error the decode stage throws on bad input, so the HTTP layer can catch
// one type and switch on `reason`:
//   'unsupported_media_type' → 415 (UnsupportedMediaTypeError)
//   'too_large'              → 413 (SnappyError: declared length over the limit;
//                                   ProtobufError: more series/samples/labels than the limits)
//   'corrupt_snappy'         → 400 (SnappyError)
//   'malformed' | 'invalid'  → 400 (ProtobufError: bad encoding / spec violation)

export type DecodeErrorReason = 'unsupported_media_type' | 'too_large' | 'corrupt_snappy' | 'malformed' | 'invalid';

export abstract class DecodeError extends Error {
  abstract readonly reason: DecodeErrorReason;
}
