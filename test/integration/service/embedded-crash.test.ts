// Crashes of the embedded mode. The service is SIGKILLed (nothing drained, flushed or committed on
// the way out) and restarted on the same DATA_DIR: every acknowledged request must be in the rows,
// none counted twice, so the totals equal those of an uninterrupted run over the same requests.
// And a damaged tail of the log (a write torn by the crash, a record failing its checksum) is cut
// on restart with a log line, keeping every record before it; damage with intact records after it
// stops start-up until `npm run -s log -- repair` has set the damaged bytes aside; a full disk
// answers 503 (never a 204 for a record only partly written) and the log goes on once space returns.
//
// The damaged tail record is always one appended by hand after the crash, for a cluster no request
// belongs to: a torn record is a write whose fsync never finished, so its request was never
// acknowledged, and acknowledged data must all survive. Were the damaged record kept, its cluster
// would show up in the totals.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubecostRequest } from '../../../bench/kubecost-traffic.ts';
import { openEmbeddedLog } from '../../../ingest/embedded/embedded-log.ts';
import { FRAME_HEADER_BYTES } from '../../../ingest/embedded/segment-format.ts';
import { decodeRecord } from '../../../ingest/record-format.ts';
import { pino } from 'pino';
import {
  committedOffset,
  embeddedEnv,
  expectTotalsReach,
  frameOf,
  hourTotals,
  logSegments,
  pastTraffic,
  sendAll,
  sendRequest,
  sqlUrl,
  tempDataDir,
  waitProcessed,
  type HourTotals,
} from '../../support/embedded.ts';
import { diffPodHours, podHours, type PodHour } from '../../support/expenses.ts';
import { runLogCli, runServiceUntilExit, startServiceProcess, type LogLine, type ServiceProcess } from '../../support/service-process.ts';
import { waitFor } from '../../support/service.ts';

// Hours settle 6 minutes (event time) after their end, so offsets are committed and segments
// trimmed while the traffic runs: restarts replay from a committed offset, not from the start.
const EXTRA_ENV = { HOUR_GRACE: '1m', LATE_WINDOW: '5m' };
const requests = pastTraffic({ hours: 4, tenants: 2, series: 80, seed: 5 });
/** Requests of a cluster no other request belongs to, for the hand-appended damaged records. */
const [ghost] = pastTraffic({ hours: 1, tenants: 1, series: 80, seed: 99, tenantNames: ['ghost-tenant'] });

const dirs: string[] = [];
const running = new Set<ServiceProcess>();

async function start(dataDir: string): Promise<ServiceProcess> {
  const service = await startServiceProcess({ env: embeddedEnv(dataDir, EXTRA_ENV), readyTimeoutMs: 90_000 });
  running.add(service);
  return service;
}

async function crash(service: ServiceProcess): Promise<void> {
  await service.kill();
  running.delete(service);
}

function newDataDir(name: string): string {
  const dir = tempDataDir(name);
  dirs.push(dir);
  return dir;
}

const isPartitionStart = (l: LogLine) => l.msg === 'partition state started';
const isCut = (l: LogLine) => l.component === 'embedded-log' && /cutting a .* tail/.test(l.msg ?? '');

let expected: Map<string, HourTotals>;
let expectedPods: Map<string, PodHour>;

beforeAll(async () => {
  // The uninterrupted run.
  const service = await start(newDataDir('crash-reference'));
  await sendAll(service.url, requests);
  await waitProcessed(service.url, requests.length);
  expected = await hourTotals(sqlUrl(service));
  expectedPods = await podHours(sqlUrl(service));
  await service.stop();
  running.delete(service);
  // Four hours of two clusters.
  expect(expected.size).toBe(2 * 4);
  expect([...expected.values()].every((t) => t.total_cost > 0 && t.cpu_usage_avg > 0)).toBe(true);
});

