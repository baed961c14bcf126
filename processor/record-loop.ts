// The record loop: each record of a partition is decoded and its series are fed to the cost model;
// samples before their cluster's floor are too late (their hours are settled: rows final, state
// gone) and only counted; the hours the accepted samples changed are marked for the next flush; a
// record that cannot be decoded is skipped, logged and counted, and never blocks its partition.
// Every record is noted with the newest hour it fed, which decides when its offset may be committed.
import type { Logger } from 'pino';
import { hourOf } from '../core/hours.ts';
import { isReadableFormatVersion, RecordDecoder, seriesHash, seriesLabels, type RecordSeries } from '../ingest/record-format.ts';
import type { InboundRecord } from '../ingest/record-log.ts';
import type { HourlyCostModel, SampleCounts } from './cost-model-port.ts';
import { clusterState, markChanged, type ClusterState } from './hour-window/partition-state.ts';
import type { ProcessorMetrics } from './metrics.ts';
import type { Partition } from './partition.ts';

/**
 * What feeding one record did. One is reused for every record (feeding is synchronous), so the hot
 * path allocates nothing per series; resetFeed() starts each record.
 */
export interface RecordFeed {
  readonly counts: SampleCounts;
  /** Samples before their cluster's floor: dropped. */
  tooLate: number;
  /** New series dropped because their tenant is at TENANT_MAX_SERIES (their samples: counts.overLimit). */
  seriesOverLimit: number;
  /**
   * Newest sample time given to the model so far (-Infinity: none). A record can fail half-way (a
   * malformed labels block is only found when a new series' labels are read): what it fed before
   * stays in the model, so the record must be kept as feeding that hour.
   */
  newestSample: number;
  /** The hash of the series being fed (core/hash.ts halves). */
  readonly seriesHash: Uint32Array;
  /** The record's series hashed ahead (see hashAhead): series s at 2s, 2s+1, for s < hashedUpTo. */
  hashes: Uint32Array;
  hashedUpTo: number;
  /**
   * The record lies after the backlog this process took over with its partition: an hour it opens
   * was never written by anyone (every record an earlier owner saw lies in the backlog).
   */
  afterBacklog: boolean;
  /** The record and series being fed, which `labels` reads. */
  record: RecordSeries | undefined;
  series: number;
  /**
   * The labels of the series being fed, for the model to read when the series is new to it. One
   * function for every record: a function made per record was a new call target for the model
   * each time, which threw away its optimised code.
   */
  readonly labels: () => Record<string, string>;
}

export function newRecordFeed(): RecordFeed {
  const feed: RecordFeed = {
    counts: { accepted: 0, duplicate: 0, ignored: 0, invalid: 0, late: 0 },
    tooLate: 0,
    seriesOverLimit: 0,
    newestSample: -Infinity,
    seriesHash: new Uint32Array(2),
    hashes: new Uint32Array(0),
    hashedUpTo: 0,
    afterBacklog: false,
    record: undefined,
    series: 0,
    labels: () => seriesLabels(feed.record!, feed.series),
  };
  return feed;
}

function resetFeed(feed: RecordFeed): void {
  const { counts } = feed;
  counts.accepted = counts.duplicate = counts.ignored = counts.invalid = counts.late = counts.overLimit = 0;
  feed.tooLate = 0;
  feed.seriesOverLimit = 0;
  feed.newestSample = -Infinity;
}

/**
 * Feeds one decoded record of `cluster` to the model and marks the hours it changed. Samples at or
 * after the cluster's floor are added, earlier ones only counted. `reachBackMs` is MAX_SAMPLE_GAP:
 * a sample that close to its hour's start can change the hour before (see markChanged).
 */
