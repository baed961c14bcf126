// Retry with exponential backoff and jitter, written once. Callers say which errors are worth
// repeating (see errors.ts); a permanent error is thrown at once.

export interface RetryOptions {
  isRetriable: (err: unknown) => boolean;
  /** Delay ceiling before the first retry (default 200 ms); it doubles per attempt. */
  initialDelayMs?: number;
  /** Largest delay between attempts (default 30 s). */
  maxDelayMs?: number;
  /** Attempts in all, the first included (default: unlimited). */
  maxAttempts?: number;
  /** Stops waiting and retrying: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log and count. `attempt` is the attempt that failed (1-based). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** A source of numbers in [0, 1), for tests. */
  random?: () => number;
}

/**
 * The delay after failed attempt `attempt` (1-based): half of the exponential ceiling plus a random
 * half ("equal jitter"), so retries of many processes spread out without ever retrying at once.
 */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { isRetriable, signal, onRetry } = options;
  const initialDelayMs = options.initialDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err) || attempt >= maxAttempts || signal?.aborted) throw err;
      const delayMs = backoffDelay(attempt, initialDelayMs, maxDelayMs, random);
      onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
