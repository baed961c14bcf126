// The base class of every error the decode stage throws on bad input. `reason` says what the
// decoder found; the code (and so the HTTP status) follows from it, here and nowhere else:
//   'unsupported_media_type' → unsupported-media-type, 415 (UnsupportedMediaTypeError)
//   'too_large'              → decoded-too-large, 413 (SnappyError: declared length over the limit;
//                              ProtobufError: more series/samples/labels than the limits)
//   'corrupt_snappy'         → corrupt-snappy, 400 (SnappyError)
//   'malformed' | 'invalid'  → corrupt-protobuf, 400 (ProtobufError: bad encoding / spec violation)
import { ServiceError } from '../../core/errors.ts';
import type { ReceiverErrorCode } from '../errors.ts';

type DecodeErrorReason = 'unsupported_media_type' | 'too_large' | 'corrupt_snappy' | 'malformed' | 'invalid';

const CODES = {
  unsupported_media_type: 'unsupported-media-type',
  too_large: 'decoded-too-large',
  corrupt_snappy: 'corrupt-snappy',
  malformed: 'corrupt-protobuf',
  invalid: 'corrupt-protobuf',
} as const satisfies Record<DecodeErrorReason, ReceiverErrorCode>;

/** Bad input: retrying the same body can never succeed. */
export abstract class DecodeError<Reason extends DecodeErrorReason = DecodeErrorReason> extends ServiceError {
  declare readonly code: (typeof CODES)[DecodeErrorReason];
  readonly reason: Reason;

  constructor(reason: Reason, message: string) {
    super(CODES[reason], message);
    this.reason = reason;
  }
}