export function feedRecord<ModelRow>(model: HourlyCostModel<ModelRow>, cluster: ClusterState, rec: RecordSeries, reachBackMs: number, feed: RecordFeed): void {
  const { timestamps, values, stale, sampleStart } = rec;
  const { counts } = feed;
  let markedFrom = NaN;
  let markedTo = NaN;
  let markedBack = false;
  // Read before the loop: the marking below runs about once per record, too rarely for the code
  // compiled during the first records to have seen this read.
  const afterBacklog = feed.afterBacklog;
  // The model reads a series' labels only when the series is new to it, synchronously: through
  // feed.labels, reading the series being fed.
  const labels = feed.labels;
  feed.record = rec;
  hashAhead(rec, feed);
  for (let s = 0; s < rec.seriesCount; s++) {
    const from = sampleStart[s];
    const to = sampleStart[s + 1];
    if (from === to) continue;
    let min = Infinity;
    let max = -Infinity;
    for (let i = from; i < to; i++) {
      const t = timestamps[i];
      if (t < min) min = t;
      if (t > max) max = t;
    }
    const accepted = counts.accepted;
    const overLimit = counts.overLimit;
    feed.series = s;
    if (min >= cluster.floor) {
      identify(rec, s, feed);
      model.addHashedSeries(cluster.tenant, cluster.cluster, feed.seriesHash, labels, timestamps, values, stale, from, to, counts);
    } else {
      min = feedOnTime(model, cluster, rec, s, labels, feed);
      if (min === Infinity) continue;
    }
    if (counts.overLimit !== overLimit) feed.seriesOverLimit++;
    // Stored every time, not only when larger: a store the code compiled early had never seen
    // (the first record raises them before any feedback is kept) threw it away.
    cluster.watermark = Math.max(cluster.watermark, max);
    feed.newestSample = Math.max(feed.newestSample, max);
    if (counts.accepted > accepted) {
      const fromHour = hourOf(min);
      const toHour = hourOf(max);
      const reachesBack = min - fromHour < reachBackMs;
      // Series of a record mostly span the same hours: marking them once is enough (no flush
      // can run before the record is done).
      if (fromHour !== markedFrom || toHour !== markedTo || (reachesBack && !markedBack)) {
        markChanged(cluster, fromHour, toHour, reachesBack, afterBacklog);
        markedFrom = fromHour;
        markedTo = toHour;
        markedBack = reachesBack;
      }
    }
  }
}

/**
 * Hashes the identity of every series that has samples, in one pass before any is fed: the
 * record's label bytes and symbol hashes stay in the CPU's caches, which the model's work between
 * two series would evict. A malformed labels block stops it there: that series and the ones after
 * it are hashed when they are fed (identify), so a record fails at the same series as before.
 */
function hashAhead(rec: RecordSeries, feed: RecordFeed): void {
  const n = rec.seriesCount;
  if (feed.hashes.length < 2 * n) feed.hashes = new Uint32Array(2 * n);
  const { hashes, seriesHash: hash } = feed;
  const sampleStart = rec.sampleStart;
  let s = 0;
  try {
    for (; s < n; s++) {
      if (sampleStart[s] === sampleStart[s + 1]) continue;
      seriesHash(rec, s, hash);
      hashes[2 * s] = hash[0];
      hashes[2 * s + 1] = hash[1];
    }
  } catch {
    // s is the malformed series
  }
  feed.hashedUpTo = s;
}

/** The identity of series `s` into feed.seriesHash (throws RecordFormatError on malformed labels). */
function identify(rec: RecordSeries, s: number, feed: RecordFeed): void {
  if (s < feed.hashedUpTo) {
    feed.seriesHash[0] = feed.hashes[2 * s];
    feed.seriesHash[1] = feed.hashes[2 * s + 1];
  } else seriesHash(rec, s, feed.seriesHash);
}

/**
 * Rare: series `s` has samples before the floor. Feeds only the others (copied out) and counts the
 * rest as too late; returns the oldest sample fed (Infinity: none).
 */
