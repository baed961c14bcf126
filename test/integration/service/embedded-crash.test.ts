// Crashes of the embedded mode. The service is SIGKILLed (nothing drained, flushed or committed on
// the way out) and restarted on the same DATA_DIR: every acknowledged request must be in the rows,
// none counted twice, so the totals equal those of an uninterrupted run over the same requests.
// And a damaged tail of the log (a write torn by the crash, a record failing its checksum) is cut
// on restart with a log line, keeping every record before it.
//
// The damaged record is always one appended by hand after the crash, for a cluster no request
// belongs to: a torn record is a write whose fsync never finished, so its request was never
// acknowledged, and acknowledged data must all survive. Were the damaged record kept, its cluster
// would show up in the totals.
import { appendFileSync, rmSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES } from '../../../ingest/embedded/segment-format.ts';
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
import { startServiceProcess, type LogLine, type ServiceProcess } from '../../support/service-process.ts';
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