afterAll(async () => {
  for (const service of running) await service.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of the embedded service', () => {
  it('between requests, three times: nothing acknowledged is lost, nothing counted twice', async () => {
    const dir = newDataDir('crash-kill');
    let service = await start(dir);
    let sent = 0;
    let committed = 0n;
    const killPoints = [0.3, 0.6, 0.85].map((f) => Math.round(f * requests.length));
    for (const [i, at] of killPoints.entries()) {
      await sendAll(service.url, requests.slice(sent, at));
      sent = at;
      if (i > 0) {
        // Past the first hours' late window: wait for a (further) commit, so the restart replays from it.
        await waitFor(() => (committedOffset(dir) ?? 0n) > committed, 30_000, `a commit past offset ${committed}`);
      }
      let inFlight: Promise<number> | undefined;
      if (i === killPoints.length - 1) {
        // The last kill lands while a request is on its way: stored or not, it was not acknowledged
        // (or was, if the answer won the race), and Prometheus sends it again unless it was.
        inFlight = sendRequest(service.url, requests[sent]).then(
          (r) => r.status,
          () => 0,
        );
        await new Promise((r) => setTimeout(r, 5));
      }
      await crash(service);
      if (inFlight && (await inFlight) === 204) sent++;
      committed = committedOffset(dir) ?? 0n;
      service = await start(dir);
      if (i > 0) {
        const partition = await service.waitForLog(isPartitionStart, 30_000, 'the partition to start');
        expect(partition.committed).toBe(committed.toString());
        expect(committed).toBeGreaterThan(0n);
      }
    }
    await sendAll(service.url, requests.slice(sent));
    await expectTotalsReach(sqlUrl(service), expected, 30_000);
    expect(diffPodHours(expectedPods, await podHours(sqlUrl(service)))).toEqual([]);
    await service.stop();
    running.delete(service);
  }, 150_000);
});

describe('a damaged tail of the embedded log', () => {
  const cases = [
    {
      name: 'a torn write (half a record at the end of the last segment)',
      reason: 'truncated',
      damage: (frame: Buffer) => frame.subarray(0, Math.floor(frame.length / 2)),
    },
    {
      name: 'a corrupt record (one byte of the last record flipped: the checksum no longer matches)',
      reason: 'corrupt',
      damage: (frame: Buffer) => {
        const bad = Buffer.from(frame);
        // A byte of the record's timestamp: the record would still decode; only the checksum tells.
        bad[FRAME_HEADER_BYTES + 3] ^= 0x10;
        return bad;
      },
    },
  ];

  it.each(cases)('$name is cut on restart with a log line; earlier records are kept and processed once', async ({ reason, damage }) => {
    const dir = newDataDir(`crash-${reason}`);
    let service = await start(dir);
    const half = Math.round(requests.length / 2);
    await sendAll(service.url, requests.slice(0, half));
    await crash(service);

    const last = logSegments(dir).at(-1)!;
    const appended = damage(frameOf(ghost, BigInt(half)));
    appendFileSync(last.file, appended);

    service = await start(dir);
    const cut = await service.waitForLog(isCut, 5_000, 'the log line about the cut');
    expect(cut).toMatchObject({
      level: 40,
      reason,
      segment: last.name,
      byte: last.bytes,
      // The first record that was not kept: right after the last acknowledged one.
      offset: String(half),
      cutBytes: appended.length,
    });
    if (reason === 'corrupt') expect(cut.detail).toBe('checksum mismatch');
    expect(statSync(last.file).size).toBe(last.bytes);
    expect(service.logs.filter(isCut)).toHaveLength(1);

    // New requests are accepted after the cut, and the totals are those of the uninterrupted run.
    await sendAll(service.url, requests.slice(half));
    await expectTotalsReach(sqlUrl(service), expected, 30_000);

    // The cut was for good: the next start reads the whole log back, with nothing to cut.
    await service.stop();
    running.delete(service);
    service = await start(dir);
    expect(service.logs.filter(isCut)).toEqual([]);
    // The open hours' records are not committed yet: they are read again, up to the end.
    const partition = await service.waitForLog(isPartitionStart, 30_000, 'the partition to start');
    expect(partition.end).toBe(String(requests.length));
    await expectTotalsReach(sqlUrl(service), expected, 30_000);
    await service.stop();
    running.delete(service);
  }, 120_000);
});

/** Byte position of each frame of a segment file, from the frames' length fields. */
function framePositions(file: string): number[] {
  const bytes = readFileSync(file);
  const positions: number[] = [];
  for (let pos = 0; pos + FRAME_HEADER_BYTES <= bytes.length; pos += FRAME_HEADER_BYTES + bytes.readUInt32LE(pos)) positions.push(pos);
  return positions;
}

