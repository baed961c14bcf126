// Damage inside the embedded log, with a real file system: what start-up cuts by itself (only a
// tail no intact record follows, and never below a committed offset) and what it refuses.
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openEmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { segmentName } from '../../../ingest/embedded/segment-format.ts';

const silent = pino({ level: 'silent' });
const record = (i: number, size = 100) => ({ timestamp: 1_700_000_000_000 + i, tenant: 't', cluster: `c${i % 3}`, value: Buffer.alloc(size, i % 256) });

/** A log of `count` records of 100 bytes each, one append per record; returns its segment file and frame size. */
async function writeLog(count: number, commit?: bigint): Promise<{ dir: string; file: string; frame: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'elog-damage-'));
  const log = await openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
  for (let i = 0; i < count; i++) await log.append([record(i)]);
  if (commit !== undefined) await log.commit('g', { offset: commit, metadata: '' });
  await log.close();
  const file = path.join(dir, segmentName(0n));
  return { dir, file, frame: readFileSync(file).length / count };
}

describe('embedded log damage at start-up', () => {
  it('refuses to start on a flipped byte in record 2 of 15, naming the file, the byte and the repair (regression: start-up deleted the 13 intact records after it)', async () => {
    const { dir, file, frame } = await writeLog(15);
    const bytes = readFileSync(file);
    bytes[2 * frame + 40] ^= 0x01;
    writeFileSync(file, bytes);
    const opening = openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    await expect(opening).rejects.toMatchObject({ code: 'log-damaged' });
    const message = await opening.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toContain(segmentName(0n));
    expect(message).toContain(`byte ${2 * frame}`);
    expect(message).toContain('npm run -s log -- repair');
    expect(readFileSync(file).equals(bytes)).toBe(true); // nothing was cut
  });

  it('refuses to cut below a committed offset (regression: new appends reused offsets the processor had committed past)', async () => {
    const { dir, file, frame } = await writeLog(10, 10n);
    // Records 7, 8 and 9 were processed and committed, then lost their bytes: no crash leaves that.
    truncateSync(file, 7 * frame + 30);
    const opening = openEmbeddedLog({ dir, segmentBytes: 1 << 20, logger: silent });
    await expect(opening).rejects.toMatchObject({ code: 'log-damaged' });
    await expect(opening).rejects.toThrow(/committed/);
    expect(readFileSync(file).length).toBe(7 * frame + 30);
  });
});
