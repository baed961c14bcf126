// One flush over hand-built partition state: what is written, marked, evicted and committed, and
// that nothing is marked, evicted or committed when the write fails.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HOUR_MS as H } from '../../../core/hours.ts';
import type { HourlyCostModel } from '../../../processor/cost-model-port.ts';
import { createFlushStep } from '../../../processor/flush-step.ts';
import { clusterState, createPartitionState, markChanged } from '../../../processor/hour-window/partition-state.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import type { Partition } from '../../../processor/partition.ts';
import type { RowWriter } from '../../../processor/row-writer.ts';
import { metricValue } from '../../support/net.ts';

const H0 = Date.UTC(2026, 10, 23, 10);
const MIN = 60_000;
const RULES = { graceMs: 5 * MIN, lateWindowMs: 3 * H, idleFinalizeMs: 30 * MIN };

interface ModelRow {
  hour: number;
  pod: string;
}
interface StoredRow extends ModelRow {
  final: boolean;
  version: number;
  writtenAt: number;
  deleted?: true;
}

interface SetupOptions {
  failing?: boolean;
  refusing?: string;
  /** Follow keys and write deletion rows; the table holds `table` (keys and version by hour) before the first write. */
  deletion?: { table?: Map<number, { keys: Set<string>; version: number }> };
}

function setup(options: SetupOptions = {}) {
  const evicted: number[] = [];
  /** The pods the model has rows for, in every hour. */
  const pods = ['a', 'b'];
  const reads: number[][] = [];
  const model: HourlyCostModel<ModelRow> = {
    addHashedSeries: (_t, _c, _h, _l, _ts, _vs, _st, _s, _e, counts = { accepted: 0, duplicate: 0, ignored: 0, invalid: 0 }) => counts,
    rows: (_tenant, _cluster, hour) => pods.map((pod) => ({ hour, pod })),
    evictBefore: (_tenant, _cluster, hour) => void evicted.push(hour),
    stateBytes: () => 100,
  };
  const p: Partition<ModelRow> = { ...createPartitionState(0, { committed: undefined, metadata: undefined, end: 0n }), model };
  const cluster = clusterState(p, 't', 'c');
  const stored: StoredRow[] = [];
  const commits: { offset: bigint; metadata: string }[] = [];
  const writer: RowWriter<StoredRow> = {
    async write(rows) {
      if (options.failing) throw new Error('not stored');
      stored.push(...rows);
    },
    async storedKeys(_tenant, _cluster, hours) {
      reads.push([...hours]);
      return options.deletion?.table ?? new Map();
    },
    failure: () => undefined,
  };
  const registry = new Registry();
  const warnings: { fields: object; message: string }[] = [];
  const clock = { now: H0 + 2 * H };
  const flush = createFlushStep<ModelRow, StoredRow>({
    partitions: new Map([[0, p]]),
    writer,
    finishRow: (row, final, version, writtenAt) => (row.pod === options.refusing ? undefined : { ...row, final, version, writtenAt }),
    deletion: options.deletion && {
      keyOf: (row) => row.pod,
      deletionRow: (_tenant, _cluster, hour, pod, final, version, writtenAt) => ({ hour, pod, final, version, writtenAt, deleted: true }),
    },
    commit: async (list) => void commits.push(...list.map(({ offset, metadata }) => ({ offset, metadata }))),
    rules: RULES,
    metrics: createProcessorMetrics(registry),
    log: { warn: (fields: object, message: string) => void warnings.push({ fields, message }) },
    now: () => clock.now,
  });
  /**
   * A record at `offset` whose samples fell in `hour`, the cluster's newest sample at `watermark`;
   * `afterBacklog`: it came after the backlog the process took over (no one wrote its hours before).
   */
  const consumed = (offset: bigint, hour: number, watermark: number, afterBacklog = false) => {
    markChanged(cluster, hour, hour, false, afterBacklog);
    cluster.watermark = Math.max(cluster.watermark, watermark);
    cluster.lastArrival = clock.now;
    p.tracker.note(offset, hour);
    p.next = offset + 1n;
  };
  return { p, cluster, stored, commits, evicted, registry, warnings, clock, flush, consumed, pods, reads };
}

