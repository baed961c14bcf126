// Retry with exponential backoff and jitter, written once. Callers say which errors are worth
// repeating (see errors.ts); a permanent error is thrown at once, unless the caller must never give
// up (retryPermanent), in which case it is repeated at the longest delay.

export interface RetryOptions {
  /** Errors a repetition may cure soon: repeated with backoff. */
  isRetriable: (err: unknown) => boolean;
  /**
   * Repeats the other errors too, at the longest delay (maxDelayMs), instead of throwing them: for
   * work that must not be given up (stored billing rows) while its failure waits for someone to
   * act. The fix is then picked up without a restart, and a broken setup is not hammered.
   */
  retryPermanent?: boolean;
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

export type RetryPolicy = Pick<RetryOptions, 'isRetriable' | 'retryPermanent' | 'initialDelayMs' | 'maxDelayMs' | 'maxAttempts' | 'random'>;

/** The wait before the next attempt after attempt `attempt` (1-based) failed with `err`; undefined: give up and throw it. */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy): number | undefined {
  const maxDelayMs = policy.maxDelayMs ?? 30_000;
  if (attempt >= (policy.maxAttempts ?? Number.POSITIVE_INFINITY)) return undefined;
  if (policy.isRetriable(err)) return backoffDelay(attempt, policy.initialDelayMs ?? 200, maxDelayMs, policy.random ?? Math.random);
  return policy.retryPermanent ? maxDelayMs : undefined;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, onRetry } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      const delayMs = signal?.aborted ? undefined : retryDelay(err, attempt, options);
      if (delayMs === undefined) throw err;
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
