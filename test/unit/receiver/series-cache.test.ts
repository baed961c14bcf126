import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWriteRequestV1 } from '../../../receiver/decode/index.ts';
import { prepareRecords, type RecordOptions } from '../../../receiver/cluster-records.ts';
import { SeriesCache, SpanBytes } from '../../../receiver/series-cache.ts';
import { writeRequestV1Pairs } from '../../support/remote-write-fixtures.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const base: RecordOptions = {
  clusterLabel: 'cluster_id',
  maxSampleFutureMs: 10 * 60_000,
  maxRecordBytes: 4096,
  maxLabelsPerSeries: 8,
  maxLabelNameBytes: 64,
  maxLabelValueBytes: 64,
};

type Pairs = [string, string][];

/** A request body decoded from a buffer that starts `shift` bytes into its ArrayBuffer. */
function decoded(series: { labels: Pairs; t: number }[], shift: number) {
  const raw = writeRequestV1Pairs(series.map((s) => ({ labels: s.labels, samples: [{ t: s.t, v: 1.5 }] })));
  const buffer = new Uint8Array(shift + raw.length);
  buffer.set(raw, shift);
  return decodeWriteRequestV1(buffer.subarray(shift));
}

/** What prepareRecords answers, less the cache's own figures. */
function answer(write: ReturnType<typeof decoded>, options: RecordOptions) {
  const p = prepareRecords(write, 'acme', NOW, options);
  return {
    records: p.records.map((r) => ({ tenant: r.tenant, cluster: r.cluster, samples: r.samples, value: r.value.toString('hex') })),
    samplesAccepted: p.samplesAccepted,
    samplesRejected: [...p.samplesRejected].sort(),
    samplesFiltered: p.samplesFiltered,
    problems: p.problems,
    invalidSeries: p.invalidSeries,
  };
}

// Label sets that repeat from request to request, valid and not: unsorted, duplicate names, an
// invalid name, no metric name, too many labels, a value too long, several clusters, no cluster.
const names = ['__name__', 'cluster_id', 'container', 'namespace', 'node', 'pod'];
const labelSet = fc.oneof(
  { weight: 6, arbitrary: fc.record({ metric: fc.constantFrom('container_cpu_allocation', 'kube_pod_labels', 'go_goroutines'), cluster: fc.constantFrom('eu', 'us', '', undefined), pod: fc.constantFrom('a', 'b', 'pod-with-a-longer-name-7', 'ü-pod') }).map(({ metric, cluster, pod }): Pairs => {
    const pairs: Pairs = [['__name__', metric]];
    if (cluster !== undefined) pairs.push(['cluster_id', cluster]);
    pairs.push(['namespace', 'ns'], ['pod', pod]);
    return pairs;
  }) },
  { weight: 1, arbitrary: fc.constantFrom<Pairs>(
    [['pod', 'x'], ['__name__', 'm']],
    [['__name__', 'm'], ['pod', 'x'], ['pod', 'y']],
    [['__name__', 'm'], ['bad-name', 'x']],
    [['namespace', 'ns']],
    [['__name__', 'm'], ...names.slice(1).map((n): [string, string] => [n, 'v']), ['s1', 'v'], ['s2', 'v'], ['s3', 'v']],
    [['__name__', 'm'], ['pod', 'v'.repeat(65)]],
  ) },
);
const sampleTime = fc.constantFrom(NOW - 60_000, NOW - 120_000, NOW + 11 * 60_000, -5);
const request = fc.record({ series: fc.array(fc.record({ labels: labelSet, t: sampleTime }), { minLength: 1, maxLength: 12 }), shift: fc.integer({ min: 0, max: 7 }) });

