// Repairing the embedded log with a real file system: damaged bytes go into a file beside their
// segment, every intact record keeps its offset, the set-aside offsets become a gap readers skip,
// and no offset is handed out twice.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { createEmbeddedConsumer } from '../../../ingest/embedded/embedded-transport.ts';
import { diagnoseLog } from '../../../ingest/embedded/log-diagnosis.ts';
import { repairLog } from '../../../ingest/embedded/log-repair.ts';
import { segmentName } from '../../../ingest/embedded/segment-format.ts';
import type { InboundRecord } from '../../../ingest/record-log.ts';

const silent = pino({ level: 'silent' });
const record = (i: number, size = 100) => ({ timestamp: 1_700_000_000_000 + i, tenant: 't', cluster: `c${i % 3}`, value: Buffer.alloc(size, i % 256) });
const open = (dir: string, segmentBytes = 1 << 20) => openEmbeddedLog({ dir, segmentBytes, logger: silent });

async function writeLog(count: number, options: { commit?: bigint; segmentBytes?: number } = {}): Promise<{ dir: string; file: string; frame: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'elog-repair-'));
  const log = await open(dir, options.segmentBytes);
  for (let i = 0; i < count; i++) await log.append([record(i)]);
  if (options.commit !== undefined) await log.commit('g', { offset: options.commit, metadata: '' });
  await log.close();
  const file = path.join(dir, segmentName(0n));
  return { dir, file, frame: options.segmentBytes ? 0 : readFileSync(file).length / count };
}

async function readAll(log: EmbeddedLog, from = 0n): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (let offset = from; offset < log.end; ) {
    const { entries, next } = await log.read(offset, 1 << 20);
    for (const e of entries) out.push([Number(e.offset), e.record.value[0]]);
    offset = next;
  }
  return out;
}

function flip(file: string, at: number): Buffer {
  const bytes = readFileSync(file);
  bytes[at] ^= 0x20;
  writeFileSync(file, bytes);
  return bytes;
}