describe('a damaged record in the middle of the embedded log', () => {
  it('stops start-up naming the file, the byte and the repair; after `npm run -s log -- repair` every intact record is processed at its offset', async () => {
    const dir = newDataDir('crash-middle');
    let service = await start(dir);
    // Record k and record k + 1 hold the same request (sent again, as after a lost answer), so the
    // samples of the damaged record k survive in its copy and the totals can match exactly.
    const k = 10;
    const upTo = Math.round(0.6 * requests.length);
    await sendAll(service.url, requests.slice(0, k + 1));
    await sendAll(service.url, [requests[k]]);
    await sendAll(service.url, requests.slice(k + 1, upTo));
    await waitFor(() => (committedOffset(dir) ?? 0n) > BigInt(k + 1), 30_000, 'a commit past the damaged record');
    await crash(service);
    const committed = committedOffset(dir)!;

    const [segment] = logSegments(dir);
    const at = framePositions(segment.file)[k];
    const bytes = readFileSync(segment.file);
    const frameBytes = Buffer.from(bytes.subarray(at, framePositions(segment.file)[k + 1]));
    bytes[at + FRAME_HEADER_BYTES + 30] ^= 0x04;
    writeFileSync(segment.file, bytes);

    const refused = await runServiceUntilExit(embeddedEnv(dir, EXTRA_ENV), 30_000);
    expect(refused.code).toBe(1);
    const said = refused.stdout + refused.stderr;
    expect(said).toContain('log-damaged');
    expect(said).toContain(segment.name);
    expect(said).toContain(`byte ${at}`);
    expect(said).toContain('npm run -s log -- repair');
    expect(readFileSync(segment.file).equals(bytes)).toBe(true); // nothing was cut

    const check = await runLogCli(['check'], { DATA_DIR: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`${segment.name} is damaged at byte ${at}`);
    expect(readFileSync(segment.file).equals(bytes)).toBe(true); // check changes nothing

    const repair = await runLogCli(['repair'], { DATA_DIR: dir });
    expect(repair.stderr).toBe('');
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain(`offset ${k}`);
    const quarantined = readdirSync(path.dirname(segment.file)).filter((f) => f.startsWith(`${segment.name}.`) && f.endsWith('.damaged'));
    expect(quarantined).toHaveLength(1);
    expect(repair.stdout).toContain(quarantined[0]);
    const setAside = readFileSync(path.join(path.dirname(segment.file), quarantined[0]));
    expect(setAside.length).toBe(frameBytes.length);
    expect(setAside.equals(frameBytes)).toBe(false); // the damaged bytes, as they were found
    expect(Buffer.compare(setAside.subarray(0, 30), frameBytes.subarray(0, 30))).toBe(0);

    service = await start(dir);
    const partition = await service.waitForLog(isPartitionStart, 30_000, 'the partition to start');
    expect(partition.committed).toBe(committed.toString());
    expect(partition.end).toBe(String(upTo + 1)); // every offset kept its place; none is handed out again
    await sendAll(service.url, requests.slice(upTo));
    await expectTotalsReach(sqlUrl(service), expected, 30_000);
    expect(diffPodHours(expectedPods, await podHours(sqlUrl(service)))).toEqual([]);

    // A repair while the service runs is refused, and changes nothing.
    const busy = await runLogCli(['repair'], { DATA_DIR: dir });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`process ${service.pid}`);
    await service.stop();
    running.delete(service);
  }, 180_000);
});

/**
 * Sets the file size limit (RLIMIT_FSIZE) of a running process: writes past it fail with EFBIG, as
 * on a full disk. Only the soft limit, which can be raised again without privileges.
 */
