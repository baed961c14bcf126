// What passes between the main thread and a decode worker, and how, so that nothing large is
// copied by the structured clone: the body goes over by transfer, and the records come back as
// one buffer (their values back to back, transferred) plus where each ends.
import type { OutboundRecord } from '../ingest/record-log.ts';
import { DecodeError } from './decode/index.ts';
import { decodeRequest, type DecodedRequest, type DecodeSettings } from './request-decode.ts';

export interface DecodeJob {
  id: number;
  body: Uint8Array;
  contentType: string | undefined;
  tenant: string;
  now: number;
}

interface PackedRecords {
  clusters: string[];
  samples: number[];
  /** Record k's value is bytes ends[k-1] .. ends[k]-1 of `values`. */
  ends: number[];
  values: ArrayBuffer;
}

export type DecodeFailure =
  /** Bad input: the route answers it exactly as if it had been decoded on the main thread. */
  | { kind: 'decode'; reason: DecodeError['reason']; name: string; message: string }
  /** A defect in the worker's code: the route answers 500 `internal`, as for a defect anywhere. */
  | { kind: 'defect'; name: string; message: string; stack: string | undefined };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'decoded'; id: number; request: Omit<DecodedRequest, 'prepared'> & { prepared: Omit<DecodedRequest['prepared'], 'records'> }; records: PackedRecords }
  | { type: 'failed'; id: number; failure: DecodeFailure };

/**
 * The body as it can go to a worker, and what to transfer. A body that owns its whole ArrayBuffer
 * is transferred (and is unusable here afterwards). A smaller one may be a slice of Node's shared
 * allocation pool (Buffer.allocUnsafe below 4 KiB): transferring that would detach the pool under
 * every other Buffer cut from it, and cloning the view would copy the whole pool, so its own bytes
 * are copied into a buffer of their own, which is transferred.
 */
export function bodyForTransfer(body: Uint8Array): { body: Uint8Array; transfer: ArrayBuffer[] } {
  const buffer = body.buffer;
  if (buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength) return { body, transfer: [buffer] };
  const copy = new Uint8Array(body);
  return { body: copy, transfer: [copy.buffer] };
}

/** The records of a prepared request as one buffer to transfer; the values are copied once, here. */
export function packRecords(records: readonly OutboundRecord[]): PackedRecords {
  let total = 0;
  for (const r of records) total += r.value.length;
  // Not from the shared pool, and exactly as long as the values: the whole ArrayBuffer can go.
  const out = Buffer.allocUnsafeSlow(total);
  const ends: number[] = [];
  let pos = 0;
  for (const r of records) {
    out.set(r.value, pos);
    pos += r.value.length;
    ends.push(pos);
  }
  return { clusters: records.map((r) => r.cluster), samples: records.map((r) => r.samples), ends, values: out.buffer as ArrayBuffer };
}

/** The records again, their values as views of the one transferred buffer. */
export function unpackRecords(packed: PackedRecords, tenant: string): OutboundRecord[] {
  const records: OutboundRecord[] = [];
  let start = 0;
  for (let k = 0; k < packed.ends.length; k++) {
    const end = packed.ends[k];
    records.push({ tenant, cluster: packed.clusters[k], value: Buffer.from(packed.values, start, end - start), samples: packed.samples[k] });
    start = end;
  }
  return records;
}

export function describeFailure(err: unknown): DecodeFailure {
  if (err instanceof DecodeError) return { kind: 'decode', reason: err.reason, name: err.name, message: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'defect', name: e.name, message: e.message, stack: e.stack };
}

/**
 * A worker's decode error, on the main thread: the same reason, so the same code, status and
 * message as the original (classifyError knows it as a DecodeError).
 */
class WorkerDecodeError extends DecodeError {
  constructor(reason: DecodeError['reason'], name: string, message: string) {
    super(reason, message);
    this.name = name;
  }
}

export function failureError(failure: DecodeFailure): Error {
  if (failure.kind === 'decode') return new WorkerDecodeError(failure.reason, failure.name, failure.message);
  const err = new Error(`decode worker: ${failure.message}`);
  err.name = failure.name;
  if (failure.stack) err.stack = failure.stack;
  return err;
}

/** The side of a MessagePort a worker uses (a test may put a filter in between). */
export interface JobPort {
  on(event: 'message', listener: (job: DecodeJob) => void): unknown;
  postMessage(message: WorkerMessage, transfer?: ArrayBuffer[]): void;
}

/** A decode worker's loop: one job at a time, each answered with its records or its failure. */
export function serveDecodeJobs(port: JobPort, settings: DecodeSettings): void {
  port.on('message', (job) => {
    let answer: WorkerMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const { prepared, ...counts } = decodeRequest(job.body, job.contentType, job.tenant, job.now, settings);
      const { records, ...outcome } = prepared;
      const packed = packRecords(records);
      answer = { type: 'decoded', id: job.id, request: { ...counts, prepared: outcome }, records: packed };
      transfer = [packed.values];
    } catch (err) {
      answer = { type: 'failed', id: job.id, failure: describeFailure(err) };
    }
    port.postMessage(answer, transfer);
  });
  port.postMessage({ type: 'ready' });
}
