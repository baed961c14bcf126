// The embedded log does not grow without bound: under a steady stream, the processor commits
// offsets as hours settle (event time: HOUR_GRACE + LATE_WINDOW past their end) and segments whose
// records are all committed are deleted. What stays is about the last two hours of records (the
// open hour and the one before it, kept as context for a replay) plus the segments they straddle.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  committedOffset,
  embeddedEnv,
  frameOf,
  hourTotals,
  HOUR_MS,
  logSegments,
  pastTraffic,
  sendAll,
  sqlUrl,
  tempDataDir,
  waitProcessed,
} from '../../support/embedded.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';

/** Small next to the traffic (record format 2 writes each label string once per record). */
const SEGMENT_BYTES = 64 * 1024;
const HOURS = 10;
const requests = pastTraffic({ hours: HOURS, tenants: 1, series: 60, seed: 3 });
const perHour = requests.length / HOURS;
/** Bytes each request adds to the log: its frame, as the service writes it. */
const frameBytes = requests.map((r, i) => frameOf(r, BigInt(i)).length);
const appended = frameBytes.reduce((a, b) => a + b, 0);
const hourBytes = Math.max(...Array.from({ length: HOURS }, (_, h) => frameBytes.slice(h * perHour, (h + 1) * perHour).reduce((a, b) => a + b, 0)));

let dataDir: string;
let service: ServiceProcess;

beforeAll(async () => {
  dataDir = tempDataDir('retention');
  service = await startServiceProcess({
    env: embeddedEnv(dataDir, { LOG_SEGMENT_BYTES: '64KiB', HOUR_GRACE: '1m', LATE_WINDOW: '5m' }),
    readyTimeoutMs: 90_000,
  });
});
afterAll(async () => {
  await service?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('holds about two hours of records under a steady stream: committed segments are deleted, commits.json advances', async () => {
  expect(perHour).toBe(60);
  // Appended in all: many segments' worth.
  expect(appended).toBeGreaterThan(30 * SEGMENT_BYTES);
  // The open hour and the context hour before it, plus the segments straddling their ends.
  const bound = 2 * hourBytes + 2 * SEGMENT_BYTES;

  const seen: { hour: number; segments: number; bytes: number; committed: bigint }[] = [];
  for (let hour = 0; hour < HOURS; hour++) {
    await sendAll(service.url, requests.slice(hour * perHour, (hour + 1) * perHour));
    await waitProcessed(service.url, (hour + 1) * perHour);
    const segments = logSegments(dataDir);
    seen.push({ hour, segments: segments.length, bytes: segments.reduce((a, s) => a + s.bytes, 0), committed: committedOffset(dataDir) ?? 0n });
  }
  const summary = JSON.stringify({ seen, appended, hourBytes, bound }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

  // commits.json advances with every hour that settles: once hours 0..h were sent, hour h-1 is
  // past its late window, so everything before it is committed, and nothing of it (the context
  // for hour h, which is still open).
  for (let h = 1; h < HOURS; h++) {
    expect(seen[h].committed >= seen[h - 1].committed, summary).toBe(true);
    if (h >= 2) {
      expect(seen[h].committed > BigInt((h - 2) * perHour), summary).toBe(true);
      expect(seen[h].committed <= BigInt((h - 1) * perHour), summary).toBe(true);
    }
  }

  // The log stays bounded all along: about two hours of records, never more.
  for (const s of seen) {
    expect(s.bytes, summary).toBeLessThanOrEqual(bound);
    expect(s.segments, summary).toBeLessThanOrEqual(Math.ceil(bound / SEGMENT_BYTES) + 1);
  }
  const last = seen.at(-1)!;
  expect(last.bytes, summary).toBeLessThan(appended / 3);
  // The first segments are gone; what remains starts near the committed offset.
  const segments = logSegments(dataDir);
  expect(segments[0].base, summary).toBeGreaterThan(0n);
  expect(segments[0].base <= last.committed, summary).toBe(true);

  // And the rows are all there, every hour of the stream.
  const totals = [...(await hourTotals(sqlUrl(service))).values()];
  expect(totals.map((t) => t.hour * 1000)).toEqual(Array.from({ length: HOURS }, (_, h) => requests[0].timestampMs + h * HOUR_MS));
  expect(totals.every((t) => t.total_cost > 0)).toBe(true);
}, 120_000);
