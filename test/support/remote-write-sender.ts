// A remote-write sender for the fault tests: posts a stream of requests at a steady pace, one at a
// time in order (as one Prometheus shard does, so each cluster's samples arrive in order), and
// retries a refused request with the same body until it is acknowledged, as Prometheus retries
// 5xx answers and failed connections. Every attempt is recorded, so a test can say what share was
// refused around a fault and how long the service took to accept writes again.
import type { StreamRequest } from './kubecost-stream.ts';
import { RW1_HEADERS } from './remote-write-fixtures.ts';

/** One HTTP attempt; status 0 when no answer came (connection refused, reset or timed out). */
export interface Attempt {
  readonly request: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly status: number;
}

export interface SenderOptions {
  /** Base URL of a receiver, e.g. http://127.0.0.1:41234 */
  url: string;
  requests: readonly StreamRequest[];
  /** Steady pace; after a slow answer the sender catches up to the schedule. */
  ratePerSecond: number;
  /** Pause before retrying a refused request (default 250 ms). */
  retryDelayMs?: number;
  /** Bound on one attempt (default 20 s). */
  attemptTimeoutMs?: number;
  /** A request still refused after retrying this long fails the stream (default 180 s). */
  giveUpAfterMs?: number;
  /** The tenant header (TENANT_HEADER's default). */
  tenantHeader?: string;
}

export interface Sender {
  readonly attempts: readonly Attempt[];
  /** The requests acknowledged with a 2xx so far, in order. */
  readonly acknowledged: readonly StreamRequest[];
  /** Resolves when every request is acknowledged; rejects on a 4xx or when a request is refused for too long. */
  readonly done: Promise<void>;
  /** From now on, send the remaining requests without pausing between them. */
  hurry(): void;
}

export function startSender(options: SenderOptions): Sender {
  const attempts: Attempt[] = [];
  const acknowledged: StreamRequest[] = [];
  const retryDelayMs = options.retryDelayMs ?? 250;
  const giveUpAfterMs = options.giveUpAfterMs ?? 180_000;
  let paced = true;

  const attempt = async (index: number, request: StreamRequest): Promise<{ status: number; text: string }> => {
    const sentAt = Date.now();
    let status = 0;
    let text = '';
    try {
      const res = await fetch(`${options.url}/api/v1/write`, {
        method: 'POST',
        headers: { ...RW1_HEADERS, [options.tenantHeader ?? 'cloud-account-id']: request.tenant },
        body: request.body,
        signal: AbortSignal.timeout(options.attemptTimeoutMs ?? 20_000),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      text = (err as Error).message;
    }
    attempts.push({ request: index, sentAt, answeredAt: Date.now(), status });
    return { status, text };
  };

  const deliver = async (index: number, request: StreamRequest): Promise<void> => {
    const first = Date.now();
    for (;;) {
      const { status, text } = await attempt(index, request);
      if (status >= 200 && status < 300) {
        acknowledged.push(request);
        return;
      }
      if (status >= 400 && status < 500 && status !== 429) {
        throw new Error(`request ${index} (${request.tenant}/${request.cluster} scrape ${request.scrape}) refused for good: ${status} ${text}`);
      }
      if (Date.now() - first > giveUpAfterMs) {
        throw new Error(`request ${index} still refused after ${giveUpAfterMs} ms: ${status} ${text}`);
      }
      await new Promise((r) => setTimeout(r, retryDelayMs));
    }
  };

  const done = (async () => {
    const began = Date.now();
    const pauseMs = 1000 / options.ratePerSecond;
    for (const [i, request] of options.requests.entries()) {
      await deliver(i, request);
      const due = began + (i + 1) * pauseMs;
      if (paced && due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  })();
  // A test that fails before awaiting `done` must not see an unhandled rejection on top.
  done.catch(() => undefined);

  return {
    attempts,
    acknowledged,
    done,
    hurry() {
      paced = false;
    },
  };
}

export interface FaultFigures {
  /** Attempts answered in the window. */
  attempts: number;
  /** Of those, refused (non-2xx) or unanswered. */
  refused: number;
  /** Milliseconds from the fault to the first acknowledgement after the last refusal or slow answer. */
  recoveryMs: number;
  /** Slowest answer in the window, ms. */
  slowestMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** An answer this slow counts as a disruption even when it was a 2xx. */
const SLOW_MS = 2_000;

/** What the sender saw from `from` (the fault) until `to` (default: its last attempt). */
export function faultFigures(attempts: readonly Attempt[], from: number, to = Infinity): FaultFigures {
  const window = attempts.filter((a) => a.answeredAt >= from && a.sentAt <= to);
  const ok = (a: Attempt) => a.status >= 200 && a.status < 300;
  const disrupted = window.filter((a) => !ok(a) || a.answeredAt - a.sentAt > SLOW_MS);
  const lastDisruption = Math.max(from, ...disrupted.map((a) => a.answeredAt));
  const firstGood = window.find((a) => ok(a) && a.sentAt >= lastDisruption);
  const latencies = window.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    attempts: window.length,
    refused: window.filter((a) => !ok(a)).length,
    recoveryMs: disrupted.length === 0 ? 0 : (firstGood?.answeredAt ?? lastDisruption) - from,
    slowestMs: latencies[latencies.length - 1] ?? 0,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

export function formatFigures(f: FaultFigures): string {
  const share = f.attempts === 0 ? 0 : (100 * f.refused) / f.attempts;
  return `${f.attempts} attempts, ${f.refused} refused (${share.toFixed(1)} %), recovered ${(f.recoveryMs / 1000).toFixed(1)} s after the fault, latency p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms max ${f.slowestMs} ms`;
}
