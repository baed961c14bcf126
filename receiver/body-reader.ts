// Reads a request body under a deadline, charging its bytes as they arrive. A declared
// Content-Length reserves nothing (a sender may declare 16 MiB and send nothing), and a chunked
// body is charged like any other. A body not complete by the deadline ends with `body-timeout`,
// a 503: the sender retries it, where a 4xx would make Prometheus drop the batch.
import type { Readable } from 'node:stream';
import { ReceiverError } from './errors.ts';

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Charges bytes that arrived; false when the in-flight bounds do not allow them. */
  charge(bytes: number): boolean;
}

export function readBody(stream: Readable, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      finish(new ReceiverError('body-timeout', `${length} bytes after ${limits.timeoutMs / 1000}s (BODY_TIMEOUT)`));
    }, limits.timeoutMs);

    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limits.maxBytes) return finish(new ReceiverError('body-too-large', `more than ${limits.maxBytes} bytes (MAX_REQUEST_BYTES)`));
      if (!limits.charge(chunk.length)) return finish(new ReceiverError('saturated', `no room for ${length} bytes of body`));
      parts.push(chunk);
    };
    const onEnd = () => finish();
    // The request stream fails (ECONNRESET, "aborted") or just closes when the client goes away mid-body.
    const onError = (err: Error) => finish(new ReceiverError('client-aborted', err.message, { cause: err }));
    const onClose = () => finish(new ReceiverError('client-aborted', `the connection closed after ${length} bytes`));

    let done = false;
    function finish(err?: ReceiverError): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) {
        // Nothing more is read; the answer closes the connection (see the route).
        stream.pause();
        reject(err);
      } else {
        resolve(Buffer.concat(parts, length));
      }
    }

    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
