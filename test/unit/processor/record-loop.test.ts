// The record loop with a model that records what it is given: which samples reach the model, which
// hours get marked, and how records that cannot be decoded are noted.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HOUR_MS as H } from '../../../core/hours.ts';
import { decodeRecord } from '../../../ingest/record-format.ts';
import { encodeRecords } from '../../../ingest/record-encode.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';
import type { InboundRecord } from '../../../ingest/record-log.ts';
import type { HourlyCostModel } from '../../../processor/cost-model-port.ts';
import { clusterState, createPartitionState, type ClusterState } from '../../../processor/hour-window/partition-state.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import type { Partition } from '../../../processor/partition.ts';
import { createRecordLoop, feedRecord, newRecordFeed } from '../../../processor/record-loop.ts';
import { metricValue } from '../../support/net.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';
import { encodeVersion1 } from '../../support/record-v1.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;
const REACH_BACK = 5 * MIN;
const silent = pino({ level: 'silent' });

interface Fed {
  pod: string;
  timestamps: number[];
}

/** Takes every sample (or none: `accepting` false), reading labels as the cost model does for a new series. */
function recordingModel(accepting = true): HourlyCostModel<never> & { fed: Fed[] } {
  const fed: Fed[] = [];
  return {
    fed,
    addHashedSeries(_tenant, _cluster, _hash, labels, timestamps, _values, _stale, start = 0, end = timestamps.length, counts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0 }) {
      fed.push({ pod: labels().pod, timestamps: [...timestamps.subarray(start, end)] });
      if (accepting) counts.accepted += end - start;
      else counts.duplicate += end - start;
      return counts;
    },
    rows: () => [],
    evictBefore() {},
    stateBytes: () => 0,
  };
}

const series = (pod: string, ...times: number[]): PlainSeries => ({ labels: { __name__: 'm', pod }, samples: times.map((t) => ({ t, v: 1 })) });
const encoded = (list: PlainSeries[]) => encodeRecords(buildDecodedWrite(list), list.map((_, i) => i), 1 << 20)[0];
const hoursOf = (c: ClusterState) => Object.fromEntries([...c.hours].map(([hour, mark]) => [(hour - H0) / H, mark.seq]));

function clusterAt(floor = -Infinity): ClusterState {
  const c = clusterState(createPartitionState(0, { committed: undefined, metadata: undefined, end: 0n }), 't', 'c');
  c.floor = floor;
  return c;
}

