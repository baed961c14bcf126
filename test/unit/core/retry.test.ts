import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, retryDelay, withRetry, type RetryPolicy } from '../../../core/retry.ts';

const transient = Object.assign(new Error('busy'), { retriable: true });
const permanent = new Error('broken');
const isRetriable = (err: unknown) => (err as { retriable?: boolean }).retriable === true;

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the maximum, with half of it random', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(10_000, 100, 1000, () => 0.5)).toBe(750);
  });
});

describe('retryDelay: the policy', () => {
  const policy: RetryPolicy = { isRetriable, initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 };
  it.each<[string, unknown, number, Partial<RetryPolicy>, number | undefined]>([
    ['a retriable error: backoff', transient, 1, {}, 50],
    ['a retriable error later: backoff, doubled', transient, 3, {}, 200],
    ['a retriable error, long failing: the longest delay at most', transient, 20, {}, 500],
    ['a permanent error: thrown', permanent, 1, {}, undefined],
    ['a permanent error that must not be given up: the longest delay', permanent, 1, { retryPermanent: true }, 1000],
    ['a permanent error that must not be given up, later: still the longest', permanent, 7, { retryPermanent: true }, 1000],
    ['any error on the last attempt: thrown', transient, 4, { maxAttempts: 4 }, undefined],
    ['a permanent error on the last attempt: thrown', permanent, 4, { maxAttempts: 4, retryPermanent: true }, undefined],
  ])('%s', (_what, err, attempt, change, delay) => {
    expect(retryDelay(err, attempt, { ...policy, ...change })).toBe(delay);
  });
});

describe('withRetry', () => {
  it('retries retriable errors until the call succeeds', async () => {
    const fn = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw transient;
      return 'ok';
    });
    const onRetry = vi.fn();
    await expect(withRetry(fn, { isRetriable, initialDelayMs: 1, onRetry })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(onRetry.mock.calls.map(([err, attempt]) => [err, attempt])).toEqual([
      [transient, 1],
      [transient, 2],
    ]);
  });

  it('throws a permanent error at once', async () => {
    const fn = vi.fn(async () => {
      throw permanent;
    });
    await expect(withRetry(fn, { isRetriable, initialDelayMs: 1 })).rejects.toBe(permanent);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('stops after maxAttempts with the last error', async () => {
    const fn = vi.fn(async () => {
      throw transient;
    });
    await expect(withRetry(fn, { isRetriable, initialDelayMs: 1, maxAttempts: 4 })).rejects.toBe(transient);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw transient;
    });
    const reason = new Error('shutting down');
    const promise = withRetry(fn, { isRetriable, initialDelayMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    await expect(promise).rejects.toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('does not start when the signal has already aborted', async () => {
    const fn = vi.fn(async () => 'ok');
    await expect(withRetry(fn, { isRetriable, signal: AbortSignal.abort() })).rejects.toThrow();
    expect(fn).not.toHaveBeenCalled();
  });

  it('waits the backoff delay between attempts', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const promise = withRetry(
        async () => {
          calls++;
          if (calls === 1) throw transient;
          return calls;
        },
        { isRetriable, initialDelayMs: 1000, random: () => 0 },
      );
      await vi.advanceTimersByTimeAsync(499);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      await expect(promise).resolves.toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('repeats a permanent error at the longest delay when it must not give up', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const onRetry = vi.fn();
      const promise = withRetry(
        async () => {
          calls++;
          if (calls < 3) throw permanent;
          return calls;
        },
        { isRetriable, retryPermanent: true, initialDelayMs: 10, maxDelayMs: 5000, onRetry },
      );
      await vi.advanceTimersByTimeAsync(4999);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toBe(2);
      await vi.advanceTimersByTimeAsync(5000);
      await expect(promise).resolves.toBe(3);
      expect(onRetry.mock.calls).toEqual([
        [permanent, 1, 5000],
        [permanent, 2, 5000],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