function limitFileSize(pid: number, bytes: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:`]);
}

interface LoadAnswers {
  acknowledged: KubecostRequest[];
  unavailable: number;
  /** Refusal codes of the 503s. */
  codes: Set<string>;
  /** Wall-clock time of each 204. */
  acknowledgedAt: number[];
}

/**
 * Sends requests as Prometheus' remote-write shards do: `shards` requests in flight, each retried
 * after a 503 until it is acknowledged, then the shard takes the next. Any other answer fails.
 */
async function sendAsShards(url: string, list: readonly KubecostRequest[], shards: number, answers: LoadAnswers): Promise<void> {
  let next = 0;
  const shard = async () => {
    while (next < list.length) {
      const request = list[next++];
      for (;;) {
        const { status, text } = await sendRequest(url, request);
        if (status === 204) {
          answers.acknowledged.push(request);
          answers.acknowledgedAt.push(Date.now());
          break;
        }
        if (status !== 503) throw new Error(`answered ${status}: ${text}`);
        answers.unavailable++;
        answers.codes.add(/\(([a-z-]+)\)\s*$/.exec(text)?.[1] ?? text);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: shards }, shard));
}

/** Every record in DATA_DIR/log, by request (tenant and scrape time), with its samples; read once the service is stopped. */
async function loggedRequests(dataDir: string): Promise<Map<string, { copies: number; samples: number }>> {
  const log = await openEmbeddedLog({ dir: path.join(dataDir, 'log'), segmentBytes: 64 << 20, logger: pino({ level: 'silent' }) });
  const found = new Map<string, { copies: number; samples: number }>();
  try {
    for (let offset = 0n; offset < log.end; ) {
      const { entries, next } = await log.read(offset, 1 << 20);
      for (const { record } of entries) {
        const rec = decodeRecord(record.value);
        const key = `${record.tenant}@${rec.timestamps[0]}`;
        const seen = found.get(key) ?? { copies: 0, samples: 0 };
        found.set(key, { copies: seen.copies + 1, samples: seen.samples + rec.sampleStart[rec.seriesCount] });
      }
      offset = next;
    }
  } finally {
    await log.close();
  }
  return found;
}

describe('a full disk under load, then space again, then SIGKILL', () => {
  it('answers 503 while records cannot be written in full; every acknowledged sample is stored once', async () => {
    const dir = newDataDir('crash-full');
    let service = await start(dir);
    const warm = Math.round(0.2 * requests.length);
    const loadEnd = Math.round(0.6 * requests.length);
    await sendAll(service.url, requests.slice(0, warm));

    // Room for about eight more requests in the segment; ClickHouse's files stay far below the limit.
    const [segment] = logSegments(dir);
    limitFileSize(service.pid, segment.bytes + Math.round((8.5 * segment.bytes) / warm));
    const answers: LoadAnswers = { acknowledged: [], unavailable: 0, codes: new Set(), acknowledgedAt: [] };
    const load = sendAsShards(service.url, requests.slice(warm, loadEnd), 4, answers);
    let failed: unknown;
    load.catch((err: unknown) => (failed = err));
    await waitFor(() => failed !== undefined || answers.unavailable >= 40, 30_000, 'the disk to fill up under load (40 answers 503)');
    if (failed) throw failed;
    const fullAt = answers.acknowledged.length;
    const spaceAt = Date.now();
    limitFileSize(service.pid, 'unlimited');
    await load;
    const recoveryMs = (answers.acknowledgedAt.find((t) => t >= spaceAt) ?? NaN) - spaceAt;

    await crash(service);
    const restartAt = Date.now();
    service = await start(dir);
    await sendAll(service.url, requests.slice(loadEnd));
    await expectTotalsReach(sqlUrl(service), expected, 60_000);
    const caughtUpMs = Date.now() - restartAt;
    expect(diffPodHours(expectedPods, await podHours(sqlUrl(service)))).toEqual([]);
    await service.stop();
    running.delete(service);

    // The log holds every acknowledged request exactly once, and nothing of the refused attempts.
    const acknowledged = [...requests.slice(0, warm), ...answers.acknowledged, ...requests.slice(loadEnd)];
    const logged = await loggedRequests(dir);
    const acknowledgedSamples = acknowledged.reduce((n, r) => n + r.sampleCount, 0);
    const storedSamples = [...logged.values()].reduce((n, r) => n + r.samples, 0);
    console.log(
      `full disk under load: ${answers.unavailable} answers 503 (${[...answers.codes].join(', ')}) after ${fullAt} of ${loadEnd - warm} requests under load; ` +
        `space returned -> first 204 in ${recoveryMs} ms; SIGKILL, restart and the last ${requests.length - loadEnd} requests -> all rows in ${caughtUpMs} ms; ` +
        `acknowledged ${acknowledged.length} requests / ${acknowledgedSamples} samples, in the log ${logged.size} requests / ${storedSamples} samples, ` +
        `copies ${Math.min(...[...logged.values()].map((r) => r.copies))}..${Math.max(...[...logged.values()].map((r) => r.copies))}; rows equal the uninterrupted run's`,
    );
    expect(answers.unavailable).toBeGreaterThanOrEqual(40);
    expect([...answers.codes]).toEqual(['log-unavailable']);
    expect(recoveryMs).toBeGreaterThanOrEqual(0);
    expect(acknowledged).toHaveLength(requests.length);
    expect([...logged.keys()].sort()).toEqual(acknowledged.map((r) => `${r.tenant}@${r.timestampMs}`).sort());
    expect([...logged.values()].every((r) => r.copies === 1)).toBe(true);
    expect(storedSamples).toBe(acknowledgedSamples);
  }, 180_000);
});
