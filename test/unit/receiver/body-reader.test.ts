import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readBody } from '../../../receiver/body-reader.ts';
import { ReceiverError } from '../../../receiver/errors.ts';

afterEach(() => {
  vi.useRealTimers();
});

function reading(options: { maxBytes?: number; timeoutMs?: number; room?: number } = {}) {
  const stream = new PassThrough();
  const charged: number[] = [];
  let room = options.room ?? Infinity;
  const body = readBody(stream, {
    maxBytes: options.maxBytes ?? 100,
    timeoutMs: options.timeoutMs ?? 1_000,
    charge: (bytes) => {
      if (bytes > room) return false;
      room -= bytes;
      charged.push(bytes);
      return true;
    },
  });
  body.catch(() => undefined);
  return { stream, charged, body };
}

const codeOf = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ReceiverError);
  return (err as ReceiverError).code;
};

describe('readBody', () => {
  it('charges each chunk as it arrives and returns the whole body', async () => {
    const { stream, charged, body } = reading();
    stream.write(Buffer.from('abc'));
    await new Promise((r) => setImmediate(r));
    expect(charged).toEqual([3]); // before the body is complete
    stream.end(Buffer.from('defgh'));
    expect((await body).toString()).toBe('abcdefgh');
    expect(charged).toEqual([3, 5]);
  });

  it('ends a body stalled past the deadline with body-timeout, a 503 the sender retries', async () => {
    vi.useFakeTimers();
    const { stream, body } = reading({ timeoutMs: 30_000 });
    stream.write(Buffer.from('12345'));
    await vi.advanceTimersByTimeAsync(29_999);
    stream.write(Buffer.from('6'));
    await vi.advanceTimersByTimeAsync(1);
    const err = await body.then(() => undefined, (e: ReceiverError) => e);
    expect(err?.code).toBe('body-timeout');
    expect(err?.status).toBe(503);
    expect(err?.retryAfterSeconds).toBe(1);
    expect(err?.message).toContain('6 bytes after 30s (BODY_TIMEOUT)');
  });

  it('refuses a body growing past maxBytes (413) and one the in-flight bounds have no room for (503)', async () => {
    const large = reading({ maxBytes: 4 });
    large.stream.write(Buffer.from('12345'));
    expect(await codeOf(large.body)).toBe('body-too-large');
    const full = reading({ room: 4 });
    full.stream.write(Buffer.from('1234'));
    full.stream.write(Buffer.from('5'));
    expect(await codeOf(full.body)).toBe('saturated');
    expect(full.charged).toEqual([4]);
  });

  it('counts a client that goes away mid-body as client-aborted', async () => {
    const closed = reading();
    closed.stream.write(Buffer.from('12'));
    closed.stream.destroy();
    expect(await codeOf(closed.body)).toBe('client-aborted');
    const failed = reading();
    failed.stream.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    expect(await codeOf(failed.body)).toBe('client-aborted');
  });
});
