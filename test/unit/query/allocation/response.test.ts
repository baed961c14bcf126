import { describe, expect, it } from 'vitest';
import { CSV_HEADER, csvField, toCsv } from '../../../../query/allocation/csv.ts';
import { answerWindows, efficiency, toAllocation, toSets } from '../../../../query/allocation/response.ts';
import { DAY, GIB, H0, allocationRow } from './allocation-row.ts';

const SET = DAY;
const row = allocationRow;

describe('toAllocation', () => {
  it("derives OpenCost's averages from the allocation's minutes (hand-checked)", () => {
    const a = toAllocation(row(), SET);
    expect(a).toMatchObject({
      name: 'shop',
      properties: { cluster: 'prod', namespace: 'shop' },
      window: { start: '2024-05-15T00:00:00Z', end: '2024-05-16T00:00:00Z' },
      start: '2024-05-15T10:00:00Z',
      end: '2024-05-15T12:00:00Z',
      minutes: 120,
      cpuCores: 0.5, // 1 core-hour over 2 hours
      cpuCoreRequestAverage: 0.5, // 60 core-minutes over 120 minutes
      cpuCoreUsageAverage: 0.25,
      cpuEfficiency: 0.5,
      ramBytes: GIB,
      ramByteRequestAverage: 2 * GIB,
      ramByteUsageAverage: GIB,
      ramEfficiency: 0.5,
      pvBytes: 10 * GIB,
      gpuCount: 0,
      sharedCost: 0.003,
      externalCost: 0,
      cpuCostAdjustment: 0,
      pvs: null,
      rawAllocationOnly: null,
    });
    expect(a.totalCost).toBeCloseTo(0.041, 15);
    // (0.5 x 0.01 + 0.5 x 0.02) / 0.03
    expect(a.totalEfficiency).toBeCloseTo(0.5, 15);
  });

  it("has OpenCost's fields in OpenCost's order", () => {
    expect(Object.keys(toAllocation(row(), SET))).toEqual([
      'name', 'properties', 'window', 'start', 'end', 'minutes', 'cpuCores', 'cpuCoreRequestAverage', 'cpuCoreUsageAverage',
      'cpuCoreHours', 'cpuCost', 'cpuCostAdjustment', 'cpuEfficiency', 'gpuCount', 'gpuHours', 'gpuCost', 'gpuCostAdjustment',
      'networkTransferBytes', 'networkReceiveBytes', 'networkCost', 'networkCostAdjustment', 'loadBalancerCost',
      'loadBalancerCostAdjustment', 'pvBytes', 'pvByteHours', 'pvCost', 'pvs', 'pvCostAdjustment', 'ramBytes',
      'ramByteRequestAverage', 'ramByteUsageAverage', 'ramByteHours', 'ramCost', 'ramCostAdjustment', 'ramEfficiency',
      'sharedCost', 'externalCost', 'totalCost', 'totalEfficiency', 'rawAllocationOnly',
    ]);
  });

  it('reads 64-bit integers that arrive quoted', () => {
    const a = toAllocation(row({ set_index: '0', run_start: String(H0), run_end: String(H0 + 3600), first_hour: String(H0) }), SET);
    expect(a.minutes).toBe(60);
  });

  it('an allocation that never ran (unmounted cost only) has 0 minutes and no averages', () => {
    const a = toAllocation(row({ run_start: null, run_end: null, cpu_core_hours: 0 }), SET);
    expect([a.start, a.end, a.minutes, a.cpuCores, a.cpuCoreRequestAverage]).toEqual(['2024-05-15T10:00:00Z', '2024-05-15T10:00:00Z', 0, 0, 0]);
  });

  it('shows labels when there are some', () => {
    expect(toAllocation(row({ prop_labels: { team: 'a' } }), SET).properties.labels).toEqual({ team: 'a' });
    expect(toAllocation(row({ prop_labels: {} }), SET).properties).not.toHaveProperty('labels');
  });

  it('turns what is not a number into null', () => {
    expect(toAllocation(row({ cpu_cost: Number.NaN }), SET).cpuCost).toBeNull();
  });
});

describe('efficiency (OpenCost)', () => {
  it.each([
    [0.25, 0.5, 1, 0.5],
    [0.75, 0.5, 1, 1.5], // above the request
    [0.25, 0, 1, 1], // usage without a request, paid for
    [0, 0, 1, 0],
    [0.25, 0, 0, 0], // usage without a request or a cost
  ])('usage %d, request %d, cost %d: %d', (usage, request, cost, expected) => {
    expect(efficiency(usage, request, cost)).toBe(expected);
  });
});

describe('toSets', () => {
  it('one set per step, in order; a set without allocations is empty', () => {
    const windows = answerWindows({ window: { start: SET.start, end: SET.start + 3 * 3_600_000 }, stepMs: 3_600_000, accumulate: false });
    const sets = toSets([row({ set_index: '2', name: 'b' }), row({ set_index: 0, name: 'a' })], windows);
    expect(sets.map((s) => Object.keys(s))).toEqual([['a'], [], ['b']]);
    expect(sets[2].b.window).toEqual({ start: '2024-05-15T02:00:00Z', end: '2024-05-15T03:00:00Z' });
  });

  it('accumulated: one set for the whole window', () => {
    expect(answerWindows({ window: SET, stepMs: 3_600_000, accumulate: true })).toEqual([SET]);
  });
});

describe('toCsv', () => {
  it('writes a header and one line per allocation and set', () => {
    const csv = toCsv(toSets([row({ name: 'a,b', prop_namespace: 'a,b' })], [SET]));
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    expect(lines[1].startsWith('2024-05-15T00:00:00Z,2024-05-16T00:00:00Z,"a,b",prod,,"a,b",,,,2024-05-15T10:00:00Z,2024-05-15T12:00:00Z,120,0.5,')).toBe(true);
    expect(lines[2]).toBe('');
  });

  it('quotes what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });
});
