import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../../ingest/group-commit.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('merges items submitted while a write is in flight into the next write', async () => {
    const writes: number[][] = [];
    const gates: ReturnType<typeof deferred>[] = [];
    const g = createGroupCommit<number>({
      maxGroupBytes: 1000,
      sizeOf: () => 1,
      write: (items) => {
        writes.push(items);
        const d = deferred();
        gates.push(d);
        return d.promise;
      },
    });
    const p1 = g.submit(1);
    const p2 = g.submit(2);
    const p3 = g.submit(3);
    expect(writes).toEqual([[1]]);
    gates[0].resolve();
    await p1;
    await nextTurn();
    expect(writes).toEqual([[1], [2, 3]]);
    gates[1].resolve();
    await Promise.all([p2, p3]);
  });

  it("resumes a group's callers, however deep their continuations, before the next group is written", async () => {
    const events: string[] = [];
    const gate = deferred();
    const g = createGroupCommit<number>({
      maxGroupBytes: 1000,
      sizeOf: () => 1,
      write: (items) => {
        events.push(`write ${items.join(',')}`);
        return items[0] === 1 ? gate.promise : Promise.resolve();
      },
    });
    // Like the route: the answer goes out a few awaits after the publish resolves.
    const caller = async () => {
      await g.submit(1);
      await Promise.resolve();
      await Promise.resolve();
      events.push('answered 1');
    };
    const first = caller();
    const second = g.submit(2);
    gate.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(['write 1', 'answered 1', 'write 2']);
  });

  it('writes what callers submit while resuming in the same next group', async () => {
    const writes: number[][] = [];
    const gate = deferred();
    const g = createGroupCommit<number>({
      maxGroupBytes: 1000,
      sizeOf: () => 1,
      write: (items) => {
        writes.push(items);
        return items[0] === 1 ? gate.promise : Promise.resolve();
      },
    });
    const first = g.submit(1).then(() => g.submit(3));
    const second = g.submit(2);
    gate.resolve();
    await Promise.all([first, second]);
    expect(writes).toEqual([[1], [2, 3]]);
  });

  it('fails every item of a failed group and goes on with the next', async () => {
    let n = 0;
    const g = createGroupCommit<string>({
      maxGroupBytes: 1000,
      sizeOf: () => 1,
      write: async () => {
        if (n++ === 1) throw new Error('broker gone');
      },
    });
    const a = g.submit('a');
    const b = g.submit('b');
    const c = g.submit('c');
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toThrow('broker gone');
    await expect(c).rejects.toThrow('broker gone');
    await expect(g.submit('d')).resolves.toBeUndefined();
  });

  it('caps a group by bytes and drops abandoned items that were not yet written', async () => {
    const writes: string[][] = [];
    const gate = deferred();
    const g = createGroupCommit<string>({
      maxGroupBytes: 10,
      sizeOf: (s) => s.length,
      write: async (items) => {
        writes.push(items);
        if (writes.length === 1) await gate.promise;
      },
    });
    const first = g.submit('x');
    const abort = new AbortController();
    const abandoned = g.submit('yyyyyy', abort.signal);
    const rest = [g.submit('zzzzzz'), g.submit('wwww')];
    abort.abort(new Error('deadline'));
    await expect(abandoned).rejects.toThrow('deadline');
    gate.resolve();
    await first;
    await Promise.all(rest);
    expect(writes).toEqual([['x'], ['zzzzzz', 'wwww']]);
    await g.drain();
    expect(g.queued).toBe(0);
  });
});

describe('group commit deadlines', () => {
  it('drops its abort listener once an item is written (regression: a timeout signal kept every request alive until it fired)', async () => {
    const { getEventListeners } = await import('node:events');
    const g = createGroupCommit<number>({ maxGroupBytes: 10, sizeOf: () => 1, write: async () => undefined });
    const controller = new AbortController();
    await g.submit(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const failing = createGroupCommit<number>({ maxGroupBytes: 10, sizeOf: () => 1, write: async () => Promise.reject(new Error('down')) });
    const other = new AbortController();
    await expect(failing.submit(1, other.signal)).rejects.toThrow('down');
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });
});