describe('feedRecord', () => {
  it('feeds every series with its labels, marks the hours it spans and moves the watermark', () => {
    const model = recordingModel();
    const c = clusterAt();
    const feed = newRecordFeed();
    feedRecord(model, c, decodeRecord(encoded([series('a', H0 + 10 * MIN, H0 + H + 10 * MIN), series('b', H0 + 20 * MIN)])), REACH_BACK, feed);
    expect(model.fed).toEqual([
      { pod: 'a', timestamps: [H0 + 10 * MIN, H0 + H + 10 * MIN] },
      { pod: 'b', timestamps: [H0 + 20 * MIN] },
    ]);
    // Series a marks hours 0 and 1; series b spans other hours (0 alone), so it marks again: hour 0
    // and the hour after it.
    expect(hoursOf(c)).toEqual({ 0: 2, 1: 2 });
    expect(c.watermark).toBe(H0 + H + 10 * MIN);
    expect(feed.newestSample).toBe(H0 + H + 10 * MIN);
    expect(feed.counts.accepted).toBe(3);
  });

  it('marks the hours once for series that span the same hours', () => {
    const c = clusterAt();
    feedRecord(recordingModel(), c, decodeRecord(encoded([series('a', H0 + 10 * MIN), series('b', H0 + 20 * MIN), series('c', H0 + 30 * MIN)])), REACH_BACK, newRecordFeed());
    expect(hoursOf(c)).toEqual({ 0: 1 });
  });

  it('marks the hour before when the oldest sample is within MAX_SAMPLE_GAP of its hour start', () => {
    const c = clusterAt();
    c.hours.set(H0, { seq: 1, writtenSeq: 1, writtenFinal: false });
    feedRecord(recordingModel(), c, decodeRecord(encoded([series('a', H0 + H + 6 * MIN)])), REACH_BACK, newRecordFeed());
    expect(hoursOf(c)).toEqual({ 0: 1, 1: 1 });
    feedRecord(recordingModel(), c, decodeRecord(encoded([series('a', H0 + H + 4 * MIN)])), REACH_BACK, newRecordFeed());
    expect(hoursOf(c)).toEqual({ 0: 2, 1: 2 });
  });

  it('feeds only samples at or after the floor and counts the others as too late', () => {
    const model = recordingModel();
    const c = clusterAt(H0 + H);
    const feed = newRecordFeed();
    feedRecord(model, c, decodeRecord(encoded([series('a', H0 + 50 * MIN, H0 + H + 10 * MIN), series('b', H0 + 30 * MIN)])), REACH_BACK, feed);
    expect(model.fed).toEqual([{ pod: 'a', timestamps: [H0 + H + 10 * MIN] }]);
    expect(feed.tooLate).toBe(2);
    expect(hoursOf(c)).toEqual({ 1: 1 });
  });

  it('marks nothing when the model takes none of the samples (duplicates)', () => {
    const c = clusterAt();
    const feed = newRecordFeed();
    feedRecord(recordingModel(false), c, decodeRecord(encoded([series('a', H0 + 10 * MIN)])), REACH_BACK, feed);
    expect(c.hours.size).toBe(0);
    expect(feed.counts.duplicate).toBe(1);
    expect(feed.newestSample).toBe(H0 + 10 * MIN);
  });

  it('keeps the newest sample fed when a later series fails', () => {
    const value = encoded([series('good', H0 + 10 * MIN), series('broken', H0 + H + 10 * MIN)]);
    value[decodeRecord(value).labelsStart[1]] = 0x7f; // the second labels block claims more bytes than it has
    const feed = newRecordFeed();
    expect(() => feedRecord(recordingModel(), clusterAt(), decodeRecord(value), REACH_BACK, feed)).toThrow();
    expect(feed.newestSample).toBe(H0 + 10 * MIN);
  });

  it('hashes series ahead yet fails at the malformed series: those before it fed, those after it not, and an empty one never fails', () => {
    const value = encoded([series('a', H0 + 10 * MIN), series('broken', H0 + 20 * MIN), series('c', H0 + 30 * MIN)]);
    value[decodeRecord(value).labelsStart[1]] = 0x7f; // a symbol the record does not have
    const model = recordingModel();
    const feed = newRecordFeed();
    expect(() => feedRecord(model, clusterAt(), decodeRecord(value), REACH_BACK, feed)).toThrow(/label refers to symbol 127/);
    expect(model.fed.map((f) => f.pod)).toEqual(['a']);

    const quiet = encoded([series('a', H0 + 10 * MIN), series('silent'), series('c', H0 + 30 * MIN)]);
    quiet[decodeRecord(quiet).labelsStart[1]] = 0x7f; // malformed, but a series without samples is never read
    const again = recordingModel();
    feedRecord(again, clusterAt(), decodeRecord(quiet), REACH_BACK, newRecordFeed());
    expect(again.fed.map((f) => f.pod)).toEqual(['a', 'c']);
  });

  it('feeds each record with its own identities when one feed serves records of different sizes', () => {
    const ids: string[] = [];
    const model: HourlyCostModel<never> = {
      addHashedSeries(_t, _c, hash, _labels, timestamps, _v, _s, start = 0, end = timestamps.length, counts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0 }) {
        ids.push(`${hash[0]}:${hash[1]}`);
        counts.accepted += end - start;
        return counts;
      },
      rows: () => [],
      evictBefore() {},
      stateBytes: () => 0,
    };
    const feed = newRecordFeed();
    const big = encoded(['a', 'b', 'c', 'd'].map((pod) => series(pod, H0 + MIN)));
    const small = encoded([series('d', H0 + 2 * MIN)]);
    feedRecord(model, clusterAt(), decodeRecord(big), REACH_BACK, feed);
    feedRecord(model, clusterAt(), decodeRecord(small), REACH_BACK, feed);
    expect(ids).toHaveLength(5);
    expect(new Set(ids.slice(0, 4)).size).toBe(4);
    expect(ids[4]).toBe(ids[3]);
  });
});