describe('series cache', () => {
  it('changes nothing that prepareRecords answers: the same records, counts and problems as without it, request after request', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 2, maxLength: 6 }), fc.boolean(), (requests, allowlist) => {
        const extra = allowlist ? { metricAllowlist: /^(?:container_.*|kube_.*)$/ } : {};
        // One options object per run: the cache lives as long as its options (a new one empties it).
        const remembered = { ...base, ...extra };
        const without = { ...base, ...extra, seriesCacheBytes: 0 };
        const withCache = requests.map((r) => answer(decoded(r.series, r.shift), remembered));
        const withoutCache = requests.map((r) => answer(decoded(r.series, r.shift), without));
        expect(withCache).toEqual(withoutCache);
      }),
      { numRuns: 150 },
    );
  });

  it('remembers valid series only, and answers them from memory from the second request on', () => {
    const options = { ...base };
    const series = [
      { labels: [['__name__', 'm'], ['cluster_id', 'eu'], ['pod', 'a']] as Pairs, t: NOW - 60_000 },
      { labels: [['pod', 'a'], ['__name__', 'm']] as Pairs, t: NOW - 60_000 },
    ];
    const first = prepareRecords(decoded(series, 0), 't', NOW, options);
    expect([first.seriesRemembered, first.seriesLearned, first.invalidSeries]).toEqual([0, 2, 1]);
    const second = prepareRecords(decoded(series, 3), 't', NOW, options);
    // The unsorted series was not remembered: it is checked, and refused, again.
    expect([second.seriesRemembered, second.seriesLearned, second.invalidSeries]).toEqual([1, 1, 1]);
    expect(second.problems.map((p) => p.reason)).toEqual(['unsorted_labels']);
    expect(second.records.map((r) => r.cluster)).toEqual(['eu']);
  });

  it('is emptied when it passes its budget, and then answers the same', () => {
    const options = { ...base, seriesCacheBytes: 1 };
    const series = [{ labels: [['__name__', 'm'], ['pod', 'a']] as Pairs, t: NOW - 60_000 }];
    prepareRecords(decoded(series, 0), 't', NOW, options);
    const again = prepareRecords(decoded(series, 0), 't', NOW, options);
    expect([again.seriesCacheReset, again.seriesRemembered, again.seriesLearned, again.samplesAccepted]).toEqual([true, 0, 1, 1]);
  });

  it('after emptying itself it is small again, and learns anew (regression: its grown arrays kept it over the budget, emptying it before every request)', () => {
    const options = { ...base, seriesCacheBytes: 1_000_000 };
    const many = Array.from({ length: 20_000 }, (_, i) => ({ labels: [['__name__', 'm'], ['pod', `pod-${i}-with-a-longer-name`]] as Pairs, t: NOW - 60_000 }));
    prepareRecords(decoded(many, 0), 't', NOW, options);
    const few = many.slice(0, 100).map((s) => ({ ...s, labels: [['__name__', 'n'], ...s.labels.slice(1)] as Pairs }));
    const first = prepareRecords(decoded(few, 0), 't', NOW, options);
    expect([first.seriesCacheReset, first.seriesLearned]).toEqual([true, 100]);
    const again = prepareRecords(decoded(few, 0), 't', NOW, options);
    expect([again.seriesCacheReset, again.seriesRemembered]).toEqual([false, 100]);
  });

  it('forgets what it learned under other options (an allowlist that changed)', () => {
    const series = [{ labels: [['__name__', 'go_goroutines'], ['pod', 'a']] as Pairs, t: NOW - 60_000 }];
    expect(prepareRecords(decoded(series, 0), 't', NOW, { ...base }).samplesAccepted).toBe(1);
    const filtered = prepareRecords(decoded(series, 0), 't', NOW, { ...base, metricAllowlist: /^(?:container_.*)$/ });
    expect([filtered.samplesAccepted, filtered.samplesFiltered]).toEqual([0, 1]);
  });
});

describe('span bytes', () => {
  const reference = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

  it('hashes equal bytes equally wherever they lie (any alignment, up to the last byte of a buffer)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 90 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3 }), (key, before, after, offset) => {
        const a = new Uint8Array(offset + before + key.length + after).fill(0xaa);
        a.set(key, offset + before);
        const b = new Uint8Array(key.length + 3); // the key at the very end of another buffer
        b.set(key, 3);
        const hashA = new SpanBytes(a.subarray(offset)).hash(before, key.length);
        const hashB = new SpanBytes(b).hash(3, key.length);
        expect(hashA).toBe(hashB);
      }),
    );
  });

  it('compares a span with a remembered one exactly, the buffer\'s last bytes included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 70 }), fc.nat(), fc.integer({ min: 0, max: 5 }), fc.boolean(), (key, flip, start, atEnd) => {
        const cache = new SeriesCache();
        const home = new Uint8Array(start + key.length);
        home.set(key, start);
        const homeBytes = new SpanBytes(home);
        expect(cache.add(homeBytes.hash(start, key.length), homeBytes, start, key.length, new Int32Array(0), -1, true)).toBe(0);
        // The same bytes elsewhere: found, and matched. One byte changed (wherever, also past the
        // last whole word of a buffer whose length is not a multiple of 4): neither.
        const other = new Uint8Array(key.length + (atEnd ? 1 : 6));
        other.set(key, 1);
        const view = new SpanBytes(other);
        expect(cache.find(view.hash(1, key.length), view, 1, key.length)).toBe(0);
        expect(cache.matches(0, view, 1, key.length)).toBe(true);
        const changed = other.slice();
        changed[1 + (flip % key.length)] ^= 0x40;
        const changedView = new SpanBytes(changed);
        const same = reference(changed.subarray(1, 1 + key.length), key);
        expect(cache.find(changedView.hash(1, key.length), changedView, 1, key.length)).toBe(same ? 0 : -1);
        expect(cache.matches(0, changedView, 1, key.length)).toBe(same);
        // A span one byte shorter (same start) never matches.
        if (key.length > 1) expect(cache.matches(0, view, 1, key.length - 1)).toBe(false);
      }),
    );
  });

  it('equals compares every byte, whatever the alignment and wherever in the buffer the span lies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 7 }), fc.nat(), fc.boolean(), fc.integer({ min: 0, max: 4 }), (key, start, flip, change, after) => {
        const keys = Buffer.alloc(64, 0xaa);
        keys.set(key, 8);
        // The body as a view into a larger buffer, as a decoded request's bytes are.
        const whole = new Uint8Array(3 + start + key.length + after).fill(0x55);
        const body = whole.subarray(3);
        body.set(key, start);
        if (change) body[start + (flip % key.length)] ^= 0x01;
        expect(new SpanBytes(body).equals(start, key.length, keys, 8)).toBe(!change);
        // Both ranges one byte earlier: equal only if the bytes before them are too.
        if (start > 0 && !change) expect(new SpanBytes(body).equals(start - 1, key.length, keys, 7)).toBe(body[start - 1] === 0xaa);
      }),
      { numRuns: 500 },
    );
  });
});