describe('repair of the embedded log', () => {
  it('sets a damaged record aside and keeps the 13 intact records after it at their offsets; readers skip the gap', async () => {
    const { dir, file, frame } = await writeLog(15);
    const original = readFileSync(file);
    flip(file, 2 * frame + 40);
    expect((await diagnoseLog(dir)).problems).toHaveLength(1); // what start-up refuses, check prints

    const lines = await repairLog(dir, new Date('2024-05-01T12:00:00Z'));
    const damagedName = `${segmentName(0n)}.2024-05-01T12-00-00-000Z.damaged`;
    expect(lines[0]).toBe(
      `${segmentName(0n)}: set aside ${frame} damaged bytes at byte ${2 * frame} (checksum mismatch) into ${damagedName}; they held offset 2, now a gap readers skip; the 12 intact records after them keep their offsets`,
    );
    expect(lines.at(-1)).toBe(`repaired 1 segment, every intact record at its offset: embedded log at ${dir}: 1 segment holding offsets 0 to 14; committed: nothing yet; the next append gets offset 15`);
    // The damaged bytes as found, and where they came from.
    const setAside = readFileSync(path.join(dir, damagedName));
    expect(setAside.length).toBe(frame);
    expect(setAside.subarray(0, 40).equals(original.subarray(2 * frame, 2 * frame + 40))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, `${damagedName}.json`), 'utf8'))).toEqual({
      segment: segmentName(0n),
      repairedAt: '2024-05-01T12:00:00.000Z',
      setAside: [{ byte: 2 * frame, bytes: frame, at: 0, offsets: { from: '2', to: '2' }, detail: 'checksum mismatch' }],
    });
    // Intact frames are copied byte for byte.
    expect(readFileSync(file).subarray(0, 2 * frame).equals(original.subarray(0, 2 * frame))).toBe(true);
    expect(readFileSync(file).subarray(-12 * frame).equals(original.subarray(3 * frame))).toBe(true);

    const log = await open(dir);
    expect(log.end).toBe(15n);
    const expected = Array.from({ length: 15 }, (_, i): [number, number] => [i, i]).filter(([i]) => i !== 2);
    expect(await readAll(log)).toEqual(expected);
    expect(await log.read(2n, 1 << 20)).toMatchObject({ entries: [{ offset: 3n }, ...Array(11).fill({})] });
    await log.append([record(99)]);
    expect((await readAll(log, 14n)).map(([o]) => o)).toEqual([14, 15]);
    await log.close();
    expect(await repairLog(dir)).toEqual([`nothing to repair: embedded log at ${dir}: 1 segment holding offsets 0 to 15; committed: nothing yet; the next append gets offset 16`]);
  });

  it('a lost length field: the damage reaches to the next intact frame, which says how many offsets it held', async () => {
    const { dir, file, frame } = await writeLog(10);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(0x00ffffff, 4 * frame); // record 4 claims more bytes than the segment holds
    writeFileSync(file, bytes);
    await expect(open(dir)).rejects.toMatchObject({ code: 'log-damaged' });
    await repairLog(dir);
    const log = await open(dir);
    expect((await readAll(log)).map(([o]) => o)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
    expect(log.end).toBe(10n);
    await log.close();
  });

  it('fills offsets committed past a damaged tail with a gap, so the next append gets a fresh offset', async () => {
    const { dir, file, frame } = await writeLog(10, { commit: 10n });
    truncateSync(file, 7 * frame + 30);
    const lines = await repairLog(dir);
    expect(lines).toContain(`${segmentName(0n)}: offsets 7 to 9 have no record left (offset 10 is committed); now a gap, so they are never handed out again`);
    const log = await open(dir);
    expect(log.end).toBe(10n);
    await log.append([record(50)]);
    expect(await readAll(log)).toEqual([...Array.from({ length: 7 }, (_, i): [number, number] => [i, i]), [10, 50]]);
    await log.close();
  });

  it('an earlier segment cut short: start-up refuses; the repair fills its missing offsets up to the next segment', async () => {
    const { dir } = await writeLog(12, { segmentBytes: 400 });
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(files.length).toBeGreaterThan(2);
    const second = path.join(dir, files[1]);
    truncateSync(second, statSync(second).size - 10);
    await expect(open(dir, 400)).rejects.toThrow(/later segments follow it/);
    await repairLog(dir);
    const log = await open(dir, 400);
    const kept = (await readAll(log)).map(([o]) => o);
    expect(kept).toHaveLength(11);
    expect(log.end).toBe(12n);
    await log.close();
  });

  it('the consumer delivers every intact record once and moves past gaps, also a gap with nothing after it yet', async () => {
    const { dir, file, frame } = await writeLog(8, { commit: 8n });
    flip(file, 3 * frame + 30); // a record in the middle
    flip(file, 7 * frame + 30); // and the last one, below the committed offset
    await repairLog(dir);
    const log = await open(dir);
    // Two readers: one stopped right before the first damaged record, one right before the last.
    await log.commit('g', { offset: 3n, metadata: '' });
    await log.commit('h', { offset: 7n, metadata: '' });
    const seen = new Map<string, number[]>();
    const consumers = ['g', 'h'].map((group) => {
      seen.set(group, []);
      return createEmbeddedConsumer(log, group, silent);
    });
    for (const [i, c] of consumers.entries()) {
      const mine = seen.get(['g', 'h'][i])!;
      await c.start({ onRecords: async (_p, records: InboundRecord[]) => void mine.push(...records.map((r) => Number(r.offset))), onRevoked: () => undefined });
    }
    await new Promise((r) => setTimeout(r, 50));
    await log.append([record(8)]);
    for (let i = 0; i < 100 && seen.get('h')!.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.get('g')).toEqual([4, 5, 6, 8]);
    expect(seen.get('h')).toEqual([8]);
    expect(consumers.every((c) => c.isReady())).toBe(true); // still running: a gap does not stop them
    for (const c of consumers) await c.close();
    await log.close();
  });
});

describe('who has the embedded log open', () => {
  it('a repair is refused while another process has the log open, and the service is refused during a repair', async () => {
    const { dir } = await writeLog(3);
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const started = readFileSync(`/proc/${holder.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
      writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: holder.pid, started, role: 'service', since: '2024-05-01T12:00:00.000Z' }));
      await expect(repairLog(dir)).rejects.toMatchObject({ code: 'log-in-use', message: expect.stringContaining(`the service, process ${holder.pid}`) });
      writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: holder.pid, started, role: 'repair', since: '2024-05-01T12:00:00.000Z' }));
      await expect(open(dir)).rejects.toMatchObject({ code: 'log-in-use' });
      // The same pid with another start time is a newer process, not the owner.
      writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: holder.pid, started: '1', role: 'service', since: '2024-05-01T12:00:00.000Z' }));
      await expect(repairLog(dir)).resolves.toEqual([expect.stringMatching(/^nothing to repair/)]);
    } finally {
      holder.kill();
    }
  });

  it('an owner that died (SIGKILL) does not hold the log; a closed log leaves no owner behind', async () => {
    const { dir } = await writeLog(3);
    const gone = spawn('true', { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: gone.pid, role: 'service', since: '2024-05-01T12:00:00.000Z' }));
    const log = await open(dir);
    expect(JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8'))).toMatchObject({ pid: process.pid, role: 'service' });
    await log.close();
    expect(existsSync(path.join(dir, 'owner.json'))).toBe(false);
  });
});