describe('the flush step', () => {
  // Versions used to be the wall clock's microseconds (one per flush); they come from the offset
  // read now (row-version.ts): 2^52 + 2 x next offset, plus 1 for final rows.
  it('writes the rows of the hours behind, finished with their finality and a version from the offset read', async () => {
    const { stored, flush, consumed, clock, registry } = setup();
    consumed(0n, H0, H0 + 10 * MIN);
    consumed(1n, H0 + H, H0 + H + 6 * MIN); // closes hour 0
    await flush();
    expect(stored).toEqual([
      { hour: H0, pod: 'a', final: true, version: 2 ** 52 + 5, writtenAt: clock.now },
      { hour: H0, pod: 'b', final: true, version: 2 ** 52 + 5, writtenAt: clock.now },
      { hour: H0 + H, pod: 'a', final: false, version: 2 ** 52 + 4, writtenAt: clock.now },
      { hour: H0 + H, pod: 'b', final: false, version: 2 ** 52 + 4, writtenAt: clock.now },
    ]);
    const metrics = await registry.metrics();
    expect(metricValue(metrics, 'k8s_expenses_processor_rows_written_total', { final: 'true' })).toBe(2);
    expect(metricValue(metrics, 'k8s_expenses_processor_rows_written_total', { final: 'false' })).toBe(2);
    expect(metricValue(metrics, 'k8s_expenses_processor_open_hours')).toBe(2);
    expect(metricValue(metrics, 'k8s_expenses_processor_state_bytes')).toBe(100);
  });

  it('writes nothing again until an hour changes, and versions rise with the records read, not with the clock', async () => {
    const { stored, flush, consumed, clock } = setup();
    consumed(0n, H0, H0 + 10 * MIN);
    await flush();
    await flush();
    expect(stored).toHaveLength(2);
    consumed(1n, H0, H0 + 20 * MIN);
    clock.now -= 10 * MIN;
    await flush();
    // One more record read: two more (the final bit sits in between).
    expect(stored.map((r) => r.version)).toEqual([stored[0].version, stored[0].version, stored[0].version + 2, stored[0].version + 2]);
  });

  it('settles hours past their late window, evicts them from the model and commits past their records', async () => {
    const { cluster, commits, evicted, flush, consumed } = setup();
    consumed(0n, H0, H0 + 10 * MIN);
    consumed(1n, H0 + H, H0 + H + 10 * MIN);
    consumed(2n, H0 + 5 * H, H0 + 5 * H + 10 * MIN); // hours 0 and 1 settle once stored final
    await flush();
    expect(cluster.floor).toBe(H0 + 2 * H);
    expect(evicted).toEqual([H0 + 2 * H]);
    // The oldest hour that can change is hour 5: records feeding it or hour 4 stay (record 2). The
    // cluster itself has settled hours 0 and 1 only, so the metadata names it.
    expect(commits).toEqual([{ offset: 2n, metadata: JSON.stringify({ v: 1, floor: H0 + 5 * H, clusters: { 't\u0000c': H0 + 2 * H } }) }]);
  });

  it('marks, evicts and commits nothing when the write fails', async () => {
    const { cluster, commits, evicted, flush, consumed } = setup({ failing: true });
    consumed(0n, H0, H0 + 10 * MIN);
    consumed(1n, H0 + 5 * H, H0 + 5 * H + 10 * MIN);
    await expect(flush()).rejects.toThrow('not stored');
    expect(cluster.hours.get(H0)).toMatchObject({ writtenSeq: 0, writtenFinal: false });
    expect(cluster.floor).toBe(-Infinity);
    expect(evicted).toEqual([]);
    expect(commits).toEqual([]);
  });

  // Regression: a row with a cost that was not finite was stored with 0 in its place.
  it('stores no row the finishing refuses (a number that is not finite), counts each and logs once per cluster-hour', async () => {
    const { stored, flush, consumed, registry, warnings } = setup({ refusing: 'b' });
    consumed(0n, H0, H0 + 10 * MIN);
    await flush();
    consumed(1n, H0, H0 + 20 * MIN);
    await flush();
    expect(stored.map((r) => r.pod)).toEqual(['a', 'a']);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_rows_dropped_total', { reason: 'non_finite' })).toBe(2);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_rows_written_total')).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ tenant: 't', cluster: 'c', hour: new Date(H0).toISOString() });
  });

  it('writes a deletion row, with the write\'s version, for a key its hour no longer has', async () => {
    const { stored, flush, consumed, pods, reads, registry } = setup({ deletion: {} });
    consumed(0n, H0, H0 + 10 * MIN, true);
    await flush();
    pods.splice(1, 1); // pod b's row moved elsewhere
    consumed(1n, H0, H0 + 20 * MIN, true);
    await flush();
    consumed(2n, H0, H0 + 30 * MIN, true);
    await flush();
    const v = (next: number) => 2 ** 52 + 2 * next;
    expect(stored.map((r) => [r.pod, r.version, r.deleted ?? false])).toEqual([
      ['a', v(1), false],
      ['b', v(1), false],
      ['a', v(2), false],
      ['b', v(2), true],
      ['a', v(3), false],
    ]);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_rows_deleted_total')).toBe(1);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_rows_written_total')).toBe(4);
    // Hours opened after the backlog were never written by anyone: nothing is read.
    expect(reads).toEqual([]);
  });

  it('reads what the table holds for an hour it did not open itself, once, and deletes what the hour no longer has', async () => {
    const table = new Map([[H0, { keys: new Set(['a', 'z']), version: 5 }]]);
    const { stored, flush, consumed, reads } = setup({ deletion: { table } });
    consumed(0n, H0, H0 + 10 * MIN);
    await flush();
    consumed(1n, H0, H0 + 20 * MIN);
    await flush();
    expect(reads).toEqual([[H0]]);
    expect(stored.map((r) => [r.pod, r.deleted ?? false])).toEqual([
      ['a', false],
      ['b', false],
      ['z', true],
      ['a', false],
      ['b', false],
    ]);
  });

  it('deletes again what it read from the table while its writes are below the rows it read', async () => {
    // Rows stored before a restart by a process that had read further (a higher version).
    const table = new Map([[H0, { keys: new Set(['z']), version: 2 ** 52 + 100 }]]);
    const { stored, flush, consumed } = setup({ deletion: { table } });
    consumed(0n, H0, H0 + 10 * MIN);
    await flush();
    consumed(1n, H0, H0 + 20 * MIN);
    await flush();
    expect(stored.filter((r) => r.deleted).map((r) => r.pod)).toEqual(['z', 'z']);
  });

  it('keeps the key of a row it could not store, so the row stored before stays', async () => {
    const { stored, flush, consumed } = setup({ deletion: {}, refusing: 'b' });
    consumed(0n, H0, H0 + 10 * MIN, true);
    await flush();
    consumed(1n, H0, H0 + 20 * MIN, true);
    await flush();
    expect(stored.some((r) => r.deleted)).toBe(false);
  });
});
