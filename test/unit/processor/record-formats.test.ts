// A log written partly before record format 2 and partly after: the processor replays it to the
// same rows as a log written in either format alone, and a request resent across the upgrade (once
// in format 1, again in format 2) counts once, because both formats give a series one identity.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HOUR_MS as H } from '../../../core/hours.ts';
import { encodeRecords } from '../../../ingest/record-format.ts';
import type { InboundRecord } from '../../../ingest/record-log.ts';
import { createCostModel, type HourlyRow } from '../../../processor/cost-model/index.ts';
import { createPartitionState } from '../../../processor/hour-window/partition-state.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import type { Partition } from '../../../processor/partition.ts';
import { createRecordLoop } from '../../../processor/record-loop.ts';
import { buildDecodedWrite } from '../../support/decoded-write-builder.ts';
import { metricValue } from '../../support/net.ts';
import { FORMAT_ONE_MAX_BYTES, FORMAT_ONE_RECORDS, FORMAT_ONE_START } from '../../support/record-format-1-fixture.ts';
import { formatOneSeries } from '../../support/record-v1.ts';

const series = formatOneSeries(FORMAT_ONE_START);
/** The same series written by today's receiver, at the record size the old ones were written with. */
const FORMAT_TWO_RECORDS = encodeRecords(buildDecodedWrite(series), series.map((_, i) => i), FORMAT_ONE_MAX_BYTES);

/** Replays `values` (in log order) through the record loop into the real cost model; its rows per hour and what the metrics counted. */
async function replay(values: readonly Buffer[]): Promise<{ rows: HourlyRow[][]; accepted: number; duplicate: number; poison: string }> {
  const registry = new Registry();
  const metrics = createProcessorMetrics(registry);
  const model = createCostModel();
  const p: Partition<HourlyRow> = { ...createPartitionState(0, { committed: undefined, metadata: undefined, end: 0n }), model };
  const loop = createRecordLoop<HourlyRow>({ metrics, log: pino({ level: 'silent' }), maxSampleGapMs: 5 * 60_000 });
  const records: InboundRecord[] = values.map((value, i) => ({ partition: 0, offset: BigInt(i), tenant: 'acme', cluster: 'prod', formatVersion: value[0], value, timestamp: FORMAT_ONE_START }));
  loop(p, records, BigInt(records.length));
  const text = await registry.metrics();
  return {
    rows: [0, 1].map((h) => model.rows('acme', 'prod', FORMAT_ONE_START + h * H)),
    accepted: metricValue(text, 'k8s_expenses_processor_samples_total', { result: 'accepted' }) ?? 0,
    duplicate: metricValue(text, 'k8s_expenses_processor_samples_total', { result: 'duplicate' }) ?? 0,
    poison: /k8s_expenses_processor_poison_records_total\{.*/.exec(text)?.[0] ?? '',
  };
}

describe('a log holding records of format 1 and format 2', () => {
  const samples = series.reduce((n, s) => n + s.samples.length, 0);

  it('replays to the rows of either format alone', async () => {
    expect(new Set(FORMAT_TWO_RECORDS.map((r) => r[0]))).toEqual(new Set([2]));
    const one = await replay(FORMAT_ONE_RECORDS);
    const two = await replay(FORMAT_TWO_RECORDS);
    // Both hours have web-1, pg-0 (ending at 90 minutes) and node n1's idle row.
    expect(one.rows[0].map((r) => r.pod).sort()).toEqual(['n1', 'pg-0', 'web-1']);
    expect(one.rows[1].map((r) => r.pod).sort()).toEqual(['n1', 'pg-0', 'web-1']);
    expect(one.rows[0].find((r) => r.pod === 'web-1')!.total_cost).toBeGreaterThan(0);
    expect(two.rows).toEqual(one.rows);
    // Every sample but the stale markers, the NaN and those the model ignores is taken, in both.
    expect(one.accepted).toBeGreaterThan(samples / 2);
    expect(two.accepted).toBe(one.accepted);
    expect(one.poison + two.poison).toBe('');
  });

  it('counts a request resent across the upgrade once', async () => {
    const alone = await replay(FORMAT_TWO_RECORDS);
    const resent = await replay([...FORMAT_ONE_RECORDS, ...FORMAT_TWO_RECORDS]);
    const resentBack = await replay([...FORMAT_TWO_RECORDS, ...FORMAT_ONE_RECORDS]);
    expect(resent.rows).toEqual(alone.rows);
    expect(resentBack.rows).toEqual(alone.rows);
    expect(resent.accepted).toBe(alone.accepted);
    expect(resent.duplicate).toBe(alone.accepted);
    expect(resentBack.accepted).toBe(alone.accepted);
  });

  it('replays records of both formats interleaved, each hour from whichever wrote it, to the same rows', async () => {
    // The first hour's samples from the old records, the second hour's from the new ones.
    const firstHour = series.map((s) => ({ labels: s.labels, samples: s.samples.filter((x) => x.t < FORMAT_ONE_START + H) }));
    const secondHour = series.map((s) => ({ labels: s.labels, samples: s.samples.filter((x) => x.t >= FORMAT_ONE_START + H) }));
    const v2 = (list: typeof series) => encodeRecords(buildDecodedWrite(list), list.map((_, i) => i), FORMAT_ONE_MAX_BYTES);
    const mixed = await replay([...FORMAT_ONE_RECORDS, ...v2(secondHour)]);
    const split = await replay([...v2(firstHour), ...v2(secondHour)]);
    expect(mixed.rows).toEqual(split.rows);
    expect(mixed.rows).toEqual((await replay(FORMAT_TWO_RECORDS)).rows);
  });
});
