import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, withRetry } from '../../../core/retry.ts';

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
});
