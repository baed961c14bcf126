// Remote write 1.0 as Prometheus sends it: a prometheus.WriteRequest encoded with protobufjs from
// the official .proto files in proto/, snappy block-compressed, POSTed with the 1.0 headers. Failed
// sends are retried the way Prometheus' queue does it: 5xx and network errors with a backoff from
// 30 ms doubling to 5 s, until they succeed; other 4xx answers drop the batch.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

export interface WriteSeries {
  labels: Record<string, string>;
  samples: { t: number; v: number }[];
}

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

let writeRequestType: protobuf.Type | undefined;

function writeRequest(): protobuf.Type {
  if (!writeRequestType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync('remote.proto', { keepCase: true });
    writeRequestType = root.lookupType('prometheus.WriteRequest');
  }
  return writeRequestType;
}

const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);

/** The snappy-compressed protobuf body of a WriteRequest; labels sorted, empty values dropped, as Prometheus does. */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array<ArrayBuffer> {
  const type = writeRequest();
  const message = type.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.entries(s.labels)
        .filter(([, value]) => value !== '')
        .sort(byName)
        .map(([name, value]) => ({ name, value })),
      samples: s.samples.map((x) => ({ value: x.v, timestamp: x.t })),
    })),
  });
  return new Uint8Array(snappy.compress(type.encode(message).finish()));
}

export const REMOTE_WRITE_V1_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': 'k8s-expenses-demo-sender',
};

export interface SendResult {
  /** The final HTTP status (0: never answered before the send was abandoned). */
  status: number;
  attempts: number;
  /** The answer's body when the batch was dropped (4xx). */
  error?: string;
}

export interface SendOptions {
  headers: Readonly<Record<string, string>>;
  /** Stops retrying (the send then resolves with the last status). */
  signal?: AbortSignal;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called before each retry. */
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Whether an answer is worth sending the same body again (Prometheus: 5xx; 429 with retry_on_http_429). */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** POSTs one body until it is accepted, refused (4xx) or the signal aborts. */
export async function sendWithRetry(url: string, body: Uint8Array<ArrayBuffer>, options: SendOptions): Promise<SendResult> {
  const minBackoff = options.minBackoffMs ?? 30;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let backoff = minBackoff;
  let status = 0;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    let retryAfterMs: number | undefined;
    try {
      const res = await fetch(url, { method: 'POST', headers: { ...REMOTE_WRITE_V1_HEADERS, ...options.headers }, body, signal: options.signal });
      status = res.status;
      const text = await res.text();
      if (res.ok) return { status, attempts: attempt };
      if (!isRetriableStatus(status)) return { status, attempts: attempt, error: text.trim() };
      reason = `HTTP ${status}: ${text.trim().slice(0, 200)}`;
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
    } catch (err) {
      if (options.signal?.aborted) return { status, attempts: attempt };
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      reason = `${(err as Error).message}${cause ? ` (${cause})` : ''}`;
    }
    const delay = Math.min(maxBackoff, retryAfterMs ?? backoff);
    options.onRetry?.(reason, attempt, delay);
    await sleep(delay, options.signal);
    if (options.signal?.aborted) return { status, attempts: attempt };
    backoff = Math.min(maxBackoff, backoff * 2);
  }
}