describe('the record loop', () => {
  const inbound = (offset: bigint, value: Buffer, formatVersion = FORMAT_VERSION): InboundRecord => ({ partition: 0, offset, tenant: 't', cluster: 'c', formatVersion, value, timestamp: H0 });

  function setup() {
    const registry = new Registry();
    const metrics = createProcessorMetrics(registry);
    const p: Partition<never> = { ...createPartitionState(0, { committed: undefined, metadata: undefined, end: 0n }), model: recordingModel() };
    return { registry, p, loop: createRecordLoop<never>({ metrics, log: silent, maxSampleGapMs: REACH_BACK }) };
  }

  it('skips records it cannot decode, counted by reason, as feeding no hour, and goes on', async () => {
    const { registry, p, loop } = setup();
    loop(p, [inbound(0n, encoded([series('a', H0 + 10 * MIN)])), inbound(1n, Buffer.from([1, 200, 1, 2])), inbound(2n, encoded([series('a', H0 + 20 * MIN)]), 99)], 5n);
    expect(p.next).toBe(3n);
    const metrics = await registry.metrics();
    expect(metricValue(metrics, 'k8s_expenses_processor_records_total')).toBe(3);
    expect(metricValue(metrics, 'k8s_expenses_processor_poison_records_total', { reason: 'RecordFormatError' })).toBe(1);
    expect(metricValue(metrics, 'k8s_expenses_processor_poison_records_total', { reason: 'Error' })).toBe(1);
    expect(metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'accepted' })).toBe(1);
    expect(metricValue(metrics, 'k8s_expenses_processor_consumer_lag_records', { partition: '0' })).toBe(2);
    // Only record 0 fed an hour: a floor past it commits everything read.
    expect(p.tracker.commitPoint(H0 + 2 * H)).toBe(3n);
    expect(p.tracker.commitPoint(H0 + H)).toBe(0n);
  });

  it('feeds records of format version 1 still in the log from receivers before version 2', async () => {
    const { registry, p, loop } = setup();
    loop(p, [inbound(0n, encodeVersion1([series('old', H0 + 10 * MIN)]), 1), inbound(1n, encoded([series('new', H0 + 20 * MIN)]))], 2n);
    const metrics = await registry.metrics();
    expect(metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'accepted' })).toBe(2);
    expect(metrics).not.toMatch(/k8s_expenses_processor_poison_records_total\{/);
    expect((p.model as ReturnType<typeof recordingModel>).fed).toEqual([
      { pod: 'old', timestamps: [H0 + 10 * MIN] },
      { pod: 'new', timestamps: [H0 + 20 * MIN] },
    ]);
  });

  it('ignores records it has already read (a re-delivery after a rebalance)', async () => {
    const { registry, p, loop } = setup();
    const record = inbound(0n, encoded([series('a', H0 + 10 * MIN)]));
    loop(p, [record], 1n);
    loop(p, [record], 1n);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_records_total')).toBe(1);
    expect((p.model as ReturnType<typeof recordingModel>).fed).toHaveLength(1);
  });

  it('knows an hour opened after the backlog it took over holds no stored rows, and leaves one opened in the backlog to be read', () => {
    const { p, loop } = setup();
    p.replayEnd = 1n;
    loop(p, [inbound(0n, encoded([series('a', H0 + 10 * MIN)])), inbound(1n, encoded([series('a', H0 + H + 10 * MIN)]))], 2n);
    const c = p.clusters.values().next().value!;
    expect(c.hours.get(H0)?.storedKeys).toBeUndefined();
    expect(c.hours.get(H0 + H)?.storedKeys).toEqual(new Set());
  });
});
