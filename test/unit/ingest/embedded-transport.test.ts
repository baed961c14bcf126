// In the embedded mode the processor consumes on the main thread, beside HTTP and the log's own
// appends: what it does with a read must not stand between an append and its acknowledgement.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer, createEmbeddedPublisher, READ_BYTES } from '../../../ingest/embedded/embedded-transport.ts';
import type { InboundRecord, RecordConsumer } from '../../../ingest/record-log.ts';

const silent = pino({ level: 'silent' });
const outbound = (i: number, size: number) => ({ tenant: 't', cluster: `c${i % 3}`, value: Buffer.alloc(size, i % 256), samples: 1 });

let log: EmbeddedLog | undefined;
let consumer: RecordConsumer | undefined;
afterEach(async () => {
  await consumer?.close();
  await log?.close();
  consumer = log = undefined;
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe('embedded transport', () => {
  it('acknowledges an append before the consumer handles the records it appended', async () => {
    log = await openEmbeddedLog({ dir: mkdtempSync(path.join(tmpdir(), 'etransport-')), segmentBytes: 1 << 20, logger: silent });
    const publisher = createEmbeddedPublisher(log);
    const events: string[] = [];
    consumer = createEmbeddedConsumer(log, 'g', silent);
    await consumer.start({ onRecords: async (_p, records) => void events.push(`handled ${records.length}`), onRevoked: () => undefined });
    for (let round = 0; round < 3; round++) {
      await publisher.publish([outbound(round, 100)]);
      events.push('acknowledged');
      await until(() => events.length === 2 * (round + 1));
    }
    expect(events).toEqual(['acknowledged', 'handled 1', 'acknowledged', 'handled 1', 'acknowledged', 'handled 1']);
  });

  it('hands a backlog over in reads of about READ_BYTES, letting other work run between them', async () => {
    log = await openEmbeddedLog({ dir: mkdtempSync(path.join(tmpdir(), 'etransport-')), segmentBytes: 64 << 20, logger: silent });
    const size = 64 * 1024;
    const count = Math.ceil((3 * READ_BYTES) / size) + 1;
    for (let i = 0; i < count; i += 8) await log.append(Array.from({ length: Math.min(8, count - i) }, (_, k) => ({ timestamp: 1, ...outbound(i + k, size) })));
    const reads: { records: number; bytes: number; interleaved: boolean }[] = [];
    let otherWorkRan = true;
    consumer = createEmbeddedConsumer(log, 'g', silent);
    await consumer.start({
      onRecords: async (_p, records: InboundRecord[]) => {
        reads.push({ records: records.length, bytes: records.reduce((n, r) => n + r.value.length, 0), interleaved: otherWorkRan });
        // Work the event loop would do meanwhile (an HTTP answer, a thread's result): it must get a
        // turn before the next read is handed over.
        otherWorkRan = false;
        setImmediate(() => (otherWorkRan = true));
      },
      onRevoked: () => undefined,
    });
    await until(() => reads.reduce((n, r) => n + r.records, 0) === count);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of reads) expect(r.bytes).toBeLessThanOrEqual(READ_BYTES + size);
    expect(reads.every((r) => r.interleaved)).toBe(true);
  });
});