function feedOnTime<ModelRow>(model: HourlyCostModel<ModelRow>, cluster: ClusterState, rec: RecordSeries, s: number, labels: () => Record<string, string>, feed: RecordFeed): number {
  const { timestamps, values, stale } = rec;
  const from = rec.sampleStart[s];
  const to = rec.sampleStart[s + 1];
  const keep: number[] = [];
  for (let i = from; i < to; i++) if (timestamps[i] >= cluster.floor) keep.push(i);
  feed.tooLate += to - from - keep.length;
  if (keep.length === 0) return Infinity;
  let min = Infinity;
  for (const i of keep) if (timestamps[i] < min) min = timestamps[i];
  const ts = Float64Array.from(keep, (i) => timestamps[i]);
  const vs = Float64Array.from(keep, (i) => values[i]);
  const st = Uint8Array.from(keep, (i) => stale[i]);
  identify(rec, s, feed);
  model.addHashedSeries(cluster.tenant, cluster.cluster, feed.seriesHash, labels, ts, vs, st, 0, keep.length, feed.counts);
  return min;
}

function countSamples(metrics: ProcessorMetrics, feed: RecordFeed): void {
  const { counts, tooLate, seriesOverLimit } = feed;
  if (counts.accepted) metrics.samples.inc({ result: 'accepted' }, counts.accepted);
  if (counts.overLimit) metrics.samples.inc({ result: 'over_limit' }, counts.overLimit);
  if (seriesOverLimit) metrics.seriesDropped.inc({ reason: 'tenant_max_series' }, seriesOverLimit);
  if (counts.duplicate) metrics.samples.inc({ result: 'duplicate' }, counts.duplicate);
  if (counts.ignored) metrics.samples.inc({ result: 'ignored' }, counts.ignored);
  if (counts.invalid) metrics.samples.inc({ result: 'invalid' }, counts.invalid);
  if (tooLate) metrics.samples.inc({ result: 'too_late' }, tooLate);
}

export interface RecordLoopOptions {
  metrics: ProcessorMetrics;
  log: Logger;
  /** MAX_SAMPLE_GAP, the model's maxSampleGapMs. */
  maxSampleGapMs: number;
}

/** The loop over one batch of a partition's records, in offset order; `end` is the partition's end (for the lag). */
export type RecordLoop<ModelRow> = (partition: Partition<ModelRow>, records: readonly InboundRecord[], end: bigint) => void;

export function createRecordLoop<ModelRow>(options: RecordLoopOptions): RecordLoop<ModelRow> {
  const { metrics, log, maxSampleGapMs } = options;
  const feed = newRecordFeed();
  // Feeding is synchronous: one decoder's columns serve every record.
  const decoder = new RecordDecoder();
  return (p, records, end) => {
    for (const record of records) {
      if (record.offset < p.next) continue; // already seen (a re-delivery after a rebalance)
      metrics.records.inc();
      resetFeed(feed);
      feed.afterBacklog = record.offset >= p.replayEnd;
      try {
        if (!isReadableFormatVersion(record.formatVersion)) throw new Error(`unsupported format-version ${record.formatVersion}`);
        const rec = decoder.decode(record.value);
        const c = clusterState(p, record.tenant, record.cluster);
        if (record.timestamp > c.lastArrival) c.lastArrival = record.timestamp;
        feedRecord(p.model, c, rec, maxSampleGapMs, feed);
        countSamples(metrics, feed);
      } catch (err) {
        // What the record fed before it failed stays: it is noted below like a whole record.
        metrics.poisonRecords.inc({ reason: (err as Error).name ?? 'Error' });
        log.error({ partition: p.partition, offset: record.offset.toString(), tenant: record.tenant, cluster: record.cluster, err }, 'skipping a record that cannot be decoded');
      }
      feed.record = undefined; // nor keep the batch's bytes alive through it
      p.tracker.note(record.offset, feed.newestSample === -Infinity ? -Infinity : hourOf(feed.newestSample));
      p.next = record.offset + 1n;
    }
    metrics.consumerLag.set({ partition: String(p.partition) }, Number(end - p.next));
  };
}
