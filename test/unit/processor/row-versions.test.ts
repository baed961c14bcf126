// Which stored row wins under FINAL after a restart: the one that has seen more of the partition,
// whatever the clocks of the processes that wrote them say. Batches are delivered by hand, so a
// restart can flush half-way through its replay.
import { describe, expect, it } from 'vitest';
import { createFakeConsumer, inboundRecord, type StoredCommit } from '../../support/fake-consumer.ts';
import { startSummingProcessor, type StoredRow } from './summing-model.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;

async function start(commits: Map<number, StoredCommit>, stored: StoredRow[], now: () => number) {
  const consumer = createFakeConsumer(commits);
  return { consumer, processor: await startSummingProcessor(consumer, { now, stored }) };
}

/** Record `offset`: one sample of its own series in hour 0, worth 10^offset, so a sum tells which records an hour has seen. */
const record = (offset: number, arrival: number) => inboundRecord(BigInt(offset), [{ labels: { __name__: 'm', pod: `p${offset}` }, samples: [{ t: H0 + (offset + 1) * MIN, v: 10 ** offset }] }], { timestamp: arrival });

/** The sum of hour 0 that FINAL shows: the row with the highest version (ties: the one stored last). */
function finalSum(stored: StoredRow[]): number | undefined {
  let best: StoredRow | undefined;
  for (const r of stored) if (r.hour === H0 && (!best || r.version >= best.version)) best = r;
  return best?.sum;
}

describe('row versions', () => {
  // Regression: versions were microseconds of the writing process's wall clock. A processor
  // restarted on a host whose clock was 10 minutes behind wrote rows that lost under FINAL to the
  // older, less complete rows of the process before it.
  it('lets the rows of a restarted processor win when its clock is 10 minutes behind', async () => {
    const commits = new Map<number, StoredCommit>();
    const stored: StoredRow[] = [];
    const t = H0 + 20 * MIN;
    const a = await start(commits, stored, () => t);
    await a.consumer.deliver(0, [record(0, t), record(1, t)]);
    await a.processor.flush();
    expect(finalSum(stored)).toBe(11);
    await a.processor.close();

    const behind = t - 10 * MIN;
    const b = await start(commits, stored, () => behind);
    // The hour is open: nothing of it was committed, so the restart reads it all again, and more.
    await b.consumer.deliver(0, [record(0, behind), record(1, behind), record(2, behind)]);
    await b.processor.flush();
    expect(finalSum(stored)).toBe(111);
    await b.processor.close();
  });

  // Regression: a restarted processor that flushed before its replay had caught up wrote rows that
  // had seen fewer records than those stored before the crash, and they replaced them.
  it('does not let a replay that flushes early replace more complete rows, and wins once it has seen as much', async () => {
    const commits = new Map<number, StoredCommit>();
    const stored: StoredRow[] = [];
    let now = H0 + 20 * MIN;
    const a = await start(commits, stored, () => now);
    await a.consumer.deliver(0, [0, 1, 2, 3].map((o) => record(o, now)));
    await a.processor.flush();
    expect(finalSum(stored)).toBe(1111);
    // Killed: nothing more is stored or committed.

    now += 1000;
    const b = await start(commits, stored, () => now);
    await b.consumer.deliver(0, [record(0, now), record(1, now)]);
    await b.processor.flush();
    expect(finalSum(stored)).toBe(1111);
    await b.consumer.deliver(0, [record(2, now), record(3, now)]);
    await b.processor.flush();
    expect(finalSum(stored)).toBe(1111);
    await b.consumer.deliver(0, [record(4, now)]);
    await b.processor.flush();
    expect(finalSum(stored)).toBe(11111);
    // The hour closes by wall clock with nothing new: its final rows win over the provisional ones.
    now += 31 * MIN;
    await b.processor.flush();
    const latest = stored.filter((r) => r.hour === H0).sort((x, y) => x.version - y.version).at(-1);
    expect(latest).toMatchObject({ sum: 11111, final: true });
    await b.processor.close();
  });
});
