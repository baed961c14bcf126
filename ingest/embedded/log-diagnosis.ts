// What state the embedded log's files are in, read without changing anything: the service reads it
// at start-up (and cuts a torn tail, or refuses), `npm run -s log -- check` prints it and
// `npm run -s log -- repair` plans from it. One judgement for all three:
//
// - a tail of the last segment that no intact frame follows, at or after every committed offset:
//   what a crash during an unacknowledged write leaves; start-up cuts it;
// - anything else (damage with intact frames after it, damage in an earlier segment, damage
//   below a committed offset, offsets missing between segments or before a committed offset)
//   can hold acknowledged records: start-up stops until a repair has set the damage aside.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readRange } from './durable-file.ts';
import { scanSegment, scannedEnd, type DamagedSpan, type SegmentScan } from './segment-scan.ts';
import { parseSegmentName } from './segment-format.ts';

export const COMMITS_FILE = 'commits.json';
export const REPAIR_COMMAND = 'npm run -s log -- repair';

export type Commits = Record<string, { offset: string; metadata: string }>;

export interface ScannedSegment extends SegmentScan {
  name: string;
  file: string;
  bytes: number;
}

/** Damage start-up will not get past on its own. */
export interface LogProblem {
  segment: string;
  byte: number;
  offset: bigint;
  detail: string;
  message: string;
}

/** A torn tail start-up cuts: nothing acknowledged can be in it. */
export interface TornTail {
  segment: string;
  byte: number;
  offset: bigint;
  reason: DamagedSpan['reason'];
  detail: string;
  cutBytes: number;
}

export interface LogDiagnosis {
  dir: string;
  commits: Commits;
  /** Segments wholly before every committed offset: nothing reads them again (start-up deletes them). */
  obsolete: string[];
  segments: ScannedSegment[];
  problems: LogProblem[];
  tornTail: TornTail | undefined;
  /** The offset the next append gets, once the torn tail (if any) is cut. */
  end: bigint;
}

function readCommits(dir: string): Commits {
  try {
    return JSON.parse(readFileSync(path.join(dir, COMMITS_FILE), 'utf8')) as Commits;
  } catch {
    return {};
  }
}

export function committedOffsets(commits: Commits): bigint[] {
  return Object.values(commits).map((c) => BigInt(c.offset));
}

function listSegments(dir: string): { name: string; file: string; base: bigint }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, file: path.join(dir, name), base: parseSegmentName(name) }))
    .filter((s): s is { name: string; file: string; base: bigint } => s.base !== undefined)
    .sort((a, b) => (a.base < b.base ? -1 : 1));
}

const repairHint = `With the service stopped, run \`${REPAIR_COMMAND}\`: it sets the damaged bytes aside in a file beside the segment and keeps every intact record at its offset.`;

export async function diagnoseLog(dir: string): Promise<LogDiagnosis> {
  const commits = readCommits(dir);
  const committed = committedOffsets(commits);
  const lowest = committed.length > 0 ? committed.reduce((a, b) => (a < b ? a : b)) : undefined;
  const highest = committed.length > 0 ? committed.reduce((a, b) => (a > b ? a : b)) : undefined;
  const all = listSegments(dir);
  // As after a commit: a segment can go when the next one starts at or before every committed offset.
  let first = 0;
  while (lowest !== undefined && first + 1 < all.length && all[first + 1].base <= lowest) first++;

  const segments: ScannedSegment[] = [];
  const problems: LogProblem[] = [];
  let tornTail: TornTail | undefined;
  for (const [i, s] of all.slice(first).entries()) {
    const bytes = statSync(s.file).size;
    const scan = scanSegment(await readRange(s.file, 0, bytes), s.base);
    segments.push({ ...scan, name: s.name, file: s.file, bytes });
    const isLast = first + i === all.length - 1;
    const intact = (after: number) => scan.frames.filter((f) => f.start > after && f.kind === 'record').length;
    for (const d of scan.damage) {
      const where = { segment: s.name, byte: d.start, offset: d.offset, detail: d.detail };
      const at = `embedded log segment ${s.name} is damaged at byte ${d.start} (offset ${d.offset}: ${d.detail})`;
      if (!d.tail) {
        problems.push({ ...where, message: `${at}, and ${intact(d.start)} intact records follow it in the segment; start-up stops rather than drop them. ${repairHint}` });
      } else if (!isLast) {
        problems.push({ ...where, message: `${at}, and later segments follow it, so it is not a write torn by a crash; start-up stops rather than drop records. ${repairHint}` });
      } else if (highest !== undefined && highest > d.offset) {
        problems.push({
          ...where,
          message: `${at}, below the committed offset ${highest}: these records were acknowledged and processed, not a write torn by a crash, and cutting them would hand their offsets out again. ${repairHint}`,
        });
      } else {
        tornTail = { ...where, reason: d.reason, cutBytes: d.size };
      }
    }
    const next = all[first + i + 1];
    const end = numberedEnd(scan);
    if (next && scan.damage.length === 0 && end !== next.base) {
      problems.push({
        segment: s.name,
        byte: bytes,
        offset: end,
        detail: `the next segment starts at offset ${next.base}`,
        message: `embedded log segment ${s.name} ends at offset ${end}, but the next segment, ${next.name}, starts at offset ${next.base}: ${end < next.base ? 'records are missing' : 'offsets overlap'}. ${repairHint}`,
      });
    }
  }
  const last = segments.at(-1);
  const end = last ? numberedEnd(last) : (highest ?? 0n);
  if (last && last.damage.length === 0 && highest !== undefined && highest > end) {
    problems.push({
      segment: last.name,
      byte: last.bytes,
      offset: end,
      detail: `committed offset ${highest}`,
      message: `the embedded log ends at offset ${end}, but offset ${highest} is committed: records are missing, and appending would hand out offsets the processor has passed. ${repairHint}`,
    });
  }
  return { dir, commits, obsolete: all.slice(0, first).map((s) => s.name), segments, problems, tornTail, end };
}

/** Offset after the intact frames before the first damage: what stays when a torn tail is cut. */
export function numberedEnd(scan: SegmentScan): bigint {
  const firstDamage = scan.damage[0]?.start ?? Infinity;
  let end = scan.base;
  for (const f of scan.frames) if (f.start < firstDamage) end = f.offset + BigInt(f.count);
  return end;
}

/** One line about the log: where it is, its segments, the offsets they hold, what is committed. */
export function describeLog(d: LogDiagnosis): string {
  const first = d.segments[0]?.base ?? d.end;
  const last = d.segments.at(-1);
  const reach = last ? scannedEnd(last) : d.end;
  const commits = Object.entries(d.commits).map(([group, c]) => `${group} at ${c.offset}`);
  return (
    `embedded log at ${d.dir}: ${d.segments.length} segment${d.segments.length === 1 ? '' : 's'} holding ` +
    `${reach > first ? `offsets ${first} to ${reach - 1n}` : 'no records yet'}; committed: ${commits.join(', ') || 'nothing yet'}`
  );
}
