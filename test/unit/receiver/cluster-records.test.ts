import { describe, expect, it } from 'vitest';
import { decodeRecord, seriesLabels } from '../../../ingest/record-format.ts';
import { prepareRecords, type RecordOptions } from '../../../receiver/cluster-records.ts';
import { buildDecodedWrite, type PlainSeries } from '../../support/decoded-write-builder.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const options: RecordOptions = {
  clusterLabel: 'cluster_id',
  maxSampleFutureMs: 10 * 60_000,
  maxRecordBytes: 1 << 20,
  maxLabelsPerSeries: 40,
  maxLabelNameBytes: 1024,
  maxLabelValueBytes: 4096,
};
// Labels sorted by name, as Prometheus sends them (unsorted labels are an invalid series).
const sorted = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
const s = (labels: Record<string, string>, t = NOW - 60_000, v = 1): PlainSeries => ({ labels: sorted(labels), samples: [{ t, v }] });

function pods(records: ReturnType<typeof prepareRecords>['records']) {
  return records.map((r) => {
    const rec = decodeRecord(r.value);
    return { tenant: r.tenant, cluster: r.cluster, pods: Array.from({ length: rec.seriesCount }, (_, i) => seriesLabels(rec, i).pod) };
  });
}

describe('records per cluster', () => {
  it('groups series by their cluster label; without it, or with it empty, a series belongs to "default"', () => {
    const write = buildDecodedWrite([
      s({ __name__: 'm', cluster_id: 'eu', pod: 'a' }),
      s({ __name__: 'm', pod: 'b' }),
      s({ __name__: 'm', cluster_id: 'us', pod: 'c' }),
      s({ __name__: 'm', cluster_id: 'eu', pod: 'd' }),
      s({ __name__: 'm', cluster_id: '', pod: 'e' }),
    ]);
    const prepared = prepareRecords(write, 'acme', NOW, options);
    expect(pods(prepared.records)).toEqual([
      { tenant: 'acme', cluster: 'eu', pods: ['a', 'd'] },
      { tenant: 'acme', cluster: 'default', pods: ['b', 'e'] },
      { tenant: 'acme', cluster: 'us', pods: ['c'] },
    ]);
    expect(prepared.samplesAccepted).toBe(5);
  });

  it('keeps the tenant of the request whatever tenant labels the series carry', () => {
    const write = buildDecodedWrite([s({ __name__: 'm', tenant_id: 'evil', cloud_account_id: 'evil', pod: 'a' })]);
    expect(prepareRecords(write, 'acme', NOW, options).records.map((r) => r.tenant)).toEqual(['acme']);
  });

  it('honours another cluster label name', () => {
    const write = buildDecodedWrite([s({ __name__: 'm', cluster: 'x', cluster_id: 'y', pod: 'a' })]);
    expect(prepareRecords(write, 't', NOW, { ...options, clusterLabel: 'cluster' }).records.map((r) => r.cluster)).toEqual(['x']);
  });

  it('drops invalid series and samples too far ahead, reporting the first problems, and keeps the rest', () => {
    const write = buildDecodedWrite([
      s({ pod: 'no-name' }),
      s({ __name__: 'm', pod: 'ok' }),
      s({ __name__: 'm', pod: 'future' }, NOW + 11 * 60_000),
      s({ __name__: 'm', pod: 'near-future' }, NOW + 9 * 60_000),
    ]);
    const prepared = prepareRecords(write, 't', NOW, options);
    expect(pods(prepared.records)).toEqual([{ tenant: 't', cluster: 'default', pods: ['ok', 'near-future'] }]);
    expect(prepared.invalidSeries).toBe(2);
    expect(prepared.problems.map((p) => p.reason)).toEqual(['missing_metric_name', 'sample_too_far_in_future']);
    expect([...prepared.samplesRejected.entries()].sort()).toEqual([
      ['missing_metric_name', 1],
      ['sample_too_far_in_future', 1],
    ]);
  });

  it('filters by the metric allowlist without calling it an error', () => {
    const write = buildDecodedWrite([s({ __name__: 'container_cpu_allocation', pod: 'a' }), s({ __name__: 'go_goroutines', pod: 'b' })]);
    const prepared = prepareRecords(write, 't', NOW, { ...options, metricAllowlist: /^(?:container_.*)$/ });
    expect(pods(prepared.records)).toEqual([{ tenant: 't', cluster: 'default', pods: ['a'] }]);
    expect(prepared.samplesFiltered).toBe(1);
    expect(prepared.invalidSeries).toBe(0);
  });

  it('splits one cluster into several records under the record size limit', () => {
    const many = Array.from({ length: 200 }, (_, i) => s({ __name__: 'container_memory_allocation_bytes', namespace: 'ns', pod: `pod-${i}`, cluster_id: 'eu' }));
    // Records store each distinct string once (about 26 bytes per series here), so 1 KiB holds ~35.
    const prepared = prepareRecords(buildDecodedWrite(many), 't', NOW, { ...options, maxRecordBytes: 1024 });
    expect(prepared.records.length).toBeGreaterThan(3);
    for (const r of prepared.records) expect(r.value.length).toBeLessThanOrEqual(1024);
    expect(pods(prepared.records).flatMap((r) => r.pods)).toEqual(many.map((m) => m.labels.pod));
    expect(prepared.records.reduce((n, r) => n + r.samples, 0)).toBe(200);
  });
});
